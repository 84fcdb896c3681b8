/**
 * Node: the prompt models of a model folder (the official one, or a converted one: `convert` copies them), or
 * seeded random stand-ins of their structure for the synthetic model (src/convert/random-prompt-models.ts).
 * The graphs are read lazily: each weight goes from its file into the interpreter's memory once.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOnnx } from '../../loader/node.js';
import type { ProgressFn } from '../../loader/types.js';
import { FULL_CAMPPLUS, FULL_TOKENIZER, TINY_CAMPPLUS, TINY_TOKENIZER, writeRandomPromptModels } from '../convert/random-prompt-models.js';
import type { OnnxSessionOptions } from '../onnx-run/session.js';
import { PROMPT_MODEL_FILES, PromptModels } from './prompt-models.js';

/** A model folder without one of the prompt models, so no voice can be made from audio with it. */
export class MissingPromptModelError extends Error {
  override name = 'MissingPromptModelError';
}

export async function loadPromptModels(dir: string, opts: Omit<OnnxSessionOptions, 'label'> & { onProgress?: ProgressFn } = {}): Promise<PromptModels> {
  const paths = { tokenizer: join(dir, PROMPT_MODEL_FILES.tokenizer), campplus: join(dir, PROMPT_MODEL_FILES.campplus) };
  for (const p of Object.values(paths)) {
    if (!existsSync(p)) throw new MissingPromptModelError(`${p} not found: a voice from audio needs ${PROMPT_MODEL_FILES.tokenizer} and ${PROMPT_MODEL_FILES.campplus}, which the official model folder holds (convert copies them into its output)`);
  }
  const tokenizer = await loadOnnx(paths.tokenizer, { lazy: true, onProgress: opts.onProgress });
  const campplus = await loadOnnx(paths.campplus, { lazy: true, onProgress: opts.onProgress });
  return PromptModels.create({ tokenizer, campplus }, { threads: opts.threads });
}

/** Random-weight prompt models of the real structure for the synthetic model (`full`: the released sizes). Not a voice. */
export async function syntheticPromptModels(size: 'tiny' | 'full', opts: Omit<OnnxSessionOptions, 'label'> = {}): Promise<PromptModels> {
  const dir = mkdtempSync(join(tmpdir(), 'cv-prompt-models-'));
  try {
    writeRandomPromptModels(dir, size === 'full' ? FULL_TOKENIZER : TINY_TOKENIZER, size === 'full' ? FULL_CAMPPLUS : TINY_CAMPPLUS);
    const tokenizer = await loadOnnx(join(dir, PROMPT_MODEL_FILES.tokenizer));
    const campplus = await loadOnnx(join(dir, PROMPT_MODEL_FILES.campplus));
    return await PromptModels.create({ tokenizer, campplus }, opts);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
