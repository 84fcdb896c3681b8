import { describe, expect, it } from 'vitest';
import { flashBytes, type FlashTileOptions } from '../../kernels/flash.js';
import { qkvAppend } from '../../kernels/kv-cache.js';
import { pagedAttention, pagedAttentionSplit, pagedFlashSplit, splitsFor, type PagedAttentionArgs, type PagedAttentionSplitArgs } from '../../kernels/paged-attention.js';
import { normGemv, rmsNorm, siluMul } from '../../kernels/rmsnorm.js';
import { packWeightF16, roundToF16 } from '../../kernels/quant.js';
import { rope, ropeTable } from '../../kernels/rope.js';
import { packParams } from '../../src/gpu/dispatch.js';
import { UNIFORM } from '../../src/gpu/context.js';
import { ShapeMismatchError } from '../../src/gpu/errors.js';
import { expectClose } from '../helpers/compare.js';
import { testContext } from '../helpers/gpu.js';
import { SeededRng } from '../helpers/rng.js';
import { attentionRef, rmsNormRef, ropeRef } from './reference.js';

describe('rmsnorm / silu_mul against float64', () => {
  it.each([
    [1, 896],
    [3, 896],
    [7, 67],
    [2, 1],
  ])('rows=%i cols=%i, also with a row offset', async (rows, cols) => {
    const ctx = await testContext();
    const rng = new SeededRng(rows * 1000 + cols);
    const x = rng.normalF32(rows * cols, 3), w = rng.f32(cols, 0.5, 1.5);
    const tx = ctx.upload(x, 'f32', [rows, cols]), tw = ctx.upload(w, 'f32', [cols]);
    const ref = rmsNormRef(x, w, rows, cols, 1e-6);
    for (const threads of [8, 128]) { // the llvmpipe and the GPU shape
      const y = ctx.tensor('f32', [rows, cols]), last = ctx.tensor('f32', [1, cols]);
      ctx.run([
        rmsNorm(ctx, { x: tx, weight: tw, y, eps: 1e-6, threads }),
        rmsNorm(ctx, { x: tx, weight: tw, y: last, eps: 1e-6, rowOffset: rows - 1, rows: 1, threads }),
      ]);
      expectClose(await ctx.readF32(y), ref, { atol: 2e-6, rtol: 2e-6, label: `rmsnorm ${threads} threads` });
      expectClose(await ctx.readF32(last), ref.slice((rows - 1) * cols), { atol: 2e-6, rtol: 2e-6, label: `last row ${threads} threads` });
    }
  });

  it('silu_mul [5, 2·4864]', async () => {
    const ctx = await testContext();
    const M = 5, F = 4864;
    const gu = new SeededRng(9).normalF32(M * 2 * F, 4);
    const t = ctx.upload(gu, 'f32', [M, 2 * F]), a = ctx.tensor('f32', [M, F]);
    ctx.run([siluMul(ctx, t, a)]);
    const ref = new Float64Array(M * F);
    for (let m = 0; m < M; m++) for (let f = 0; f < F; f++) {
      const g = gu[m * 2 * F + f];
      ref[m * F + f] = (g / (1 + Math.exp(-g))) * gu[m * 2 * F + F + f];
    }
    expectClose(await ctx.readF32(a), ref, { atol: 1e-5, rtol: 1e-5, label: 'silu_mul' });
  });
});

describe('decode GEMV and prefill gemm_sg with fused RMSNorm / SwiGLU prologue against float64', () => {
  // [M, N, K, prologue, bias, residual]
  const cases: [number, number, number, 'norm' | 'swiglu' | 'none', boolean, boolean][] = [
    [1, 1152, 896, 'norm', true, false],
    [1, 9728, 896, 'norm', false, false],
    [1, 896, 4864, 'swiglu', false, true],
    [1, 896, 896, 'none', false, true],
    [1, 6761, 896, 'none', false, false],
    [1, 300, 64, 'none', false, false],
    [1, 65, 160, 'swiglu', true, true],
    [7, 1152, 896, 'norm', true, false],
    [9, 896, 4864, 'swiglu', false, true],
    [62, 300, 64, 'none', false, false],
    [3, 65, 160, 'norm', true, true],
    [21, 1152, 896, 'norm', true, false],
    [16, 9728, 896, 'norm', false, false],
    [40, 300, 64, 'norm', true, true], // gemm_sg32: one full 32-row group and a ragged one
    [37, 160, 320, 'swiglu', false, true],
  ];
  const all = cases.flatMap((c) => (['f32', 'f16'] as const).map((d) => [...c, d] as const));
  it.each(all)('M=%i N=%i K=%i %s bias=%s residual=%s %s', async (M, N, K, pro, bias, res, dtype) => {
    const ctx = await testContext();
    const rng = new SeededRng(N * 3 + K + (dtype === 'f16' ? 1 : 0));
    const XK = pro === 'swiglu' ? 2 * K : K;
    const xin = rng.normalF32(M * XK, 2);
    const w = rng.normalF32(N * K, 1 / Math.sqrt(K));
    const nw = rng.f32(K, 0.5, 1.5), b = rng.f32(N), r = rng.f32(M * N);
    const wt = dtype === 'f16' ? packWeightF16(ctx, w, [N, K]) : ctx.upload(w, 'f32', [N, K]);
    const wref = dtype === 'f16' ? roundToF16(w) : w;
    const y = ctx.tensor('f32', [M, N]), ySg = ctx.tensor('f32', [M, N]), ySg32 = ctx.tensor('f32', [M, N]), yLane = ctx.tensor('f32', [M, N]);
    const args = {
      x: ctx.upload(xin, 'f32', [M, XK]), w: wt, eps: 1e-6,
      norm: pro === 'norm' ? ctx.upload(nw, 'f32', [K]) : undefined, swigluInput: pro === 'swiglu',
      bias: bias ? ctx.upload(b, 'f32', [N]) : undefined, residual: res ? ctx.upload(r, 'f32', [M, N]) : undefined,
    };
    // Every case through `gemv`; on llvmpipe decode rows (M = 1) also through `gemv_sg` and prefill-sized ones
    // (M > 1) through the subgroup-shared `gemm_sg` and `gemm_sg32`.
    const sg = M > 1 && ctx.hasWideSubgroups;
    const lane = M === 1 && ctx.hasWideSubgroups;
    ctx.run([
      normGemv(ctx, { ...args, y, subgroups: false, laneRows: false }),
      ...(sg ? [normGemv(ctx, { ...args, y: ySg, subgroups: true, rowsPerSubgroup: 8 }), normGemv(ctx, { ...args, y: ySg32, subgroups: true, rowsPerSubgroup: 32 })] : []),
      ...(lane ? [normGemv(ctx, { ...args, y: yLane, laneRows: true })] : []),
    ]);
    let xr: Float64Array;
    if (pro === 'norm') xr = rmsNormRef(xin, nw, M, K, 1e-6);
    else if (pro === 'swiglu') {
      xr = Float64Array.from({ length: M * K }, (_, i) => {
        const m = Math.floor(i / K), k = i % K, g = xin[m * XK + k];
        return (g / (1 + Math.exp(-g))) * xin[m * XK + K + k];
      });
    } else xr = Float64Array.from(xin);
    const ref = new Float64Array(M * N);
    for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) {
      let acc = 0;
      for (let k = 0; k < K; k++) acc += xr[m * K + k] * wref[n * K + k];
      ref[m * N + n] = acc + (bias ? b[n] : 0) + (res ? r[m * N + n] : 0);
    }
    expectClose(await ctx.readF32(y), ref, { atol: 3e-5 * Math.sqrt(K / 64), rtol: 1e-5, label: `gemv ${N}x${K}` });
    if (sg) expectClose(await ctx.readF32(ySg), ref, { atol: 3e-5 * Math.sqrt(K / 64), rtol: 1e-5, label: `gemm_sg ${M}x${N}x${K}` });
    if (sg) expectClose(await ctx.readF32(ySg32), ref, { atol: 3e-5 * Math.sqrt(K / 64), rtol: 1e-5, label: `gemm_sg32 ${M}x${N}x${K}` });
    if (lane) expectClose(await ctx.readF32(yLane), ref, { atol: 3e-5 * Math.sqrt(K / 64), rtol: 1e-5, label: `gemv_sg ${N}x${K}` });
  });
});

describe('rope', () => {
  it('table matches the documented inv_freq and is exact at position 0', () => {
    const t = ropeTable(1e6, 64, 3);
    // angle(1, i) = inv_freq_i; cos/sin at p = 1 for i = 1 → inv_freq_1 = 0.6493816 (spec §3.2).
    expect(Math.atan2(t[64 + 32 + 1], t[64 + 1])).toBeCloseTo(0.6493816, 6);
    expect(t[0]).toBe(1);
    expect(t[32]).toBe(0);
  });

  it.each([
    [1, 14, 64, 0],
    [7, 14, 64, 1000],
    [5, 4, 16, 3],
  ])('M=%i H=%i D=%i start=%i against float64', async (M, H, D, start) => {
    const ctx = await testContext();
    const table = ropeTable(1e6, D, start + M);
    const x = new SeededRng(M + H + D + start).normalF32(M * H * D);
    const tt = ctx.upload(table, 'f32', [start + M, D]), tx = ctx.upload(x, 'f32', [M, H, D]);
    ctx.run([rope(ctx, { x: tx, table: tt, start })]);
    expectClose(await ctx.readF32(tx), ropeRef(x, M, H, D, start, table), { atol: 2e-6, rtol: 1e-6, label: 'rope' });
  });
});

describe('fused q/k rope + paged append, then paged causal attention (GQA)', () => {
  // [Hq, Hkv, D, pageSize, prefix (already cached), M (new rows)]
  const cases: [number, number, number, number, number, number][] = [
    [14, 2, 64, 16, 0, 37],
    [14, 2, 64, 16, 37, 1],
    [14, 2, 64, 1, 0, 9],
    [14, 2, 64, 7, 130, 3],
    [4, 2, 16, 16, 0, 62],
    [4, 2, 16, 3, 20, 1],
    [8, 1, 128, 16, 150, 2], // head dim past the workgroup (2 dims per thread), one kv head for all q heads
    [14, 2, 64, 5, 21, 70], // flash: three 32-row tiles, the last ragged, continuing a cached prefix
    [14, 2, 64, 16, 700, 1], // decode at a long context: 88 splits of 8 keys, 6 of 128
  ];
  // Split-K forms (pagedAttentionSplit): every split form and chunk size, both combines, with and without subgroups.
  // The thread form's 8-key splits take the long decode case past the 64 splits `attend_combine_wg` loads up front.
  const splitModes: Record<string, Pick<PagedAttentionSplitArgs, 'splitForm' | 'combineForm' | 'chunk' | 'subgroups'>> = {
    split: { splitForm: 'thread', chunk: 8, combineForm: 'thread' },
    split_cwg: { splitForm: 'thread', chunk: 8, combineForm: 'wg' },
    split_wg: { splitForm: 'wg', chunk: 64, combineForm: 'thread' },
    split_wg32: { splitForm: 'wg', chunk: 32, combineForm: 'thread' },
    wide32: { splitForm: 'wide', chunk: 32, combineForm: 'wg' },
    wide64: { splitForm: 'wide', chunk: 64, combineForm: 'wg' },
    wide128: { splitForm: 'wide', chunk: 128, combineForm: 'wg' },
    wide32_nosg: { splitForm: 'wide', chunk: 32, combineForm: 'wg', subgroups: false },
    wide128_nosg: { splitForm: 'wide', chunk: 128, combineForm: 'thread', subgroups: false },
  };
  // Every case in every mode with an f32 pool; the f16 pool (packed halves) on the 14/2×64 model shapes.
  // flash_split2/3: the key-split flash (FL_SPLIT, subgroups only) in 2 / 3 key ranges + its combine.
  const keySplits: Record<string, number> = { flash_split2: 2, flash_split3: 3 };
  const modes = ['chunked', 'rows', 'rows_sg', 'heads_sg', 'flash', 'flash_nosg', 'flash_rq4', 'flash_kt8', ...Object.keys(keySplits), ...Object.keys(splitModes)] as const;
  const both = [
    ...cases.flatMap((c) => modes.map((m) => [...c, m, 'f32'] as const)),
    ...cases.slice(0, 4).flatMap((c) => modes.map((m) => [...c, m, 'f16'] as const)),
  ];
  it.each(both)('Hq=%i Hkv=%i D=%i page=%i prefix=%i M=%i %s pool %s', async (Hq, Hkv, D, pageSize, prefix, M, mode, kvType) => {
    const ctx = await testContext();
    if ((mode === 'rows_sg' || mode === 'heads_sg') && !ctx.hasWideSubgroupsOf8) return; // llvmpipe's 8-lane entries only
    const flash = mode.startsWith('flash');
    const split = splitModes[mode];
    if (split?.subgroups !== false && (split?.splitForm === 'wide' || split?.combineForm === 'wg') && !ctx.hasSubgroups) return; // the _nosg modes cover the rest
    const flashOpts: FlashTileOptions = { flash: {}, flash_nosg: { subgroups: false }, flash_rq4: { rowsPerThread: 4 as const }, flash_kt8: { keyTile: 8 } }[mode as string] ?? {};
    if (mode === 'flash' && !ctx.hasSubgroups) return; // its default takes subgroups where they are; flash_nosg covers the rest
    const keySplit = keySplits[mode];
    if (keySplit && !ctx.hasSubgroups) return;
    const rng = new SeededRng(Hq * 7 + D + pageSize * 13 + prefix * 3 + M);
    const N = prefix + M;
    const W = (Hq + 2 * Hkv) * D;
    const qkvAll = rng.normalF32(N * W);
    const table = ropeTable(1e6, D, N);
    const maxPages = Math.ceil(N / pageSize) + 1;
    const numPages = maxPages + 5;
    // Scattered, non-monotonic page assignment in slot 1 of a 3-sequence table.
    const pages = Array.from({ length: numPages }, (_, i) => i).sort(() => rng.next() - 0.5).slice(0, maxPages);
    const bt = new Uint32Array(3 * maxPages);
    bt.set(pages, maxPages);
    const tTable = ctx.upload(table, 'f32', [N, D]);
    const tBt = ctx.upload(bt, 'u32', [3, maxPages]);
    const pool = ctx.tensor(kvType, [numPages, 2, pageSize, Hkv, D]);
    const stepBuf = ctx.createBuffer(16, UNIFORM, 'step');
    // Appends rows start.. to the cache and, with `attend`, runs the mode under test on them (the prefix rows of a
    // case are only appended: their outputs are not checked).
    const runRows = async (start: number, rows: number, attend = true) => {
      const qkv = ctx.upload(qkvAll.subarray(start * W, (start + rows) * W), 'f32', [rows, W]);
      const q = ctx.tensor('f32', [rows, Hq, D]);
      const o = ctx.tensor('f32', [rows, Hq * D]);
      ctx.write(stepBuf, 0, packParams([start, 1]));
      ctx.run([
        qkvAppend(ctx, { qkv, table: tTable, blockTable: tBt, q, pool, step: stepBuf }),
        ...(!attend ? [] : keySplit
          ? pagedFlashSplit(ctx, { q, pool, blockTable: tBt, out: o, step: stepBuf, splits: keySplit,
            part: ctx.tensor('f32', [rows, keySplit, Hq, D]), ml: ctx.tensor('f32', [rows, keySplit, Hq, 2]) })
          : split
          ? pagedAttentionSplit(ctx, { q, pool, blockTable: tBt, out: o, step: stepBuf, ...split,
            partials: ctx.tensor('f32', [rows, Hq, splitsFor(maxPages * pageSize, split.chunk), D + 2]) })
          : [pagedAttention(ctx, { q, pool, blockTable: tBt, out: o, step: stepBuf, mode: flash ? 'flash' : (mode as PagedAttentionArgs['mode']), ...flashOpts })]),
      ]);
      return ctx.readF32(o);
    };
    if (flash && (D % 32 !== 0 || flashBytes(D, 8, flashOpts.rowsPerThread ?? 2) > ctx.device.limits.maxComputeWorkgroupStorageSize)) {
      // The flash tiles need a head dim that is a multiple of 32 and tiles that fit: a typed refusal, nothing dispatched.
      const q = ctx.tensor('f32', [M, Hq, D]);
      expect(() => pagedAttention(ctx, { q, pool, blockTable: tBt, out: ctx.tensor('f32', [M, Hq * D]), step: stepBuf, mode: 'flash', ...flashOpts })).toThrow(ShapeMismatchError);
      if (keySplit) {
        const part = ctx.tensor('f32', [M, keySplit, Hq, D]), ml = ctx.tensor('f32', [M, keySplit, Hq, 2]);
        expect(() => pagedFlashSplit(ctx, { q, pool, blockTable: tBt, out: ctx.tensor('f32', [M, Hq * D]), step: stepBuf, splits: keySplit, part, ml })).toThrow(ShapeMismatchError);
      }
      return;
    }
    if (prefix) await runRows(0, prefix, false);
    const got = await runRows(prefix, M);
    // Reference: split q/k/v, rotate q and k, attend.
    const qs = new Float64Array(M * Hq * D), ks = new Float64Array(N * Hkv * D), vs = new Float64Array(N * Hkv * D);
    for (let r = 0; r < N; r++) {
      for (let e = 0; e < Hkv * D; e++) {
        ks[r * Hkv * D + e] = qkvAll[r * W + Hq * D + e];
        vs[r * Hkv * D + e] = qkvAll[r * W + (Hq + Hkv) * D + e];
      }
      if (r >= prefix) for (let e = 0; e < Hq * D; e++) qs[(r - prefix) * Hq * D + e] = qkvAll[r * W + e];
    }
    // An f16 pool holds rotated K and V rounded once to half precision: the reference rounds the same values.
    const f16 = (a: Float64Array) => (kvType === 'f16' ? Float64Array.from(roundToF16(a)) : a);
    const ref = attentionRef(ropeRef(qs, M, Hq, D, prefix, table), f16(ropeRef(ks, N, Hkv, D, 0, table)), f16(vs), M, Hq, Hkv, D, prefix);
    // f16: a rotated key whose f32 and f64 values round to neighbouring halves moves a score by one half ulp.
    expectClose(got, ref, kvType === 'f16' ? { atol: 2e-4, rtol: 1e-3, label: 'attention f16 pool' } : { atol: 2e-5, rtol: 1e-4, label: 'attention' });
  });
});

describe('pagedAttentionSplit option checks', () => {
  it('refuses chunk sizes a split form does not take and unknown forms, with ShapeMismatchError', async () => {
    const ctx = await testContext();
    const Hq = 14, Hkv = 2, D = 64, page = 16, pages = 8;
    const base = {
      q: ctx.tensor('f32', [1, Hq, D]), pool: ctx.tensor('f32', [pages, 2, page, Hkv, D]), blockTable: ctx.tensor('u32', [1, pages]),
      out: ctx.tensor('f32', [1, Hq * D]), step: ctx.createBuffer(16, UNIFORM, 'step'),
    };
    const call = (o: Partial<PagedAttentionSplitArgs>, chunk: number) =>
      () => pagedAttentionSplit(ctx, { ...base, partials: ctx.tensor('f32', [1, Hq, splitsFor(pages * page, chunk), D + 2]), chunk, ...o });
    expect(call({ splitForm: 'wide' }, 16)).toThrow(/'wide' takes splits of 32, 64, 128 keys/);
    expect(call({ splitForm: 'wg' }, 128)).toThrow(/'wg' takes splits of 16, 32, 64 keys/);
    expect(call({ splitForm: 'wide' as const, combineForm: 'rows' as unknown as 'wg' }, 32)).toThrow(ShapeMismatchError);
    expect(call({ splitForm: 'heads' as unknown as 'wide' }, 32)).toThrow(/unknown splitForm/);
    expect(() => pagedAttentionSplit(ctx, { ...base, partials: ctx.tensor('f32', [1, Hq, 2, D + 2]), chunk: 32, splitForm: 'wide' })).toThrow(/cannot cover 128 positions/);
    expect(call({ splitForm: 'wide', combineForm: 'wg' }, 128)).not.toThrow();
  });
});
