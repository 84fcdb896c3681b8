import { describe, expect, it } from 'vitest';
import { linear, stackRows, type Activation, type LinearMode } from '../../kernels/matmul.js';
import { f32ToF16Bits, halfToFloat } from '../../loader/dtype.js';
import { packWeightF16, quantizeHost, quantizeWeight, roundToF16 } from '../../kernels/quant.js';
import { ShapeMismatchError } from '../../src/gpu/errors.js';
import type { GpuTensor } from '../../src/gpu/tensor.js';
import { expectClose } from '../helpers/compare.js';
import { testContext } from '../helpers/gpu.js';
import { SeededRng } from '../helpers/rng.js';
import { linearEpilogueRef, relL2, type EpilogueRef } from './ref.js';

// f32 accumulation over K terms of size ~1/√K: error grows like √K·ε; the bound leaves ~10× headroom.
const tolF32 = (K: number) => ({ atol: 2e-5 * Math.sqrt(K / 64) + 1e-6, rtol: 1e-5 });

type Fmt = 'f32' | 'f16' | 'q8' | 'q4';

/** Uploads `w` [rows, K] in format `fmt`; returns the tensors and the weight values the GPU really uses. */
async function makeWeight(fmt: Fmt, w: Float32Array, rows: number, K: number, group = 32) {
  const ctx = await testContext();
  if (fmt === 'f32') return { w: ctx.upload(w, 'f32', [rows, K]), used: w, scales: undefined as GpuTensor | undefined, err: 0 };
  if (fmt === 'f16') return { w: packWeightF16(ctx, w, [rows, K]), used: roundToF16(w), scales: undefined, err: 0 };
  const q = quantizeWeight(ctx, w, [rows, K], fmt, group);
  return { w: q.packed, scales: q.scales, used: quantizeHost(w, [rows, K], fmt, group).dequant, err: q.relL2Err };
}

interface Case extends EpilogueRef {
  M: number;
  N: number;
  K: number;
  fmt: Fmt;
  group?: number;
  modes?: LinearMode[];
  noSubgroups?: boolean;
  gemv?: { rows: number; lanes: number };
  /** Explicit `gemm` tile [BM, BN, TM, BK]. */
  tile?: [number, number, number, number];
  /** Explicit `gemm_rt` tile [BM, BN, TM, TN, BK]. */
  rtTile?: [number, number, number, number, number];
}

async function runCase(c: Case): Promise<void> {
  const ctx = await testContext();
  const WN = c.gateUp ? 2 * c.N : c.N;
  const rng = new SeededRng(c.M * 7919 + c.N * 31 + c.K + c.fmt.length);
  const x = rng.f32(c.M * c.K);
  const wf = rng.normalF32(WN * c.K, 1 / Math.sqrt(c.K));
  const bias = c.bias ? rng.f32(WN) : undefined;
  const residual = c.residual ? rng.f32(c.M * c.N) : undefined;
  const W = await makeWeight(c.fmt, wf, WN, c.K, c.group);
  const tx = ctx.upload(x, 'f32', [c.M, c.K]);
  const tb = bias && ctx.upload(bias, 'f32', [WN]);
  const tr = residual && ctx.upload(residual, 'f32', [c.M, c.N]);
  const e = { bias, residual, act: c.act, alpha: c.alpha, gateUp: c.gateUp };
  const ref = linearEpilogueRef(x, W.used, c.M, WN, c.K, e);
  // Wherever `gemm` is tested, the GPU's gemm_rt (with its default tile) and the llvmpipe subgroup entries are
  // too (K % 8 == 0; subgroups always present in CI).
  const withK8 = (m: LinearMode): LinearMode[] =>
    m !== 'gemm' || c.K % 8 !== 0 || c.tile ? [m] : ctx.hasWideSubgroups ? ['gemm', 'gemm_rt', 'gemm_sg', 'gemm_sg32'] : ['gemm', 'gemm_rt'];
  const modes = (c.modes ?? ['gemv', 'gemm']).flatMap(withK8);
  for (const mode of modes) {
    const y = ctx.tensor('f32', [c.M, c.N]);
    const rec = linear(ctx, {
      x: tx, w: W.w, y, scales: W.scales, bias: tb, residual: tr, act: c.act as Activation | undefined, alpha: c.alpha,
      gateUp: c.gateUp, mode, noSubgroups: c.noSubgroups, gemvRows: c.gemv?.rows, gemvLanes: c.gemv?.lanes,
      ...(c.tile && { gemmTile: [c.tile[0], c.tile[1]] as [number, number], gemmTM: c.tile[2], gemmBK: c.tile[3] }),
      ...(c.rtTile && { gemmTile: [c.rtTile[0], c.rtTile[1]] as [number, number], gemmTM: c.rtTile[2], gemmTN: c.rtTile[3], gemmBK: c.rtTile[4] }),
    });
    ctx.run([rec]);
    const got = await ctx.readF32(y);
    // Tight against the weights the GPU holds (f16-rounded / dequantised), so any kernel bug shows.
    expectClose(got, ref, { ...tolF32(c.K), label: `${rec.label} M=${c.M} N=${c.N} K=${c.K}` });
    if (c.fmt !== 'f32' && mode === modes[0]) {
      const vsF32 = relL2(got, linearEpilogueRef(x, wf, c.M, WN, c.K, e));
      console.log(`[matmul] ${c.fmt}${c.group ? ` g${c.group}` : ''} M=${c.M} N=${c.N} K=${c.K}: output rel-L2 vs f32 weights ${vsF32.toExponential(2)}${W.err ? `, weight rel-L2 ${W.err.toExponential(2)}` : ''}`);
      // Storage error budget (not a kernel check): f16 ~1e-3, q8 ~1e-2, q4 ~0.15 relative.
      expect(vsF32).toBeLessThan({ f16: 2e-3, q8: 2e-2, q4: 0.2 }[c.fmt]);
    }
  }
}

describe('f16 conversion', () => {
  it('round-trips halves and rounds to nearest even', () => {
    for (const h of [0, 1, 0x3c00, 0x3c01, 0x7bff, 0x8001, 0xc000, 0x0400, 0x03ff]) expect(f32ToF16Bits(halfToFloat(h))).toBe(h);
    expect(f32ToF16Bits(1 + 2 ** -11)).toBe(0x3c00); // tie → even
    expect(f32ToF16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(f32ToF16Bits(70000)).toBe(0x7c00);
    expect(f32ToF16Bits(2 ** -25)).toBe(0); // tie to even zero
    expect(f32ToF16Bits(3 * 2 ** -26)).toBe(1);
  });
});

describe('linear: weight formats × entry points against float64', () => {
  // Real dims: Qwen2 896 / 4864 / 128 (2 KV heads × 64) / 6761 speech head; DiT 1024; odd and ragged shapes.
  const shapes: [number, number, number][] = [
    [1, 896, 896],
    [1, 128, 896],
    [1, 4864, 896],
    [1, 896, 4864],
    [2, 6761, 896],
    [1, 1, 1],
    [3, 130, 67],
    [4, 33, 9],
    [21, 70, 96],
    [17, 1024, 64],
    [40, 64, 1024],
  ];
  // Decode-sized weights (M ≤ 2, ≥ 1M weights) run GEMV only: GEMM at M = 1 computes 63 dead rows per tile,
  // which costs seconds on lavapipe and tests nothing the mid-sized GEMM shapes do not.
  const decodeOnly = (M: number, N: number, K: number) => (M <= 2 && N * K >= 1e6 ? (['gemv'] as const) : undefined);
  it.each(shapes)('f32 M=%i N=%i K=%i with bias + residual', (M, N, K) =>
    runCase({ M, N, K, fmt: 'f32', bias: [], residual: [], modes: decodeOnly(M, N, K)?.slice() }));
  it.each(shapes)('f16 M=%i N=%i K=%i with bias', (M, N, K) => runCase({ M, N, K, fmt: 'f16', bias: [], modes: decodeOnly(M, N, K)?.slice() }));
  const qshapes: [number, number, number, number][] = [
    [1, 896, 896, 32],
    [1, 4864, 896, 64],
    [1, 896, 4864, 32],
    [1, 1, 32, 32],
    [3, 37, 64, 64],
    [19, 130, 128, 32],
    [45, 70, 64, 32], // gemm_sg32: a full 32-row group and a ragged one
  ];
  it.each(qshapes)('q8 M=%i N=%i K=%i group %i', (M, N, K, group) => runCase({ M, N, K, fmt: 'q8', group, residual: [], modes: decodeOnly(M, N, K)?.slice() }));
  it.each(qshapes)('q4 M=%i N=%i K=%i group %i', (M, N, K, group) => runCase({ M, N, K, fmt: 'q4', group, bias: [], modes: decodeOnly(M, N, K)?.slice() }));
  it.each([
    [1, 896, 896],
    [3, 61, 17],
  ])('subgroup-free fallback M=%i N=%i K=%i', (M, N, K) => runCase({ M, N, K, fmt: 'f16', bias: [], residual: [], noSubgroups: true, modes: ['gemv'] }));
  // The adapter picks the GEMV shape (llvmpipe: 8 lanes × 8 outputs, GPUs: 64 lanes × 4): both run everywhere.
  it.each([
    [4, 64, 'q4'],
    [8, 8, 'q8'],
    [16, 32, 'f16'],
  ] as const)('GEMV shape %i outputs × %i lanes, %s', (rows, lanes, fmt) =>
    runCase({ M: 2, N: 300, K: 192, fmt, group: 32, bias: [], gemv: { rows, lanes }, modes: ['gemv'] }));
});

// kernels/matmul.ts gemmShape picks 32×32 / 64×64 tiles with 4 rows a thread on GPUs and 64×64 with 8 on CPU
// adapters; every tile form runs on every adapter, so CI checks the GPU defaults (and bench/sweep-prefill.ts's
// forms) on lavapipe. Ragged M, N and K in every tile; gateUp halves the W tile's rows.
describe('linear: gemm tile shapes', () => {
  const tiles: [number, number, number, number][] = [[32, 32, 4, 16], [32, 32, 4, 32], [64, 64, 4, 32], [32, 64, 4, 32], [64, 32, 8, 32], [128, 64, 8, 16]];
  it.each(tiles)('tile %i×%i TM %i BK %i: f32 with bias + residual, f16, q8', async (BM, BN, TM, BK) => {
    const tile: [number, number, number, number] = [BM, BN, TM, BK];
    await runCase({ M: 70, N: 75, K: 136, fmt: 'f32', bias: [], residual: [], tile, modes: ['gemm'] });
    await runCase({ M: 33, N: 130, K: 72, fmt: 'f16', bias: [], tile, modes: ['gemm'] });
    await runCase({ M: 37, N: 70, K: 96, fmt: 'q8', group: 32, residual: [], tile, modes: ['gemm'] });
  });
  it('tile 32×32 TM 4 BK 16 with the SwiGLU gateUp epilogue', () => runCase({ M: 45, N: 70, K: 96, fmt: 'f16', gateUp: true, tile: [32, 32, 4, 16], modes: ['gemm'] }));
});

// gemm_rt (shaders/gemm_core.wgsl), the GPU default: every tile of kernels/matmul.ts RT_TILES and a few sweep
// forms, with ragged M, N and K (K = 136 leaves a half K step at BK 16, a 1/4 one at BK 32); gateUp needs TN 8.
describe('linear: gemm_rt tile shapes', () => {
  const tiles: [number, number, number, number, number][] = [
    [128, 128, 8, 8, 16], [128, 64, 8, 4, 16], [64, 64, 4, 4, 16], [32, 64, 4, 4, 16], [32, 32, 4, 4, 16],
    [64, 128, 4, 8, 8], [64, 64, 4, 4, 32], [64, 64, 8, 8, 8], [128, 32, 8, 4, 8],
  ];
  it.each(tiles)('tile %i×%i, %i×%i a thread, BK %i: f32 with bias + residual, f16, q4', async (BM, BN, TM, TN, BK) => {
    const rtTile: [number, number, number, number, number] = [BM, BN, TM, TN, BK];
    await runCase({ M: 150, N: 141, K: 136, fmt: 'f32', bias: [], residual: [], rtTile, modes: ['gemm_rt'] });
    await runCase({ M: 33, N: 130, K: 72, fmt: 'f16', bias: [], rtTile, modes: ['gemm_rt'] });
    await runCase({ M: 37, N: 70, K: 96, fmt: 'q4', group: 32, residual: [], rtTile, modes: ['gemm_rt'] });
  });
  it.each([
    [128, 128, 8, 8, 16],
    [32, 128, 4, 8, 8],
  ] as const)('gateUp SwiGLU, tile %i×%i, %i×%i a thread, BK %i', (BM, BN, TM, TN, BK) =>
    runCase({ M: 131, N: 70, K: 96, fmt: 'f16', gateUp: true, bias: [], residual: [], rtTile: [BM, BN, TM, TN, BK], modes: ['gemm_rt'] }));
  it('rejects a tile it cannot run', async () => {
    const ctx = await testContext();
    const x = ctx.tensor('f32', [4, 16]), w = ctx.tensor('f32', [8, 16]), y = ctx.tensor('f32', [4, 8]);
    expect(() => linear(ctx, { x, w, y, mode: 'gemm_rt', gemmTile: [128, 128], gemmTM: 4, gemmTN: 4 })).toThrow(/256 threads/);
    expect(() => linear(ctx, { x, w: ctx.tensor('f32', [16, 16]), y, gateUp: true, mode: 'gemm_rt', gemmTile: [64, 64], gemmTM: 4, gemmTN: 4 })).toThrow(/TN 8 with gateUp/);
    expect(() => linear(ctx, { x: ctx.tensor('f32', [4, 12]), w: ctx.tensor('f32', [8, 12]), y, mode: 'gemm_rt' })).toThrow(/multiple of 8/);
    expect(() => linear(ctx, { x, w, y, mode: 'gemm_rt', gemmTile: [64, 64], gemmTM: 8, gemmTN: 8, gemmBK: 16 })).toThrow(/one 8-element chunk/);
  });
});

describe('linear: fused epilogues', () => {
  const acts: Activation[] = ['silu', 'gelu_tanh', 'mish', 'leaky_relu'];
  // gemv and gemm share the epilogue function: the activations run through gemm only (fewer pipelines to
  // compile on lavapipe); the gemv epilogue is covered by the gateUp/SiLU cases.
  it.each(acts)('%s after bias, then residual', async (act) => {
    await runCase({ M: 23, N: 77, K: 40, fmt: 'f32', bias: [], residual: [], act, alpha: 0.2, modes: ['gemm'] });
  });
  it.each([
    [1, 4864, 896, 'f16', 'gemv'],
    [1, 4864, 896, 'q4', 'gemv'],
    [5, 300, 64, 'f32', 'gemm'],
    [37, 70, 96, 'q8', 'gemm'],
  ] as const)('SwiGLU gateUp M=%i F=%i K=%i %s %s', (M, N, K, fmt, mode) => runCase({ M, N, K, fmt, gateUp: true, group: 32, modes: [mode] }));
  it('gateUp with bias and residual, GEGLU', () => runCase({ M: 6, N: 50, K: 24, fmt: 'f32', gateUp: true, bias: [], residual: [], act: 'gelu_tanh' }));
  it('stackRows puts gate first', () => {
    expect([...stackRows(Float32Array.of(1, 2), Float32Array.of(3, 4))]).toEqual([1, 2, 3, 4]);
  });
});

describe('linear: fused RMSNorm prologue (gemv for decode rows, gemm_rt for prefill rows: the GPU plan)', () => {
  // [M, N, K, weight format, gateUp, entry]: the Qwen2 qkv and gate_up decode shapes, small ragged ones, up to 4
  // rows, through gemv; prefill-sized rows (the 64-row qkv of bench model-kernels, ragged tiles) through gemm_rt.
  const cases: [number, number, number, Fmt, boolean, LinearMode][] = [
    [1, 1152, 896, 'f32', false, 'gemv'],
    [1, 1152, 896, 'f16', false, 'gemv'],
    [1, 4864, 896, 'f16', true, 'gemv'],
    [3, 130, 64, 'f32', true, 'gemv'],
    [4, 37, 64, 'q8', false, 'gemv'],
    [2, 9, 8, 'f32', false, 'gemv'],
    [64, 1152, 896, 'f32', false, 'gemm_rt'],
    [70, 130, 200, 'f16', false, 'gemm_rt'],
    [37, 60, 64, 'q8', true, 'gemm_rt'],
    [3, 9, 8, 'f32', false, 'gemm_rt'],
  ];
  it.each(cases)('M=%i N=%i K=%i %s gateUp=%s with bias and residual, %s', async (M, N, K, fmt, gateUp, mode) => {
    const ctx = await testContext();
    const WN = gateUp ? 2 * N : N;
    const rng = new SeededRng(M * 131 + N + K);
    const x = rng.f32(M * K, -3, 3);
    const nw = rng.f32(K, 0.5, 1.5);
    const wf = rng.normalF32(WN * K, 1 / Math.sqrt(K));
    const bias = rng.f32(WN), residual = rng.f32(M * N);
    const W = await makeWeight(fmt, wf, WN, K, 32);
    const eps = 1e-6;
    // Reference: the RMSNorm in float64 (weight last), then the same linear epilogue.
    const xn64 = new Float64Array(M * K);
    for (let m = 0; m < M; m++) {
      let ss = 0;
      for (let k = 0; k < K; k++) ss += x[m * K + k] ** 2;
      const inv = 1 / Math.sqrt(ss / K + eps);
      for (let k = 0; k < K; k++) xn64[m * K + k] = nw[k] * (x[m * K + k] * inv);
    }
    const ref = linearEpilogueRef(xn64, W.used, M, WN, K, { bias, residual, gateUp });
    const y = ctx.tensor('f32', [M, N]);
    const rec = linear(ctx, {
      x: ctx.upload(x, 'f32', [M, K]), w: W.w, y, scales: W.scales, bias: ctx.upload(bias, 'f32', [WN]),
      residual: ctx.upload(residual, 'f32', [M, N]), gateUp, norm: ctx.upload(nw, 'f32', [K]), eps, mode,
    });
    ctx.run([rec]);
    expectClose(await ctx.readF32(y), ref, { ...tolF32(K), label: `${rec.label} M=${M} N=${N} K=${K}` });
  });

  it('needs the gemv or gemm_rt entry, K % 8 == 0 and a [K] f32 weight', async () => {
    const ctx = await testContext();
    const w = ctx.upload(new Float32Array(16 * 12), 'f32', [16, 12]);
    const args = { x: ctx.tensor('f32', [1, 12]), w, y: ctx.tensor('f32', [1, 16]), norm: ctx.tensor('f32', [12]) };
    expect(() => linear(ctx, args)).toThrow(/K % 8 == 0/);
    const w8 = ctx.upload(new Float32Array(16 * 8), 'f32', [16, 8]);
    expect(() => linear(ctx, { ...args, x: ctx.tensor('f32', [1, 8]), w: w8, mode: 'gemm' })).toThrow(/gemv or gemm_rt entry/);
    expect(() => linear(ctx, { ...args, x: ctx.tensor('f32', [1, 8]), w: w8 })).toThrow(ShapeMismatchError);
  });
});

describe('linear: shape errors', () => {
  it('rejects mismatched shapes with ShapeMismatchError naming the weight', async () => {
    const ctx = await testContext();
    const x = ctx.tensor('f32', [2, 8]), y = ctx.tensor('f32', [2, 4]);
    const w = ctx.tensor('f32', [4, 9], 'blk.w');
    expect(() => linear(ctx, { x, w, y })).toThrow(ShapeMismatchError);
    expect(() => linear(ctx, { x, w, y })).toThrow(/blk\.w/);
    const q = quantizeWeight(ctx, new Float32Array(4 * 8), [4, 8], 'q8', 8);
    expect(() => linear(ctx, { x, w: q.packed, y })).toThrow(/scales/);
    expect(() => quantizeHost(new Float32Array(40), [4, 10], 'q4', 8)).toThrow(ShapeMismatchError);
    expect(() => linear(ctx, { x, w: ctx.tensor('f32', [5, 8]), y, gateUp: true })).toThrow(/2F/);
  });
});
