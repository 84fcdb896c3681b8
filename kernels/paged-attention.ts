/** Causal GQA attention over the paged KV cache (shaders/paged_attention.wgsl). */
import { GpuContext } from '../src/gpu/context.js';
import { ceilDiv, grid1d, packParams, type DispatchRecord } from '../src/gpu/dispatch.js';
import { AdapterLimitError, ShapeMismatchError } from '../src/gpu/errors.js';
import { expectShape, type GpuTensor } from '../src/gpu/tensor.js';
import { rowBucket, tunedChoice, type TuneChoice } from '../src/gpu/tuning.js';
import { expectSplitScratch, flashBytes, flashCandidates, flashDefines, flashKeyTile, splitCandidates, type FlashTileOptions, type SplitScratch } from './flash.js';

/** With mode `flash`: its tile options (kernels/flash.ts; keys per tile default: prefillKeyTile). */
export interface PagedAttentionArgs extends FlashTileOptions {
  /** [M, Hq, D] f32, rotated */
  q: GpuTensor;
  /** [numPages, 2, pageSize, Hkv, D] f32 or f16 (packed halves) */
  pool: GpuTensor;
  /** [maxSeqs, maxPages] u32 */
  blockTable: GpuTensor;
  /** [M, Hq·D] f32 */
  out: GpuTensor;
  /** 16-byte uniform {start, slot} rewritten every step. */
  step: GPUBuffer;
  /** Default 1/sqrt(D). */
  scale?: number;
  /**
   * 'chunked' (workgroup per row and head; decode), 'rows' (thread per row and head; prefill), or the llvmpipe
   * entries (subgroups of exactly 8, sharing each K/V load across the lanes): 'rows_sg' (8 rows of a head) and
   * 'heads_sg' (the ≤ 8 q heads of a kv head, one row; decode), or 'flash' (GPUs: a workgroup per 16·RQ rows of
   * a head sharing each staged K/V tile; shaders/paged_flash.wgsl). Default by M and adapter.
   */
  mode?: 'chunked' | 'rows' | 'rows_sg' | 'heads_sg' | 'flash';
}

/**
 * Fewest rows for the GPU default `flash` (a workgroup covers 32 rows; below 16 most of it idles and the
 * workgroup-per-row `attend` has more workgroups). Not swept: the H200 row of bench model-kernels is 512 rows.
 */
const FLASH_MIN_ROWS = 16;

/**
 * Keys per tile of the causal prefill's flash walk: 16 where its tiles fit the workgroup memory (20 KiB at head dim
 * 64), else flashKeyTile's 8. The last row block of a causal prefill walks every key, so half as many tiles
 * shortens the longest workgroup (the DiT, whose blocks all walk every key, keeps 8). H200, 14 heads × 64, GPU µs
 * of 8 → 16 keys (bench/sweep-prefill-flash.ts, one run): 512 rows 83.6 → 75.0 (f32 pool), 93.3 → 82.8 (f16);
 * 128 rows 24.4 → 22.2, 25.6 → 24.5. 32 keys: 83.2 / 98.4 at 512 rows.
 */
function prefillKeyTile(ctx: GpuContext, D: number, rq: number): number {
  return flashBytes(D, 16, rq) <= ctx.device.limits.maxComputeWorkgroupStorageSize ? 16 : flashKeyTile(ctx, D, rq);
}

/** The prefill flash entries' defines (kernels/flash.ts flashDefines, keys per tile defaulting to prefillKeyTile). */
function prefillFlashDefines(ctx: GpuContext, D: number, o: FlashTileOptions, what: string) {
  return flashDefines(ctx, D, { ...o, keyTile: o.keyTile ?? prefillKeyTile(ctx, D, o.rowsPerThread ?? 2) }, what);
}

/** The llvmpipe subgroup entries run here: subgroups of exactly 8 lanes and a head dim of whole vec4s. */
function sgEntriesFit(ctx: GpuContext, D: number): boolean {
  return ctx.hasWideSubgroupsOf8 && D % 4 === 0;
}

/** The checks and dimensions both entry points share (q, pool f32 or f16, out, block table). */
function attentionDims(what: string, a: Omit<PagedAttentionArgs, 'mode'>) {
  expectShape(`${what} q`, a.q, [-1, -1, -1], ['f32']);
  const [M, Hq, D] = a.q.shape;
  expectShape(`${what} pool`, a.pool, [-1, 2, -1, -1, D], ['f32', 'f16']);
  if (D % 2) throw new ShapeMismatchError(`${what}: head_dim ${D} must be even`);
  const [, , pageSize, Hkv] = a.pool.shape;
  if (Hq % Hkv) throw new ShapeMismatchError(`${what}: ${Hq} q heads are not a multiple of ${Hkv} kv heads`);
  expectShape(`${what} out`, a.out, [M, Hq * D], ['f32']);
  expectShape(`${what} blockTable`, a.blockTable, [-1, -1], ['u32', 'i32']);
  const scale = a.scale ?? 1 / Math.sqrt(D);
  const defines = { D, DPT: ceilDiv(D, 64), F16KV: a.pool.dtype === 'f16' };
  return { M, Hq, D, pageSize, Hkv, scale, defines };
}

/** pagedAttention's entry for M rows when the caller names none (see the comment in pagedAttention). */
function defaultPagedMode(ctx: GpuContext, M: number, Hq: number, Hkv: number, D: number): NonNullable<PagedAttentionArgs['mode']> {
  if (M < 8 && decodeRunsHeadsSg(ctx, Hq, Hkv, D)) return 'heads_sg';
  if (sgEntriesFit(ctx, D)) return 'rows_sg';
  if (M >= 8 && ctx.isCpuAdapter) return 'rows';
  return !ctx.isCpuAdapter && M >= FLASH_MIN_ROWS && flashKeyTile(ctx, D) > 0 ? 'flash' : 'chunked';
}

/**
 * Causal prefill attention as a model runs it: pagedAttention's entry (the caller's `mode`, else the default), and
 * where that is the flash walk with no tile named, the context's tuning table may choose another flash tile or
 * the key-split walk with S splits (pagedFlashSplit, which needs `split`; subgroups of ≥ 8 lanes). Reports the
 * decision to a collecting tuner.
 */
export function prefillAttention(ctx: GpuContext, a: PagedAttentionArgs, split: SplitScratch | undefined, tag = ''): DispatchRecord[] {
  const { M, Hq, Hkv, D } = attentionDims('prefillAttention', a);
  const flash = (a.mode ?? defaultPagedMode(ctx, M, Hq, Hkv, D)) === 'flash';
  if (!flash || a.keyTile !== undefined || a.rowsPerThread !== undefined) return [pagedAttention(ctx, a, tag)];
  const fd = prefillFlashDefines(ctx, D, a, `prefillAttention ${tag}`);
  const form = (c: TuneChoice): DispatchRecord[] =>
    c.impl === 'split'
      ? pagedFlashSplit(ctx, { ...a, ...split!.get(), splits: Number(c.S) }, tag)
      : [pagedAttention(ctx, { ...a, mode: 'flash', keyTile: Number(c.KT), rowsPerThread: Number(c.RQ) as 2 | 4 }, tag)];
  const [def, ...tiles] = flashCandidates(fd.KT, fd.RQ);
  const splits = splitCandidates(ctx, split);
  const choice = tunedChoice(ctx, 'prefill_attention', [rowBucket(M), Hq, Hkv, D, a.pool.dtype], () => ({ candidates: [def, ...splits, ...tiles], build: form, writes: [a.out], out: a.out, tag }));
  return form(choice ?? def.choice);
}

export function pagedAttention(ctx: GpuContext, a: PagedAttentionArgs, tag = ''): DispatchRecord {
  const { M, Hq, D, pageSize, Hkv, scale, defines } = attentionDims('pagedAttention', a);
  // GPUs: `flash` from FLASH_MIN_ROWS rows, whose workgroups stage each K/V tile once for 32 query rows (H200, 512
  // rows × 14 heads: 660 → 85 µs against the workgroup-per-(head, row) `chunked`, which keeps fewer rows). `rows`
  // gives each thread a serial walk over all its keys, which a GPU cannot hide (CPU adapters run it best: no
  // barriers). On llvmpipe `rows_sg` shares each K/V load across 8 rows: lavapipe, 512 rows × 14 heads 313 → 49 ms
  // (bench model-kernels "prefill attention"); full-size f16 LLM prefill of 512 tokens 26.1 → 19.0 s.
  // A few rows (decode) on llvmpipe: `heads_sg`, whose lanes are the q heads sharing a kv head.
  const gq = Hq / Hkv;
  const mode = a.mode ?? defaultPagedMode(ctx, M, Hq, Hkv, D);
  if (mode === 'flash') {
    const fd = prefillFlashDefines(ctx, D, a, `pagedAttention ${tag}`);
    const rows = 16 * fd.RQ;
    const params = ctx.uniform(packParams([M, Hq, Hkv, pageSize, a.blockTable.shape[1], { f32: scale }, 0]));
    return ctx.record({ shader: 'paged_flash', entry: 'attend_flash', defines: { ...fd, F16KV: defines.F16KV } }, [params, a.step, a.q, a.pool, a.blockTable, a.out], [ceilDiv(M, rows), Hq, 1], tag);
  }
  const sg = mode === 'rows_sg' || mode === 'heads_sg';
  if (sg) {
    ctx.requireWideSubgroupsOf8(`pagedAttention ${mode}`);
    if (D % 4) throw new ShapeMismatchError(`pagedAttention ${mode}: head_dim ${D} must be a multiple of 4`);
    if (mode === 'heads_sg' && gq > 8) throw new ShapeMismatchError(`pagedAttention heads_sg: ${gq} q heads per kv head do not fit 8 lanes`);
  }
  const grid: [number, number, number] =
    mode === 'rows' ? grid1d(ceilDiv(M * Hq, 64)) : mode === 'rows_sg' ? [ceilDiv(M, 8), Hq, 1] : mode === 'heads_sg' ? [M, Hkv, 1] : [Hq, M, 1];
  const params = ctx.uniform(packParams([M, Hq, Hkv, pageSize, a.blockTable.shape[1], { f32: scale }, grid[0] * 64]));
  return ctx.record(
    sg
      ? { shader: 'paged_attention_sg', entry: `attend_${mode}`, defines: { D, F16KV: defines.F16KV } }
      : { shader: 'paged_attention', entry: mode === 'rows' ? 'attend_rows' : 'attend', defines },
    [params, a.step, a.q, a.pool, a.blockTable, a.out],
    grid,
    tag,
  );
}

export interface PagedFlashSplitArgs extends Omit<PagedAttentionArgs, 'mode' | 'subgroups'> {
  /** Key ranges the flash walk is split in (≥ 2), a workgroup each per row block and head. */
  splits: number;
  /** Partial rows: f32, at least [M, splits, Hq, D] values (unnormalised; a larger scratch is used from its start). */
  part: GpuTensor;
  /** Partial max and sum: f32, at least [M, splits, Hq, 2] values. */
  ml: GpuTensor;
}

/**
 * Causal prefill attention as the flash walk with its keys split in `splits` ranges (shaders/paged_flash.wgsl
 * FL_SPLIT), then `attend_flash_combine` (two records): a causal prefill's last row blocks walk every key, so
 * ranges give them parallel shorter walks. GPUs with subgroups of ≥ 8 lanes; for sweeps until timed on one.
 */
export function pagedFlashSplit(ctx: GpuContext, a: PagedFlashSplitArgs, tag = ''): DispatchRecord[] {
  const { M, Hq, D, pageSize, scale, defines } = attentionDims('pagedFlashSplit', a);
  const S = a.splits;
  if (!Number.isInteger(S) || S < 2) throw new ShapeMismatchError(`pagedFlashSplit ${tag}: splits must be a whole number ≥ 2, got ${S}`);
  expectSplitScratch(`pagedFlashSplit ${tag}`, a, M, S, Hq, D);
  const fd = prefillFlashDefines(ctx, D, { ...a, subgroups: true }, `pagedFlashSplit ${tag}`);
  const d = { ...fd, F16KV: defines.F16KV, FL_SPLIT: true };
  const params = ctx.uniform(packParams([M, Hq, a.pool.shape[3], pageSize, a.blockTable.shape[1], { f32: scale }, 0, S]));
  return [
    ctx.record({ shader: 'paged_flash', entry: 'attend_flash', defines: d }, [params, a.step, a.q, a.pool, a.blockTable, null, a.part, a.ml], [ceilDiv(M, 16 * fd.RQ), Hq, S], `${tag}.split`),
    ctx.record({ shader: 'paged_flash', entry: 'attend_flash_combine', defines: d }, [params, null, null, null, null, a.out, a.part, a.ml], [ceilDiv(M * Hq * D, 4 * 64), 1, 1], `${tag}.combine`),
  ];
}

export interface PagedAttentionSplitArgs extends Omit<PagedAttentionArgs, 'mode'> {
  /** [M, Hq, maxSplits, D + 2] f32 partials */
  partials: GpuTensor;
  /** Keys per split (default 32): 'wg' takes 16, 32 or 64, 'wide' 32, 64 or 128, 'thread' any. */
  chunk?: number;
  /**
   * The partial pass: 'thread' (`attend_split`, a thread per (row, q head, split) walking its keys), 'wg'
   * (`attend_split_wg`, a 64-thread workgroup per (row, kv head, split), a thread per key) or 'wide'
   * (`attend_split_wide`, 128 threads per (row, kv head, split), several per key, every load issued up front).
   * Default: 'wg' on GPUs (timed on an H200: bench/sweep-attention.ts), 'thread' on CPU adapters (whose 8-lane
   * workgroups run the one-thread walk best). 'wide' (with combine 'wg') has fewer dependent memory round trips
   * and barriers by count but has not been timed on a GPU yet: it becomes the default only once
   * bench/sweep-decode-attention.ts shows it faster there.
   */
  splitForm?: SplitForm;
  /**
   * The merge: 'thread' (`attend_combine`, a thread per output walking the splits) or 'wg' (`attend_combine_wg`,
   * a workgroup per (row, q head) loading all splits at once). Default: 'thread' (see splitForm: 'wg' is untimed
   * on GPUs).
   */
  combineForm?: CombineForm;
  /** 'wide' and combine 'wg': reduce through subgroup operations (default where the adapter has subgroups). */
  subgroups?: boolean;
}

export type SplitForm = 'thread' | 'wg' | 'wide';
export type CombineForm = 'thread' | 'wg';

const SPLIT_CHUNKS: Record<SplitForm, readonly number[] | null> = { thread: null, wg: [16, 32, 64], wide: [32, 64, 128] };

/** Workgroup bytes of `attend_split_wide` (its header): GQ q heads per kv head, head dim D, CH keys a split. */
export function wideSplitBytes(D: number, GQ: number, CH: number, sg: boolean): number {
  const NP = D / 2, KS = Math.floor(128 / NP), TPK = 128 / CH;
  return 8 * Math.max(GQ * NP, (KS - 1) * GQ * NP) + 4 * (GQ * CH * (sg ? 1 : TPK) + GQ * (sg ? 32 : CH) + CH + Math.max(KS - 1, 1) * GQ);
}

/** Workgroup bytes of `attend_combine_wg` (its header) for head dim D and maxSplits splits. */
export function combineWgBytes(D: number, maxSplits: number, sg: boolean): number {
  return 4 * (maxSplits + 2 * (sg ? 64 : 256) + Math.max(Math.floor(256 / D) - 1, 1) * D);
}

/** Split-K decode attention: a partial pass and a combine pass (two records, no barriers between them). */
export function pagedAttentionSplit(ctx: GpuContext, a: PagedAttentionSplitArgs, tag = ''): DispatchRecord[] {
  const what = 'pagedAttentionSplit';
  const { M, Hq, D, pageSize, Hkv, scale, defines: base } = attentionDims(what, a);
  expectShape(`${what} partials`, a.partials, [M, Hq, -1, D + 2], ['f32']);
  const maxSplits = a.partials.shape[2];
  const splitForm = a.splitForm ?? (ctx.isCpuAdapter ? 'thread' : 'wg');
  const combineForm = a.combineForm ?? 'thread';
  const chunk = a.chunk ?? 32;
  // Tunable where the caller names neither form: every form pair at every chunk the partials cover (the ones a
  // form refuses fail fast in the tuner, before any pipeline is made), and the one-pass `chunked` entry (a
  // workgroup per (row, q head) over every key: one dispatch instead of two).
  if (a.splitForm === undefined && a.combineForm === undefined) {
    const shape = [M, Hq, Hkv, D, a.pool.dtype, a.blockTable.shape[1] * pageSize];
    const form = (c: TuneChoice): DispatchRecord[] =>
      c.split === 'none'
        ? [pagedAttention(ctx, { q: a.q, pool: a.pool, blockTable: a.blockTable, out: a.out, step: a.step, scale: a.scale, mode: 'chunked' }, tag)]
        : pagedAttentionSplit(ctx, { ...a, splitForm: c.split as SplitForm, combineForm: c.combine as CombineForm, chunk: Number(c.chunk) }, tag);
    const choice = tunedChoice(ctx, 'decode_attention', shape, () => {
      const pairs = (['wg', 'wide', 'thread'] as const).flatMap((sp) => (['thread', 'wg'] as const).flatMap((co) => [32, 64, 128].map((ch) => ({ name: `${sp}+${co} ${ch}`, choice: { split: sp, combine: co, chunk: ch } }))));
      const def = { name: `${splitForm}+${combineForm} ${chunk}`, choice: { split: splitForm, combine: combineForm, chunk } };
      const onePass = { name: 'chunked (one pass)', choice: { split: 'none' } };
      return { candidates: [def, onePass, ...pairs.filter((p) => p.name !== def.name)], build: form, writes: [a.out, a.partials], out: a.out, tag };
    });
    if (choice) return form(choice);
  }
  if (!(splitForm in SPLIT_CHUNKS)) throw new ShapeMismatchError(`${what}: unknown splitForm '${splitForm}' (thread, wg or wide)`);
  if (combineForm !== 'thread' && combineForm !== 'wg') throw new ShapeMismatchError(`${what}: unknown combineForm '${combineForm}' (thread or wg)`);
  const chunks = SPLIT_CHUNKS[splitForm];
  if (!Number.isInteger(chunk) || chunk < 1 || (chunks && !chunks.includes(chunk))) {
    throw new ShapeMismatchError(`${what}: splitForm '${splitForm}' takes splits of ${chunks?.join(', ') ?? 'a positive whole number of'} keys, got ${chunk}`);
  }
  const maxContext = a.blockTable.shape[1] * pageSize;
  if (maxSplits * chunk < maxContext) {
    throw new ShapeMismatchError(`${what}: ${maxSplits} splits of ${chunk} keys cannot cover ${maxContext} positions`);
  }
  // Only the new entries reduce through subgroups (any size: they shuffle across at most 4 lanes).
  const sg = (splitForm === 'wide' || combineForm === 'wg') && (a.subgroups ?? ctx.hasSubgroups);
  if (sg && !ctx.hasSubgroups) throw new AdapterLimitError(`subgroups (${what} ${splitForm}/${combineForm})`, 4, 0);
  const limit = ctx.device.limits.maxComputeWorkgroupStorageSize;
  const GQ = Hq / Hkv;
  if (splitForm === 'wide') {
    if (D > 256) throw new ShapeMismatchError(`${what}: splitForm 'wide' takes a head dim of at most 256 (2 dims a thread over 128 threads), got ${D}`);
    const bytes = wideSplitBytes(D, GQ, chunk, sg);
    if (bytes > limit) throw new ShapeMismatchError(`${what}: splitForm 'wide' needs ${bytes} bytes of workgroup memory for ${GQ} q heads per kv head × ${D} dims × ${chunk} keys; the device allows ${limit}`);
  }
  if (combineForm === 'wg') {
    if (D > 256) throw new ShapeMismatchError(`${what}: combineForm 'wg' takes a head dim of at most 256 (its workgroup), got ${D}`);
    const bytes = combineWgBytes(D, maxSplits, sg);
    if (bytes > limit) throw new ShapeMismatchError(`${what}: combineForm 'wg' needs ${bytes} bytes of workgroup memory for ${maxSplits} splits; the device allows ${limit}`);
  }
  const perKv = splitForm !== 'thread';
  if (perKv && (M > 65535 || maxSplits > 65535)) throw new ShapeMismatchError(`${what}: grid ${maxSplits}×${Hkv}×${M} too large`);
  if (combineForm === 'wg' && M > 65535) throw new ShapeMismatchError(`${what}: combine grid ${Hq}×${M} too large`);
  const defines = { ...base, SPLIT: true, CH: chunk, MAXS: maxSplits };
  const split = {
    thread: { entry: 'attend_split', defines },
    wg: { entry: 'attend_split_wg', defines: { ...defines, SPLIT_WG: true, GQ } },
    wide: { entry: 'attend_split_wide', defines: { ...defines, SPLIT_WIDE: true, GQ, SG: sg } },
  }[splitForm];
  const combine =
    combineForm === 'wg'
      ? { entry: 'attend_combine_wg', defines: { ...defines, COMBINE_WG: true, SG: sg }, grid: [Hq, M, 1] as [number, number, number] }
      : { entry: 'attend_combine', defines, grid: grid1d(ceilDiv(M * Hq * D, 64)) };
  const g1: [number, number, number] = perKv ? [maxSplits, Hkv, M] : grid1d(ceilDiv(M * Hq * maxSplits, 64));
  const params = (rowThreads: number) => ctx.uniform(packParams([M, Hq, Hkv, pageSize, a.blockTable.shape[1], { f32: scale }, rowThreads]));
  return [
    ctx.record({ shader: 'paged_attention', ...split }, [params(g1[0] * 64), a.step, a.q, a.pool, a.blockTable, null, a.partials], g1, `${tag}.split`),
    ctx.record({ shader: 'paged_attention', entry: combine.entry, defines: combine.defines }, [params(combine.grid[0] * 64), a.step, null, null, null, a.out, a.partials], combine.grid, `${tag}.combine`),
  ];
}

/** Splits needed to cover `maxContext` positions with `chunk` keys each. */
export const splitsFor = (maxContext: number, chunk = 32): number => ceilDiv(maxContext, chunk);

/** Whether decodeAttention takes the one-dispatch `heads_sg` form for Hq q heads over Hkv kv heads of dim D. */
export function decodeRunsHeadsSg(ctx: GpuContext, Hq: number, Hkv: number, D: number): boolean {
  return sgEntriesFit(ctx, D) && Hq % Hkv === 0 && Hq / Hkv <= 8;
}

/**
 * Decode attention as the LLM runs it: on llvmpipe (subgroups of exactly 8, ≤ 8 q heads per kv head) the one
 * `heads_sg` dispatch; elsewhere split-K partials + combine (pagedAttentionSplit).
 */
export function decodeAttention(ctx: GpuContext, a: PagedAttentionSplitArgs, tag = ''): DispatchRecord[] {
  if (decodeRunsHeadsSg(ctx, a.q.shape[1], a.pool.shape[3], a.q.shape[2])) {
    return [pagedAttention(ctx, { q: a.q, pool: a.pool, blockTable: a.blockTable, out: a.out, step: a.step, scale: a.scale, mode: 'heads_sg' }, tag)];
  }
  return pagedAttentionSplit(ctx, a, tag);
}
