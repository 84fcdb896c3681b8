/**
 * Node entry points: read files from disk (ranges where files can be large) and hand bytes to the browser-safe
 * parsers. External ONNX data is read only from inside the model file's folder.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { SizeLimitError, SourceReadError } from './errors.js';
import { parseHyperYaml } from './hyperyaml.js';
import { containedPath, fileRangeReader, FileSource, readWholeFile } from './node-source.js';
import { resolveExternal, type CoalesceOptions } from './onnx-external.js';
import { parseOnnxModel, type OnnxModel } from './onnx.js';
import { readPt } from './pt.js';
import { parseQwen2Config, type Qwen2Config } from './qwen2-config.js';
import { parseSafetensorsHeader, safetensorsHeaderLength } from './safetensors.js';
import { DEFAULT_MAX_TOTAL_BYTES, type ProgressFn, type TensorStore } from './types.js';

// Node users get the whole browser-safe API from here too (one import).
export * from './index.js';
export { FileSource, containedPath, fileRangeReader, readWholeFile } from './node-source.js';

export interface LoadOptions {
  onProgress?: ProgressFn;
  /** Per-tensor cap (bytes). */
  maxTensorBytes?: number;
  /** Cap on the sum of all tensor bytes of the file, checked before reading any tensor. */
  maxBytes?: number;
}

export async function loadPt(path: string, opts: LoadOptions = {}): Promise<TensorStore> {
  const r = fileRangeReader(path);
  try {
    return readPt(r, opts);
  } finally {
    r.close();
  }
}

export async function loadSafetensors(path: string, opts: LoadOptions = {}): Promise<TensorStore> {
  const src = await FileSource.open(path);
  try {
    const size = await src.size();
    const n = safetensorsHeaderLength(await src.read(0, Math.min(8, size)), size, path);
    const h = parseSafetensorsHeader(await src.read(8, n), size, path, opts.maxTensorBytes);
    const total = h.entries.reduce((a, e) => a + e.end - e.begin, 0);
    const cap = opts.maxBytes ?? DEFAULT_MAX_TOTAL_BYTES;
    if (total > cap) throw new SizeLimitError(`tensors total ${total} bytes, limit is ${cap}`, { file: path });
    let loaded = 0;
    const store: TensorStore = new Map();
    for (const e of [...h.entries].sort((a, b) => a.begin - b.begin)) {
      store.set(e.name, { name: e.name, dtype: e.dtype, dims: e.dims, bytes: await src.read(e.begin, e.end - e.begin) });
      loaded += e.end - e.begin;
      opts.onProgress?.({ file: path, loaded, total });
    }
    // Keep header order for callers that list tensors.
    return new Map(h.entries.map((e) => [e.name, store.get(e.name)!]));
  } finally {
    await src.close();
  }
}

export interface LoadOnnxOptions extends LoadOptions {
  /** Grouping of neighbouring small external tensors into one read (DEFAULT_COALESCE). */
  coalesce?: CoalesceOptions;
}

/** Loads an ONNX model; external data must be inside dirname(path) (symlinks resolved). */
export async function loadOnnx(path: string, opts: LoadOnnxOptions = {}): Promise<OnnxModel> {
  const bytes = await readWholeFile(path, opts.onProgress);
  const parsed = parseOnnxModel(bytes, path, { external: 'defer', maxTensorBytes: opts.maxTensorBytes });
  const dir = dirname(resolve(path));
  return resolveExternal(
    parsed,
    async (rel, info) => FileSource.open(await containedPath(dir, rel, info)),
    { file: path, onProgress: opts.onProgress, maxBytes: opts.maxBytes, alreadyLoaded: bytes.length, coalesce: opts.coalesce },
  );
}

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    throw new SourceReadError(`cannot read: ${(e as Error).message}`, { file: path });
  }
}

export async function readHyperYaml(path: string): Promise<Record<string, unknown>> {
  return parseHyperYaml(await readText(path), path);
}

export async function readQwen2Config(path: string): Promise<Qwen2Config> {
  return parseQwen2Config(await readText(path), path);
}
