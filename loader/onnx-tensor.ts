/**
 * ONNX TensorProto → TensorRecord. raw_data (and packed float_data/double_data) stay views into the model bytes;
 * the varint fields (int32_data holding int32/int8/uint8/bool/fp16/bf16/packed int4 bits, int64_data) are decoded
 * into one new buffer whose size is checked against dims first. External data is returned as a reference for
 * onnx-external.ts to resolve.
 */
import { allocBytes, checkedByteLength, onnxDType, type DType } from './dtype.js';
import { CorruptFileError, DTypeError, type LoaderErrorInfo } from './errors.js';
import type { TensorRecord } from './types.js';
import { WIRE_LEN, WIRE_VARINT, type WireReader } from './wire.js';

export interface ExternalRef {
  name: string;
  dtype: DType;
  dims: number[];
  /** As written in the file: relative to the model file's folder. */
  location: string;
  offset: number;
  length: number;
}

export type ParsedTensor = { kind: 'inline'; record: TensorRecord } | { kind: 'external'; ref: ExternalRef };

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  const n = parts.reduce((a, p) => a + p.length, 0);
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function strictUint(s: string, what: string, info: LoaderErrorInfo): number {
  if (!/^\d{1,16}$/.test(s) || !Number.isSafeInteger(Number(s))) {
    throw new CorruptFileError(`external data ${what} "${s.slice(0, 40)}" is not a non-negative integer`, info);
  }
  return Number(s);
}

/** Decodes int32_data entries into the dtype's little-endian bytes (ONNX stores narrow types one per int32). */
function fromInt32Data(vals: (number | bigint)[], dtype: DType, nbytes: number, info: LoaderErrorInfo): Uint8Array {
  const width = dtype === 'int32' ? 4 : dtype === 'float16' || dtype === 'bfloat16' ? 2 : 1;
  if (!['int32', 'float16', 'bfloat16', 'int8', 'uint8', 'bool', 'int4', 'uint4'].includes(dtype)) {
    throw new DTypeError(`int32_data cannot hold ${dtype}`, info);
  }
  if (vals.length * width !== nbytes) {
    throw new CorruptFileError(`int32_data has ${vals.length} entries, dims need ${nbytes / width}`, info);
  }
  const out = allocBytes(nbytes, info);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < vals.length; i++) {
    const v = Number(vals[i]);
    if (width === 4) dv.setInt32(i * 4, v, true);
    else if (width === 2) dv.setUint16(i * 2, v & 0xffff, true);
    else out[i] = v & 0xff;
  }
  return out;
}

export function parseTensorProto(r: WireReader, file: string | undefined, maxTensorBytes: number): ParsedTensor {
  let name = '';
  let dataType = 0;
  const dims: number[] = [];
  let raw: Uint8Array | undefined;
  const floatParts: Uint8Array[] = [];
  const doubleParts: Uint8Array[] = [];
  const int32: (number | bigint)[] = [];
  const int64: (number | bigint)[] = [];
  let hasStrings = false;
  let hasUint64 = false;
  let location = 0;
  const ext: Record<string, string> = {};
  const dimsRaw: (number | bigint)[] = [];
  while (!r.done) {
    const [f, w] = r.tag();
    if (f === 1) r.repeatedInt64(w, dimsRaw);
    else if (f === 2 && w === WIRE_VARINT) dataType = r.uint();
    else if (f === 8 && w === WIRE_LEN) name = r.string();
    else if (f === 9 && w === WIRE_LEN) raw = r.bytes();
    else if (f === 4) floatParts.push(r.repeatedFixed(w, 4));
    else if (f === 10) doubleParts.push(r.repeatedFixed(w, 8));
    else if (f === 5) r.repeatedInt64(w, int32);
    else if (f === 7) r.repeatedInt64(w, int64);
    else if (f === 6) (hasStrings = true), r.skip(w);
    else if (f === 11) (hasUint64 = true), r.skip(w);
    else if (f === 14 && w === WIRE_VARINT) location = r.uint();
    else if (f === 13 && w === WIRE_LEN) {
      const e = r.message();
      let k = '';
      let v = '';
      while (!e.done) {
        const [ef, ew] = e.tag();
        if (ef === 1 && ew === WIRE_LEN) k = e.string();
        else if (ef === 2 && ew === WIRE_LEN) v = e.string();
        else e.skip(ew);
      }
      ext[k] = v;
    } else if (f === 3) throw new CorruptFileError('segmented TensorProto is not supported', { file, tensor: name });
    else r.skip(w);
  }
  const info = { file, tensor: name || '(unnamed)' };
  for (const d of dimsRaw) {
    if (typeof d !== 'number' || d < 0) throw new CorruptFileError(`invalid dimension ${d}`, info);
    dims.push(d);
  }
  if (hasStrings) throw new DTypeError('string tensors are not supported', info);
  if (hasUint64) throw new DTypeError('uint64_data (uint32/uint64 tensors) is not supported', info);
  const dtype = onnxDType(dataType, info);
  // Size is checked against the cap before anything below allocates.
  const nbytes = checkedByteLength(dtype, dims, info, maxTensorBytes);

  if (location === 1) {
    if (!('location' in ext)) throw new CorruptFileError('external data without a location', info);
    const offset = 'offset' in ext ? strictUint(ext.offset, 'offset', info) : 0;
    const length = 'length' in ext ? strictUint(ext.length, 'length', info) : nbytes;
    if (length !== nbytes) {
      throw new CorruptFileError(`external data length ${length} but dims [${dims}] ${dtype} need ${nbytes} bytes`, info);
    }
    return { kind: 'external', ref: { name, dtype, dims, location: ext.location, offset, length } };
  }
  if (location !== 0) throw new CorruptFileError(`unknown data_location ${location}`, info);

  const sources = [raw, floatParts.length, doubleParts.length, int32.length, int64.length].filter(Boolean).length;
  if (sources > 1) throw new CorruptFileError('tensor data in more than one field', info);
  let bytes: Uint8Array;
  if (raw) bytes = raw;
  else if (floatParts.length) {
    if (dtype !== 'float32') throw new DTypeError(`float_data holds ${dtype}`, info);
    bytes = concat(floatParts);
  } else if (doubleParts.length) {
    if (dtype !== 'float64') throw new DTypeError(`double_data holds ${dtype}`, info);
    bytes = concat(doubleParts);
  } else if (int32.length) bytes = fromInt32Data(int32, dtype, nbytes, info);
  else if (int64.length) {
    if (dtype !== 'int64') throw new DTypeError(`int64_data holds ${dtype}`, info);
    if (int64.length * 8 !== nbytes) throw new CorruptFileError(`int64_data has ${int64.length} entries for dims [${dims}]`, info);
    const a = new BigInt64Array(int64.length);
    for (let i = 0; i < int64.length; i++) a[i] = BigInt(int64[i]);
    bytes = new Uint8Array(a.buffer);
  } else bytes = new Uint8Array(0);
  if (bytes.length !== nbytes) {
    throw new CorruptFileError(`${bytes.length} data bytes but dims [${dims}] ${dtype} need ${nbytes}`, info);
  }
  return { kind: 'inline', record: { name, dtype, dims, bytes } };
}
