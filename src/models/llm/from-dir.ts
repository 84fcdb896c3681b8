/** Node only: CosyVoice3Lm from an official model folder (kept apart so the model stays browser-safe). */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadPt, readHyperYaml } from '../../../loader/node.js';
import type { GpuContext } from '../../gpu/context.js';
import { CosyVoice3Lm, type CosyVoice3LmOptions } from './cosyvoice3-lm.js';

/** Loads `llm.pt`, `CosyVoice-BlankEN/config.json` and `cosyvoice3.yaml` from a model folder. */
export async function lmFromDir(ctx: GpuContext, dir: string, opts: CosyVoice3LmOptions = {}): Promise<CosyVoice3Lm> {
  const [store, qwen, yaml] = await Promise.all([
    loadPt(join(dir, 'llm.pt')),
    readFile(join(dir, 'CosyVoice-BlankEN', 'config.json'), 'utf8'),
    readHyperYaml(join(dir, 'cosyvoice3.yaml')),
  ]);
  return CosyVoice3Lm.fromStore(ctx, store, qwen, yaml, opts);
}
