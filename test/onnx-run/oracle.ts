/**
 * Runs one ONNX graph through ONNX Runtime's cpu EP (the oracle) and through the CPU ONNX interpreter
 * (src/onnx-run), and compares every output: integers and bools exactly, floats within |a − b| ≤ atol + rtol·|b|,
 * printing the first mismatches.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { parseOnnx } from '../../loader/onnx.js';
import type { Graph } from '../../src/onnx/graph.js';
import { writeModel } from '../../src/onnx/writer.js';
import { OnnxSession } from '../../src/onnx-run/session.js';
import type { Value, ValueType } from '../../src/onnx-run/tensor.js';

export interface Feed {
  dtype: ValueType;
  dims: number[];
  data: ArrayLike<number>;
}

function ortTensor(f: Feed): ort.Tensor {
  const d = Array.from(f.data);
  switch (f.dtype) {
    case 'float32':
      return new ort.Tensor('float32', Float32Array.from(d), f.dims);
    case 'float64':
      return new ort.Tensor('float64', Float64Array.from(d), f.dims);
    case 'int64':
      return new ort.Tensor('int64', BigInt64Array.from(d.map((x) => BigInt(x))), f.dims);
    case 'int32':
      return new ort.Tensor('int32', Int32Array.from(d), f.dims);
    case 'bool':
      return new ort.Tensor('bool', Uint8Array.from(d), f.dims);
    default:
      throw new Error(`oracle: feed dtype ${f.dtype}`);
  }
}

function ourValue(f: Feed): Value {
  const data = f.dtype === 'float32' ? Float32Array.from(Array.from(f.data)) : Float64Array.from(Array.from(f.data));
  return { dtype: f.dtype, dims: f.dims, data };
}

export interface Compared {
  name: string;
  dims: number[];
  ortDims: number[];
  maxErr: number;
  mismatches: string[];
}

export interface OracleResult {
  outputs: Compared[];
  ours: Record<string, Value>;
  /** Nodes of the graph, and nodes the interpreter ran after its fusions. */
  nodes: number;
  ranNodes: number;
}

let counter = 0;

/** Writes `g` into `dir`, runs both, compares. Opset defaults to the writer's (17). */
export async function runBoth(dir: string, g: Graph, feeds: Record<string, Feed>, tol: { atol?: number; rtol?: number } = {}, opset?: number, threads = 1): Promise<OracleResult> {
  const path = join(dir, `g${counter++}.onnx`);
  writeModel(g, path, opset ? { opset } : {});
  const s = await ort.InferenceSession.create(path, { executionProviders: ['cpu'], logSeverityLevel: 3, graphOptimizationLevel: 'disabled' });
  const ortFeeds = Object.fromEntries(Object.entries(feeds).map(([k, f]) => [k, ortTensor(f)]));
  const want = await s.run(ortFeeds);
  await s.release();
  const session = await OnnxSession.create(parseOnnx(new Uint8Array(readFileSync(path)), path), { threads });
  let ours: Record<string, Value>;
  const ranNodes = session.runNodeCount;
  try {
    ours = await session.run(Object.fromEntries(Object.entries(feeds).map(([k, f]) => [k, ourValue(f)])));
  } finally {
    session.dispose();
  }
  const atol = tol.atol ?? 1e-6, rtol = tol.rtol ?? 1e-5;
  const outputs = g.outputs.map((o): Compared => {
    const w = want[o.name];
    const v = ours[o.name];
    const ref = Array.from(w.data as ArrayLike<number | bigint>, Number);
    const mism: string[] = [];
    let maxErr = 0;
    const exact = w.type !== 'float32' && w.type !== 'float64' && w.type !== 'float16';
    if (v.data.length !== ref.length) mism.push(`${v.data.length} elements vs ORT's ${ref.length}`);
    for (let i = 0; i < Math.min(ref.length, v.data.length); i++) {
      const a = v.data[i], b = ref[i];
      if (Number.isNaN(a) && Number.isNaN(b)) continue;
      const err = a === b ? 0 : Math.abs(a - b);
      maxErr = Math.max(maxErr, err);
      const bad = exact ? a !== b : !(err <= atol + rtol * Math.abs(b));
      if (bad && mism.length < 5) mism.push(`[${i}] ours ${a} ORT ${b}`);
    }
    return { name: o.name, dims: [...v.dims], ortDims: [...w.dims], maxErr, mismatches: mism };
  });
  return { outputs, ours, nodes: g.nodes.length, ranNodes };
}
