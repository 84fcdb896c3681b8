/**
 * Node entry points: read files from disk (ranges where files can be large) and hand bytes to the browser-safe
 * parsers. External ONNX data is read only from inside the model file's folder.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { SizeLimitError, SourceReadError } from './errors.js';
import { parseHyperYaml } from './hyperyaml.js';
import { containedPath, fileRangeReader, fileRangeRecord, FileSource, PathSource, readWholeFile } from './node-source.js';
import { leaveInlineInFile, resolveExternal, type CoalesceOptions } from './onnx-external.js';
import { parseOnnxModel, type OnnxModel } from './onnx.js';
import { LAZY_MIN_BYTES, readProgress } from './range-record.js';
import type { TensorRef } from './pickle.js';
import { contiguousRange, finishPt, planPt } from './pt.js';
import { entryDataOffset, readZipEntry } from './zip.js';
import { parseQwen2Config, type Qwen2Config } from './qwen2-config.js';
import { parseSafetensorsHeader, safetensorsHeaderLength } from './safetensors.js';
import { DEFAULT_MAX_TENSOR_BYTES, DEFAULT_MAX_TOTAL_BYTES, type ProgressFn, type TensorStore } from './types.js';

// Node users get the whole browser-safe API from here too (one import).
export * from './index.js';
export { FileSource, PathSource, containedPath, fileRangeReader, fileRangeRecord, readWholeFile } from './node-source.js';

export interface LoadOptions {
  onProgress?: ProgressFn;
  /** Per-tensor cap (bytes). */
  maxTensorBytes?: number;
  /** Cap on the sum of all tensor bytes of the file, checked before reading any tensor. */
  maxBytes?: number;
}

/**
 * The zip directory and pickle are read synchronously (small); storages are then read asynchronously, each into
 * its own buffer with parallel pieces (FileSource), so a multi-GB checkpoint neither blocks the event loop nor
 * needs a whole-file buffer. With `lazy`, a tensor that is one contiguous block of a stored (uncompressed)
 * storage is left in the file as a fileRangeRecord, after the same checks; the rest are read as above.
 */
export async function loadPt(path: string, opts: LoadOptions & { lazy?: boolean } = {}): Promise<TensorStore> {
  const r = fileRangeReader(path);
  let src: FileSource | undefined;
  try {
    const plan = planPt(r, opts);
    const maxTensorBytes = opts.maxTensorBytes ?? DEFAULT_MAX_TENSOR_BYTES;
    // Where each stored (uncompressed) storage's bytes start in the file: one local-header read per storage.
    const dataAt = new Map<string, number>();
    for (const [key, s] of plan.storages) if (s.entry.method === 0) dataAt.set(key, entryDataOffset(r, s.entry));
    const lazy = new Map<string, { at: number; nbytes: number; name: string; t: TensorRef }>();
    if (opts.lazy) {
      for (const [name, t] of plan.refs) {
        const at = dataAt.get(t.storage.key);
        const range = at === undefined ? null : contiguousRange(name, t, path, maxTensorBytes);
        if (range && range.nbytes >= LAZY_MIN_BYTES) lazy.set(name, { at: at! + range.offset, nbytes: range.nbytes, name, t });
      }
    }
    // Storages that some tensor still needs in memory; the others count as read when their tensors are.
    const wanted = new Set(plan.refs.filter(([name]) => !lazy.has(name)).map(([, t]) => t.storage.key));
    src = await FileSource.open(path);
    const bytes = new Map<string, Uint8Array>();
    let loaded = 0;
    for (const [key, s] of plan.storages) {
      if (!wanted.has(key)) continue;
      const at = dataAt.get(key);
      const b = at !== undefined ? await src.read(at, s.need) : readZipEntry(r, s.entry, opts.maxTensorBytes).subarray(0, s.need);
      bytes.set(key, b);
      loaded += s.need;
      opts.onProgress?.({ file: path, loaded, total: plan.total });
    }
    const progress = lazy.size ? readProgress(path, loaded, plan.total, opts.onProgress) : undefined;
    const abs = resolve(path);
    const records = new Map([...lazy.values()].map((l) => [l.name, fileRangeRecord(abs, l.at, l.nbytes, { name: l.name, dtype: l.t.storage.dtype, dims: l.t.size }, progress)]));
    const store = finishPt({ ...plan, refs: plan.refs.filter(([name]) => !lazy.has(name)) }, bytes, opts);
    // The checkpoint's order, lazy records in their places.
    return new Map(plan.refs.map(([name]) => [name, records.get(name) ?? store.get(name)!]));
  } finally {
    r.close();
    await src?.close();
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
  /**
   * Leave the weights in their files (fileRangeRecord): every external tensor is checked (inside the folder, range
   * within its file, the byte cap) but not read, and inline tensors of LAZY_MIN_BYTES or more point back into the
   * model file, whose buffer is then dropped. Consumers read each weight once, into its destination, with
   * `readInto`. Progress then counts the model file's read, and the external bytes as the consumers read them.
   */
  lazy?: boolean;
}

export { LAZY_MIN_BYTES } from './range-record.js';

/** Loads an ONNX model; external data must be inside dirname(path) (symlinks resolved). */
export async function loadOnnx(path: string, opts: LoadOnnxOptions = {}): Promise<OnnxModel> {
  const bytes = await readWholeFile(path, opts.onProgress);
  const parsed = parseOnnxModel(bytes, path, { external: 'defer', maxTensorBytes: opts.maxTensorBytes });
  const dir = dirname(resolve(path));
  const model = await resolveExternal(
    parsed,
    // Lazy records read by path (PathSource holds no descriptor); eager reads through one file handle each.
    async (rel, info) => {
      const at = await containedPath(dir, rel, info);
      return opts.lazy ? new PathSource(at) : FileSource.open(at);
    },
    { file: path, onProgress: opts.onProgress, maxBytes: opts.maxBytes, alreadyLoaded: bytes.length, coalesce: opts.coalesce, lazy: opts.lazy },
  );
  return opts.lazy ? leaveInlineInFile(model, bytes, new PathSource(resolve(path))) : model;
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
