/**
 * GpuTensor: a typed view of (part of) a GPUBuffer. Shapes are PyTorch order, row-major; `strides` are in
 * elements. f16 tensors are stored as packed pairs in u32 words (so kernels work without `shader-f16`);
 * q8/q4 tensors carry their per-group scales in a second tensor (see kernels/matmul.ts).
 */
import { ShapeMismatchError } from './errors.js';

export type GpuDType = 'f32' | 'f16' | 'i32' | 'u32' | 'q8' | 'q4';

export function bytesPerElement(dtype: GpuDType): number {
  switch (dtype) {
    case 'f32':
    case 'i32':
    case 'u32':
      return 4;
    case 'f16':
      return 2;
    case 'q8':
      return 1;
    case 'q4':
      return 0.5;
  }
}

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function contiguousStrides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

export class GpuTensor {
  readonly strides: number[];
  constructor(
    readonly buffer: GPUBuffer,
    readonly dtype: GpuDType,
    readonly shape: readonly number[],
    /** Byte offset of element 0 inside `buffer`. */
    readonly offset = 0,
    strides?: number[],
    readonly label = '',
  ) {
    this.strides = strides ?? contiguousStrides(shape);
  }

  get numel(): number {
    return numel(this.shape);
  }

  /** Bytes covered by the tensor, rounded up to whole 4-byte words (WGSL storage arrays are word-sized). */
  get byteLength(): number {
    return Math.ceil((this.numel * bytesPerElement(this.dtype)) / 4) * 4;
  }

  /** The buffer binding for a bind group entry. Offsets must meet minStorageBufferOffsetAlignment (256). */
  binding(): GPUBufferBinding {
    if (this.offset % 256 !== 0) {
      throw new ShapeMismatchError(`tensor ${this.label || '(unnamed)'}: byte offset ${this.offset} is not 256-aligned`);
    }
    return { buffer: this.buffer, offset: this.offset, size: this.byteLength };
  }

  /** A view with another shape over the same contiguous elements. */
  reshape(shape: readonly number[]): GpuTensor {
    if (numel(shape) !== this.numel) {
      throw new ShapeMismatchError(`reshape ${this.label}: [${this.shape}] → [${shape}] changes the element count`);
    }
    return new GpuTensor(this.buffer, this.dtype, shape, this.offset, undefined, this.label);
  }

  /** Rows [start, start+count) of dim 0 as a contiguous view (byte offset must stay 256-aligned to be bound). */
  rows(start: number, count: number): GpuTensor {
    const rowElems = numel(this.shape.slice(1));
    const offset = this.offset + start * rowElems * bytesPerElement(this.dtype);
    return new GpuTensor(this.buffer, this.dtype, [count, ...this.shape.slice(1)], offset, undefined, this.label);
  }
}

/** Throws ShapeMismatchError unless `t` has exactly `shape` (use -1 as a wildcard) and one of `dtypes`. */
export function expectShape(what: string, t: GpuTensor, shape: readonly number[], dtypes?: readonly GpuDType[]): void {
  const ok = t.shape.length === shape.length && shape.every((d, i) => d === -1 || d === t.shape[i]);
  if (!ok) throw new ShapeMismatchError(`${what}: expected shape [${shape}], got [${t.shape}] (${t.label || 'unnamed'})`);
  if (dtypes && !dtypes.includes(t.dtype)) {
    throw new ShapeMismatchError(`${what}: expected dtype ${dtypes.join('|')}, got ${t.dtype} (${t.label || 'unnamed'})`);
  }
}
