/**
 * Values of the CPU ONNX interpreter (session.ts): a dtype, dims and the elements. Floating values of 32 bits and
 * fewer live in a Float32Array (float16 ones rounded to float16 on every write, so arithmetic on them rounds as
 * ONNX Runtime's float16 kernels do not: see the note in ops-elementwise.ts); every other dtype (float64, the
 * integers, bool) in a Float64Array, which holds int64 exactly up to 2^53 — the shape and index arithmetic of the
 * graphs this runs never comes near that; INT64_MAX in a Slice end reads as "to the end" either way.
 */
import type { DType } from '../../loader/dtype.js';
import { f32ToF16Bits, halfToFloat, ownFloat32 } from '../../loader/dtype.js';
import type { TensorRecord } from '../../loader/types.js';
import { contiguousStrides as stridesOf, numel } from '../gpu/tensor.js';

export type ValueType = 'float32' | 'float16' | 'float64' | 'int64' | 'int32' | 'int8' | 'uint8' | 'bool';

export interface Value {
  readonly dtype: ValueType;
  readonly dims: readonly number[];
  readonly data: Float32Array | Float64Array;
}

/** ONNX TensorProto.DataType codes (Cast's `to`, ConstantOfShape's value type), and each type's code (CastLike). */
export const TYPE_CODES: Record<number, ValueType> = { 1: 'float32', 2: 'uint8', 3: 'int8', 6: 'int32', 7: 'int64', 9: 'bool', 10: 'float16', 11: 'float64' };
export const CODE_OF = Object.fromEntries(Object.entries(TYPE_CODES).map(([c, t]) => [t, Number(c)])) as Record<ValueType, number>;

/** Whether a node is in ONNX's default operator domain (the only one the interpreter runs). */
export const inDefaultDomain = (n: { domain: string }): boolean => n.domain === '' || n.domain === 'ai.onnx';

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

/**
 * Freed value buffers of one session, kept for later values of the same byte length. A fresh multi-megabyte
 * ArrayBuffer costs its page faults on first write: 18–19 ms for 5 MB on this VM against 0.4 ms to zero and fill a
 * reused one, and an eager run makes every value anew. Only buffers `alloc` made while this pool was current are
 * taken back (never a feed's, an initializer's, a kernel's memory or a value handed to the caller), when the
 * session has deleted every value that viewed them; reused ones are zeroed, as fresh ones are.
 */
export class BufferPool {
  private readonly free = new Map<number, ArrayBuffer[]>();
  private readonly made = new WeakSet<ArrayBufferLike>();
  private held = 0;

  /** At most `maxBytes` kept (beyond that a freed buffer is left to the garbage collector). */
  constructor(readonly maxBytes = 512 << 20) {}

  take(bytes: number): ArrayBuffer {
    const b = this.free.get(bytes)?.pop();
    if (b) {
      this.held -= bytes;
      new Uint8Array(b).fill(0);
      return b;
    }
    const fresh = new ArrayBuffer(bytes);
    this.made.add(fresh);
    return fresh;
  }

  /** Takes back a buffer this pool made, no longer viewed by any value. */
  give(b: ArrayBufferLike): void {
    if (!this.made.has(b) || this.held + b.byteLength > this.maxBytes || b.byteLength === 0) return;
    const list = this.free.get(b.byteLength);
    if (list) list.push(b as ArrayBuffer);
    else this.free.set(b.byteLength, [b as ArrayBuffer]);
    this.held += b.byteLength;
  }

  /** Whether this pool made `b` (values of other origin are never pooled). */
  owns(b: ArrayBufferLike): boolean {
    return this.made.has(b);
  }

  clear(): void {
    this.free.clear();
    this.held = 0;
  }
}

/** The pool of the node running now (session.ts sets it around each node; ops run synchronously). */
let current: BufferPool | null = null;

/** Runs f with `pool` as the one alloc draws from. */
export function withPool<T>(pool: BufferPool | null, f: () => T): T {
  const prev = current;
  current = pool;
  try {
    return f();
  } finally {
    current = prev;
  }
}

/** Storage for n elements of a dtype, zeroed: from the running session's pool where it has a buffer of the size. */
export function alloc(dtype: ValueType, n: number): Float32Array | Float64Array {
  const f32 = dtype === 'float32' || dtype === 'float16';
  if (!current) return f32 ? new Float32Array(n) : new Float64Array(n);
  const b = current.take(n * (f32 ? 4 : 8));
  return f32 ? new Float32Array(b) : new Float64Array(b);
}

/** alloc of float32 storage. */
export const allocFloat32 = (n: number): Float32Array => alloc('float32', n) as Float32Array;

/** Gives a scratch array from alloc back to the running session's pool (it must not be used after). */
export function recycle(a: Float32Array | Float64Array): void {
  if (current && a.byteOffset === 0 && a.byteLength === a.buffer.byteLength) current.give(a.buffer);
}

/** Rounds the elements to the dtype's values (integers truncate towards zero, wrap to their width; float16 rounds). */
export function conform(dtype: ValueType, data: Float32Array | Float64Array): void {
  switch (dtype) {
    case 'float16':
      for (let i = 0; i < data.length; i++) data[i] = halfToFloat(f32ToF16Bits(data[i]));
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

/** A loader record (initializer or Constant attribute) as a Value: float16 and bfloat16 widened to float32 values. */
export function fromRecord(t: TensorRecord): Value {
  const dtype = recordType(t.dtype, t.name);
  if (t.dtype === 'float32' || t.dtype === 'float16' || t.dtype === 'bfloat16') return { dtype, dims: [...t.dims], data: ownFloat32(t) };
  const n = numel(t.dims);
  const b = t.bytes;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out = new Float64Array(n);
  switch (t.dtype) {
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
    default: // uint8, bool
      for (let i = 0; i < n; i++) out[i] = dv.getUint8(i);
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

/**
 * Steps the row-major multi-index `idx` over dims[0 … last] by one (dims[last] fastest) and returns `off` moved by
 * the strides `st` of the axes that changed: the walk of a strided read (a transpose, a broadcast, a reduction).
 */
export function nextOffset(idx: number[], off: number, dims: readonly number[], st: readonly number[], last: number): number {
  for (let d = last; d >= 0; d--) {
    idx[d]++;
    off += st[d];
    if (idx[d] < dims[d]) return off;
    off -= st[d] * dims[d];
    idx[d] = 0;
  }
  return off;
}

/** Integer list from a Value (shapes, axes, pads). */
export function intsOf(v: Value): number[] {
  return Array.from(v.data, (x) => x);
}
