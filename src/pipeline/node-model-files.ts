/**
 * Node: reads a model folder into ModelFiles. Two layouts are accepted and told apart by their files:
 * - official (Fun-CosyVoice3-0.5B): cosyvoice3.yaml, CosyVoice-BlankEN/config.json, llm.pt, flow.pt, hift.pt;
 * - converted (`cosyvoice-webgpu convert`): cosyvoice.json, cosyvoice3.yaml, CosyVoice-BlankEN/config.json and
 *   our ONNX files, whose initializers carry the upstream names (int8 weights are dequantised at load).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ProgressFn, TensorStore } from '../../loader/index.js';
import { loadOnnx, loadPt } from '../../loader/node.js';
import { dequantisedInt8, modelFilesFrom, type ModelFiles } from './model-files.js';

export class ModelFolderError extends Error {
  override name = 'ModelFolderError';
}

const OFFICIAL = ['cosyvoice3.yaml', 'CosyVoice-BlankEN/config.json', 'llm.pt', 'flow.pt', 'hift.pt'];
const CONVERTED = { llm: ['llm.onnx', 'llm_embed.onnx'], flow: ['flow.onnx', 'flow_encoder.onnx'], hift: ['hift.onnx'] };

export function folderKind(dir: string): 'official' | 'converted' {
  if (!existsSync(dir)) throw new ModelFolderError(`model folder ${dir} does not exist`);
  if (existsSync(join(dir, 'cosyvoice.json'))) return 'converted';
  const missing = OFFICIAL.filter((f) => !existsSync(join(dir, f)));
  if (missing.length) {
    throw new ModelFolderError(
      `${dir} is neither a converted folder (no cosyvoice.json) nor an official CosyVoice3 folder (missing ${missing.join(', ')})`,
    );
  }
  return 'official';
}

/**
 * The converter's graphs hold, besides the upstream weights, deduplicated constants (`const_N`), defaults of
 * optional inputs (initializers named like a graph input) and the LLM graph's precomputed RoPE frequencies
 * (`rope.inv_freq`, not a Qwen2 parameter: the runtime derives it from rope_theta) and the DiT's sinusoidal
 * timestep frequencies (`decoder.estimator.time_embed.freqs`) and HiFT's (i)STFT bases and window (`stft.basis`,
 * `istft.basis`, `istft.window_sq`), all derived from the config.
 */
const DERIVED = new Set(['rope.inv_freq', 'decoder.estimator.time_embed.freqs', 'stft.basis', 'istft.basis', 'istft.window_sq']);
function isWeight(name: string, graphInputs: Set<string>): boolean {
  return !/^const_\d+$/.test(name) && !graphInputs.has(name) && !DERIVED.has(name);
}

async function readJson(path: string): Promise<Record<string, unknown>> {
  try {
    return JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    throw new ModelFolderError(`${path}: ${(e as Error).message}`);
  }
}

export interface ModelFolderOptions {
  /**
   * Leave the weights in their files until an engine reads each one into place (loader loadOnnx and loadPt
   * `lazy`; default true). The engines then never hold a second host copy of the model: a WebAssembly
   * engine reads each matrix straight into its memory, a GPU engine through one reused upload buffer, and the
   * Qwen2 text table is read a row at a time, so the folder must stay readable while the model is in use (a file
   * gone or shrunk is a typed error naming it). false reads every tensor now.
   */
  lazy?: boolean;
}

export async function loadModelFolder(dir: string, onProgress?: ProgressFn, opts: ModelFolderOptions = {}): Promise<ModelFiles> {
  const kind = folderKind(dir);
  for (const f of ['cosyvoice3.yaml', 'CosyVoice-BlankEN/config.json']) {
    if (!existsSync(join(dir, f))) throw new ModelFolderError(`${dir}: missing ${f}${kind === 'converted' ? ' (re-run convert to copy it)' : ''}`);
  }
  const yamlText = await readFile(join(dir, 'cosyvoice3.yaml'), 'utf8');
  const qwen = await readJson(join(dir, 'CosyVoice-BlankEN/config.json'));
  let stores: { llm: TensorStore; flow: TensorStore; hift: TensorStore };
  if (kind === 'official') {
    const [llm, flow, hift] = await Promise.all(['llm.pt', 'flow.pt', 'hift.pt'].map((f) => loadPt(join(dir, f), { onProgress, lazy: opts.lazy ?? true })));
    stores = { llm, flow, hift };
  } else {
    const merged = async (files: string[]) => {
      const out: TensorStore = new Map();
      for (const f of files) {
        const path = join(dir, f);
        if (!existsSync(path)) throw new ModelFolderError(`${dir}: missing ${f}`);
        const model = await loadOnnx(path, { onProgress, lazy: opts.lazy ?? true });
        const inputs = new Set(model.graph.inputs.map((i) => i.name));
        for (const [k, v] of model.tensors) if (isWeight(k, inputs)) out.set(k, v);
      }
      return dequantisedInt8(out);
    };
    stores = { llm: await merged(CONVERTED.llm), flow: await merged(CONVERTED.flow), hift: await merged(CONVERTED.hift) };
  }
  return modelFilesFrom(yamlText, qwen, stores, `${kind} folder ${dir}`);
}
