import { describe, expect, it } from 'vitest';
import { binary, scale } from '../../kernels/elementwise.js';
import { linear } from '../../kernels/matmul.js';
import { reduceRows } from '../../kernels/reduce.js';
import { diffCounters } from '../../src/gpu/counters.js';
import { expectClose } from '../helpers/compare.js';
import { testContext } from '../helpers/gpu.js';
import { linearRef } from '../helpers/reference.js';
import { SeededRng } from '../helpers/rng.js';

describe('elementwise and reductions on the GPU', () => {
  it.each([1, 7, 256, 1000, 70_001])('add/mul/scale n=%i against float64', async (n) => {
    const ctx = await testContext();
    const rng = new SeededRng(n);
    const a = rng.f32(n), b = rng.f32(n);
    const ta = ctx.upload(a, 'f32', [n]), tb = ctx.upload(b, 'f32', [n]);
    const sum = ctx.tensor('f32', [n]), prod = ctx.tensor('f32', [n]), sc = ctx.tensor('f32', [n]);
    ctx.run([binary(ctx, 'add', ta, tb, sum), binary(ctx, 'mul', ta, tb, prod), scale(ctx, ta, 0.37, sc)]);
    expectClose(await ctx.readF32(sum), Float64Array.from(a, (v, i) => v + b[i]), { atol: 1e-6, label: 'add' });
    expectClose(await ctx.readF32(prod), Float64Array.from(a, (v, i) => v * b[i]), { atol: 1e-6, label: 'mul' });
    expectClose(await ctx.readF32(sc), Float64Array.from(a, (v) => v * Math.fround(0.37)), { atol: 1e-6, label: 'scale' });
  });

  it.each([
    [1, 1],
    [3, 255],
    [5, 4864],
    [2, 100_003],
  ])('row sum and max rows=%i cols=%i', async (rows, cols) => {
    const ctx = await testContext();
    const x = new SeededRng(rows * cols).f32(rows * cols);
    const tx = ctx.upload(x, 'f32', [rows, cols]);
    const s = ctx.tensor('f32', [rows]), mx = ctx.tensor('f32', [rows]);
    ctx.run([reduceRows(ctx, 'sum', tx, s), reduceRows(ctx, 'max', tx, mx)]);
    const refSum = new Float64Array(rows), refMax = new Float64Array(rows).fill(-Infinity);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) {
      refSum[r] += x[r * cols + c];
      refMax[r] = Math.max(refMax[r], x[r * cols + c]);
    }
    // f32 tree summation of values in [-1, 1): error grows like sqrt(cols)·ε.
    expectClose(await ctx.readF32(s), refSum, { atol: 1e-6 * Math.sqrt(cols) * 4, label: 'sum' });
    expectClose(await ctx.readF32(mx), refMax, { atol: 0, label: 'max' });
  });
});

describe('linear (GEMV and GEMM) against float64', () => {
  // Real model dims (896/4864, 1024/2048, 6761 head rows) and odd/ragged ones.
  const shapes: [number, number, number][] = [
    [1, 1, 1],
    [1, 896, 896],
    [1, 4864, 896],
    [1, 896, 4864],
    [3, 130, 67],
    [1, 6761, 64],
    [70, 64, 160],
    [140, 1024, 128],
    [65, 65, 17],
  ];
  it.each(shapes)('M=%i N=%i K=%i, bias and residual, both entry points', async (M, N, K) => {
    const ctx = await testContext();
    const rng = new SeededRng(M * 7919 + N * 31 + K);
    const x = rng.f32(M * K), w = rng.normalF32(N * K, 1 / Math.sqrt(K)), b = rng.f32(N), r = rng.f32(M * N);
    const tx = ctx.upload(x, 'f32', [M, K]), tw = ctx.upload(w, 'f32', [N, K]);
    const tb = ctx.upload(b, 'f32', [N]), tr = ctx.upload(r, 'f32', [M, N]);
    const ref = linearRef(x, w, M, N, K, b, r);
    const tol = { atol: 2e-5 * Math.sqrt(K / 64) + 1e-6, rtol: 1e-5 };
    for (const mode of ['gemv', 'gemm'] as const) {
      if (mode === 'gemv' && M * N * K > 2e7) continue;
      const y = ctx.tensor('f32', [M, N]);
      ctx.run([linear(ctx, { x: tx, w: tw, y, bias: tb, residual: tr, mode })]);
      expectClose(await ctx.readF32(y), ref, { ...tol, label: `${mode} ${M}x${N}x${K}` });
    }
    const y2 = ctx.tensor('f32', [M, N]);
    ctx.run([linear(ctx, { x: tx, w: tw, y: y2 })]);
    expectClose(await ctx.readF32(y2), linearRef(x, w, M, N, K), { ...tol, label: `no bias ${M}x${N}x${K}` });
  });

  it('a pre-built step runs with no allocation: one pass, one submit', async () => {
    const ctx = await testContext();
    const rng = new SeededRng(3);
    const tx = ctx.upload(rng.f32(896), 'f32', [1, 896]);
    const tw = ctx.upload(rng.f32(896 * 896), 'f32', [896, 896]);
    const y = ctx.tensor('f32', [1, 896]), z = ctx.tensor('f32', [1, 896]);
    const step = [linear(ctx, { x: tx, w: tw, y }), linear(ctx, { x: y, w: tw, y: z })];
    const before = { ...ctx.counters };
    for (let i = 0; i < 3; i++) ctx.run(step);
    await ctx.finish();
    const d = diffCounters(before, ctx.counters);
    expect(d).toMatchObject({ dispatches: 6, passes: 3, submits: 3, buffersCreated: 0, bindGroupsCreated: 0, readbacks: 0 });
  });
});
