/**
 * Random-weight CosyVoice3 folders in the official format (llm.pt, flow.pt, hift.pt via torch-save.ts,
 * cosyvoice3.yaml, CosyVoice-BlankEN/config.json), at any dims: the released ones (`FULL_DIMS`, for
 * bench/make-full-folder.ts) or odd small ones (test/convert/random-dims.test.ts). The checkpoint contents
 * (names, shapes, values) come from random-checkpoint.ts.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { saveStateDict } from './torch-save.js';
import { filler, flowTensors, hiftTensors, llmTensors, randomQwenConfig, randomYaml, type RandomDims } from './random-checkpoint.js';

export { FULL_DIMS, TINY_DIMS, type RandomDims } from './random-checkpoint.js';

/** Writes the folder; returns the .pt byte sizes. */
export function writeRandomFolder(dir: string, dims: RandomDims, seed = 0x9e3779b9): Record<string, number> {
  mkdirSync(join(dir, 'CosyVoice-BlankEN'), { recursive: true });
  writeFileSync(join(dir, 'cosyvoice3.yaml'), randomYaml(dims));
  writeFileSync(join(dir, 'CosyVoice-BlankEN/config.json'), JSON.stringify(randomQwenConfig(dims), null, 2));
  const fill = filler(seed);
  const sizes: Record<string, number> = {};
  for (const [f, ts] of [['llm.pt', llmTensors(dims)], ['flow.pt', flowTensors(dims)], ['hift.pt', hiftTensors(dims)]] as const) {
    sizes[f] = saveStateDict(join(dir, f), ts, fill);
  }
  return sizes;
}
