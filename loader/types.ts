/**
 * Shared loader types: the tensor store every reader returns, progress callbacks and size limits.
 * Browser-safe (no node: imports).
 */
import type { DType } from './dtype.js';

/** One weight: contiguous row-major little-endian bytes, a view into the file buffer where possible. */
export interface TensorRecord {
  name: string;
  dtype: DType;
  /** PyTorch order, row-major. */
  dims: number[];
  /** Exactly byteLengthOf(dtype, dims) bytes (int4/uint4 packed two per byte, low nibble first). */
  bytes: Uint8Array;
  /**
   * Only on records backed by a file range (Node loads with `lazy`): copies the bytes into `dst` (exactly their
   * length, any ArrayBuffer: a WebAssembly memory too) without allocating, so a weight can go straight from the
   * page cache to where it lives. `bytes` is then a getter that reads the range when asked.
   */
  readInto?(dst: Uint8Array): void;
}

export type TensorStore = Map<string, TensorRecord>;

export interface Progress {
  file: string;
  loaded: number;
  total: number;
}
export type ProgressFn = (p: Progress) => void;

/** Largest single tensor any reader will materialise unless told otherwise (4 GiB: the wasm/TypedArray ceiling). */
export const DEFAULT_MAX_TENSOR_BYTES = 2 ** 32;
/** Largest total a reader will allocate for one model unless told otherwise. */
export const DEFAULT_MAX_TOTAL_BYTES = 2 ** 36;

export interface LimitOptions {
  /** Per-tensor cap in bytes; bigger tensors are refused before allocation (SizeLimitError). */
  maxTensorBytes?: number;
  /** Cap on the sum of all tensor bytes of one model file. */
  maxBytes?: number;
}
