/**
 * The built-in synthetic model: the real CosyVoice3 architecture at a chosen size with seeded random weights,
 * laid out exactly like an official model folder (state dicts under upstream names, hyperpyyaml text, Qwen2
 * config) so that a fresh machine can run and benchmark the whole pipeline. IT DOES NOT SPEAK: the weights are
 * noise, and so is the audio.
 *
 * The checkpoint contents come from src/convert/random-checkpoint.ts (the same generator that writes random
 * official folders for the converter), kept in memory here. Sizes: `tiny` = the dims of
 * ../shared/fixtures/tiny-cosyvoice3; `full` = Fun-CosyVoice3-0.5B.
 */
import type { TensorStore } from '../../loader/index.js';
import {
  filler,
  flowTensors,
  FULL_DIMS,
  hiftTensors,
  llmTensors,
  randomQwenConfig,
  randomYaml,
  TINY_DIMS,
  type RandomDims,
} from '../convert/random-checkpoint.js';
import type { SaveTensor } from '../convert/torch-save.js';

export type SyntheticDims = RandomDims;
export const SYNTHETIC_SIZES: Record<'tiny' | 'full', SyntheticDims> = { tiny: TINY_DIMS, full: FULL_DIMS };

function store(specs: SaveTensor[], fill: (t: SaveTensor) => Uint8Array): TensorStore {
  const out: TensorStore = new Map();
  for (const t of specs) {
    // The tied lm_head (it shares embed_tokens' storage) is not materialised: CosyVoice never reads it.
    if (t.name === 'llm.model.lm_head.weight') continue;
    out.set(t.name, { name: t.name, dtype: 'float32', dims: t.dims, bytes: fill(t) });
  }
  return out;
}

/**
 * Random head rows make a stop id (≥ S, 200 of them) likely at every step, so synthetic runs would end at once:
 * the stop rows are scaled down (their logits stay near 0, below the top-k of the speech rows), and decoding runs
 * to max_len or a forced length instead.
 */
function quietStopRows(llm: TensorStore, S: number): void {
  const head = llm.get('llm_decoder.weight')!;
  const w = new Float32Array(head.bytes.buffer, head.bytes.byteOffset, head.bytes.byteLength / 4);
  for (let i = S * head.dims[1]; i < w.length; i++) w[i] *= 0.05;
}

export interface SyntheticCheckpoint {
  dims: SyntheticDims;
  llm: TensorStore;
  flow: TensorStore;
  hift: TensorStore;
  yaml: string;
  qwenConfig: Record<string, unknown>;
}

/** The three state dicts (official key names and shapes), yaml and Qwen2 config of a synthetic model. */
export function syntheticCheckpoint(size: 'tiny' | 'full' | SyntheticDims, seed = 0): SyntheticCheckpoint {
  const dims = typeof size === 'string' ? SYNTHETIC_SIZES[size] : size;
  const fill = filler((seed ^ 0x9e3779b9) >>> 0 || 1);
  const llm = store(llmTensors(dims), fill);
  quietStopRows(llm, dims.llm.S);
  return {
    dims,
    llm,
    flow: store(flowTensors(dims), fill),
    hift: store(hiftTensors(dims), fill),
    yaml: randomYaml(dims),
    qwenConfig: randomQwenConfig(dims),
  };
}
