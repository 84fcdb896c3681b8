/**
 * A model as the runtime consumes it: configs and three tensor stores keyed by upstream state_dict names.
 * Three sources give the same data: an official folder (.pt + yaml), a converted folder (cosyvoice.json +
 * cosyvoice3.yaml + our ONNX files; src/pipeline/node-model-files.ts, src/browser for HTTP), and the built-in
 * synthetic model.
 */
import { CorruptFileError, parseHyperYaml, rangeRecord, toFloat32, type SyncReader, type TensorRecord, type TensorStore } from '../../loader/index.js';
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
 * reader both use it. Each weight is dequantised when a consumer reads it (int8Float32Record), straight into the
 * consumer's buffer, so an int8 folder read in place never sits in host memory as float32 (4× its size).
 */
export function dequantisedInt8(store: TensorStore): TensorStore {
  const out: TensorStore = new Map();
  for (const [name, t] of store) {
    if (name.endsWith('_scale') && store.get(name.slice(0, -6))?.dtype === 'int8') continue;
    const scale = store.get(`${name}_scale`);
    out.set(name, t.dtype === 'int8' && scale ? int8Float32Record(t, toFloat32(scale)) : t);
  }
  return out;
}

/** int8 values read per step, into one buffer shared by every record (reads are synchronous, never nested). */
const INT8_PIECE = 1 << 20;
let int8Piece: Int8Array | null = null;

/**
 * A float32 record whose values are q · scales[⌊i / per⌋] (per = values per scale), computed when read: readInto
 * writes them into the caller's bytes (ranges of whole values), reading q a piece at a time (from its file where it
 * is file-backed); `bytes` computes them all.
 */
export function int8Float32Record(q: TensorRecord, scales: Float32Array): TensorRecord {
  const n = q.dims.reduce((a, d) => a * d, 1);
  if (!scales.length || n % scales.length) throw new CorruptFileError(`${scales.length} scales for ${n} int8 values`, { tensor: q.name });
  const per = n / scales.length;
  const reader: SyncReader = {
    name: `${q.name} (int8 × row scale)`,
    readSync(dst, offset, info) {
      if (offset % 4 || dst.length % 4) throw new RangeError(`${info.tensor}: int8 weights are read as whole float32 values, not bytes [${offset}, ${offset + dst.length})`);
      const out = dst.byteOffset % 4 ? new Float32Array(dst.length / 4) : new Float32Array(dst.buffer, dst.byteOffset, dst.length / 4);
      const e0 = offset / 4;
      const piece = (int8Piece ??= new Int8Array(INT8_PIECE));
      for (let o = 0; o < out.length; o += piece.length) {
        const k = Math.min(piece.length, out.length - o);
        let v: Int8Array;
        if (q.readInto) {
          v = piece.subarray(0, k);
          q.readInto(new Uint8Array(v.buffer, 0, k), e0 + o);
        } else {
          v = new Int8Array(q.bytes.buffer, q.bytes.byteOffset + e0 + o, k);
        }
        // A row's run at a time, each with its scale.
        for (let i = 0; i < k; ) {
          const at = e0 + o + i, row = Math.floor(at / per), end = Math.min(k, i + (row + 1) * per - at), sc = scales[row];
          for (; i < end; i++) out[o + i] = v[i] * sc;
        }
      }
      if (out.buffer !== dst.buffer) dst.set(new Uint8Array(out.buffer));
    },
  };
  return rangeRecord(reader, 0, 4 * n, { name: q.name, dtype: 'float32', dims: q.dims });
}
