/**
 * The benches' model folders under one root (a bench's first positional argument, else /tmp/cosyvoice3-<size>):
 * `model`, an official-format CosyVoice3 folder with seeded random weights of the released (or tiny) sizes, and
 * its conversions; each written on first use and kept for later runs.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { convertModel, type ConvertOptions } from '../src/convert/index.js';
import { FULL_DIMS, TINY_DIMS, writeRandomFolder } from '../src/convert/random-folder.js';

/** `<root>/model`, written unless complete (writeRandomFolder writes hift.pt last). */
export function randomModelFolder(root: string, size: 'full' | 'tiny' = 'full'): string {
  const model = join(root, 'model');
  if (!existsSync(join(model, 'hift.pt'))) writeRandomFolder(model, size === 'full' ? FULL_DIMS : TINY_DIMS);
  return model;
}

/** `dir`, the conversion of `model` (with `opts`), converted unless it holds cosyvoice.json. */
export async function convertedFolder(model: string, dir: string, opts: ConvertOptions = {}): Promise<string> {
  if (!existsSync(join(dir, 'cosyvoice.json'))) await convertModel(model, dir, opts);
  return dir;
}
