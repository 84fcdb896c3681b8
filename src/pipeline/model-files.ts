/**
 * A model as the runtime consumes it: configs and three tensor stores keyed by upstream state_dict names.
 * Three sources give the same data: an official folder (.pt + yaml), a converted folder (cosyvoice.json +
 * cosyvoice3.yaml + our ONNX files; src/pipeline/node-model-files.ts, src/browser for HTTP), and the built-in
 * synthetic model.
 */
import { parseHyperYaml, toFloat32, type TensorStore } from '../../loader/index.js';
import { buildConfig, type CosyVoiceConfig } from '../convert/config.js';
import { syntheticCheckpoint, type SyntheticDims } from './synthetic.js';

export interface ModelFiles {
  /** Every dimension, special id and sampling parameter (the converter's cosyvoice.json). */
  config: CosyVoiceConfig;
  /** cosyvoice3.yaml, parsed by the loader's hyperpyyaml reader (the models read their dims from it). */
  yaml: Record<string, unknown>;
  /** CosyVoice-BlankEN/config.json. */
  qwen: Record<string, unknown>;
  llm: TensorStore;
  flow: TensorStore;
  hift: TensorStore;
  /** Where it came from, for messages and benchmark labels. */
  source: string;
  /** True for random weights: the audio is noise, and every output says so. */
  synthetic: boolean;
}

export function modelFilesFrom(
  yamlText: string,
  qwen: Record<string, unknown>,
  stores: { llm: TensorStore; flow: TensorStore; hift: TensorStore },
  source: string,
  synthetic = false,
): ModelFiles {
  return {
    config: buildConfig(yamlText, qwen, 'fp32'),
    yaml: parseHyperYaml(yamlText, 'cosyvoice3.yaml'),
    qwen,
    llm: stores.llm,
    flow: stores.flow,
    hift: stores.hift,
    source,
    synthetic,
  };
}

export function syntheticModelFiles(size: 'tiny' | 'full' | SyntheticDims = 'tiny', seed = 0): ModelFiles {
  const c = syntheticCheckpoint(size, seed);
  const label = `synthetic-${typeof size === 'string' ? size : 'custom'} (seed ${seed}, random weights: not speech)`;
  return modelFilesFrom(c.yaml, c.qwenConfig, { llm: c.llm, flow: c.flow, hift: c.hift }, label, true);
}

/**
 * The int8 weights of a `convert --dtype int8` folder (`X` int8 + `X_scale`, one scale per row) back to float32 for
 * the runtime; other records pass through. Browser-safe: the Node folder reader and the browser's converted-model
 * reader both use it.
 */
export function dequantisedInt8(store: TensorStore): TensorStore {
  const out: TensorStore = new Map();
  for (const [name, t] of store) {
    if (name.endsWith('_scale') && store.get(name.slice(0, -6))?.dtype === 'int8') continue;
    const scale = store.get(`${name}_scale`);
    if (t.dtype !== 'int8' || !scale) {
      out.set(name, t);
      continue;
    }
    const q = new Int8Array(t.bytes.buffer, t.bytes.byteOffset, t.bytes.byteLength);
    const s = toFloat32(scale);
    const per = q.length / s.length;
    const f = new Float32Array(q.length);
    for (let i = 0; i < q.length; i++) f[i] = q[i] * s[Math.floor(i / per)];
    out.set(name, { name, dtype: 'float32', dims: t.dims, bytes: new Uint8Array(f.buffer) });
  }
  return out;
}
