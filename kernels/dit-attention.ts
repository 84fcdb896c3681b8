/**
 * DiT attention (shaders/dit_attention.wgsl; the GPU flash form in shaders/dit_flash.wgsl): fused-QKV rows in
 * (rotary already applied by the projection's epilogue), per-head softmax(q·kᵀ/√DH + mask)·v out, with the
 * key-padding / static-chunk mask.
 */
import type { GpuContext } from '../src/gpu/context.js';
import { ceilDiv, packParams } from '../src/gpu/dispatch.js';
import { ShapeMismatchError } from '../src/gpu/errors.js';
import { expectShape, type GpuTensor } from '../src/gpu/tensor.js';
import { rowBucket, tunedChoice, type TuneChoice } from '../src/gpu/tuning.js';
import { expectSplitScratch, flashCandidates, flashDefines, flashKeyTile, splitCandidates, type FlashTileOptions, type SplitScratch } from './flash.js';
import { dyn, sharedUniform, type DynRecord } from './flow-dims.js';

export { flashKeyTile };

/** With `flash`: its tile options (kernels/flash.ts). */
export interface DitAttentionArgs extends FlashTileOptions {
  dims: GPUBuffer;
  /** [Mmax, 3C] = [q | k | v] */
  qkv: GpuTensor;
  /** [Mmax, C] */
  o: GpuTensor;
  /** [Mmax] f32, 1 = valid frame */
  keymask: GpuTensor;
  heads: number;
  /** Entry point; default `rowwise` on CPU adapters, else ditAttentionGpuImpl (`flash`, or `tiled` where it does not fit). */
  impl?: DitAttentionImpl;
}

export type DitAttentionImpl = 'flash' | 'tiled' | 'rowwise';

/** The GPU form: `flash` where it runs (DH a multiple of 32, its tiles fit), else `tiled`. */
export function ditAttentionGpuImpl(ctx: GpuContext, dh: number): DitAttentionImpl {
  return flashKeyTile(ctx, dh) ? 'flash' : 'tiled';
}

/** Keys per shared-memory tile for head dim `dh` within 16 KiB of workgroup memory. */
export function attentionKeyTile(dh: number): number {
  return Math.max(4, Math.min(64, Math.floor(16384 / (8 * dh + 4) / 4) * 4));
}

/** The checks every DiT attention form makes (qkv [Mmax, 3C] with C = heads·DH, DH % 4 == 0; o; keymask). */
function attentionShape(what: string, a: Pick<DitAttentionArgs, 'qkv' | 'o' | 'keymask' | 'heads'>): { Mmax: number; C: number; DH: number } {
  expectShape(`${what} qkv`, a.qkv, [-1, -1], ['f32']);
  const [Mmax, C3] = a.qkv.shape;
  const C = C3 / 3;
  if (!Number.isInteger(C) || C % a.heads !== 0) throw new ShapeMismatchError(`${what}: qkv width ${C3} is not 3·heads·DH (heads ${a.heads})`);
  const DH = C / a.heads;
  if (DH % 4 !== 0) throw new ShapeMismatchError(`${what}: head dim ${DH} must be a multiple of 4`);
  expectShape(`${what} o`, a.o, [Mmax, C], ['f32']);
  expectShape(`${what} keymask`, a.keymask, [Mmax], ['f32']);
  return { Mmax, C, DH };
}

export function ditAttention(ctx: GpuContext, a: DitAttentionArgs, tag = ''): DynRecord {
  const { C, DH } = attentionShape(`ditAttention ${tag}`, a);
  const params = sharedUniform(ctx, packParams([a.heads, C, 0, { f32: 1 / Math.sqrt(DH) }]));
  const impl = a.impl ?? (ctx.isCpuAdapter ? 'rowwise' : ditAttentionGpuImpl(ctx, DH));
  let defines: Record<string, number | boolean>;
  if (impl === 'flash') {
    defines = flashDefines(ctx, DH, a, `ditAttention ${tag}`);
  } else {
    defines = impl === 'rowwise' ? { DH, ROWWISE: true } : { DH, KT: attentionKeyTile(DH), TILED: true };
  }
  const entry = impl === 'tiled' ? 'main' : impl;
  const shader = impl === 'flash' ? 'dit_flash' : 'dit_attention';
  const rec = ctx.record({ shader, entry, defines }, [a.dims, params, a.qkv, a.o, a.keymask], [1, a.heads, 1], tag);
  const rows = impl === 'flash' ? 16 * (defines.RQ as number) : 64;
  const H = a.heads;
  return dyn(rec, (T, B) => [ceilDiv(T, rows), H, B]);
}

export interface DitAttentionSplitArgs extends Omit<DitAttentionArgs, 'impl' | 'subgroups'> {
  /** Key ranges a row block is walked in, by that many workgroups (≥ 2). */
  splits: number;
  /** Partial rows: f32, at least [Mmax, splits, heads, DH] values (unnormalised; a larger scratch is used from its start). */
  part: GpuTensor;
  /** Partial max and sum: f32, at least [Mmax, splits, heads, 2] values. */
  ml: GpuTensor;
}

/**
 * The DiT attention a GPU model runs: `flash` at its default tile (or `tiled` where flash does not fit), unless
 * the context's tuning table chose another flash tile, `tiled`, or the key-split flash with S splits (which needs
 * `split`; subgroups of ≥ 8 lanes). Reports the decision to a collecting tuner.
 */
export function ditAttentionGpu(ctx: GpuContext, a: Omit<DitAttentionArgs, 'impl'>, split: SplitScratch | undefined, tag = ''): DynRecord[] {
  const { Mmax, DH } = attentionShape(`ditAttentionGpu ${tag}`, a);
  if (ditAttentionGpuImpl(ctx, DH) !== 'flash') return [ditAttention(ctx, { ...a, impl: 'tiled' }, tag)];
  const fd = flashDefines(ctx, DH, a, `ditAttention ${tag}`);
  const form = (c: TuneChoice): DynRecord[] =>
    c.impl === 'tiled' ? [ditAttention(ctx, { ...a, impl: 'tiled' }, tag)]
      : c.impl === 'split' ? ditAttentionSplit(ctx, { ...a, ...split!.get(), splits: Number(c.S) }, tag)
        : [ditAttention(ctx, { ...a, impl: 'flash', keyTile: Number(c.KT), rowsPerThread: Number(c.RQ) as 2 | 4 }, tag)];
  const [def, ...tiles] = flashCandidates(fd.KT, fd.RQ);
  const splits = splitCandidates(ctx, split);
  const choice = tunedChoice(ctx, 'dit_attention', [rowBucket(Mmax), a.heads, DH], () => ({
    candidates: [def, { name: 'tiled', choice: { impl: 'tiled' } }, ...splits, ...tiles],
    build: form,
    writes: [a.o],
    out: a.o,
    tag,
  }));
  return form(choice ?? def.choice);
}

/**
 * The flash form with its keys split over `splits` workgroups a row block (shaders/dit_flash.wgsl FL_SPLIT): the
 * partial walks, then `flash_combine` merges them (two records). For GPUs whose SMs hold few flash workgroups,
 * where more independent tile walks hide their latency; needs subgroups of ≥ 8 lanes (the octet reductions).
 */
export function ditAttentionSplit(ctx: GpuContext, a: DitAttentionSplitArgs, tag = ''): DynRecord[] {
  const { Mmax, C, DH } = attentionShape(`ditAttentionSplit ${tag}`, a);
  const H = a.heads, S = a.splits;
  if (!Number.isInteger(S) || S < 2) throw new ShapeMismatchError(`ditAttentionSplit ${tag}: splits must be a whole number ≥ 2, got ${S}`);
  expectSplitScratch(`ditAttentionSplit ${tag}`, a, Mmax, S, H, DH);
  const defines = { ...flashDefines(ctx, DH, { ...a, subgroups: true }, `ditAttentionSplit ${tag}`), FL_SPLIT: true };
  const params = sharedUniform(ctx, packParams([H, C, S, { f32: 1 / Math.sqrt(DH) }]));
  const rows = 16 * defines.RQ;
  const walk = ctx.record({ shader: 'dit_flash', entry: 'flash', defines }, [a.dims, params, a.qkv, null, a.keymask, a.part, a.ml], [1, H, 1], `${tag}.split`);
  const merge = ctx.record({ shader: 'dit_flash', entry: 'flash_combine', defines }, [a.dims, params, null, a.o, null, a.part, a.ml], [1, 1, 1], `${tag}.combine`);
  return [dyn(walk, (T, B) => [ceilDiv(T, rows), H, B * S]), dyn(merge, (T, B) => [ceilDiv(B * T * C, 4 * 64), 1, 1])];
}

export interface DitAttentionGemmArgs extends Omit<DitAttentionArgs, 'impl'> {
  /** Score scratch: at least B·H·Tmax² f32 rounded up to a multiple of 4 (P overwrites S in place). */
  scores: GpuTensor;
  /** Subgroup-shared entries (scores_sg, pv_sg); default: on llvmpipe with subgroups of ≥ 8 lanes. */
  subgroups?: boolean;
  /** With subgroups: queries per subgroup in the scores and P·v passes, 8 (`scores_sg`, `pv_sg`) or 32 (default). */
  rowsPerSubgroup?: 8 | 32;
}

/**
 * The same attention as three register-blocked passes (shaders/dit_attn_gemm.wgsl): scores, softmax, P·v. For CPU
 * adapters, where the fused kernels' per-thread 64-wide rows spill; needs B·H·T² floats of scratch.
 */
export function ditAttentionGemm(ctx: GpuContext, a: DitAttentionGemmArgs, tag = ''): DynRecord[] {
  const { C, DH } = attentionShape(`ditAttentionGemm ${tag}`, a);
  const H = a.heads;
  const params = sharedUniform(ctx, packParams([H, C, 0, { f32: 1 / Math.sqrt(DH) }]));
  const check = (T: number, B: number) => {
    // The softmax pass views the scores as vec4s, so the live B·H·T² must fit in whole vec4s of the binding.
    if (4 * ceilDiv(B * H * T * T, 4) > a.scores.numel) throw new ShapeMismatchError(`ditAttentionGemm ${tag}: scores [${a.scores.shape}] < ${B}·${H}·${T}² rounded up to a multiple of 4`);
  };
  // Subgroup-shared loads on llvmpipe (shaders/dit_attn_gemm.wgsl, SG); pv_sg needs whole subgroups per query
  // block: DH/4 lanes per block, a multiple of 8 that divides 64.
  const sgScores = a.subgroups ?? ctx.hasWideSubgroups;
  const sgPv = sgScores && [32, 64, 128, 256].includes(DH);
  if (sgScores) ctx.requireWideSubgroups('ditAttentionGemm subgroups');
  // 32 queries a subgroup: a quarter of the loads per FMA of the 8-query entries.
  const rows = sgScores ? (a.rowsPerSubgroup ?? 32) : 8;
  const sg32 = rows === 32 ? '32' : '';
  const s = ctx.record({ shader: 'dit_attn_gemm', entry: sgScores ? `scores_sg${sg32}` : 'scores', defines: { DH, SCORES: true, SG: sgScores } },
    [a.dims, params, a.qkv, a.keymask, a.scores], [1, 1, 1], `${tag}.scores`);
  const m = ctx.record({ shader: 'dit_attn_gemm', entry: 'softmax', defines: { DH, SOFTMAX: true } },
    [a.dims, params, null, null, a.scores], [1, 1, 1], `${tag}.softmax`);
  const v = ctx.record({ shader: 'dit_attn_gemm', entry: sgPv ? `pv_sg${sg32}` : 'pv', defines: { DH, PV: true, SG: sgPv } },
    [a.dims, params, a.qkv, null, a.scores, a.o], [1, 1, 1], `${tag}.pv`);
  const pvBlocks = 256 / DH; // query blocks of `rows` per pv_sg workgroup
  return [
    // x: keys (all of dims.T), y: queries (rows dims.lead on).
    dyn(s, (T, B, keys = T) => (check(keys, B), [ceilDiv(keys, 256), ceilDiv(T, rows), B * H])),
    dyn(m, (T, B) => [ceilDiv(B * H * T, 64), 1, 1]),
    dyn(v, (T, B) => (sgPv ? [ceilDiv(T, rows * pvBlocks), B * H, 1] : [ceilDiv((DH / 4) * ceilDiv(T, 8), 64), B * H, 1])),
  ];
}
