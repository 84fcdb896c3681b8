/**
 * Reads the external-data tensors of a parsed ONNX model through ByteSources, one range per tensor (each tensor
 * gets its own buffer; no file is ever read whole). Every location is validated as relative and inside the model
 * folder, every range is checked against the file size and the total against maxBytes before any read.
 * Browser-safe: the caller supplies `open`.
 */
import { checkRange, safeRelativeLocation, type ByteSource } from './byte-source.js';
import { SizeLimitError, type LoaderErrorInfo } from './errors.js';
import type { OnnxModel, ParsedOnnx, PendingExternal } from './onnx.js';
import { LAZY_MIN_BYTES, rangeRecord, readProgress, type SyncReader } from './range-record.js';
import { DEFAULT_MAX_TOTAL_BYTES, type ProgressFn } from './types.js';

export interface ExternalOptions {
  /** Model file name, for errors and progress. */
  file?: string;
  onProgress?: ProgressFn;
  /** Cap on the sum of all tensor bytes (inline + external). */
  maxBytes?: number;
  /** Bytes already loaded (the model file itself) to count in progress. */
  alreadyLoaded?: number;
  /** Grouping of neighbouring small tensors into one read (DEFAULT_COALESCE). */
  coalesce?: CoalesceOptions;
  /**
   * Leave the tensors of sources that read synchronously (ByteSource.readSync) in their files: each is checked
   * (inside the folder, range within its file, the byte cap) but not read; records are handed out only after every
   * location passed. Such sources are not closed here (the records read through them). Other sources are read.
   * Progress then counts the external bytes as consumers read them.
   */
  lazy?: boolean;
}

export interface CoalesceOptions {
  /** Largest single read that groups several tensors (bytes). */
  maxGroupBytes: number;
  /** Largest unused gap allowed inside a group (bytes read but not kept referenced by any tensor). */
  maxGapBytes: number;
}
/**
 * Many small tensors cost one request (HTTP) or syscall each; neighbours are read together instead, and each
 * tensor becomes a view of the group's buffer (no copy). Big tensors keep reads of their own.
 */
export const DEFAULT_COALESCE: CoalesceOptions = { maxGroupBytes: 16 << 20, maxGapBytes: 64 << 10 };

/** Splits tensors (sorted by offset) into groups that are each read in one piece. */
export function coalesce(list: PendingExternal[], o: CoalesceOptions): PendingExternal[][] {
  const groups: PendingExternal[][] = [];
  let cur: PendingExternal[] = [];
  let start = 0;
  let end = 0;
  for (const p of list) {
    const pEnd = p.ref.offset + p.ref.length;
    const fits = cur.length && p.ref.offset - end <= o.maxGapBytes && Math.max(end, pEnd) - start <= o.maxGroupBytes;
    if (!fits) {
      if (cur.length) groups.push(cur);
      cur = [];
      start = p.ref.offset;
      end = pEnd;
    }
    cur.push(p);
    end = Math.max(end, pEnd);
  }
  if (cur.length) groups.push(cur);
  return groups;
}

/** Opens a location (already validated and normalised, relative to the model folder). */
export type OpenSource = (relPath: string, info: LoaderErrorInfo) => Promise<ByteSource>;

export async function resolveExternal(parsed: ParsedOnnx, open: OpenSource, opts: ExternalOptions = {}): Promise<OnnxModel> {
  const { model, external } = parsed;
  const file = opts.file;
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_TOTAL_BYTES;
  let inline = 0;
  for (const t of model.tensors.values()) inline += t.bytes.length;
  let extTotal = 0;
  for (const p of external) extTotal += p.ref.length;
  if (inline + extTotal > maxBytes) {
    throw new SizeLimitError(`model needs ${inline + extTotal} bytes of tensors, limit is ${maxBytes}`, { file });
  }
  const byLocation = new Map<string, typeof external>();
  for (const p of external) {
    const rel = safeRelativeLocation(p.ref.location, { file, tensor: p.ref.name });
    const list = byLocation.get(rel) ?? [];
    list.push(p);
    byLocation.set(rel, list);
  }
  const base = opts.alreadyLoaded ?? 0;
  const total = base + extTotal;
  let loaded = base;
  const inPlace: { src: ByteSource; list: PendingExternal[] }[] = [];
  for (const [rel, list] of byLocation) {
    const names = list.slice(0, 3).map((p) => p.ref.name).join(', ') + (list.length > 3 ? ` and ${list.length - 3} more` : '');
    const src = await open(rel, { file, tensor: names });
    const lazy = !!(opts.lazy && src.readSync);
    try {
      const size = await src.size();
      // Check every range before reading any, so a bad file fails fast and reads nothing.
      for (const p of list) checkRange(src.name, p.ref.offset, p.ref.length, size, { tensor: p.ref.name });
      if (lazy) {
        inPlace.push({ src, list });
        continue;
      }
      // File order gives sequential reads on disks and over HTTP.
      list.sort((a, b) => a.ref.offset - b.ref.offset);
      for (const group of coalesce(list, opts.coalesce ?? DEFAULT_COALESCE)) {
        const start = group[0].ref.offset;
        const end = Math.max(...group.map((p) => p.ref.offset + p.ref.length));
        const chunk = await src.read(start, end - start);
        for (const p of group) {
          const at = p.ref.offset - start;
          p.assign({ name: p.ref.name, dtype: p.ref.dtype, dims: p.ref.dims, bytes: chunk.subarray(at, at + p.ref.length) });
          loaded += p.ref.length;
        }
        opts.onProgress?.({ file: src.name, loaded, total });
      }
    } finally {
      if (!lazy) await src.close?.();
    }
  }
  // Every location passed its checks: only now are records handed out.
  const progress = inPlace.length ? readProgress(file ?? inPlace[0].src.name, loaded, total, opts.onProgress) : undefined;
  for (const { src, list } of inPlace) {
    for (const p of list) {
      const { name, dtype, dims, offset, length } = p.ref;
      p.assign(rangeRecord(src as ByteSource & SyncReader, offset, length, { name, dtype, dims }, progress));
    }
  }
  return model;
}

/**
 * After a lazy load, the inline tensors that are views of the whole model file `file` (read from `graph`): large ones
 * become ranges of it, small ones are copied out, so that nothing keeps the whole-file buffer alive.
 */
export function leaveInlineInFile(model: OnnxModel, file: Uint8Array, graph: SyncReader): OnnxModel {
  for (const [name, t] of model.tensors) {
    if (t.readInto || t.bytes.buffer !== file.buffer) continue;
    const at = t.bytes.byteOffset - file.byteOffset;
    model.tensors.set(name, t.bytes.length >= LAZY_MIN_BYTES
      ? rangeRecord(graph, at, t.bytes.length, { name: t.name, dtype: t.dtype, dims: t.dims })
      : { ...t, bytes: t.bytes.slice() });
  }
  return model;
}
