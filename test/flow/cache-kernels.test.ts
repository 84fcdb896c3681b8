/**
 * The prefix cache's copy kernels (shaders/flow_cache.wgsl) against index-by-index TS references: copies, so the
 * results must be exact. Full-size widths (C = 1024) and odd lengths; words the kernels must not touch keep a
 * sentinel.
 */
import { describe, expect, it } from 'vitest';
import { kvMerge, rowsFrom, xHistory } from '../../kernels/flow-cache.js';
import { atLength, createDims } from '../../kernels/flow-dims.js';
import { ShapeMismatchError } from '../../src/gpu/errors.js';
import { expectSameBits } from '../helpers/compare.js';
import { testContext } from '../helpers/gpu.js';
import { SeededRng } from '../helpers/rng.js';

const SENTINEL = -7.25;

describe('flow prefix cache kernels', () => {
  it.each([
    [37, 13, 20, 1024],
    [110, 50, 100, 64],
    [9, 0, 0, 64],
  ])('kv_merge T=%i q0=%i keep=%i C=%i, batch 2', async (T, q0, keep, C) => {
    const ctx = await testContext();
    const rng = new SeededRng(T + q0);
    const B = 2, W = 3 * C, cap = 120, Tn = T - q0;
    const qkvNew = rng.f32(B * Tn * W);
    const cache = rng.f32(B * cap * 2 * C);
    const dims = createDims(ctx, { T, B, chunk: 50, lead: q0, keep });
    const tNew = ctx.upload(Float32Array.from({ length: B * T * W }, (_, i) => (i < qkvNew.length ? qkvNew[i] : SENTINEL)), 'f32', [B * T, W]);
    const tQkv = ctx.upload(new Float32Array(B * T * W).fill(SENTINEL), 'f32', [B * T, W]);
    const tCache = ctx.upload(cache, 'f32', [B, cap, 2 * C]);
    ctx.run(atLength([kvMerge(ctx, { dims, qkvNew: tNew, qkv: tQkv, cache: tCache })], T, B));
    const wantQkv = new Float32Array(B * T * W).fill(SENTINEL);
    const wantCache = cache.slice();
    for (let b = 0; b < B; b++) {
      for (let j = 0; j < T; j++) {
        for (let c = 0; c < W; c++) {
          const slot = (b * cap + j) * 2 * C + c - C;
          if (j < q0) {
            if (c >= C) wantQkv[(b * T + j) * W + c] = cache[slot];
          } else {
            const v = qkvNew[(b * Tn + j - q0) * W + c];
            wantQkv[(b * T + j) * W + c] = v;
            if (j < keep && c >= C) wantCache[slot] = v;
          }
        }
      }
    }
    expectSameBits(await ctx.readF32(tQkv), wantQkv, 'qkv');
    expectSameBits(await ctx.readF32(tCache), wantCache, 'cache');
  });

  it.each([
    [71, 60, 1024],
    [5, 0, 64],
    [140, 139, 64],
  ])('rows_from T=%i lead=%i W=%i, batch 2', async (T, lead, W) => {
    const ctx = await testContext();
    const B = 2;
    const src = new SeededRng(T).f32(B * T * W);
    const dims = createDims(ctx, { T, B, chunk: 0, lead });
    const tSrc = ctx.upload(src, 'f32', [B * T, W]);
    const tDst = ctx.upload(new Float32Array(B * T * W).fill(SENTINEL), 'f32', [B * T, W]);
    ctx.run(atLength([rowsFrom(ctx, { dims, src: tSrc, dst: tDst })], T, B));
    const n = T - lead;
    const want = new Float32Array(B * T * W).fill(SENTINEL);
    for (let b = 0; b < B; b++) want.set(src.subarray((b * T + lead) * W, (b * T + T) * W), b * n * W);
    expectSameBits(await ctx.readF32(tDst), want, 'dst');
  });

  it.each([
    [130, 50, 100, 3],
    [77, 0, 50, 0],
    [260, 150, 150, 10],
  ])('x_history full=%i q0=%i keep=%i step %i', async (full, q0, keep, step) => {
    const ctx = await testContext();
    const rng = new SeededRng(full + step);
    const mel = 80, cap = 150, steps1 = 11, maxFrames = 300;
    const x = rng.f32(mel * maxFrames);
    const hist = rng.f32(steps1 * mel * cap);
    const dims = createDims(ctx, { T: full - q0, B: 2, chunk: 50, q0, full, keep });
    const tx = ctx.upload(x, 'f32', [mel, maxFrames]);
    const th = ctx.upload(hist, 'f32', [steps1, mel, cap]);
    ctx.run(atLength([xHistory(ctx, { dims, x: tx, hist: th, step })], full, 2));
    const wantX = x.slice(), wantH = hist.slice();
    for (let c = 0; c < mel; c++) {
      for (let j = 0; j < full; j++) {
        const h = (step * mel + c) * cap + j;
        if (j < q0) wantX[c * full + j] = hist[h];
        else if (j < keep) wantH[h] = x[c * full + j];
      }
    }
    expectSameBits(await ctx.readF32(tx), wantX, 'x');
    expectSameBits(await ctx.readF32(th), wantH, 'hist');
  });

  it('refuses mismatched shapes by name', async () => {
    const ctx = await testContext();
    const dims = createDims(ctx);
    const t = (shape: number[]) => ctx.tensor('f32', shape);
    expect(() => kvMerge(ctx, { dims, qkvNew: t([10, 192]), qkv: t([10, 192]), cache: t([2, 5, 64]) }, 'blk')).toThrow(ShapeMismatchError);
    expect(() => rowsFrom(ctx, { dims, src: t([10, 6]), dst: t([10, 6]) }, 'rows')).toThrow(/multiple of 4/);
    expect(() => xHistory(ctx, { dims, x: t([80, 10]), hist: t([11, 80, 5]), step: 11 }, 'x')).toThrow(/step 11/);
  });
});
