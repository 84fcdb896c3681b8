/**
 * Reader for the official reference fixtures in ../shared/fixtures: ONNX TensorProto `.pb` files in the ONNX
 * backend-test layout (tests/<test>/test_data_set_<i>/{input,output}_<k>.pb) and their manifest.json.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parsePt, toFloat32 } from '../../loader/index.js';
import { loadPt, readHyperYaml } from '../../loader/node.js';
import { parseTensorFile, typedData } from '../../loader/tensor-file.js';
import { hiftConfigFromYaml, type HiftConfig } from '../../src/models/hift/config.js';
import { loadHiftWeights, type HiftWeights } from '../../src/models/hift/weights.js';
import { modelFilesFrom, type ModelFiles } from '../../src/pipeline/model-files.js';
import type { SpeakerPrompt } from '../../src/pipeline/types.js';


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

/** The tiny official checkpoints as the runtime's ModelFiles (llm.pt, flow.pt, hift.pt read as they are). */
export function tinyModelFiles(): ModelFiles {
  requireFixtures();
  const pt = (f: string) => parsePt(new Uint8Array(readFileSync(join(TINY_DIR, f))), f);
  return modelFilesFrom(
    readFileSync(join(TINY_DIR, 'cosyvoice3.yaml'), 'utf8'),
    JSON.parse(readFileSync(join(TINY_DIR, 'CosyVoice-BlankEN/config.json'), 'utf8')),
    { llm: pt('llm.pt'), flow: pt('flow.pt'), hift: pt('hift.pt') },
    'tiny fixture',
  );
}

/**
 * token2wav_streaming as one request of two chunks: set 0 is the first chunk (tokens[:28], finalize=false), set 1
 * the final one (all 30 tokens, finalize=true). The request's speaker, tokens and noise table come from set 1.
 */
export function streamingRequest(): { speaker: SpeakerPrompt; tokens: Int32Array; sine: Float32Array; chunks: Float64Array[] } {
  const sets = [0, 1].map((s) => readFixtureSet('token2wav_streaming', s));
  const named = (set: number, kind: 'inputs' | 'outputs', name: string) => sets[set][kind].find((t) => t.name === name)!;
  const input = (name: string) => named(1, 'inputs', name).data;
  return {
    speaker: { promptTokens: Int32Array.from(input('prompt_token')), promptMel: Float32Array.from(input('prompt_feat')), embedding: Float32Array.from(input('embedding')) },
    tokens: Int32Array.from(input('token')),
    sine: Float32Array.from(input('sine_noise')),
    chunks: [0, 1].map((s) => named(s, 'outputs', 'tts_speech').data),
  };
}
