/**
 * Values of the CPU ONNX interpreter (session.ts): a dtype, dims and the elements. Floating values of 32 bits and
 * fewer live in a Float32Array (float16 ones rounded to float16 on every write, so arithmetic on them rounds as
 * ONNX Runtime's float16 kernels do not: see the note in ops-elementwise.ts); every other dtype (float64, the
 * integers, bool) in a Float64Array, which holds int64 exactly up to 2^53 — the shape and index arithmetic of the
 * graphs this runs never comes near that; INT64_MAX in a Slice end reads as "to the end" either way.
 */
import type { DType } from '../../loader/dtype.js';
import { bf16ToFloat, halfToFloat } from '../../loader/dtype.js';
import type { TensorRecord } from '../../loader/types.js';
import { contiguousStrides as stridesOf, numel } from '../gpu/tensor.js';

export type ValueType = 'float32' | 'float16' | 'float64' | 'int64' | 'int32' | 'int8' | 'uint8' | 'bool';

export interface Value {
  readonly dtype: ValueType;
  readonly dims: readonly number[];
  readonly data: Float32Array | Float64Array;
}

/** ONNX TensorProto.DataType codes (Cast's `to`, ConstantOfShape's value type). */
export const TYPE_CODES: Record<number, ValueType> = { 1: 'float32', 2: 'uint8', 3: 'int8', 6: 'int32', 7: 'int64', 9: 'bool', 10: 'float16', 11: 'float64' };

/** A graph the interpreter cannot run as asked, or a value of the wrong shape or type; names the node. */
export class OnnxRunError extends Error {
  override name = 'OnnxRunError';
}

/** An operator (or an attribute of one) this interpreter does not implement. */
export class UnsupportedOpError extends OnnxRunError {
  override name = 'UnsupportedOpError';
}

export const isFloat = (t: ValueType): boolean => t === 'float32' || t === 'float16' || t === 'float64';

export { numel, contiguousStrides as stridesOf } from '../gpu/tensor.js';

/** Storage for n elements of a dtype. */
export function alloc(dtype: ValueType, n: number): Float32Array | Float64Array {
  return dtype === 'float32' || dtype === 'float16' ? new Float32Array(n) : new Float64Array(n);
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
/** Rounds a float32 to the nearest float16 (ties to even), returned as a number. */
export function roundF16(x: number): number {
  f32[0] = x;
  const bits = u32[0];
  const exp = (bits >>> 23) & 0xff;
  if (exp === 0xff) return x; // inf, nan
  const a = Math.abs(x);
  if (a >= 65520) return x > 0 ? Infinity : -Infinity;
  if (a < 2 ** -24 / 2) return x < 0 ? -0 : 0;
  // Quantum of the float16 binade of |x| (subnormals share 2^-24).
  const e = Math.max(Math.floor(Math.log2(a)), -14);
  const q = 2 ** (e - 10);
  const m = a / q;
  let r = Math.round(m);
  if (r - m === 0.5 && r % 2 === 1) r -= 1; // Math.round rounds halves up: make it ties-to-even
  return Math.sign(x) * r * q;
}

/** Rounds the elements to the dtype's values (integers truncate towards zero, wrap to their width; float16 rounds). */
export function conform(dtype: ValueType, data: Float32Array | Float64Array): void {
  switch (dtype) {
    case 'float16':
      for (let i = 0; i < data.length; i++) data[i] = roundF16(data[i]);
      return;
    case 'int32':
      for (let i = 0; i < data.length; i++) data[i] = Number.isFinite(data[i]) ? Math.trunc(data[i]) | 0 : 0;
      return;
    case 'int8':
      for (let i = 0; i < data.length; i++) data[i] = ((Math.trunc(data[i]) << 24) >> 24);
      return;
    case 'uint8':
      for (let i = 0; i < data.length; i++) data[i] = Math.trunc(data[i]) & 0xff;
      return;
    case 'int64':
      for (let i = 0; i < data.length; i++) data[i] = Number.isFinite(data[i]) ? Math.trunc(data[i]) : 0;
      return;
    case 'bool':
      for (let i = 0; i < data.length; i++) data[i] = data[i] !== 0 && !Number.isNaN(data[i]) ? 1 : 0;
      return;
    default:
  }
}

export function value(dtype: ValueType, dims: readonly number[], data: Float32Array | Float64Array): Value {
  if (data.length !== numel(dims)) throw new OnnxRunError(`value [${dims.join(',')}] ${dtype}: ${data.length} elements`);
  return { dtype, dims: [...dims], data };
}

export function scalarOf(v: Value, what: string): number {
  if (v.data.length !== 1) throw new OnnxRunError(`${what}: expected one element, got [${v.dims.join(',')}]`);
  return v.data[0];
}

/** A loader record (initializer or Constant attribute) as a Value. */
export function fromRecord(t: TensorRecord): Value {
  const dtype = recordType(t.dtype, t.name);
  const n = numel(t.dims);
  const b = t.bytes;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out = alloc(dtype === 'float16' && t.dtype === 'bfloat16' ? 'float32' : dtype, n);
  switch (t.dtype) {
    case 'float32':
      for (let i = 0; i < n; i++) out[i] = dv.getFloat32(4 * i, true);
      break;
    case 'float16':
      for (let i = 0; i < n; i++) out[i] = halfToFloat(dv.getUint16(2 * i, true));
      break;
    case 'bfloat16':
      for (let i = 0; i < n; i++) out[i] = bf16ToFloat(dv.getUint16(2 * i, true));
      break;
    case 'float64':
      for (let i = 0; i < n; i++) out[i] = dv.getFloat64(8 * i, true);
      break;
    case 'int64':
      for (let i = 0; i < n; i++) out[i] = Number(dv.getBigInt64(8 * i, true));
      break;
    case 'int32':
      for (let i = 0; i < n; i++) out[i] = dv.getInt32(4 * i, true);
      break;
    case 'int8':
      for (let i = 0; i < n; i++) out[i] = dv.getInt8(i);
      break;
    case 'uint8':
    case 'bool':
      for (let i = 0; i < n; i++) out[i] = dv.getUint8(i);
      break;
    default:
      throw new UnsupportedOpError(`tensor ${t.name}: dtype ${t.dtype} is not supported by the interpreter`);
  }
  return { dtype, dims: [...t.dims], data: out };
}

function recordType(d: DType, name: string): ValueType {
  if (d === 'bfloat16') return 'float32'; // widened: the interpreter computes bfloat16 weights in float32
  if (d === 'int4' || d === 'uint4') throw new UnsupportedOpError(`tensor ${name}: dtype ${d} is not supported by the interpreter`);
  return d;
}

/** Numpy broadcasting of several shapes (ONNX multidirectional broadcasting). */
export function broadcastDims(shapes: readonly (readonly number[])[], what: string): number[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const o = rank - s.length + i;
      const d = s[i];
      if (out[o] === 1) out[o] = d;
      else if (d !== 1 && d !== out[o]) throw new OnnxRunError(`${what}: shapes ${shapes.map((x) => `[${x.join(',')}]`).join(' and ')} do not broadcast`);
    }
  }
  return out;
}

/** Strides of `dims` read as `out` (broadcast dims get stride 0). */
export function broadcastStrides(dims: readonly number[], out: readonly number[]): number[] {
  const s = stridesOf(dims);
  const r = new Array<number>(out.length).fill(0);
  for (let i = 0; i < dims.length; i++) {
    const o = out.length - dims.length + i;
    r[o] = dims[i] === 1 ? 0 : s[i];
  }
  return r;
}

/** A normalised axis in [0, rank). */
export function axisOf(axis: number, rank: number, what: string): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!(a >= 0 && a < rank)) throw new OnnxRunError(`${what}: axis ${axis} outside a rank-${rank} value`);
  return a;
}

/** Integer list from a Value (shapes, axes, pads). */
export function intsOf(v: Value): number[] {
  return Array.from(v.data, (x) => x);
}
