/**
 * safetensors: u64 little-endian header length N, N bytes of JSON {name: {dtype, shape, data_offsets:[b,e]}},
 * then the data block (offsets relative to its start). Tensors are views of the data; every entry is checked for a
 * supported dtype, offsets inside the file and end − begin equal to the bytes its shape needs. The header parser is
 * shared with the Node loader, which reads each tensor's range from a file handle instead. Browser-safe.
 */
import { byteLengthOf, type DType } from './dtype.js';
import { CorruptFileError, DTypeError, SizeLimitError } from './errors.js';
import { DEFAULT_MAX_TENSOR_BYTES, type TensorStore } from './types.js';

const ST_DTYPES: Record<string, DType> = {
  F32: 'float32', F16: 'float16', BF16: 'bfloat16', F64: 'float64', I8: 'int8', U8: 'uint8', I32: 'int32', I64: 'int64',
  BOOL: 'bool',
};
/** The format's own cap on header size (100 MB); also keeps a hostile length from allocating. */
export const MAX_SAFETENSORS_HEADER = 100_000_000;

export interface SafetensorsEntry {
  name: string;
  dtype: DType;
  dims: number[];
  /** Absolute byte range in the file. */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  entries: SafetensorsEntry[];
  metadata: Record<string, string>;
  /** Byte offset where the data block starts (8 + N). */
  dataStart: number;
}

/** Header length from the first 8 bytes, validated against the file size. */
export function safetensorsHeaderLength(first8: Uint8Array, fileSize: number, file?: string): number {
  if (first8.length < 8 || fileSize < 8) throw new CorruptFileError('too short for a safetensors file', { file });
  const dv = new DataView(first8.buffer, first8.byteOffset, 8);
  const n = dv.getUint32(0, true) + dv.getUint32(4, true) * 4294967296;
  if (n < 2 || n > MAX_SAFETENSORS_HEADER || 8 + n > fileSize) {
    throw new CorruptFileError(`safetensors header length ${n} impossible for a ${fileSize}-byte file (wrong format or truncated)`, { file });
  }
  return n;
}

/** Parses and validates the JSON header; `fileSize` bounds every data range. */
export function parseSafetensorsHeader(json: Uint8Array, fileSize: number, file?: string, maxTensorBytes = DEFAULT_MAX_TENSOR_BYTES): SafetensorsHeader {
  let h: unknown;
  try {
    h = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(json));
  } catch {
    throw new CorruptFileError('safetensors header is not valid UTF-8 JSON', { file });
  }
  if (!h || typeof h !== 'object' || Array.isArray(h)) throw new CorruptFileError('safetensors header is not a JSON object', { file });
  const dataStart = 8 + json.length;
  const out: SafetensorsHeader = { entries: [], metadata: {}, dataStart };
  for (const [name, v] of Object.entries(h as Record<string, unknown>)) {
    const info = { file, tensor: name };
    if (name === '__metadata__') {
      if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) if (typeof x === 'string') out.metadata[k] = x;
      continue;
    }
    const e = v as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (!e || typeof e !== 'object') throw new CorruptFileError('header entry is not an object', info);
    const dtype = ST_DTYPES[String(e.dtype)];
    if (!dtype) throw new DTypeError(`unsupported safetensors dtype ${String(e.dtype)}`, info);
    if (!Array.isArray(e.shape) || !Array.isArray(e.data_offsets) || e.data_offsets.length !== 2) {
      throw new CorruptFileError('header entry needs shape and data_offsets [begin, end]', info);
    }
    const dims = e.shape as number[];
    const nbytes = byteLengthOf(dtype, dims, info);
    if (nbytes > maxTensorBytes) throw new SizeLimitError(`tensor of ${nbytes} bytes exceeds the ${maxTensorBytes}-byte limit`, info);
    const [b, en] = e.data_offsets as number[];
    if (!Number.isSafeInteger(b) || !Number.isSafeInteger(en) || b < 0 || en < b || dataStart + en > fileSize) {
      throw new CorruptFileError(`data_offsets [${b}, ${en}] outside the ${fileSize - dataStart}-byte data block`, info);
    }
    if (en - b !== nbytes) throw new CorruptFileError(`data_offsets hold ${en - b} bytes, shape [${dims}] ${dtype} needs ${nbytes}`, info);
    out.entries.push({ name, dtype, dims: [...dims], begin: dataStart + b, end: dataStart + en });
  }
  return out;
}

/** Parses a whole safetensors file held in memory; tensors are views of `bytes`. Browser-safe. */
export function parseSafetensors(bytes: Uint8Array, file?: string, opts: { maxTensorBytes?: number } = {}): TensorStore {
  const n = safetensorsHeaderLength(bytes.subarray(0, 8), bytes.length, file);
  const h = parseSafetensorsHeader(bytes.subarray(8, 8 + n), bytes.length, file, opts.maxTensorBytes);
  const store: TensorStore = new Map();
  for (const e of h.entries) store.set(e.name, { name: e.name, dtype: e.dtype, dims: e.dims, bytes: bytes.subarray(e.begin, e.end) });
  return store;
}
