/**
 * Reader for the official reference fixtures in ../shared/fixtures: ONNX TensorProto `.pb` files in the ONNX
 * backend-test layout (tests/<test>/test_data_set_<i>/{input,output}_<k>.pb) and their manifest.json.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { onnx } from 'onnx-proto';

const here = dirname(fileURLToPath(import.meta.url));
/** ../shared/fixtures relative to the project root (CI lays shared/ beside the clone). */
export const FIXTURES_DIR = resolve(here, '../../../shared/fixtures');
export const TINY_DIR = join(FIXTURES_DIR, 'tiny-cosyvoice3');

export function requireFixtures(): void {
  if (!existsSync(TINY_DIR)) {
    throw new Error(`reference fixtures not found at ${TINY_DIR}: shared/ must sit beside the project folder`);
  }
}

export interface FixtureTensor {
  name: string;
  dims: number[];
  /** ONNX TensorProto.DataType number. */
  dataType: number;
  /** Values widened to f64 for comparison (float, double, int32, int64, bool, float16 all supported). */
  data: Float64Array;
  /** Original typed data where useful (Float32Array for float, BigInt64Array for int64, ...). */
  raw: Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | Uint16Array;
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

export function decodeTensorProto(bytes: Uint8Array): FixtureTensor {
  const t = onnx.TensorProto.decode(bytes);
  const dims = (t.dims as (number | { toNumber(): number })[]).map((d) => (typeof d === 'number' ? d : d.toNumber()));
  const n = dims.reduce((a, b) => a * b, 1);
  const rawBytes = t.rawData && t.rawData.length ? new Uint8Array(t.rawData) : undefined;
  const copy = (Ctor: any, bpe: number) => {
    const buf = new ArrayBuffer(n * bpe);
    new Uint8Array(buf).set(rawBytes!.subarray(0, n * bpe));
    return new Ctor(buf);
  };
  let raw: FixtureTensor['raw'];
  let data: Float64Array;
  switch (t.dataType) {
    case 1: // FLOAT
      raw = rawBytes ? copy(Float32Array, 4) : Float32Array.from(t.floatData);
      data = Float64Array.from(raw as Float32Array);
      break;
    case 11: // DOUBLE
      raw = rawBytes ? copy(Float64Array, 8) : Float64Array.from(t.doubleData);
      data = Float64Array.from(raw as Float64Array);
      break;
    case 6: // INT32
      raw = rawBytes ? copy(Int32Array, 4) : Int32Array.from(t.int32Data);
      data = Float64Array.from(raw as Int32Array);
      break;
    case 7: { // INT64
      raw = rawBytes
        ? copy(BigInt64Array, 8)
        : BigInt64Array.from((t.int64Data as any[]).map((v) => BigInt(typeof v === 'number' ? v : v.toString())));
      data = Float64Array.from(raw as BigInt64Array, (v) => Number(v));
      break;
    }
    case 9: // BOOL
      raw = rawBytes ? copy(Uint8Array, 1) : Uint8Array.from(t.int32Data);
      data = Float64Array.from(raw as Uint8Array);
      break;
    case 10: // FLOAT16
      raw = rawBytes ? copy(Uint16Array, 2) : Uint16Array.from(t.int32Data);
      data = Float64Array.from(raw as Uint16Array, halfToFloat);
      break;
    default:
      throw new Error(`fixture tensor ${t.name}: unsupported data type ${t.dataType}`);
  }
  if (data.length !== n) throw new Error(`fixture tensor ${t.name}: ${data.length} values for dims [${dims}]`);
  return { name: t.name, dims, dataType: t.dataType, data, raw };
}

export function readFixtureTensor(path: string): FixtureTensor {
  return decodeTensorProto(readFileSync(path));
}

export interface FixtureSet {
  dir: string;
  inputs: FixtureTensor[];
  outputs: FixtureTensor[];
}

/** Loads tests/<test>/test_data_set_<set> of a fixture model folder. */
export function readFixtureSet(test: string, set: number, root = TINY_DIR): FixtureSet {
  const dir = join(root, 'tests', test, `test_data_set_${set}`);
  const files = readdirSync(dir);
  const pick = (prefix: string) =>
    files
      .filter((f) => f.startsWith(prefix) && f.endsWith('.pb'))
      .sort((a, b) => Number(a.slice(prefix.length, -3)) - Number(b.slice(prefix.length, -3)))
      .map((f) => readFixtureTensor(join(dir, f)));
  return { dir, inputs: pick('input_'), outputs: pick('output_') };
}

export function readManifest(root = TINY_DIR): any {
  return JSON.parse(readFileSync(join(root, 'manifest.json'), 'utf8'));
}
