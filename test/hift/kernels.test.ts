/**
 * HiFT kernels against float64 references (test/hift/reference.ts): conv1d in every entry point (win with and
 * without subgroup weights, shared-memory tiled, split tiled over several tiles × splits, direct) at HiFT channel counts and odd lengths, with causal
 * left padding, dilation, right zero padding / valid context, stride (source downsamplers), nearest ×up
 * (CausalConv1dUpsample) and its polyphase form (folded weights, `phases`), LeakyReLU/Snake prologues, Snake/residual/in-place/accumulate/divide epilogues and the
 * ReflectionPad1d((1,0)) shift; Snake; STFT; iSTFT with clip/phase/clamp.
 */
import { describe, expect, it } from 'vitest';
import { conv1d, foldUpsampleWeight, packConvWeight, packSnakeAlpha, type ConvTile } from '../../kernels/conv1d.js';
import { istft } from '../../kernels/istft.js';
import type { GpuContext } from '../../src/gpu/context.js';
import type { GpuTensor } from '../../src/gpu/tensor.js';
import { snake } from '../../kernels/snake.js';
import { stft, stftTables } from '../../kernels/stft.js';
import { expectClose } from '../helpers/compare.js';
import { testContext } from '../helpers/gpu.js';
import { SeededRng } from '../helpers/rng.js';
import { conv1dRef, istftRef, snakeRef, stftRef, type ConvRefArgs } from './reference.js';

/**
 * Tile shapes of the tiled entry (`conv_tiled`, stride 1; mode `tiled` alone is 64×64, rt 4, split 1): co × t
 * tile, rt times per thread, Cin split s ways. ts16x32r2s4 is the GPU default for short outputs; s8 has one warp
 * per split; s1 checks the form without the reduction.
 */
const TSPLIT: Record<string, { tile: ConvTile; split: 1 | 2 | 4 | 8 }> = {
  ts16x32r2s4: { tile: { co: 16, t: 32, rt: 2 }, split: 4 },
  ts32x32r4s2: { tile: { co: 32, t: 32, rt: 4 }, split: 2 },
  ts16x16r2s8: { tile: { co: 16, t: 16, rt: 2 }, split: 8 },
  ts64x32r4s2: { tile: { co: 64, t: 32, rt: 4 }, split: 2 },
  ts32x16r1s1: { tile: { co: 32, t: 16, rt: 1 }, split: 1 },
};
type Mode = 'win' | 'win-nosg' | 'win-gpu' | 'tiled' | 'direct' | keyof typeof TSPLIT;

interface Case {
  name: string;
  cin: number;
  cout: number;
  k: number;
  lin: number;
  lout: number;
  dilation?: number;
  stride?: number;
  up?: number;
  padLeft?: number;
  leakyIn?: number;
  snakeIn?: boolean;
  snakeOut?: boolean;
  residual?: boolean;
  resInplace?: boolean;
  accumulate?: boolean;
  divide?: number;
  outShift?: boolean;
  /** Run nearest ×up + conv in the polyphase form (foldUpsampleWeight, `phases: up`); the reference is unchanged. */
  polyphase?: boolean;
  modes: Mode[];
}

const TS = Object.keys(TSPLIT) as Mode[];
const ALL: Mode[] = ['win', 'win-nosg', 'win-gpu', 'tiled', ...TS, 'direct'];
const cases: Case[] = [
  // ResBlock convs at the four HiFT channel counts (odd lengths, every dilation), Snake in/out.
  { name: 'resblock conv1 C512 k3 d5', cin: 512, cout: 512, k: 3, lin: 13, lout: 13, dilation: 5, padLeft: 10, snakeIn: true, snakeOut: true, modes: ALL },
  { name: 'resblock conv1 C256 k11 d3', cin: 256, cout: 256, k: 11, lin: 37, lout: 37, dilation: 3, padLeft: 30, snakeOut: true, modes: ALL },
  { name: 'resblock conv2 C128 k7 residual', cin: 128, cout: 128, k: 7, lin: 101, lout: 101, padLeft: 6, residual: true, modes: ALL },
  { name: 'resblock conv2 C64 k11 in-place residual', cin: 64, cout: 64, k: 11, lin: 203, lout: 203, padLeft: 10, resInplace: true, modes: ALL },
  { name: 'resblock mean: accumulate + divide C64 k3', cin: 64, cout: 64, k: 3, lin: 77, lout: 77, padLeft: 2, residual: true, accumulate: true, divide: 3, modes: ALL },
  { name: 'resblock conv1 C64 k7 d3 long (16 times per lane)', cin: 64, cout: 64, k: 7, lin: 1301, lout: 1301, dilation: 3, padLeft: 18, snakeOut: true, modes: ['win', 'win-nosg', 'win-gpu', 'tiled', ...TS] },
  // Upsamplers: LeakyReLU, nearest ×u, causal pad k−1; the last one with the reflect shift and source fusion.
  { name: 'ups.0 C512→256 ×8 k16 leaky', cin: 512, cout: 256, k: 16, lin: 5, lout: 40, up: 8, padLeft: 15, leakyIn: 0.1, residual: true, modes: ALL },
  { name: 'ups.2 C128→64 ×3 k7 reflect shift', cin: 128, cout: 64, k: 7, lin: 19, lout: 57, up: 3, padLeft: 6, leakyIn: 0.1, residual: true, outShift: true, modes: ALL },
  // The same, polyphase (HiFT's three stages; K ≤ up; K = 1; ragged C with every epilogue): output s·u + r of
  // phase r from ⌈(K−1)/u⌉ + 1 folded taps.
  { name: 'ups.0 polyphase C512→256 ×8 k16 leaky', cin: 512, cout: 256, k: 16, lin: 5, lout: 40, up: 8, padLeft: 15, leakyIn: 0.1, residual: true, polyphase: true, modes: ALL },
  { name: 'ups.1 polyphase C256→128 ×5 k11 leaky', cin: 256, cout: 128, k: 11, lin: 9, lout: 45, up: 5, padLeft: 10, leakyIn: 0.1, residual: true, polyphase: true, modes: ALL },
  { name: 'ups.2 polyphase C128→64 ×3 k7 reflect shift', cin: 128, cout: 64, k: 7, lin: 19, lout: 57, up: 3, padLeft: 6, leakyIn: 0.1, residual: true, outShift: true, polyphase: true, modes: ALL },
  { name: 'polyphase C24→12 ×4 k3 (K ≤ up) snake out', cin: 24, cout: 12, k: 3, lin: 11, lout: 44, up: 4, padLeft: 2, snakeOut: true, polyphase: true, modes: ALL },
  { name: 'polyphase C8→8 ×3 k1', cin: 8, cout: 8, k: 1, lin: 7, lout: 21, up: 3, polyphase: true, modes: ALL },
  { name: 'polyphase ragged C100→70 ×2 k3 leaky, accumulate + divide, reflect shift', cin: 100, cout: 70, k: 3, lin: 23, lout: 46, up: 2, padLeft: 2, leakyIn: 0.1, accumulate: true, divide: 2, outShift: true, polyphase: true, modes: ALL },
  // conv_pre (right look-ahead: zero padding when finalizing, valid context when streaming) and conv_post.
  { name: 'conv_pre 80→512 k5 right zeros', cin: 80, cout: 512, k: 5, lin: 9, lout: 9, modes: ALL },
  { name: 'conv_pre 80→512 k5 valid context', cin: 80, cout: 512, k: 5, lin: 9, lout: 5, modes: ALL },
  { name: 'conv_post 64→18 k7 leaky 0.01', cin: 64, cout: 18, k: 7, lin: 61, lout: 61, padLeft: 6, leakyIn: 0.01, modes: ALL },
  // Source downsamplers: strided causal convs (k = 2u, left pad u−1) and the k1 conv.
  { name: 'source_downs.0 18→256 k30 s15', cin: 18, cout: 256, k: 30, lin: 121, lout: 8, stride: 15, padLeft: 14, modes: ['win', 'win-nosg', 'win-gpu', 'direct'] },
  { name: 'source_downs.1 18→128 k6 s3', cin: 18, cout: 128, k: 6, lin: 121, lout: 40, stride: 3, padLeft: 2, modes: ['win', 'win-nosg', 'win-gpu', 'direct'] },
  { name: 'source_downs.2 18→64 k1', cin: 18, cout: 64, k: 1, lin: 121, lout: 121, modes: ALL },
  // Cin not a multiple of any chunk × split, Cout not a multiple of 4 or of a tile, ragged time tails.
  { name: 'ragged C37→21 k5 d2 snake in + residual', cin: 37, cout: 21, k: 5, lin: 45, lout: 45, dilation: 2, padLeft: 8, snakeIn: true, residual: true, modes: ALL },
  { name: 'ragged C100→70 ×2 k3 leaky, accumulate + divide, reflect shift', cin: 100, cout: 70, k: 3, lin: 23, lout: 46, up: 2, padLeft: 2, leakyIn: 0.1, accumulate: true, divide: 2, outShift: true, modes: ALL },
  // Tiny channel counts (the fixtures' 4-channel stage) with a ragged Cout.
  { name: 'C4→6 k3 d3 tiny', cin: 4, cout: 6, k: 3, lin: 1, lout: 1, dilation: 3, padLeft: 6, modes: ALL },
];

describe('conv1d against float64', () => {
  for (const c of cases) {
    for (const mode of c.modes) {
      it(`${c.name} [${mode}]`, async () => {
        const ctx = await testContext();
        if (mode === 'win' && !ctx.hasSubgroupsOf8) return; // the subgroup path only exists on 8-wide subgroups
        const rng = new SeededRng(c.cin * 7919 + c.k * 31 + c.lout);
        const x = rng.f32(c.cin * c.lin, -1.5, 1.5);
        const fan = c.cin * c.k;
        const w = rng.f32(c.cout * c.cin * c.k, -1 / Math.sqrt(fan), 1 / Math.sqrt(fan));
        const bias = rng.f32(c.cout, -0.1, 0.1);
        const cols = c.lout + (c.outShift ? 1 : 0);
        const aIn = rng.f32(c.cin, 0.2, 1.5), aOut = rng.f32(c.cout, 0.2, 1.5);
        const res = rng.f32(c.cout * cols);
        const init = rng.f32(c.cout * cols);
        const out = ctx.upload(init, 'f32', [c.cout, cols]);
        const f = c.polyphase ? foldUpsampleWeight(w, c.cout, c.cin, c.k, c.up!) : { w, cout: c.cout, k: c.k };
        const geometry = c.polyphase
          ? { lout: c.lout / c.up!, padLeft: f.k - 1, phases: c.up }
          : { lout: c.lout, dilation: c.dilation, stride: c.stride, up: c.up, padLeft: c.padLeft };
        const rec = conv1d(ctx, {
          x: ctx.upload(x, 'f32', [c.cin, c.lin]),
          w: ctx.upload(packConvWeight(f.w, f.cout, c.cin, f.k), 'f32', [c.cin * f.k * Math.ceil(f.cout / 4) * 4]),
          bias: ctx.upload(bias, 'f32', [c.cout]),
          out, cout: f.cout, k: f.k, ...geometry,
          leakyIn: c.leakyIn,
          snakeIn: c.snakeIn ? ctx.upload(packSnakeAlpha(aIn), 'f32', [c.cin, 2]) : undefined,
          snakeOut: c.snakeOut ? ctx.upload(packSnakeAlpha(aOut), 'f32', [c.cout, 2]) : undefined,
          residual: c.residual ? ctx.upload(res, 'f32', [c.cout, cols]) : undefined,
          resInplace: c.resInplace, accumulate: c.accumulate, divide: c.divide, outShift: c.outShift,
          mode: mode === 'win-nosg' || mode === 'win-gpu' ? 'win' : mode in TSPLIT ? 'tiled' : (mode as 'win' | 'tiled' | 'direct'),
          ...(TSPLIT[mode] ?? {}),
          subgroupWeights: mode === 'win' ? true : mode === 'win-nosg' || mode === 'win-gpu' ? false : undefined,
          // The GPU shape (kernels/conv1d.ts default on GPUs): 4 times × 4 channels per lane.
          ...(mode === 'win-gpu' ? { rt: 4, cob: 1 } : {}),
        }, c.name);
        ctx.run([rec]);
        const got = await ctx.readF32(out);
        const refArgs: ConvRefArgs = {
          x, cin: c.cin, lin: c.lin, w, bias, cout: c.cout, k: c.k, lout: c.lout, dilation: c.dilation, stride: c.stride,
          up: c.up, padLeft: c.padLeft, leakyIn: c.leakyIn, snakeIn: c.snakeIn ? aIn : undefined,
          snakeOut: c.snakeOut ? aOut : undefined, residual: c.residual ? res : undefined, outInit: init,
          resInplace: c.resInplace, accumulate: c.accumulate, divide: c.divide, outShift: c.outShift,
        };
        // f32 accumulation over Cin·K terms of size ~|x|/√fan: error ~ √(Cin·K)·ε relative to the output scale.
        expectClose(got, conv1dRef(refArgs), { atol: 2e-5 * Math.sqrt(fan), rtol: 1e-5, label: `${c.name} [${mode}]` });
      });
    }
  }
});

describe('conv1d entry choice on GPUs (no device: a stub context records the pipeline spec)', () => {
  const stub = { adapterKind: 'gpu', uniform: () => ({}), record: (spec: object, _r: unknown, grid: number[]) => ({ spec, grid }) };
  const t = (shape: number[]) => ({ shape, numel: shape.reduce((a, b) => a * b, 1) }) as unknown as GpuTensor;
  const pick = (C: number, L: number, k: number, dil: number, extra = {}) =>
    conv1d(stub as unknown as GpuContext, {
      x: t([C, L]), w: t([C * k * C]), bias: t([C]), out: t([C, L]), cout: C, k, lout: L, dilation: dil, padLeft: (k - 1) * dil, ...extra,
    }) as unknown as { spec: { entry: string; defines: Record<string, unknown> }; grid: number[] };

  it('short outputs (64×64 grid under 132 workgroups) take the split tiled entry', () => {
    const r = pick(256, 400, 7, 3);
    expect(r.spec.entry).toBe('conv_tiled');
    expect(r.spec.defines).toMatchObject({ TX: 16, TC4: 4, RT: 2, SPLIT: 4, REDUCE: true, CI_T: 6 });
    expect(r.grid).toEqual([13, 16, 1]);
  });
  it('long outputs keep the 64×64 tiles; an explicit tiled mode means them too', () => {
    for (const r of [pick(64, 24000, 11, 1), pick(256, 400, 7, 3, { mode: 'tiled' })]) {
      expect(r.spec.entry).toBe('conv_tiled');
      expect(r.spec.defines).toMatchObject({ TX: 16, TC4: 16, RT: 4, SPLIT: 1, REDUCE: false });
    }
    // A tile or split alone implies the tiled entry and is not overridden by the default.
    expect(pick(256, 400, 7, 3, { tile: { co: 32, t: 32, rt: 4 } }).spec.defines).toMatchObject({ TILED: true, SPLIT: 1, REDUCE: false, TX: 8, TC4: 8 });
  });
  it('rejects tiles over 256 threads, bad splits and kernels that do not fit', () => {
    expect(() => pick(64, 100, 3, 1, { mode: 'tiled', tile: { co: 64, t: 64, rt: 1 }, split: 1 })).toThrow(/exceed 256/);
    expect(() => pick(64, 100, 3, 1, { mode: 'tiled', split: 3 })).toThrow(/split 3/);
    expect(() => pick(64, 100, 99, 9, { mode: 'tiled', tile: { co: 32, t: 32, rt: 4 }, split: 4 })).toThrow(/workgroup memory/);
    expect(() => pick(64, 100, 3, 1, { mode: 'win', split: 2 })).toThrow(/tiled entry/);
  });
});

describe('conv1d win shape on llvmpipe (no device: a stub context records the pipeline spec)', () => {
  const stub = { adapterKind: 'llvmpipe', hasSubgroupsOf8: true, uniform: () => ({}), record: (spec: object, _r: unknown, grid: number[]) => ({ spec, grid }) };
  const t = (shape: number[]) => ({ shape, numel: shape.reduce((a, b) => a * b, 1) }) as unknown as GpuTensor;
  const pick = (C: number, L: number, k: number, dil = 1, extra = {}) =>
    conv1d(stub as unknown as GpuContext, {
      x: t([C, L]), w: t([C * k * C]), bias: t([C]), out: t([C, L]), cout: C, k, lout: L, dilation: dil, padLeft: (k - 1) * dil, ...extra,
    }) as unknown as { spec: { entry: string; defines: Record<string, unknown> }; grid: number[] };

  it('takes 16 times per lane while that leaves ≥ 16 lanes, else 8, else 4 (short outputs: polyphase ups.0, conv_pre)', () => {
    expect(pick(64, 400, 7).spec.defines).toMatchObject({ RT: 16, WINX: true, RT16: true, WSG: true, WGX: 32 });
    expect(pick(64, 200, 7).spec.defines).toMatchObject({ RT: 8, WINX: true, WSG: true });
    expect(pick(64, 50, 3).spec.defines).toMatchObject({ RT: 4, WSG: true, WGX: 32 });
    expect(pick(64, 50, 3).spec.defines.WINX).toBeUndefined(); // the explicit form needs RT 8 or 16
    // Dilation d interleaves d lanes: [C, 200] at d 5 gives 5·⌈200/80⌉ = 15 lanes at RT 16, 25 at RT 8.
    expect(pick(64, 200, 3, 5).spec.defines).toMatchObject({ RT: 8 });
    expect(pick(64, 50, 3, 1, { rt: 16 }).spec.defines).toMatchObject({ RT: 16 }); // an explicit RT wins
  });
  it('a polyphase upsampler: PHASES, the C-channel epilogue and a u·C-channel GEMM grid', () => {
    const C = 64, u = 8, L = 50;
    const r = conv1d(stub as unknown as GpuContext, {
      x: t([128, L]), w: t([128 * 3 * u * C]), bias: t([C]), out: t([C, L * u]), cout: u * C, k: 3, lout: L, phases: u, padLeft: 2,
    }) as unknown as { spec: { defines: Record<string, unknown> }; grid: number[] };
    expect(r.spec.defines).toMatchObject({ PHASES: 8, UP: 1, RT: 4 });
    expect(r.grid).toEqual([1, (u * C) / 16, 1]); // 13 lanes in one 32-wide workgroup; 16 channels a workgroup
    expect(() => conv1d(stub as unknown as GpuContext, {
      x: t([128, L]), w: t([128 * 3 * u * C]), bias: t([u * C]), out: t([C, L * u]), cout: u * C, k: 3, lout: L, phases: u, padLeft: 2,
    })).toThrow(/bias/);
    expect(() => conv1d(stub as unknown as GpuContext, {
      x: t([128, L]), w: t([128 * 3 * u * C]), bias: t([C]), out: t([C, L * u - 1]), cout: u * C, k: 3, lout: L, phases: u, padLeft: 2,
    })).toThrow(/cannot hold/);
  });
});

describe('Snake, STFT, iSTFT against float64', () => {
  it.each([
    [512, 13, 'vec4'],
    [512, 13, 'scalar'],
    [64, 6001, 'vec4'],
    [64, 6001, 'scalar'],
    [2, 6, 'vec4'], // every other vec4 spans two channels
    [6, 4, 'vec4'],
    [3, 5, 'scalar'], // 15 elements: only the scalar form fits
  ] as const)('snake C=%i L=%i %s', async (C, L, form) => {
    const ctx = await testContext();
    const rng = new SeededRng(C + L);
    const x = rng.f32(C * L, -3, 3), a = rng.f32(C, 0.1, 2);
    const out = ctx.tensor('f32', [C, L]);
    ctx.run([snake(ctx, { x: ctx.upload(x, 'f32', [C, L]), alpha: ctx.upload(packSnakeAlpha(a), 'f32', [C, 2]), out, form })]);
    const ref = Float64Array.from(x, (v, i) => snakeRef(v, a[Math.floor(i / L)]));
    expectClose(await ctx.readF32(out), ref, { atol: 3e-6, rtol: 3e-6, label: `snake ${form}` });
  });

  it('snake: the vec4 form is refused where a vec4 would straddle the end or span three channels', async () => {
    const ctx = await testContext();
    const alpha = (C: number) => ctx.tensor('f32', [C, 2]);
    expect(() => snake(ctx, { x: ctx.tensor('f32', [3, 5]), alpha: alpha(3), out: ctx.tensor('f32', [3, 5]), form: 'vec4' })).toThrow(/\[3, 5\]/);
    expect(() => snake(ctx, { x: ctx.tensor('f32', [8, 2]), alpha: alpha(8), out: ctx.tensor('f32', [8, 2]), form: 'vec4' })).toThrow(/L ≥ 4/);
  });

  it.each([
    [480, 121],
    [1441, 361],
    [10, 3],
    [11520, 2401], // the fixture's length; streaming keeps fewer frames
  ])('stft n_fft 16 hop 4: L=%i frames=%i', async (L, frames) => {
    const ctx = await testContext();
    const s = new SeededRng(L).f32(L, -1, 1);
    const out = ctx.tensor('f32', [18, frames]);
    const tables = ctx.upload(stftTables(16), 'f32', [3, 16]);
    ctx.run([stft(ctx, { s: ctx.upload(s, 'f32', [L]), len: L, tables, out, nFft: 16, hop: 4, frames })]);
    expectClose(await ctx.readF32(out), stftRef(s, 16, 4, frames), { atol: 3e-6, label: 'stft' });
  });

  it.each([
    [2, 4],
    [121, 480],
    [241, 480 - 480 + 480],
    [6001, 24000 - 480],
  ])('istft frames=%i nOut=%i (clip 100, clamp 0.99)', async (F, nOut) => {
    const ctx = await testContext();
    const rng = new SeededRng(F);
    // log-magnitudes up to 5.5 so that exp() passes the clip at 100 for some bins.
    const y = new Float32Array(18 * F);
    for (let i = 0; i < y.length; i++) y[i] = i < 9 * F ? rng.uniform(-4, 5.5) : rng.uniform(-6, 6);
    const wave = ctx.tensor('f32', [nOut]);
    const tables = ctx.upload(stftTables(16), 'f32', [3, 16]);
    ctx.run([istft(ctx, { y: ctx.upload(y, 'f32', [18, F]), frames: F, tables, wave, nFft: 16, hop: 4, nOut, clip: 100, limit: 0.99 })]);
    const ref = istftRef(y, F, 16, 4, 100, 0.99).subarray(0, nOut);
    expectClose(await ctx.readF32(wave), ref, { atol: 2e-5, label: 'istft' });
  });
});
