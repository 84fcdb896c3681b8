/**
 * Node helper: reads the tokenizer files of a model folder (e.g. `CosyVoice-BlankEN/`): tokenizer.json when
 * present, else vocab.json + merges.txt, plus tokenizer_config.json when present. Browser code builds
 * `TokenizerSources` from fetched files and calls CosyVoiceTokenizer.fromSources directly.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CosyVoiceTokenizer, TokenizerFileError, type CosyVoiceTokenizerOptions, type TokenizerSources } from './tokenizer.js';

function readJson(path: string): any {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new TokenizerFileError(`${path}: not valid JSON (${(e as Error).message})`);
  }
}

export function loadTokenizerDir(dir: string, opts: CosyVoiceTokenizerOptions = {}): CosyVoiceTokenizer {
  const src: TokenizerSources = {};
  const cfgPath = join(dir, 'tokenizer_config.json');
  if (existsSync(cfgPath)) src.tokenizerConfig = readJson(cfgPath);
  const tj = join(dir, 'tokenizer.json');
  if (existsSync(tj)) {
    src.tokenizerJson = readJson(tj);
  } else {
    const v = join(dir, 'vocab.json');
    const m = join(dir, 'merges.txt');
    if (!existsSync(v) || !existsSync(m)) {
      throw new TokenizerFileError(`${dir}: no tokenizer files (need tokenizer.json, or vocab.json + merges.txt)`);
    }
    src.vocab = readJson(v);
    src.merges = readFileSync(m, 'utf8');
  }
  return CosyVoiceTokenizer.fromSources(src, opts);
}
