/**
 * `sampleToken` for a GPU LLM that reads back only a few candidates instead of the whole logits row.
 *
 * What ras_sampling needs: the nucleus step needs the top-k probabilities, i.e. the top-k logits (k = top_k, plus
 * one spare when the ignore_eos mask may remove a candidate) and the full-vocabulary log-sum-exp (softmax
 * normaliser). When ignore_eos masks index S, the normaliser must exclude S too (torch renormalises after
 * setting logp[S] = −∞), so the logit at S is also needed. The repetition fallback redraws from the FULL
 * distribution, so only then is the full row fetched, lazily, through `fetchFull`.
 * If the candidates run out before the nucleus walk stops (possible only when fewer than top_k usable
 * candidates were given), the full row is fetched too, so the result is always the same as `sampleToken`.
 */
import type { Sampler } from './sampler.js';
import {
  COSYVOICE3_RAS,
  nucleusKeep,
  randomSampling,
  rasShouldRedraw,
  sampleToken,
  type SampleTokenOptions,
} from './ras.js';
import { SamplingInputError, logSoftmax } from './softmax.js';

export interface TopKCandidates {
  /** Candidate vocabulary ids (any order; re-sorted here by value desc, id asc). */
  ids: ArrayLike<number>;
  /** Raw logits of those ids (same scale as logSumExp). */
  values: ArrayLike<number>;
  /** log Σ exp(logit) over the whole vocabulary. */
  logSumExp: number;
  /** Logit at index speechTokenSize; required when ignoreEos is set. */
  logitAtS?: number;
}

/** Below this much probability outside the masked index, the top-k path defers to the full row. */
const MIN_UNMASKED_MASS = 1e-3;

/** Source of the full logits row, fetched only when the RAS redraw (or a short candidate list) needs it. */
export type FullLogitsFetch = () => Float32Array | Promise<Float32Array>;

export async function sampleTokenTopK(
  cand: TopKCandidates,
  history: ArrayLike<number>,
  opts: SampleTokenOptions,
  sampler: Sampler,
  fetchFull: FullLogitsFetch,
): Promise<number> {
  const ras = opts.ras ?? COSYVOICE3_RAS;
  const S = opts.speechTokenSize;
  if (cand.ids.length !== cand.values.length) {
    throw new SamplingInputError(`top-k candidates: ${cand.ids.length} ids but ${cand.values.length} values`);
  }
  let lse = cand.logSumExp;
  if (opts.ignoreEos) {
    if (cand.logitAtS === undefined) {
      throw new SamplingInputError('top-k candidates: logitAtS is required while ignoreEos masks index S');
    }
    // log(Σ_{i≠S} e^{x_i}) = lse + log1p(−e^{x_S − lse}). When S holds nearly all the mass the subtraction
    // cancels (and the GPU's f32 log-sum-exp error would be amplified), so the exact full-row path is used.
    const pS = Math.exp(cand.logitAtS - lse);
    if (!(1 - pS > MIN_UNMASKED_MASS)) return sampleToken(await fetchFull(), history, opts, sampler);
    lse += Math.log1p(-pS);
  }
  const order: number[] = [];
  for (let i = 0; i < cand.ids.length; i++) if (!(opts.ignoreEos && cand.ids[i] === S)) order.push(i);
  order.sort((a, b) => cand.values[b] - cand.values[a] || cand.ids[a] - cand.ids[b]);
  const ids = order.map((i) => cand.ids[i]);
  const probs = Float32Array.from(order, (i) => Math.exp(cand.values[i] - lse));

  const kept = nucleusKeep(probs, ras);
  if (kept < 0) return sampleToken(await fetchFull(), history, opts, sampler);
  const top = ids[sampler.multinomial(probs.slice(0, kept))];
  if (!rasShouldRedraw(history, top, ras)) return top;

  const full = await fetchFull();
  const logp = logSoftmax(full);
  if (opts.ignoreEos) logp[S] = -Infinity;
  logp[top] = -Infinity;
  return randomSampling(logp, sampler);
}

/** Top-`k` candidates of a full logits row (CPU helper for tests and for a GPU path's fallback). */
export function topKCandidates(logits: Float32Array, k: number, speechTokenSize?: number): TopKCandidates {
  const n = Math.min(k, logits.length);
  const idx: number[] = [];
  for (let i = 0; i < logits.length; i++) {
    if (idx.length === n && !(logits[i] > logits[idx[n - 1]])) continue;
    let pos = idx.length;
    while (pos > 0 && logits[idx[pos - 1]] < logits[i]) pos--;
    idx.splice(pos, 0, i);
    if (idx.length > n) idx.pop();
  }
  let m = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i] > m) m = logits[i];
  let s = 0;
  for (let i = 0; i < logits.length; i++) s += Math.exp(logits[i] - m);
  return {
    ids: Int32Array.from(idx),
    values: Float32Array.from(idx, (i) => logits[i]),
    logSumExp: m + Math.log(s),
    logitAtS: speechTokenSize === undefined ? undefined : logits[speechTokenSize],
  };
}
