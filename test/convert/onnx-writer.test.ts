/**
 * The ONNX writer and builder: a small Linear graph written inline and with external data (threshold 0) must run
 * in onnxruntime-node with the same result as a float64 reference; external tensors sit at 4 KiB-aligned offsets
 * with location/offset/length entries; fp16 and int8 storage round within their quantisation error.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Builder, type StoreDType } from '../../src/onnx/builder.js';
import { Graph } from '../../src/onnx/graph.js';
import { writeModel } from '../../src/onnx/writer.js';
import { SeededRng } from '../helpers/rng.js';

const { onnx } = onnxProto as unknown as typeof import('onnx-proto');
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cv-writer-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const OUT = 48, IN = 40, T = 5;
const rng = new SeededRng(7);
const W = Float32Array.from({ length: OUT * IN }, () => rng.uniform(-1, 1));
const Bv = Float32Array.from({ length: OUT }, () => rng.uniform(-1, 1));
const X = Float32Array.from({ length: T * IN }, () => rng.uniform(-1, 1));

function reference(): Float64Array {
  const y = new Float64Array(T * OUT);
  for (let t = 0; t < T; t++) {
    for (let o = 0; o < OUT; o++) {
      let s = Bv[o];
      for (let i = 0; i < IN; i++) s += X[t * IN + i] * W[o * IN + i];
      y[t * OUT + o] = Math.tanh(s);
    }
  }
  return y;
}

async function build(dtype: StoreDType, threshold?: number) {
  const g = new Graph('t');
  const b = new Builder(g, { get: (n) => (n.endsWith('weight') ? { dims: [OUT, IN], data: W } : { dims: [OUT], data: Bv }) }, dtype);
  const x = g.input('x', 'float', [1, 'T', IN]);
  g.output('y', b.tanh(b.linear(x, 'lin')), 'float', [1, 'T', OUT]);
  const path = join(dir, `m-${dtype}-${threshold ?? 'inline'}.onnx`);
  const r = writeModel(g, path, { externalThreshold: threshold });
  const s = await ort.InferenceSession.create(path, { executionProviders: ['cpu'], logSeverityLevel: 3 });
  const y = (await s.run({ x: new ort.Tensor('float32', X, [1, T, IN]) })).y.data as Float32Array;
  await s.release();
  return { path, r, y };
}

function maxErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('ONNX writer', () => {
  it('inline fp32 runs in ORT and matches the float64 reference', async () => {
    const { r, y } = await build('fp32');
    expect(r.dataFile).toBeUndefined();
    expect(maxErr(y, reference())).toBeLessThan(1e-5);
  });

  it('external data: 4 KiB-aligned offsets, location/offset/length entries, same result', async () => {
    const { path, r, y } = await build('fp32', 0);
    expect(r.dataFile).toBe('m-fp32-0.onnx.data');
    expect(statSync(path + '.data').size).toBe(r.dataBytes);
    const m = onnx.ModelProto.decode(readFileSync(path));
    const ext = m.graph!.initializer!.filter((t) => t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL);
    expect(ext.map((t) => t.name)).toEqual(['lin.weight']); // the bias (192 B) stays inline
    const kv = Object.fromEntries(ext[0].externalData!.map((e) => [e.key, e.value]));
    expect(kv.location).toBe('m-fp32-0.onnx.data');
    expect(Number(kv.offset) % 4096).toBe(0);
    expect(Number(kv.length)).toBe(OUT * IN * 4);
    expect(maxErr(y, reference())).toBeLessThan(1e-5);
  });

  it('fp16 and int8 storage stay within their rounding error', async () => {
    const ref = reference();
    const h = await build('fp16');
    const q = await build('int8');
    expect(maxErr(h.y, ref)).toBeLessThan(5e-3);
    expect(maxErr(h.y, ref)).toBeGreaterThan(0);
    expect(maxErr(q.y, ref)).toBeLessThan(5e-2);
    const m = onnx.ModelProto.decode(readFileSync(q.path));
    const w = m.graph!.initializer!.find((t) => t.name === 'lin.weight')!;
    expect(w.dataType).toBe(onnx.TensorProto.DataType.INT8);
    expect(m.graph!.initializer!.find((t) => t.name === 'lin.weight_scale')!.dims!.map(Number)).toEqual([OUT]);
  });
});
