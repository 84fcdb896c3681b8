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
   * Only on records backed by a file range (Node loads with `lazy`): copies dst.length of the bytes, from byte
   * `at` of the tensor (without `at`: all of them, and dst must hold exactly that), into `dst` (any ArrayBuffer: a WebAssembly memory
   * too) without allocating, so a weight goes straight from the page cache to where it lives, and a row of a table
   * can be read alone. `bytes` is then a getter that reads the range when asked.
   */
  readInto?(dst: Uint8Array, at?: number): void;
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
