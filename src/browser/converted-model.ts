/**
 * A converted model folder (the converter's output: cosyvoice.json, llm.onnx, llm_embed.onnx, flow_encoder.onnx,
 * flow.onnx, hift.onnx, their .data files, cosyvoice3.yaml and CosyVoice-BlankEN/config.json) read through any
 * ModelSource (HTTP + Cache API in the Worker, a local folder in the Node tests) into the pipeline's ModelFiles.
 * The converter keeps upstream state_dict names as initializer names, so each store is the union of the
 * initializers of its ONNX files. Left out: the graphs' own constants (`const_<n>`) and the buffers the converter
 * derives for its graphs (RoPE inverse frequencies, the DiT time-embedding frequencies, STFT/iSTFT bases and the
 * iSTFT window-square sum), which the runtime computes itself and whose presence its weight loaders refuse.
 */
import type { TensorStore } from '../../loader/types.js';
import { dequantisedInt8, modelFilesFrom, type ModelFiles } from '../pipeline/model-files.js';
import { UnsupportedModelError } from './errors.js';
import { loadOnnxFromSource, type ModelSource } from './model-source.js';

export const CONVERTED_FORMAT = 'cosyvoice-webgpu/1';

interface ConvertedManifest {
  format: string;
  files: Record<string, string>;
}

/** Which ONNX files (keys of cosyvoice.json `files`) make up each store. */
const STORES = { llm: ['llm', 'llm_embed'], flow: ['flow_encoder', 'flow'], hift: ['hift'] } as const;
const NOT_A_WEIGHT = /^(const_\d+|rope\.inv_freq|decoder\.estimator\.time_embed\.freqs|stft\.basis|istft\.basis|istft\.window_sq)$/;

export async function loadConvertedModelFiles(src: ModelSource): Promise<ModelFiles> {
  const manifest = await src.json<ConvertedManifest>('cosyvoice.json');
  if (manifest?.format !== CONVERTED_FORMAT) {
    throw new UnsupportedModelError(`${src.base}cosyvoice.json has format ${JSON.stringify(manifest?.format)}, expected ${CONVERTED_FORMAT}`);
  }
  for (const k of Object.values(STORES).flat()) {
    if (typeof manifest.files?.[k] !== 'string') throw new UnsupportedModelError(`${src.base}cosyvoice.json lists no "${k}" file`);
  }
  if (!(await src.exists('cosyvoice3.yaml'))) {
    throw new UnsupportedModelError(`${src.base} has no cosyvoice3.yaml; copy the official model's cosyvoice3.yaml into the converted folder`);
  }
  const yamlText = new TextDecoder().decode(await src.bytes('cosyvoice3.yaml'));
  const qwen = await src.json<Record<string, unknown>>('CosyVoice-BlankEN/config.json');
  const stores = { llm: new Map(), flow: new Map(), hift: new Map() } as Record<keyof typeof STORES, TensorStore>;
  // Sequentially: one file's requests at a time keeps progress readable and memory peaks at one graph.
  for (const [store, keys] of Object.entries(STORES) as [keyof typeof STORES, readonly string[]][]) {
    for (const k of keys) {
      const model = await loadOnnxFromSource(src, manifest.files[k]);
      for (const [name, t] of model.tensors) {
        if (NOT_A_WEIGHT.test(name)) continue;
        if (stores[store].has(name)) throw new UnsupportedModelError(`${src.base}: tensor ${name} appears twice in the ${store} files`);
        stores[store].set(name, t);
      }
    }
  }
  return modelFilesFrom(yamlText, qwen, { llm: dequantisedInt8(stores.llm), flow: dequantisedInt8(stores.flow), hift: dequantisedInt8(stores.hift) }, src.base);
}
