/**
 * Sweep of the register-tiled GEMM (shaders/gemm_core.wgsl, entry gemm_rt) against the 4×4 shared-memory forms it
 * replaces on GPUs, at the real shapes: GPU µs (timestamps, sweep-timing.ts gpuBurstUs, the better of two rounds) per case and form, each form's output
 * checked against the first form's (MISMATCH when the max relative difference exceeds 1e-4).
 *   - LLM prefill projections (Qwen2, matmul.wgsl linear), f16 and f32 weights: `gemm` (gemmShape's tile) vs
 *     gemm_rt tiles; the SwiGLU MLP as `split` (plain [2F] GEMM + silu_mul) vs one gateUp GEMM;
 *   - input_layernorm + qkv_proj: an RMSNorm dispatch then the GEMM vs gemm_rt with the norm fused (PRENORM);
 *   - DiT linears at [2·T, C] (dit_linear.wgsl): `tiled` (`main`) vs gemm_rt tiles, with their epilogues.
 *   npx tsx bench/sweep-gemm-rt.ts [--rows 64,512] [--frames 600] [--only llm,norm,dit]
 *     [--dtypes D | --llm-dtypes f16 --norm-dtypes f32 --dit-dtypes f32]
 * Forms: `rt BMxBN TMxTN kBK`; `rt default` is kernels/matmul.ts rtTile's choice for the shape.
 */
import { requestNodeDevice } from '../src/gpu/node-device.js';
import { GpuContext } from '../src/gpu/context.js';
import type { DispatchRecord } from '../src/gpu/dispatch.js';
import { linear, type LinearArgs } from '../kernels/matmul.js';
import { ditLinear, type DitLinearArgs } from '../kernels/dit-linear.js';
import { rmsNorm, siluMul } from '../kernels/rmsnorm.js';
import { atLength, createDims } from '../kernels/flow-dims.js';
import { packWeightF16 } from '../kernels/quant.js';
import { rnd } from './suites/kernels.js';
import { sweepForms } from './sweep-timing.js';

const opt = (name: string, dflt: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : dflt);
const rowList = opt('--rows', '64,512').split(',').map(Number);
type Dt = 'f16' | 'f32';
// The weight dtypes each section runs by default: the LLM as the GPU plan runs it (f16), the rest as bench
// model-kernels compares them with ORT (f32).
const dtypesOf = (section: string, dflt: string) => opt(`--${section}-dtypes`, opt('--dtypes', dflt)).split(',') as Dt[];
const frames = Number(opt('--frames', '600'));
const only = opt('--only', 'llm,norm,dit').split(',');
const ctx = new GpuContext(await requestNodeDevice());

type Rt = { BM: number; BN: number; TM: number; TN: number; BK: number };
const rt = (BM: number, BN: number, TM: number, TN: number, BK = 16): [string, Rt] => [`rt ${BM}x${BN} ${TM}x${TN} k${BK}`, { BM, BN, TM, TN, BK }];
const RT_FORMS: [string, Rt][] = [
  rt(128, 128, 8, 8), rt(128, 128, 8, 8, 8), rt(128, 64, 8, 4), rt(128, 64, 8, 4, 8), rt(64, 128, 4, 8), rt(64, 128, 4, 8, 8),
  rt(64, 64, 4, 4), rt(64, 64, 4, 4, 32), rt(64, 64, 8, 8, 8), rt(32, 64, 4, 4), rt(32, 32, 4, 4), rt(64, 32, 4, 4),
];
const RT_GATEUP: [string, Rt][] = [rt(128, 128, 8, 8), rt(128, 128, 8, 8, 8), rt(64, 128, 4, 8), rt(64, 128, 4, 8, 8), rt(64, 128, 8, 8, 8), rt(32, 128, 4, 8, 8)];
const linRt = (t: Rt): Partial<LinearArgs> => ({ mode: 'gemm_rt', gemmTile: [t.BM, t.BN], gemmTM: t.TM, gemmTN: t.TN, gemmBK: t.BK });

/** One line of timed forms (sweep-timing.ts sweepForms: the better of two rounds, each checked against the first). */
async function sweep(title: string, out: { read: () => Promise<Float32Array> }, forms: [string, () => DispatchRecord[]][], flops: number) {
  console.log(`${title} (µs): ${await sweepForms(ctx, forms, out.read, { rounds: 2, flops })}`);
}

const weight = (dtype: 'f16' | 'f32', N: number, K: number, seed: number) => {
  const wf = rnd(N * K, seed, 0.05);
  return dtype === 'f16' ? packWeightF16(ctx, wf, [N, K]) : ctx.upload(wf, 'f32', [N, K]);
};

if (only.includes('llm')) {
  const dtypes = dtypesOf('llm', 'f16');
  // Qwen2 prefill projections: [name, N, K, bias, residual].
  const projections: [string, number, number, boolean, boolean][] = [
    ['qkv', 1152, 896, true, false],
    ['o', 896, 896, false, true],
    ['gate_up', 9728, 896, false, false],
    ['down', 896, 4864, false, true],
  ];
  for (const dtype of dtypes) {
    for (const M of rowList) {
      for (const [name, N, K, hasBias, hasRes] of projections) {
        const w = weight(dtype, N, K, 2);
        const x = ctx.upload(rnd(M * K, 1), 'f32', [M, K]);
        const y = ctx.tensor('f32', [M, N]);
        const bias = hasBias ? ctx.upload(rnd(N, 3), 'f32', [N]) : undefined;
        const residual = hasRes ? ctx.upload(rnd(M * N, 4), 'f32', [M, N]) : undefined;
        const base = { x, w, y, bias, residual };
        await sweep(`prefill ${dtype} M=${M} ${name} [${N},${K}]`, { read: () => ctx.readF32(y) }, [
          ['gemm (4x4)', () => [linear(ctx, { ...base, mode: 'gemm' })]],
          ['rt default', () => [linear(ctx, { ...base, mode: 'gemm_rt' })]],
          ...RT_FORMS.map(([f, t]): [string, () => DispatchRecord[]] => [f, () => [linear(ctx, { ...base, ...linRt(t) })]]),
        ], 2 * M * N * K);
        [w, x, y, bias, residual].forEach((t) => t?.buffer.destroy());
      }
      // The SwiGLU MLP's first half: split (the [2F] GEMM, then silu_mul) against one gateUp GEMM.
      const F = 4864, K = 896;
      const w = weight(dtype, 2 * F, K, 5);
      const x = ctx.upload(rnd(M * K, 6), 'f32', [M, K]);
      const gu = ctx.tensor('f32', [M, 2 * F]), act = ctx.tensor('f32', [M, F]);
      await sweep(`prefill ${dtype} M=${M} SwiGLU gate_up [2·${F},${K}] → [${F}]`, { read: () => ctx.readF32(act) }, [
        ['split gemm (4x4) + silu_mul', () => [linear(ctx, { x, w, y: gu, mode: 'gemm' }), siluMul(ctx, gu, act)]],
        ['split rt default + silu_mul', () => [linear(ctx, { x, w, y: gu, mode: 'gemm_rt' }), siluMul(ctx, gu, act)]],
        ['gateUp gemm (4x4)', () => [linear(ctx, { x, w, y: act, gateUp: true, mode: 'gemm' })]],
        ['gateUp rt default', () => [linear(ctx, { x, w, y: act, gateUp: true, mode: 'gemm_rt' })]],
        ...RT_GATEUP.map(([f, t]): [string, () => DispatchRecord[]] => [`gateUp ${f}`, () => [linear(ctx, { x, w, y: act, gateUp: true, ...linRt(t) })]]),
      ], 2 * M * 2 * F * K);
      [w, x, gu, act].forEach((t) => t.buffer.destroy());
    }
  }
}

if (only.includes('norm')) {
  // input_layernorm + qkv_proj with bias (bench model-kernels "rmsnorm+matmul").
  const N = 1152, K = 896, dtypes = dtypesOf('norm', 'f32');
  for (const dtype of dtypes) {
    for (const M of rowList) {
      const w = weight(dtype, N, K, 7);
      const x = ctx.upload(rnd(M * K, 8), 'f32', [M, K]), nw = ctx.upload(rnd(K, 9, 2), 'f32', [K]), bias = ctx.upload(rnd(N, 10), 'f32', [N]);
      const xn = ctx.tensor('f32', [M, K]), y = ctx.tensor('f32', [M, N]);
      const norm = () => rmsNorm(ctx, { x, weight: nw, y: xn, eps: 1e-6 });
      await sweep(`rmsnorm+qkv ${dtype} M=${M} [${N},${K}]`, { read: () => ctx.readF32(y) }, [
        ['rmsnorm + gemm (4x4)', () => [norm(), linear(ctx, { x: xn, w, y, bias, mode: 'gemm' })]],
        ['rmsnorm + rt default', () => [norm(), linear(ctx, { x: xn, w, y, bias, mode: 'gemm_rt' })]],
        ['fused rt default', () => [linear(ctx, { x, w, y, bias, norm: nw, eps: 1e-6, mode: 'gemm_rt' })]],
        ...RT_FORMS.map(([f, t]): [string, () => DispatchRecord[]] => [`fused ${f}`, () => [linear(ctx, { x, w, y, bias, norm: nw, eps: 1e-6, ...linRt(t) })]]),
      ], 2 * M * N * K);
      [w, x, nw, bias, xn, y].forEach((t) => t.buffer.destroy());
    }
  }
}

if (only.includes('dit')) {
  // DiT linears at the CFG batch [2·T, 1024]: [name, N, K, epilogue].
  const B = 2, T = frames, M = B * T, C = 1024, dtypes = dtypesOf('dit', 'f32');
  const dims = createDims(ctx, { T, B, chunk: 0 });
  const mod = ctx.upload(rnd(B * 6 * C, 11), 'f32', [B, 6 * C]);
  const cases: [string, number, number, Partial<DitLinearArgs>][] = [
    ['qkv', 3 * C, C, {}],
    ['attn out + gate', C, C, { gate: { mod, base: 2 * C, stride: 6 * C } }],
    ['ff1 + GELU', 2 * C, C, { act: 'gelu_tanh' }],
    ['ff2 + gate', C, 2 * C, { gate: { mod, base: 5 * C, stride: 6 * C } }],
  ];
  for (const dtype of dtypes) {
    for (const [name, N, K, epi] of cases) {
      const w = weight(dtype, N, K, 12);
      const x = ctx.upload(rnd(M * K, 13), 'f32', [M, K]), bias = ctx.upload(rnd(N, 14), 'f32', [N]);
      const y0 = rnd(M * N, 15);
      const y = ctx.upload(y0, 'f32', [M, N]);
      // The gated forms accumulate into y: every run starts from y0 (the upload is queued before the timed passes).
      const reset = () => ctx.device.queue.writeBuffer(y.buffer, y.offset, y0 as Float32Array<ArrayBuffer>);
      const form = (impl: DitLinearArgs['impl'], tile?: Rt): (() => DispatchRecord[]) => () => {
        reset();
        return atLength([ditLinear(ctx, { dims, x, w, bias, y, ...epi, impl, tile })], T, B);
      };
      await sweep(`DiT ${dtype} [${B},${T}] ${name} [${N},${K}]`, { read: async () => { const r = await ctx.readF32(y); reset(); return r; } }, [
        ['tiled (4x4)', form('tiled')],
        ['rt default', form('gemm_rt')],
        ...RT_FORMS.map(([f, t]): [string, () => DispatchRecord[]] => [f, form('gemm_rt', t)]),
      ], 2 * M * N * K);
      [w, x, bias, y].forEach((t) => t.buffer.destroy());
    }
  }
}
process.exit(0);
