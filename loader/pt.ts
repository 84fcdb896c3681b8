/**
 * PyTorch checkpoints (torch.save zip format): <archive>/data.pkl describes the state_dict, <archive>/data/<key>
 * holds each storage's raw little-endian bytes. Tensors whose size/stride/offset describe a contiguous block are
 * views of the storage (shared storages, e.g. tied weights, give views of the same bytes); others are gathered into
 * a new contiguous buffer whose size is checked before allocation. Browser-safe.
 */
import { allocBytes, byteLengthOf, checkedByteLength, DTYPE_BITS } from './dtype.js';
import { CorruptFileError, DTypeError, MissingTensorError, SizeLimitError } from './errors.js';
import { TensorRef, unpickle } from './pickle.js';
import { DEFAULT_MAX_TENSOR_BYTES, DEFAULT_MAX_TOTAL_BYTES, type ProgressFn, type TensorRecord, type TensorStore } from './types.js';
import { memoryReader, readZipDirectory, readZipEntry, type RangeReader, type ZipEntry } from './zip.js';

export interface PtOptions {
  maxTensorBytes?: number;
  /** Cap on the sum of all storage bytes, checked before reading any storage. */
  maxBytes?: number;
  onProgress?: ProgressFn;
}

/** state_dict (possibly nested dicts) → flat list of dotted names and tensor refs; non-tensor leaves are skipped. */
function collect(v: unknown, prefix: string, out: [string, TensorRef][], depth: number, file: string | undefined): void {
  if (v instanceof TensorRef) out.push([prefix, v]);
  else if (v instanceof Map) {
    if (depth > 16) throw new CorruptFileError('state_dict nested too deeply', { file });
    for (const [k, x] of v) {
      if (typeof k !== 'string') continue;
      collect(x, prefix ? `${prefix}.${k}` : k, out, depth + 1, file);
    }
  }
}

/**
 * Validates a tensor's view of its storage; for a view that is one contiguous block, its byte range in the
 * storage (null when the elements must be gathered).
 */
export function contiguousRange(name: string, t: TensorRef, file: string | undefined, maxTensorBytes: number): { offset: number; nbytes: number } | null {
  const info = { file, tensor: name };
  const es = DTYPE_BITS[t.storage.dtype] / 8;
  const dims = t.size;
  const nbytes = checkedByteLength(t.storage.dtype, dims, info, maxTensorBytes);
  if (nbytes === 0) return { offset: 0, nbytes };
  // Highest element index touched must lie inside the storage.
  let last = t.offset;
  for (let i = 0; i < dims.length; i++) last += (dims[i] - 1) * t.stride[i];
  if (!Number.isSafeInteger(last) || last >= t.storage.numel) {
    throw new CorruptFileError(`size [${dims}] stride [${t.stride}] offset ${t.offset} reach element ${last} of a ${t.storage.numel}-element storage`, info);
  }
  for (let i = dims.length - 1, expect = 1; i >= 0; i--) {
    if (dims[i] !== 1 && t.stride[i] !== expect) return null;
    expect *= dims[i];
  }
  return { offset: t.offset * es, nbytes };
}

/** Copies (or views) a tensor out of its storage bytes into contiguous row-major order. */
export function materialise(name: string, t: TensorRef, storage: Uint8Array, file: string | undefined, maxTensorBytes: number): TensorRecord {
  const info = { file, tensor: name };
  const dtype = t.storage.dtype;
  const es = DTYPE_BITS[dtype] / 8;
  const dims = t.size;
  const range = contiguousRange(name, t, file, maxTensorBytes);
  if (range) return { name, dtype, dims, bytes: storage.subarray(range.offset, range.offset + range.nbytes) };
  const nbytes = byteLengthOf(dtype, dims);
  const n = nbytes / es;
  const out = allocBytes(nbytes, info);
  const idx = new Array<number>(dims.length).fill(0);
  let src = t.offset;
  for (let k = 0; k < n; k++) {
    out.set(storage.subarray(src * es, src * es + es), k * es);
    // Odometer increment over the dims, tracking the strided source index.
    for (let d = dims.length - 1; d >= 0; d--) {
      idx[d]++;
      src += t.stride[d];
      if (idx[d] < dims[d]) break;
      src -= idx[d] * t.stride[d];
      idx[d] = 0;
    }
  }
  return { name, dtype, dims, bytes: out };
}

/** What a checkpoint needs read: its tensors and, per storage key, the zip entry and the bytes it must hold. */
export interface PtPlan {
  file: string;
  refs: [string, TensorRef][];
  storages: Map<string, { entry: ZipEntry; need: number; tensor: string }>;
  total: number;
}

/**
 * Reads the zip directory and the pickle, and validates every storage (present, big enough, under the caps)
 * before any storage byte is read.
 */
export function planPt(r: RangeReader, opts: PtOptions = {}): PtPlan {
  const file = r.name;
  const maxTensorBytes = opts.maxTensorBytes ?? DEFAULT_MAX_TENSOR_BYTES;
  const entries = readZipDirectory(r);
  const pkls = [...entries.keys()].filter((k) => /^[^/]+\/data\.pkl$/.test(k));
  if (pkls.length !== 1) {
    const legacy = pkls.length === 0 ? ' (legacy non-zip torch.save files are not supported)' : '';
    throw new CorruptFileError(`expected one <archive>/data.pkl entry, found ${pkls.length}${legacy}`, { file });
  }
  const root = pkls[0].slice(0, -'data.pkl'.length);
  const bo = entries.get(`${root}byteorder`);
  if (bo && new TextDecoder().decode(readZipEntry(r, bo, 16)).trim() !== 'little') {
    throw new DTypeError('big-endian checkpoint', { file });
  }
  const state = unpickle(readZipEntry(r, entries.get(pkls[0])!, 1 << 30), { file });
  const refs: [string, TensorRef][] = [];
  collect(state, '', refs, 0, file);
  if (!refs.length && !(state instanceof Map)) throw new CorruptFileError('pickle is not a state_dict', { file });
  const seen = new Set<string>();
  const storages: PtPlan['storages'] = new Map();
  let total = 0;
  for (const [name, t] of refs) {
    if (seen.has(name)) throw new CorruptFileError('duplicate tensor name', { file, tensor: name });
    seen.add(name);
    const key = t.storage.key;
    const info = { file, tensor: name };
    const need = checkedByteLength(t.storage.dtype, [t.storage.numel], info, maxTensorBytes);
    const have = storages.get(key);
    if (have) {
      // Tensors sharing a storage (tied weights) may not claim more of it than the first one declared.
      if (need > have.need) throw new CorruptFileError(`storage ${key} declared with two sizes`, info);
      continue;
    }
    const entry = entries.get(`${root}data/${key}`);
    if (!entry) throw new MissingTensorError(`storage ${root}data/${key} is not in the archive`, info);
    if (entry.size < need) {
      throw new CorruptFileError(`storage ${key} has ${entry.size} bytes, ${t.storage.numel} ${t.storage.dtype} need ${need}`, info);
    }
    storages.set(key, { entry, need, tensor: name });
    total += need;
  }
  const cap = opts.maxBytes ?? DEFAULT_MAX_TOTAL_BYTES;
  if (total > cap) throw new SizeLimitError(`storages total ${total} bytes, limit is ${cap}`, { file });
  return { file, refs, storages, total };
}

/** Builds the store from the storages' bytes (each exactly `need` long). */
export function finishPt(plan: PtPlan, bytes: Map<string, Uint8Array>, opts: PtOptions = {}): TensorStore {
  const store: TensorStore = new Map();
  for (const [name, t] of plan.refs) {
    const b = bytes.get(t.storage.key);
    if (!b) throw new MissingTensorError(`storage ${t.storage.key} was not read`, { file: plan.file, tensor: name });
    store.set(name, materialise(name, t, b, plan.file, opts.maxTensorBytes ?? DEFAULT_MAX_TENSOR_BYTES));
  }
  return store;
}

/** Reads a torch.save archive through a RangeReader, touching only the pickle and the storages it names. */
export function readPt(r: RangeReader, opts: PtOptions = {}): TensorStore {
  const plan = planPt(r, opts);
  const bytes = new Map<string, Uint8Array>();
  let loaded = 0;
  for (const [key, s] of plan.storages) {
    bytes.set(key, readZipEntry(r, s.entry, opts.maxTensorBytes ?? DEFAULT_MAX_TENSOR_BYTES).subarray(0, s.need));
    loaded += s.need;
    opts.onProgress?.({ file: plan.file, loaded, total: plan.total });
  }
  return finishPt(plan, bytes, opts);
}

/** Parses a whole .pt file held in memory. Browser-safe. */
export function parsePt(bytes: Uint8Array, file?: string, opts: PtOptions = {}): TensorStore {
  return readPt(memoryReader(bytes, file ?? '(memory)'), opts);
}
