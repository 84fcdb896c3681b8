/**
 * Reads a fixture folder's manifest.json and its ONNX TensorProto `.pb` files (backend-test layout) for `verify`.
 * Values keep their dtype: float32 → Float32Array, float64 → Float64Array, int32/int64 → Int32Array/BigInt64Array,
 * bool → Uint8Array.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseTensorFile, typedData } from '../../loader/tensor-file.js';

export type TensorData = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array;
export interface FxTensor { name: string; dims: number[]; data: TensorData }

export interface ManifestIO { file: string; name: string; shape: number[]; dtype: string; description?: string }
export interface ManifestSet { dir: string; inputs: ManifestIO[]; outputs: ManifestIO[]; notes?: string }
export interface Manifest {
  tests: Record<string, { description: string; test_data_sets: ManifestSet[] }>;
  special_tokens?: Record<string, unknown>;
  llm_generation?: Record<string, unknown>;
  [k: string]: unknown;
}

export function readManifest(root: string): Manifest {
  return JSON.parse(readFileSync(join(root, 'manifest.json'), 'utf8')) as Manifest;
}

export function readTensorFile(path: string): FxTensor {
  const rec = parseTensorFile(new Uint8Array(readFileSync(path)), path);
  if (!['float32', 'float64', 'int32', 'int64', 'bool'].includes(rec.dtype)) throw new Error(`${path}: unsupported TensorProto data type ${rec.dtype}`);
  return { name: rec.name, dims: rec.dims, data: typedData(rec) as TensorData };
}

/** One test set: tensors by manifest name. */
export interface FxSet { dir: string; notes?: string; inputs: Map<string, FxTensor>; outputs: Map<string, FxTensor> }

export function readSet(root: string, s: ManifestSet): FxSet {
  const load = (ios: ManifestIO[]) => new Map(ios.map((io) => [io.name, { ...readTensorFile(join(root, s.dir, io.file)), name: io.name }]));
  return { dir: s.dir, notes: s.notes, inputs: load(s.inputs), outputs: load(s.outputs) };
}

/** Numbers of any fixture tensor as plain number[] (ids, offsets). */
export function ints(t: FxTensor): number[] {
  return Array.from(t.data as ArrayLike<number | bigint>, (v) => Number(v));
}
