/**
 * DiT kernels against float64 references at the real DiT widths (C = 1024, 16 heads × 64, FFN 2048, conv k31 ×
 * 16 groups) and odd lengths, batch 2 with a padded item and the streaming chunk mask.
 */
import { describe, expect, it } from 'vitest';
import { adaLayerNorm } from '../../kernels/adaln.js';
import { convPos, convPosWeightLayout } from '../../kernels/conv-pos.js';
import { ditAttention, ditAttentionGemm, ditAttentionSplit, flashKeyTile } from '../../kernels/dit-attention.js';
import { ditLinear } from '../../kernels/dit-linear.js';
import { ditRopeTable } from '../../kernels/dit-rotary.js';
import { atLength, createDims } from '../../kernels/flow-dims.js';
import { halfToFloat, toF16Bits } from '../../loader/dtype.js';
import { ShapeMismatchError } from '../../src/gpu/errors.js';
import { expectClose } from '../helpers/compare.js';
import { testContext } from '../helpers/gpu.js';
import { SeededRng } from '../helpers/rng.js';

describe('adaLayerNorm (LN eps 1e-6 + shift/scale; workgroup and rowwise entries) vs float64', () => {
  it.each([
    [1, 1024],
    [37, 1024],
    [83, 64],
  ])('T=%i C=%i, batch 2, modulation rows of step 3', async (T, C) => {
    const ctx = await testContext();
    const rng = new SeededRng(T * 13 + C);
    const B = 2, M = B * T;
    // A large common offset checks the two-pass variance.
    const x = Float32Array.from(rng.f32(M * C), (v) => 3 * v + 20);
    const R = 8, stride = 6 * C, step = 3;
    const mod = rng.f32(R * stride);
    const dims = createDims(ctx, { T, B, chunk: 0 });
    const tx = ctx.upload(x, 'f32', [M, C]), y = ctx.tensor('f32', [M, C]), y2 = ctx.tensor('f32', [M, C]), tm = ctx.upload(mod, 'f32', [R, stride]);
    const base = step * B * stride;
    const args = { dims, x: tx, mod: tm, shiftBase: base + 3 * C, scaleBase: base + 4 * C, modStride: stride, eps: 1e-6 };
    ctx.run(atLength([adaLayerNorm(ctx, { ...args, y, impl: 'workgroup' }), adaLayerNorm(ctx, { ...args, y: y2, impl: 'rowwise' })], T, B));
    const ref = new Float64Array(M * C);
    for (let m = 0; m < M; m++) {
      const b = Math.floor(m / T);
      let mean = 0, v = 0;
      for (let c = 0; c < C; c++) mean += x[m * C + c];
      mean /= C;
      for (let c = 0; c < C; c++) v += (x[m * C + c] - mean) ** 2;
      const rstd = 1 / Math.sqrt(v / C + 1e-6);
      for (let c = 0; c < C; c++) {
        const sh = mod[base + b * stride + 3 * C + c], sc = mod[base + b * stride + 4 * C + c];
        ref[m * C + c] = (x[m * C + c] - mean) * rstd * (1 + sc) + sh;
      }
    }
    expectClose(await ctx.readF32(y), ref, { atol: 2e-5, rtol: 1e-5, label: `adaln workgroup T=${T} C=${C}` });
    expectClose(await ctx.readF32(y2), ref, { atol: 2e-5, rtol: 1e-5, label: `adaln rowwise T=${T} C=${C}` });
  });

  it('rowwise reads vec4s: a modulation offset off a multiple of 4 is refused by name (the default takes the workgroup form)', async () => {
    const ctx = await testContext();
    const dims = createDims(ctx, { T: 3, B: 1, chunk: 0 });
    const args = { dims, x: ctx.tensor('f32', [3, 64]), y: ctx.tensor('f32', [3, 64]), mod: ctx.tensor('f32', [400]), shiftBase: 2, scaleBase: 66, modStride: 0, eps: 1e-6 };
    expect(() => adaLayerNorm(ctx, { ...args, impl: 'rowwise' }, 'blk')).toThrow(/adaLayerNorm blk: rowwise reads vec4s.*C=64, 2, 66, 0/);
    expect(adaLayerNorm(ctx, args).variant).toMatch(/adaln_main/);
  });
});

describe('ditAttention (flash, tiled, rowwise and 3-pass gemm forms, key padding, 50-frame chunks) vs float64', () => {
  // lead: queries from that row on (the flow prefix cache's new frames), grids sized for T − lead; the rows before
  // it must stay as they were (zeros).
  it.each([
    [83, 16, 64, 50, 0, 0],
    [37, 2, 128, 0, 4, 0],
    [150, 2, 64, 50, 0, 0],
    [83, 16, 64, 0, 9, 0],
    [1, 16, 64, 0, 0, 0],
    [131, 4, 16, 50, 5, 0],
    [70, 3, 32, 50, 3, 0],
    [96, 3, 32, 50, 7, 0], // T % 4 == 0: the 3-pass softmax's vec4 sweeps
    [150, 2, 64, 50, 0, 100],
    [83, 16, 64, 50, 0, 50],
    [131, 4, 16, 50, 5, 50],
    [96, 3, 32, 50, 7, 93],
    [300, 2, 64, 50, 0, 250], // more keys than one 256-key row of scores workgroups, fewer queries
  ])('T=%i heads=%i DH=%i chunk=%i padded(item 1)=%i lead=%i', async (T, H, DH, chunk, pad, lead) => {
    const ctx = await testContext();
    const rng = new SeededRng(T * 7 + H + chunk + pad);
    const B = 2, M = B * T, C = H * DH;
    const qkv = rng.f32(M * 3 * C, -2, 2);
    const keymask = new Float32Array(M).fill(1);
    for (let t = T - pad; t < T; t++) keymask[T + t] = 0;
    const dims = createDims(ctx, { T, B, chunk, lead });
    const tq = ctx.upload(qkv, 'f32', [M, 3 * C]), o = ctx.tensor('f32', [M, C]);
    const tm = ctx.upload(keymask, 'f32', [M]);
    const o2 = ctx.tensor('f32', [M, C]), o3 = ctx.tensor('f32', [M, C]), o4 = ctx.tensor('f32', [M, C]);
    // flash variants: rows per thread × subgroup reductions (on where the adapter has ≥ 8-lane subgroups).
    const sg = ctx.hasSubgroups && ctx.handle.info.subgroupMinSize >= 8;
    // [rows per thread, subgroups, key tile (0: default)]; 32-key tiles fit DH ≤ 64.
    const flashForms = ([[2, false, 0], [4, false, 0], [2, sg, 32], [4, sg, 16], ...(sg ? [[2, true, 0], [4, true, 0]] as const : [])] as const)
      .filter(([rq, , kt]) => flashKeyTile(ctx, DH, rq) > 0 && (kt === 0 || DH <= 64));
    const flashOut = flashForms.map(() => ctx.tensor('f32', [M, C]));
    const o5 = ctx.tensor('f32', [M, C]), o6 = ctx.tensor('f32', [M, C]);
    const scores = ctx.tensor('f32', [B * H * T * T]);
    // flash needs DH % 32 == 0 (DH 16 checks the typed refusal instead).
    const flash = flashKeyTile(ctx, DH) > 0;
    // The key-split flash (FL_SPLIT, subgroups only) in 2 and 3 ranges: with the chunk mask or T = 1 some ranges
    // see no key for some rows, which the combine must weigh 0.
    const splits = flash && sg ? [2, 3] : [];
    const splitOut = splits.map(() => ctx.tensor('f32', [M, C]));
    const splitScratch = splits.map((S) => ({ part: ctx.tensor('f32', [M, S, H, DH]), ml: ctx.tensor('f32', [M, S, H, 2]) }));
    // Default key tile 8; 4 rows per thread do not fit DH 128. 16 and 32-key tiles are run explicitly below.
    if (!flash) expect(() => ditAttention(ctx, { dims, qkv: tq, o: o5, keymask: tm, heads: H, impl: 'flash' })).toThrow(ShapeMismatchError);
    ctx.run(atLength([
      ...flashForms.map(([rq, subgroups, kt], i) => ditAttention(ctx, { dims, qkv: tq, o: flashOut[i], keymask: tm, heads: H, impl: 'flash', rowsPerThread: rq, subgroups, keyTile: kt || undefined })),
      ...splits.flatMap((S, i) => ditAttentionSplit(ctx, { dims, qkv: tq, o: splitOut[i], keymask: tm, heads: H, splits: S, ...splitScratch[i] })),
      ditAttention(ctx, { dims, qkv: tq, o, keymask: tm, heads: H, impl: 'tiled' }),
      ditAttention(ctx, { dims, qkv: tq, o: o2, keymask: tm, heads: H, impl: 'rowwise' }),
      ...ditAttentionGemm(ctx, { dims, qkv: tq, o: o3, keymask: tm, heads: H, scores, subgroups: false }),
      // The subgroup-shared entries where the adapter has them (llvmpipe: always in CI), else the plain ones again:
      // 32 queries a subgroup (the default) and 8.
      ...ditAttentionGemm(ctx, { dims, qkv: tq, o: o4, keymask: tm, heads: H, scores, subgroups: ctx.hasWideSubgroups }),
      ...ditAttentionGemm(ctx, { dims, qkv: tq, o: o6, keymask: tm, heads: H, scores, subgroups: ctx.hasWideSubgroups, rowsPerSubgroup: 8 }),
    ], T - lead, B, T));
    // Every form's grids take the T − lead queries (and the 3-pass scores the T keys); the key range is dims.T.
    const ref = new Float64Array(M * C);
    for (let b = 0; b < B; b++) {
      const q: Float64Array[] = [], k: Float64Array[] = [];
      for (let t = 0; t < T; t++) {
        const r = (b * T + t) * 3 * C;
        q.push(Float64Array.from(qkv.subarray(r, r + C)));
        k.push(Float64Array.from(qkv.subarray(r + C, r + 2 * C)));
      }
      for (let h = 0; h < H; h++) for (let i = lead; i < T; i++) {
        const lim = chunk ? Math.min(T, (Math.floor(i / chunk) + 1) * chunk) : T;
        const s: number[] = [];
        let mx = -Infinity;
        for (let j = 0; j < lim; j++) {
          if (keymask[b * T + j] < 0.5) { s.push(-Infinity); continue; }
          let d = 0;
          for (let e = 0; e < DH; e++) d += q[i][h * DH + e] * k[j][h * DH + e];
          s.push(d / Math.sqrt(DH));
          mx = Math.max(mx, d / Math.sqrt(DH));
        }
        let l = 0;
        const p = s.map((v) => (v === -Infinity ? 0 : Math.exp(v - mx)));
        for (const v of p) l += v;
        for (let e = 0; e < DH; e++) {
          let acc = 0;
          for (let j = 0; j < lim; j++) acc += p[j] * qkv[(b * T + j) * 3 * C + 2 * C + h * DH + e];
          ref[(b * T + i) * C + h * DH + e] = acc / l;
        }
      }
    }
    for (const [i, [rq, subgroups, kt]] of flashForms.entries()) {
      expectClose(await ctx.readF32(flashOut[i]), ref, { atol: 2e-5, rtol: 1e-4, label: `attention flash rq${rq} sg=${subgroups} kt=${kt || 'default'} T=${T} H=${H} DH=${DH} chunk=${chunk} pad=${pad}` });
    }
    if (flash) expect(flashForms.length).toBeGreaterThan(0);
    for (const [i, S] of splits.entries()) {
      expectClose(await ctx.readF32(splitOut[i]), ref, { atol: 2e-5, rtol: 1e-4, label: `attention flash ${S} key splits T=${T} H=${H} DH=${DH} chunk=${chunk} pad=${pad}` });
    }
    if (flash && sg) expect(splits.length).toBe(2);
    expectClose(await ctx.readF32(o), ref, { atol: 2e-5, rtol: 1e-4, label: `attention tiled T=${T} H=${H} chunk=${chunk} pad=${pad}` });
    expectClose(await ctx.readF32(o2), ref, { atol: 2e-5, rtol: 1e-4, label: `attention rowwise T=${T} H=${H} chunk=${chunk} pad=${pad}` });
    expectClose(await ctx.readF32(o3), ref, { atol: 2e-5, rtol: 1e-4, label: `attention 3-pass T=${T} H=${H} chunk=${chunk} pad=${pad}` });
    expectClose(await ctx.readF32(o4), ref, { atol: 2e-5, rtol: 1e-4, label: `attention 3-pass subgroups=${ctx.hasWideSubgroups} T=${T} H=${H} chunk=${chunk} pad=${pad}` });
    expectClose(await ctx.readF32(o6), ref, { atol: 2e-5, rtol: 1e-4, label: `attention 3-pass subgroups=${ctx.hasWideSubgroups}, 8 rows T=${T} H=${H} chunk=${chunk} pad=${pad}` });
  });
});

describe('convPos (causal grouped conv k31 + Mish, residual) vs float64', () => {
  // The register form everywhere; its subgroup variant where the shape allows (C and channels/group multiples of
  // 32) on llvmpipe (8-lane subgroups); the GPUs' shared-memory `tiled` form (channels/group multiples of 16) on
  // every adapter, over one and several 64-row tiles and its 64/32/16-channel tiles.
  it.each([
    [19, 1024, 64, 31, 'regblock'],
    [19, 1024, 64, 31, 'sg'],
    [19, 1024, 64, 31, 'tiled'],
    [83, 64, 4, 31, 'regblock'],
    [83, 64, 32, 5, 'regblock'],
    [83, 64, 32, 5, 'sg'],
    [83, 64, 32, 5, 'tiled'],
    [70, 48, 16, 7, 'tiled'],
    [130, 128, 64, 31, 'tiled'],
    [1, 1024, 64, 31, 'regblock'],
    [1, 1024, 64, 31, 'sg'],
    [1, 1024, 64, 31, 'tiled'],
  ] as const)('T=%i C=%i channels/group=%i k=%i %s', async (T, C, CPG, KS, form) => {
    const ctx = await testContext();
    const subgroups = form === 'sg';
    if (subgroups && !ctx.hasWideSubgroupsOf8) return; // the SG form is llvmpipe's only
    const impl = form === 'tiled' ? 'tiled' : 'regblock';
    const rng = new SeededRng(T + C + CPG);
    const B = 2, M = B * T;
    const x = rng.f32(M * C), w = rng.normalF32(C * CPG * KS, 2 / Math.sqrt(CPG * KS)), bias = rng.f32(C), res = rng.f32(M * C);
    const dims = createDims(ctx, { T, B, chunk: 0 });
    const tx = ctx.upload(x, 'f32', [M, C]), tw = ctx.upload(convPosWeightLayout(w, C, CPG, KS), 'f32', [C, KS, CPG]), tb = ctx.upload(bias, 'f32', [C]);
    const tr = ctx.upload(res, 'f32', [M, C]), y = ctx.tensor('f32', [M, C]), y2 = ctx.tensor('f32', [M, C]);
    ctx.run(atLength([convPos(ctx, { dims, x: tx, w: tw, bias: tb, y, subgroups, impl }), convPos(ctx, { dims, x: tx, w: tw, bias: tb, y: y2, res: tr, subgroups, impl })], T, B));
    const mish = (v: number) => v * Math.tanh(v > 20 ? v : Math.log1p(Math.exp(v)));
    const ref = new Float64Array(M * C), ref2 = new Float64Array(M * C);
    for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) for (let o = 0; o < C; o++) {
      const g = Math.floor(o / CPG);
      let acc = bias[o];
      for (let i = 0; i < CPG; i++) for (let k = 0; k < KS; k++) {
        const ti = t - (KS - 1) + k;
        if (ti >= 0) acc += w[(o * CPG + i) * KS + k] * x[(b * T + ti) * C + g * CPG + i];
      }
      ref[(b * T + t) * C + o] = mish(acc);
      ref2[(b * T + t) * C + o] = mish(acc) + res[(b * T + t) * C + o];
    }
    expectClose(await ctx.readF32(y), ref, { atol: 2e-5, rtol: 1e-5, label: `convPos T=${T} C=${C}` });
    expectClose(await ctx.readF32(y2), ref2, { atol: 2e-5, rtol: 1e-5, label: `convPos+res T=${T} C=${C}` });
  });
  it('the tiled form refuses channels per group that are not a multiple of 16', async () => {
    const ctx = await testContext();
    const dims = createDims(ctx, { T: 4, B: 1, chunk: 0 });
    const t = (shape: number[]) => ctx.tensor('f32', shape);
    expect(() => convPos(ctx, { dims, x: t([4, 64]), w: t([64, 31, 8]), bias: t([64]), y: t([4, 64]), impl: 'tiled' })).toThrow(ShapeMismatchError);
  });
});

describe('ditLinear (tiled, regblock, sgblock and sgblock32 entries, f32/f16 weights, SiLU/GELU-tanh/gated-residual epilogues) vs float64', () => {
  it.each([
    [13, 1024, 1024],
    [7, 2048, 1024],
    [5, 80, 1024],
    [2, 6144, 64],
    [37, 256, 128], // M = 74: two full 32-row groups and a ragged one
  ])('T=%i N=%i K=%i', async (T, N, K) => {
    const ctx = await testContext();
    const rng = new SeededRng(T * 3 + N + K);
    const B = 2, M = B * T;
    const x = rng.f32(M * K), w = rng.normalF32(N * K, 1 / Math.sqrt(K)), bias = rng.f32(N), y0 = rng.f32(M * N);
    const gate = rng.f32(4 * N), rowmask = Float32Array.from({ length: M }, (_, m) => (m % 7 === 3 ? 0 : 1));
    const dims = createDims(ctx, { T, B, chunk: 0 });
    const tx = ctx.upload(x, 'f32', [M, K]), tb = ctx.upload(bias, 'f32', [N]), tg = ctx.upload(gate, 'f32', [4, N]);
    const tmask = ctx.upload(rowmask, 'f32', [M]);
    // gemm_rt twice: with the tile rtTile picks for these rows (32×32 or 64×64 here) and with the 128×128 one.
    const impls = ['tiled', 'gemm_rt', 'gemm_rt 128x128', 'regblock', ...(ctx.hasWideSubgroups ? ['sgblock', 'sgblock32'] as const : [])] as const;
    for (const [dtype, form] of (['f32', 'f16'] as const).flatMap((d) => impls.map((i) => [d, i] as const))) {
      const impl = form === 'gemm_rt 128x128' ? 'gemm_rt' : form;
      const tile = form === 'gemm_rt 128x128' ? { BM: 128, BN: 128, TM: 8, TN: 8 } : undefined;
      const wq = dtype === 'f16' ? Float64Array.from(toF16Bits(w), halfToFloat) : Float64Array.from(w);
      const tw = dtype === 'f16' ? ctx.upload(toF16Bits(w), 'f16', [N, K]) : ctx.upload(w, 'f32', [N, K]);
      const ys = { silu: ctx.tensor('f32', [M, N]), gelu: ctx.tensor('f32', [M, N]), gate: ctx.upload(y0, 'f32', [M, N]) };
      ctx.run(atLength([
        ditLinear(ctx, { dims, x: tx, w: tw, bias: tb, y: ys.silu, act: 'silu', impl, tile }),
        ditLinear(ctx, { dims, x: tx, w: tw, bias: tb, y: ys.gelu, act: 'gelu_tanh', impl, tile }),
        ditLinear(ctx, { dims, x: tx, w: tw, bias: tb, y: ys.gate, gate: { mod: tg, base: N, stride: 2 * N }, rowmask: tmask, impl, tile }),
      ], T, B));
      const lin = new Float64Array(M * N);
      for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) {
        let acc = bias[n];
        for (let k = 0; k < K; k++) acc += x[m * K + k] * wq[n * K + k];
        lin[m * N + n] = acc;
      }
      const silu = lin.map((v) => v / (1 + Math.exp(-v)));
      const gelu = lin.map((v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3))));
      const gated = lin.map((v, i) => {
        const m = Math.floor(i / N), n = i % N, b = Math.floor(m / T);
        return y0[i] + gate[N + b * 2 * N + n] * (rowmask[m] ? v : 0);
      });
      const tol = { atol: 3e-5 * Math.sqrt(K / 64), rtol: 1e-5 };
      expectClose(await ctx.readF32(ys.silu), silu, { ...tol, label: `${dtype} ${form} silu ${M}x${N}x${K}` });
      expectClose(await ctx.readF32(ys.gelu), gelu, { ...tol, label: `${dtype} ${form} gelu ${M}x${N}x${K}` });
      expectClose(await ctx.readF32(ys.gate), gated, { ...tol, label: `${dtype} ${form} gate ${M}x${N}x${K}` });
    }
  });
});

describe('ditLinear ROPE epilogue (fused q|k|v projection + interleaved rotary on head 0) vs float64', () => {
  it.each([
    [11, 1024, 64],
    [70, 64, 16],
  ])('T=%i C=%i rotDim=%i', async (T, C, rot) => {
    const ctx = await testContext();
    const rng = new SeededRng(T + C);
    const B = 2, M = B * T, N = 3 * C, K = 64;
    const x = rng.f32(M * K), w = rng.normalF32(N * K, 1 / Math.sqrt(K)), bias = rng.f32(N);
    // inv_freq as RotaryEmbedding(dim_head): 1 / 10000^(2i/DH), stored f32.
    const invFreq = Float32Array.from({ length: rot / 2 }, (_, i) => 1 / 10000 ** ((2 * i) / rot));
    const dims = createDims(ctx, { T, B, chunk: 0 });
    const table = ctx.upload(ditRopeTable(invFreq, T), 'f32', [T, rot / 2, 2]);
    const tx = ctx.upload(x, 'f32', [M, K]), tw = ctx.upload(w, 'f32', [N, K]), tb = ctx.upload(bias, 'f32', [N]);
    const ref = new Float64Array(M * N);
    for (let m = 0; m < M; m++) {
      const row = new Float64Array(N);
      for (let n = 0; n < N; n++) {
        let acc = bias[n];
        for (let k = 0; k < K; k++) acc += x[m * K + k] * w[n * K + k];
        row[n] = acc;
      }
      const pos = m % T;
      for (const off of [0, C]) for (let c = 0; c < rot; c += 2) {
        const phi = Math.fround(pos * invFreq[c / 2]);
        const a = row[off + c], b = row[off + c + 1];
        row[off + c] = a * Math.cos(phi) - b * Math.sin(phi);
        row[off + c + 1] = b * Math.cos(phi) + a * Math.sin(phi);
      }
      ref.set(row, m * N);
    }
    for (const impl of ['tiled', 'gemm_rt', 'regblock', ...(ctx.hasWideSubgroups ? ['sgblock', 'sgblock32'] as const : [])] as const) {
      const y = ctx.tensor('f32', [M, N]);
      ctx.run(atLength([ditLinear(ctx, { dims, x: tx, w: tw, bias: tb, y, rope: { table, rotDim: rot }, impl })], T, B));
      expectClose(await ctx.readF32(y), ref, { atol: 3e-5, rtol: 1e-5, label: `rope ${impl} T=${T} C=${C}` });
    }
  });
});
