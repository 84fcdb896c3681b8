/**
 * Reads an official CosyVoice3 model folder: cosyvoice3.yaml, CosyVoice-BlankEN/config.json, llm.pt, flow.pt,
 * hift.pt. Missing files raise MissingFileError; the checkpoints become float32 `Weights`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { toFloat32 } from '../../loader/index.js';
import { loadPt } from '../../loader/node.js';
import { buildConfig, type CosyVoiceConfig } from './config.js';
import { ConvertError, MissingFileError } from './errors.js';
import { Weights } from './weights.js';

export const REQUIRED_FILES = ['cosyvoice3.yaml', 'CosyVoice-BlankEN/config.json', 'llm.pt', 'flow.pt', 'hift.pt'];

export function checkModelDir(dir: string): void {
  if (!existsSync(dir)) throw new MissingFileError(dir, 'model folder not found');
  const missing = REQUIRED_FILES.filter((f) => !existsSync(join(dir, f)));
  if (missing.length) {
    throw new MissingFileError(join(dir, missing[0]), `an official CosyVoice3 folder needs ${REQUIRED_FILES.join(', ')} (missing: ${missing.join(', ')})`);
  }
}

export function readConfig(dir: string, dtype: CosyVoiceConfig['dtype']): CosyVoiceConfig {
  checkModelDir(dir);
  const yaml = readFileSync(join(dir, 'cosyvoice3.yaml'), 'utf8');
  let qwen: Record<string, unknown>;
  try {
    qwen = JSON.parse(readFileSync(join(dir, 'CosyVoice-BlankEN/config.json'), 'utf8'));
  } catch (e) {
    throw new ConvertError(`CosyVoice-BlankEN/config.json: not valid JSON (${(e as Error).message})`);
  }
  return buildConfig(yaml, qwen, dtype);
}

/**
 * Loads one .pt state_dict as float32 tensors through the loader's range reader (no 2 GiB whole-file buffer;
 * float32 tensors are then viewed, not copied).
 */
export async function readCheckpoint(dir: string, file: string): Promise<Weights> {
  const path = join(dir, file);
  if (!existsSync(path)) throw new MissingFileError(path);
  const store = await loadPt(path);
  const entries: [string, { dims: number[]; data: Float32Array }][] = [];
  for (const [k, t] of store) entries.push([k, { dims: t.dims, data: toFloat32(t) }]);
  return new Weights(file, entries);
}
