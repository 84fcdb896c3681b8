/** GPU top-k + log-sum-exp of a logits row for CPU ras_sampling (shaders/sample.wgsl). */
import { GpuContext } from '../src/gpu/context.js';
import { packParams, type DispatchRecord } from '../src/gpu/dispatch.js';
import { ShapeMismatchError } from '../src/gpu/errors.js';
import { expectShape, type GpuTensor } from '../src/gpu/tensor.js';

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
}

/** Words of the `topk` output for k candidates. */
export const topKWords = (k: number): number => 2 * k + 2;

export function topK(ctx: GpuContext, a: TopKArgs, tag = ''): DispatchRecord {
  expectShape('topK logits', a.logits, [-1, -1], ['f32']);
  const [R, V] = a.logits.shape;
  const row = a.row ?? 0;
  if (row >= R) throw new ShapeMismatchError(`topK: row ${row} outside logits [${a.logits.shape}]`);
  if (a.k < 1 || a.k > V) throw new ShapeMismatchError(`topK: k=${a.k} must be in [1, ${V}]`);
  if (a.s < 0 || a.s >= V) throw new ShapeMismatchError(`topK: index ${a.s} outside the ${V} logits`);
  expectShape('topK out', a.out, [topKWords(a.k)], ['u32']);
  const params = ctx.uniform(packParams([V, a.k, a.s, row]));
  return ctx.record({ shader: 'sample', entry: 'topk' }, [params, a.logits, a.out], [1, 1, 1], tag);
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
