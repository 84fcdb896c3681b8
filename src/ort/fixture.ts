/**
 * Reads a fixture folder's manifest.json and its ONNX TensorProto `.pb` files (backend-test layout) for `verify`.
 * Values keep their dtype: float32 → Float32Array, float64 → Float64Array, int32/int64 → Int32Array/BigInt64Array,
 * bool → Uint8Array.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto as unknown as typeof import('onnx-proto');

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

function view<T>(Ctor: new (b: ArrayBuffer) => T, raw: Uint8Array): T {
  const copy = new Uint8Array(raw.length);
  copy.set(raw);
  return new Ctor(copy.buffer);
}

export function readTensorFile(path: string): FxTensor {
  const t = onnx.TensorProto.decode(readFileSync(path));
  const dims = (t.dims as unknown as (number | { toNumber(): number })[]).map((d) => (typeof d === 'number' ? d : d.toNumber()));
  const raw = t.rawData && t.rawData.length ? (t.rawData as Uint8Array) : undefined;
  let data: TensorData;
  switch (t.dataType) {
    case 1: data = raw ? view(Float32Array, raw) : Float32Array.from(t.floatData); break;
    case 11: data = raw ? view(Float64Array, raw) : Float64Array.from(t.doubleData); break;
    case 6: data = raw ? view(Int32Array, raw) : Int32Array.from(t.int32Data); break;
    case 7: data = raw ? view(BigInt64Array, raw) : BigInt64Array.from((t.int64Data as unknown[]).map((v) => BigInt(String(v)))); break;
    case 9: data = raw ? Uint8Array.from(raw) : Uint8Array.from(t.int32Data); break;
    default: throw new Error(`${path}: unsupported TensorProto data type ${t.dataType}`);
  }
  return { name: t.name, dims, data };
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
