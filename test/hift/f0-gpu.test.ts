/**
 * The GPU F0 predictor (emulated double precision, kernels/f0.ts) against the float64 reference predictF0
 * (f0.ts) on seeded random weights and inputs, including the real dims (80→512, k4 then 4× k3, 512→1), T = 1,
 * odd T and T = 200, streaming (finalize=false: the last 3 frames are context) and finalize. The official
 * fixture through HiftGenerator with f0Backend 'gpu' is in fixture.test.ts.
 *
 * Tolerance vs the f64 reference: |Δ| ≤ 1e-10·|ref| + 1e-12·max|ref| per frame. df64 carries ≈ 48 bits, so
 * the measured error is 1e-14 … 2.4e-12 relative (lavapipe and an H200 alike; the larger values on frames whose
 * sum cancels); plain f32 gives ≈ 1e-6, which fails this by four orders of magnitude (the `f32 accumulation
 * would fail` case below checks the test can tell them apart).
 */
import { describe, expect, it } from 'vitest';
import { f0Conv, packDf64, unpackDf64 } from '../../kernels/f0.js';
import { ShapeMismatchError } from '../../src/gpu/errors.js';
import { F0InputError, predictF0 } from '../../src/models/hift/f0.js';
import { F0Gpu } from '../../src/models/hift/f0-gpu.js';
import type { F0Weights } from '../../src/models/hift/weights.js';
import { expectClose } from '../helpers/compare.js';
import { testContext } from '../helpers/gpu.js';
import { SeededRng } from '../helpers/rng.js';

/** Random folded weights in f64 (not f32-representable, so the lo halves matter), conv₀ k4 right, then k3 left. */
function randomF0(seed: number, cin: number, C: number, layers: number): F0Weights {
  const rng = new SeededRng(seed);
  const f64 = (n: number, std: number) => Float64Array.from({ length: n }, () => rng.normal() * std);
  const ls = [];
  for (let i = 0; i < layers; i++) {
    const ci = i === 0 ? cin : C, k = i === 0 ? 4 : 3;
    // std ≈ 2.5/√fan-in: pre-activations spread over ≈ ±8, so ELU's expm1 sees k = 0 (tiny |x|) to k ≈ −12.
    ls.push({ w: f64(C * ci * k, 2.5 / Math.sqrt(ci * k)), bias: f64(C, 0.5), cout: C, cin: ci, k, pad: k - 1 });
  }
  return { layers: ls, classifier: f64(C, 40 / Math.sqrt(C)), classifierBias: 100 + rng.normal() * 10 };
}

function randomMel(seed: number, cin: number, T: number): Float32Array {
  const rng = new SeededRng(seed);
  return Float32Array.from({ length: cin * T }, () => rng.normal() * 2 - 4);
}

/** max over frames of |Δ| / |ref| (for the report). */
function maxRel(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < b.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / Math.abs(b[i]));
  return m;
}

function expectF0Close(got: Float64Array, ref: Float64Array, label: string): void {
  let scale = 0;
  for (const v of ref) scale = Math.max(scale, Math.abs(v));
  expect(got.length).toBe(ref.length);
  // Per-element bound: rtol·|ref| + atol, with atol tied to the largest |f0| (a frame whose sum cancels to ~0
  // has no meaningful relative error).
  expectClose(got, ref, { rtol: 1e-10, atol: 1e-12 * scale, label });
}

describe('GPU F0 predictor (df64) vs the float64 reference', () => {
  const cases: [string, number, number, number, number, boolean][] = [
    // name, cin, C, layers, T, finalize
    ['small T=1 finalize', 5, 24, 3, 1, true],
    ['small odd T=19 streaming', 5, 24, 3, 19, false],
    ['odd channels 7→37, T=33', 7, 37, 5, 33, true],
    ['real dims 80→512 T=1 finalize', 80, 512, 5, 1, true],
    ['real dims 80→512 T=4 streaming (1 output)', 80, 512, 5, 4, false],
    ['real dims 80→512 T=37 finalize', 80, 512, 5, 37, true],
    ['real dims 80→512 T=37 streaming', 80, 512, 5, 37, false],
    ['real dims 80→512 T=200 finalize', 80, 512, 5, 200, true],
  ];
  it.each(cases)('%s', { timeout: 600_000 }, async (name, cin, C, layers, T, finalize) => {
    const ctx = await testContext();
    const f = randomF0(cin * 1000 + C + layers, cin, C, layers);
    const mel = randomMel(T * 7 + 1, cin, T);
    const gpu = new F0Gpu(ctx, f, T);
    let t = performance.now();
    const got = await gpu.predict(mel, cin, T, finalize);
    const gpuMs = performance.now() - t;
    t = performance.now();
    const ref = predictF0(f, mel, cin, T, finalize);
    const refMs = performance.now() - t;
    expect(got.length).toBe(finalize ? T : T - 3);
    expectF0Close(got, ref, name);
    console.log(`[f0-gpu] ${name}: max rel ${maxRel(got, ref).toExponential(2)} (GPU ${gpuMs.toFixed(0)} ms incl. compile, f64 TS ${refMs.toFixed(0)} ms)`);
  });

  it('streaming output equals the start of the finalize output on a longer mel', { timeout: 120_000 }, async () => {
    const ctx = await testContext();
    const f = randomF0(11, 6, 20, 3);
    const mel = randomMel(12, 6, 30);
    const gpu = new F0Gpu(ctx, f, 30);
    const full = await gpu.predict(mel, 6, 30, true);
    const prefix = new Float32Array(6 * 17);
    for (let c = 0; c < 6; c++) prefix.set(mel.subarray(c * 30, c * 30 + 17), c * 17);
    const part = await gpu.predict(prefix, 6, 17, false);
    expect(part.length).toBe(14);
    // Frames < 14 see mel ≤ 16 either way: identical inputs, identical order of operations.
    expectClose(part, full.subarray(0, 14), { atol: 0, label: 'streaming prefix' });
  });

  it('a wrong tap (weights shifted by one tap) fails the tolerance', { timeout: 120_000 }, async () => {
    const ctx = await testContext();
    const f = randomF0(5, 5, 24, 3);
    const mel = randomMel(6, 5, 19);
    const ref = predictF0(f, mel, 5, 19, true);
    // Same weights with the taps of layer 1 rotated: what an off-by-one tap index computes.
    const l = f.layers[1];
    const rot = new Float64Array(l.w.length);
    for (let i = 0; i < l.w.length; i += l.k) for (let j = 0; j < l.k; j++) rot[i + j] = l.w[i + ((j + 1) % l.k)];
    const bad = { ...f, layers: f.layers.map((x, i) => (i === 1 ? { ...x, w: rot } : x)) };
    const got = await new F0Gpu(ctx, bad, 19).predict(mel, 5, 19, true);
    expect(() => expectF0Close(got, ref, 'rotated taps')).toThrow(/first mismatches/);
  });

  it('f32 accumulation would fail the tolerance (the bound separates df64 from f32)', { timeout: 120_000 }, async () => {
    const f = randomF0(80 * 1000 + 512 + 5, 80, 512, 5);
    const mel = randomMel(37 * 7 + 1, 80, 37);
    const ref = predictF0(f, mel, 80, 37, true);
    // The same network with every weight rounded to f32 (the f32 GPU path's inputs) through the f64 reference.
    const r32 = (a: Float64Array) => Float64Array.from(a, Math.fround);
    const f32w: F0Weights = { layers: f.layers.map((l) => ({ ...l, w: r32(l.w), bias: r32(l.bias) })), classifier: r32(f.classifier), classifierBias: Math.fround(f.classifierBias) };
    const got = predictF0(f32w, mel, 80, 37, true);
    expect(() => expectF0Close(got, ref, 'f32 weights')).toThrow();
  });

  it('rejects bad shapes with typed errors', async () => {
    const ctx = await testContext();
    const f = randomF0(1, 5, 24, 3);
    const gpu = new F0Gpu(ctx, f, 16);
    await expect(gpu.predict(new Float32Array(4 * 16), 4, 16, true)).rejects.toThrow(F0InputError);
    await expect(gpu.predict(new Float32Array(5 * 3), 5, 3, false)).rejects.toThrow(F0InputError);
    await expect(gpu.predict(new Float32Array(5 * 17), 5, 17, true)).rejects.toThrow(/maxFrames/);
    const x = ctx.upload(packDf64(new Float64Array(5 * 8)), 'f32', [5, 8, 2]);
    const w = ctx.upload(packDf64(new Float64Array(24 * 5 * 3)), 'f32', [24, 5, 3, 2]);
    const b = ctx.upload(packDf64(new Float64Array(24)), 'f32', [24, 2]);
    const o = ctx.tensor('f32', [24, 8, 2]);
    expect(() => f0Conv(ctx, { x, w, bias: b, out: o, cin: 5, lin: 8, cout: 24, k: 4, lout: 8, padLeft: 0 })).toThrow(ShapeMismatchError);
    expect(() => f0Conv(ctx, { x, w, bias: b, out: o, cin: 5, lin: 9, cout: 24, k: 3, lout: 8, padLeft: 2 })).toThrow(/x \[5,8,2\]/);
    expect(() => f0Conv(ctx, { x, w, bias: b, out: o, cin: 5, lin: 8, cout: 24, k: 3, lout: 9, padLeft: 2 })).toThrow(/out/);
    expect(() => f0Conv(ctx, { x, w, bias: b, out: o, cin: 5, lin: 8, cout: 24, k: 3, lout: 8, padLeft: 3 })).toThrow(/padLeft/);
    expect(unpackDf64(packDf64([Math.PI]))[0]).toBeCloseTo(Math.PI, 14);
  });
});
