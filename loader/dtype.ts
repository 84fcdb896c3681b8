/**
 * Element types, byte sizes and conversion to float32. int4/uint4 are packed two per byte with the first element in
 * the low nibble (ONNX convention); every other type is little-endian and byte aligned.
 * Browser-safe.
 */
import { CorruptFileError, DTypeError, SizeLimitError, type LoaderErrorInfo } from './errors.js';
import { DEFAULT_MAX_TENSOR_BYTES, type TensorRecord } from './types.js';

export type DType =
  | 'float32' | 'float16' | 'bfloat16' | 'float64' | 'int8' | 'uint8' | 'int4' | 'uint4' | 'int32' | 'int64' | 'bool';

/** Bits per element. */
export const DTYPE_BITS: Record<DType, number> = {
  float32: 32, float16: 16, bfloat16: 16, float64: 64, int8: 8, uint8: 8, int4: 4, uint4: 4, int32: 32, int64: 64,
  bool: 8,
};

/** ONNX TensorProto.DataType numbers of the supported dtypes. */
export const ONNX_DTYPES: Record<number, DType> = {
  1: 'float32', 2: 'uint8', 3: 'int8', 6: 'int32', 7: 'int64', 9: 'bool', 10: 'float16', 11: 'float64',
  16: 'bfloat16', 21: 'uint4', 22: 'int4',
};
const ONNX_NAMES: Record<number, string> = {
  4: 'UINT16', 5: 'INT16', 8: 'STRING', 12: 'UINT32', 13: 'UINT64', 14: 'COMPLEX64', 15: 'COMPLEX128',
  17: 'FLOAT8E4M3FN', 18: 'FLOAT8E4M3FNUZ', 19: 'FLOAT8E5M2', 20: 'FLOAT8E5M2FNUZ', 23: 'FLOAT4E2M1',
};

export function onnxDType(code: number, info: LoaderErrorInfo): DType {
  const d = ONNX_DTYPES[code];
  if (!d) throw new DTypeError(`unsupported ONNX data type ${code}${ONNX_NAMES[code] ? ` (${ONNX_NAMES[code]})` : ''}`, info);
  return d;
}

/** Number of elements; checks every dim is a non-negative safe integer and the product stays safe. */
export function numElements(dims: readonly number[], info: LoaderErrorInfo): number {
  let n = 1;
  for (const d of dims) {
    if (!Number.isSafeInteger(d) || d < 0) throw new CorruptFileError(`invalid dimension ${d} in [${dims.join(',')}]`, info);
    n *= d;
    if (!Number.isSafeInteger(n)) throw new SizeLimitError(`dims [${dims.join(',')}] overflow`, info);
  }
  return n;
}

/** Bytes of a contiguous tensor; int4/uint4 round up to whole bytes. */
export function byteLengthOf(dtype: DType, dims: readonly number[], info: LoaderErrorInfo = {}): number {
  const n = numElements(dims, info);
  const bits = DTYPE_BITS[dtype];
  return bits === 4 ? Math.ceil(n / 2) : n * (bits / 8);
}

/** byteLengthOf plus the per-tensor cap: call before allocating anything sized by dims read from a file. */
export function checkedByteLength(dtype: DType, dims: readonly number[], info: LoaderErrorInfo, maxTensorBytes = DEFAULT_MAX_TENSOR_BYTES): number {
  const b = byteLengthOf(dtype, dims, info);
  if (b > maxTensorBytes) {
    throw new SizeLimitError(`tensor of ${b} bytes ([${dims.join(',')}] ${dtype}) exceeds the ${maxTensorBytes}-byte limit`, info);
  }
  return b;
}

/**
 * Allocates a zeroed byte buffer, turning the engine's RangeError (length over the ArrayBuffer limit, or out of
 * memory) into a SizeLimitError that names the file and tensor.
 */
export function allocBytes(n: number, info: LoaderErrorInfo): Uint8Array {
  try {
    return new Uint8Array(n);
  } catch (e) {
    throw new SizeLimitError(`cannot allocate ${n} bytes: ${(e as Error).message}`, info);
  }
}

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/** IEEE binary16 bits of `v`, round to nearest even (overflow → ±inf, NaN kept). */
export function f32ToF16Bits(v: number): number {
  f32Scratch[0] = v;
  const x = u32Scratch[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    // Subnormal half: shift the implicit-1 mantissa into place, round to nearest even.
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rem = mant & ((1 << shift) - 1);
    let r = mant >>> shift;
    if (rem > half || (rem === half && (r & 1))) r++;
    return sign | r;
  }
  let r = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (r & 1))) r++; // may carry into the exponent: still correct
  return sign | r;
}

/** IEEE binary16 bits of every value (f32ToF16Bits). */
export function toF16Bits(a: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = f32ToF16Bits(a[i]);
  return out;
}

/** IEEE half bits → float (exact). */
export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

/** bfloat16 bits → float (exact: the high half of a float32). */
export function bf16ToFloat(b: number): number {
  u32Scratch[0] = (b & 0xffff) << 16;
  return f32Scratch[0];
}

/** A typed view when the bytes are aligned, else a copy into a fresh aligned buffer. */
function aligned<T>(bytes: Uint8Array, bpe: number, Ctor: new (b: ArrayBufferLike, o: number, n: number) => T): T {
  if (bytes.byteOffset % bpe === 0) return new Ctor(bytes.buffer, bytes.byteOffset, bytes.byteLength / bpe);
  return new Ctor(bytes.slice().buffer, 0, bytes.byteLength / bpe);
}

/**
 * Writes the values of `t` as f32 into `dst` (exactly their count). A float32 record backed by a file range
 * (`readInto`) is read straight into dst's bytes, with no buffer in between; anything else goes through toFloat32.
 */
export function copyFloat32Into(t: TensorRecord, dst: Float32Array): void {
  const n = numElements(t.dims, { tensor: t.name });
  if (dst.length !== n) throw new RangeError(`${t.name}: ${n} values of [${t.dims.join(',')}] cannot fill ${dst.length}`);
  if (t.readInto && t.dtype === 'float32') t.readInto(new Uint8Array(dst.buffer, dst.byteOffset, dst.byteLength));
  else dst.set(toFloat32(t));
}

/**
 * toFloat32 for values that are kept (a model's norms, embeddings, tables): never a view into a larger buffer, so
 * that keeping them keeps only their own bytes. An eagerly read tensor is a view of its file's (or its read
 * group's) buffer, and one small kept view would hold the whole file, GBs for the LLM's.
 */
export function ownFloat32(t: TensorRecord): Float32Array {
  const v = toFloat32(t);
  return v.byteLength === v.buffer.byteLength ? v : v.slice();
}

/**
 * Values as Float32Array. float32 returns a view when aligned (no copy); everything else converts. int64 values above
 * 2^24 lose precision as they would in any f32 cast.
 */
export function toFloat32(t: TensorRecord): Float32Array {
  const n = numElements(t.dims, { tensor: t.name });
  const b = t.bytes;
  if (b.byteLength !== byteLengthOf(t.dtype, t.dims)) {
    throw new CorruptFileError(`${b.byteLength} bytes for [${t.dims.join(',')}] ${t.dtype}`, { tensor: t.name });
  }
  const out = (): Float32Array => new Float32Array(n);
  switch (t.dtype) {
    case 'float32':
      return aligned(b, 4, Float32Array);
    case 'float64':
      return Float32Array.from(aligned(b, 8, Float64Array));
    case 'float16': {
      const h = aligned(b, 2, Uint16Array);
      const o = out();
      for (let i = 0; i < n; i++) o[i] = halfToFloat(h[i]);
      return o;
    }
    case 'bfloat16': {
      const h = aligned(b, 2, Uint16Array);
      const o = out();
      const u = new Uint32Array(o.buffer);
      for (let i = 0; i < n; i++) u[i] = h[i] << 16;
      return o;
    }
    case 'int8':
      return Float32Array.from(new Int8Array(b.buffer, b.byteOffset, n));
    case 'uint8':
    case 'bool':
      return Float32Array.from(b.subarray(0, n));
    case 'int32':
      return Float32Array.from(aligned(b, 4, Int32Array));
    case 'int64': {
      const v = aligned(b, 8, BigInt64Array);
      const o = out();
      for (let i = 0; i < n; i++) o[i] = Number(v[i]);
      return o;
    }
    case 'int4':
    case 'uint4': {
      const o = out();
      const signed = t.dtype === 'int4';
      for (let i = 0; i < n; i++) {
        const nib = (b[i >> 1] >> ((i & 1) * 4)) & 0xf;
        o[i] = signed && nib >= 8 ? nib - 16 : nib;
      }
      return o;
    }
    default:
      throw new DTypeError(`cannot convert dtype ${(t as TensorRecord).dtype} to float32`, { tensor: t.name });
  }
}
