/**
 * Reader for the official reference fixtures in ../shared/fixtures: ONNX TensorProto `.pb` files in the ONNX
 * backend-test layout (tests/<test>/test_data_set_<i>/{input,output}_<k>.pb) and their manifest.json.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { toFloat32 } from '../../loader/index.js';
import { loadPt, readHyperYaml } from '../../loader/node.js';
import { parseTensorFile, typedData } from '../../loader/tensor-file.js';
import { hiftConfigFromYaml, type HiftConfig } from '../../src/models/hift/config.js';
import { loadHiftWeights, type HiftWeights } from '../../src/models/hift/weights.js';

const here = dirname(fileURLToPath(import.meta.url));
/** ../shared/fixtures relative to the project root (CI lays shared/ beside the clone). */
export const FIXTURES_DIR = resolve(here, '../../../shared/fixtures');
export const TINY_DIR = join(FIXTURES_DIR, 'tiny-cosyvoice3');

export function requireFixtures(): void {
  if (!existsSync(TINY_DIR)) {
    throw new Error(`reference fixtures not found at ${TINY_DIR}: shared/ must sit beside the project folder`);
  }
}

/** The tiny checkpoint's HiFT: config from cosyvoice3.yaml, weights from hift.pt (folded as the model loads them). */
export async function loadTinyHift(): Promise<{ cfg: HiftConfig; weights: HiftWeights }> {
  requireFixtures();
  const cfg = hiftConfigFromYaml(await readHyperYaml(join(TINY_DIR, 'cosyvoice3.yaml')));
  return { cfg, weights: loadHiftWeights(await loadPt(join(TINY_DIR, 'hift.pt')), cfg) };
}

export interface FixtureTensor {
  name: string;
  dims: number[];
  /** ONNX TensorProto.DataType number. */
  dataType: number;
  /** Values widened to f64 for comparison (float, double, int32, int64, bool, float16 all supported). */
  data: Float64Array;
  /** Original typed data where useful (Float32Array for float, BigInt64Array for int64, ...). */
  raw: Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | Uint16Array | Int8Array;
}

/** Decodes with the loader's TensorProto reader (the same code that reads model initializers). */
export function decodeTensorProto(bytes: Uint8Array, file?: string): FixtureTensor {
  const rec = parseTensorFile(bytes, file);
  const raw = typedData(rec);
  const data =
    raw instanceof BigInt64Array ? Float64Array.from(raw, (v) => Number(v)) : Float64Array.from(rec.dtype === 'float16' ? toFloat32(rec) : (raw as ArrayLike<number>));
  return { name: rec.name, dims: rec.dims, dataType: ONNX_CODE[rec.dtype] ?? -1, data, raw: raw as FixtureTensor['raw'] };
}

const ONNX_CODE: Partial<Record<string, number>> = { float32: 1, uint8: 2, int8: 3, int32: 6, int64: 7, bool: 9, float16: 10, float64: 11 };

export function readFixtureTensor(path: string): FixtureTensor {
  return decodeTensorProto(new Uint8Array(readFileSync(path)), path);
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
