/**
 * What the two flash-attention entries share (shaders/flash_core.wgsl: the DiT's dit_flash.wgsl and the LLM
 * prefill's paged_flash.wgsl): the workgroup-memory size of a tile shape, the default key tile, and the checked
 * define set {DH, KT, RQ, SG}.
 */
import type { GpuContext } from '../src/gpu/context.js';
import type { GpuTensor } from '../src/gpu/tensor.js';
import { AdapterLimitError, ShapeMismatchError } from '../src/gpu/errors.js';

export interface FlashTileOptions {
  /** Keys per tile (8, 16 or 32; default flashKeyTile's 8), for sweeps. */
  keyTile?: number;
  /** Query rows per thread (2 or 4; default 2), for sweeps. */
  rowsPerThread?: 2 | 4;
  /** Row max / sum by subgroup shuffles (default: where subgroups have at least 8 lanes). */
  subgroups?: boolean;
}

/** Workgroup bytes of a flash entry, KT keys per tile, RQ rows per thread (the header of flash_core.wgsl). */
export function flashBytes(dh: number, kt: number, rq: number): number {
  const qp = dh / 4 + 1, bq = 16 * rq;
  return 16 * (bq * qp + kt * qp + (kt * dh) / 4) + 4 * (bq * (kt + 1) + 128 + bq + kt);
}

/**
 * Keys per tile for head dim `dh` under the device's workgroup-memory limit; 0 when the flash form cannot run.
 * 8: on an H200 (bench/sweep-dit-attention.ts, DiT [2,T]×16×64, 2 rows a thread, GPU µs) 8 / 16 / 32-key tiles
 * took 18.3 / 19.0 / 19.5 at T = 100, 69.7 / 88.4 / 87.5 at 300, 208.6 / 246.4 / 253.6 at 600 and 532.6 /
 * 537.9 / 703.4 at 1000. Neither 4 rows a thread (325 µs at 600) nor two 128-thread halves walking alternate
 * tiles in one workgroup (214 µs; tried, not kept) did better, and subgroup reductions did not change the time
 * (208.1 µs without).
 */
export function flashKeyTile(ctx: GpuContext, dh: number, rq = 2): number {
  if (dh % 32 !== 0) return 0;
  return flashBytes(dh, 8, rq) <= ctx.device.limits.maxComputeWorkgroupStorageSize ? 8 : 0;
}

/** The octet shuffles need subgroups of at least 8 lanes. */
export function flashSubgroups(ctx: GpuContext): boolean {
  return ctx.hasSubgroups && ctx.handle.info.subgroupMinSize >= 8;
}

/** The defines of a flash entry for head dim `dh`, checked against the adapter; `what` names the caller in errors. */
export function flashDefines(ctx: GpuContext, dh: number, o: FlashTileOptions, what: string): { DH: number; KT: number; RQ: number; SG: boolean } {
  const RQ = o.rowsPerThread ?? 2;
  const KT = o.keyTile ?? flashKeyTile(ctx, dh, RQ);
  const limit = ctx.device.limits.maxComputeWorkgroupStorageSize;
  if (!KT || ![8, 16, 32].includes(KT) || ![2, 4].includes(RQ) || dh % 32 !== 0 || flashBytes(dh, KT, RQ) > limit) {
    throw new ShapeMismatchError(`${what}: the flash entry needs a head dim that is a multiple of 32 and fits ${limit} bytes of workgroup memory (DH ${dh}, KT ${KT}, RQ ${RQ})`);
  }
  const SG = o.subgroups ?? flashSubgroups(ctx);
  if (SG && !flashSubgroups(ctx)) throw new AdapterLimitError(`subgroups of at least 8 lanes (${what} flash)`, 8, ctx.handle.info.subgroupMinSize);
  return { DH: dh, KT, RQ, SG };
}

/**
 * Flash tiles to tune over: the default (keys a tile `kt`, rows a thread `rq`) first, then every other pair of
 * 8, 16 or 32 keys and 2 or 4 rows (those the device's workgroup memory refuses fail in flashDefines).
 */
export function flashCandidates(kt: number, rq: number): { name: string; choice: Readonly<Record<string, number>> }[] {
  const all = [8, 16, 32].flatMap((KT) => [2, 4].map((RQ) => ({ KT, RQ })));
  const order = [{ KT: kt, RQ: rq }, ...all.filter((c) => c.KT !== kt || c.RQ !== rq)];
  return order.map((c) => ({ name: `flash kt${c.KT} rq${c.RQ}`, choice: c }));
}

/** Key splits the tuner tries (each a candidate of its own). */
const TUNE_SPLITS = [2, 3, 4] as const;

/** Key-split scratch a model keeps for up to `maxSplits` splits, made on first use (only a split form needs it). */
export interface SplitScratch {
  maxSplits: number;
  get(): { part: GpuTensor; ml: GpuTensor };
}

/**
 * A SplitScratch of `rows` × maxSplits × heads × dh partial rows (f32), allocated when first asked for; maxSplits
 * defaults to the most splits the tuner tries.
 */
export function splitScratch(ctx: GpuContext, rows: number, heads: number, dh: number, label: string, maxSplits = Math.max(...TUNE_SPLITS)): SplitScratch {
  let t: { part: GpuTensor; ml: GpuTensor } | undefined;
  return {
    maxSplits,
    get: () => (t ??= { part: ctx.tensor('f32', [rows, maxSplits, heads, dh], `${label}.part`), ml: ctx.tensor('f32', [rows, maxSplits, heads, 2], `${label}.ml`) }),
  };
}

/** The key-split candidates (2–4 splits, up to the scratch's) where `split` is given and the octet reductions run. */
export function splitCandidates(ctx: GpuContext, split: SplitScratch | undefined): { name: string; choice: { impl: 'split'; S: number } }[] {
  if (!split || !flashSubgroups(ctx)) return [];
  return TUNE_SPLITS.filter((S) => S <= split.maxSplits).map((S) => ({ name: `flash split ${S}`, choice: { impl: 'split' as const, S } }));
}

/** Checks a key-split walk's scratch: f32 part with at least rows × S × heads × dh values, ml with rows × S × heads × 2. */
export function expectSplitScratch(what: string, a: { part: GpuTensor; ml: GpuTensor }, rows: number, S: number, heads: number, dh: number): void {
  if (a.part.dtype !== 'f32' || a.part.numel < rows * S * heads * dh) throw new ShapeMismatchError(`${what}: part [${a.part.shape}] ${a.part.dtype} must be f32 with at least [${rows}, ${S}, ${heads}, ${dh}] values`);
  if (a.ml.dtype !== 'f32' || a.ml.numel < rows * S * heads * 2) throw new ShapeMismatchError(`${what}: ml [${a.ml.shape}] ${a.ml.dtype} must be f32 with at least [${rows}, ${S}, ${heads}, 2] values`);
}
