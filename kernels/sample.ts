/** GPU top-k + log-sum-exp of a logits row for CPU ras_sampling (shaders/sample.wgsl). */
import { GpuContext } from '../src/gpu/context.js';
import { packParams, type DispatchRecord } from '../src/gpu/dispatch.js';
import { ShapeMismatchError } from '../src/gpu/errors.js';
import { expectShape, type GpuTensor } from '../src/gpu/tensor.js';
import { radixPerThread, radixWorkgroup, TOPK_MAX } from './topk.js';

/**
 * `radix`: one radix select + rank (entry `topk`, k ≤ 64). `rounds`: k argmax rounds over the row (entry
 * `topk_rounds`, any k). Both write identical words.
 */
export type SampleTopKImpl = 'radix' | 'rounds';

export interface TopKArgs {
  /** [R, V] f32 */
  logits: GpuTensor;
  /** Which row of logits. */
  row?: number;
  /** Candidates to return. */
  k: number;
  /** Index whose raw logit is also returned (speech_token_size, the ignore_eos mask target). */
  s: number;
  /** [2k + 2] u32 */
  out: GpuTensor;
  /**
   * Default: `radix` for k ≤ 64 (TOPK_MAX), else `rounds`, on every adapter. lavapipe (GPU timestamps, median
   * of 5–9 over 4 runs, V=6761, 2 cores shared with other jobs so ±30 %; no-op dispatch ≈ 115 µs): k=26 rounds
   * 1100 / radix 160–230 µs, k=64 2400–2500 / 160–280 µs. GPU: the k rounds are k dependent, latency-bound row
   * scans (H200, k=26: ~120 µs, 4 % of a decode step); bench/sweep-topk.ts times both forms there.
   */
  impl?: SampleTopKImpl;
}

/** Words of the `topk` output for k candidates. */
export const topKWords = (k: number): number => 2 * k + 2;

export function topK(ctx: GpuContext, a: TopKArgs, tag = ''): DispatchRecord {
  expectShape('topK logits', a.logits, [-1, -1], ['f32']);
  const [R, V] = a.logits.shape;
  const row = a.row ?? 0;
  if (row >= R) throw new ShapeMismatchError(`topK: row ${row} outside logits [${a.logits.shape}]`);
  if (!Number.isInteger(a.k) || a.k < 1 || a.k > V) throw new ShapeMismatchError(`topK: k=${a.k} must be an integer in [1, ${V}]`);
  if (a.s < 0 || a.s >= V) throw new ShapeMismatchError(`topK: index ${a.s} outside the ${V} logits`);
  expectShape('topK out', a.out, [topKWords(a.k)], ['u32']);
  const impl = a.impl ?? (a.k <= TOPK_MAX ? 'radix' : 'rounds');
  const params = ctx.uniform(packParams([V, a.k, a.s, row]));
  const res = [params, a.logits, a.out];
  // Both forms at the same width, so that their log-sum-exp trees add in the same order (the same word).
  const wg = radixWorkgroup(ctx);
  if (impl === 'rounds') return ctx.record({ shader: 'sample', entry: 'topk_rounds', defines: { WG: wg } }, res, [1, 1, 1], tag);
  // The radix select gathers at most TOPK_MAX picks and ranks one per thread.
  if (a.k > TOPK_MAX) throw new ShapeMismatchError(`topK: radix needs k ≤ ${TOPK_MAX}, got k=${a.k} (impl 'rounds' takes any k)`);
  return ctx.record({ shader: 'sample', entry: 'topk', defines: { WG: wg, PT: radixPerThread(V, wg) } }, res, [1, 1, 1], tag);
}

/** Decodes the `topk` output words. */
export function decodeTopK(words: ArrayBuffer, k: number): { ids: Int32Array; values: Float32Array; logSumExp: number; logitAtS: number } {
  const f = new Float32Array(words, 0, 2 * k + 2);
  const u = new Uint32Array(words, 0, 2 * k + 2);
  return {
    values: f.slice(0, k),
    ids: Int32Array.from(u.subarray(k, 2 * k)),
    logSumExp: f[2 * k],
    logitAtS: f[2 * k + 1],
  };
}
