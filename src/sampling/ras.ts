/**
 * Upstream-exact speech-token sampling (cosyvoice/utils/common.py `ras_sampling`, `nucleus_sampling`,
 * `random_sampling`; llm/llm.py `sampling_ids`), on a CPU vector of log-probs or logits.
 *
 * nucleus: p = softmax(scores); walk p sorted descending (stable: ties keep the lower id first) and keep
 * element i while `cum < top_p and kept < top_k`, adding p_i to cum after keeping it — so the element that
 * crosses top_p is kept. cum is a float32 tensor upstream (Python 0.0 + f32 tensor), and the comparison with
 * the Python scalar top_p happens in f32. One draw from the kept probabilities (not renormalised: multinomial
 * does that itself).
 * ras: count the nucleus pick among the last `win_size` generated tokens; if count ≥ win_size·tau_r, set its
 * score to −∞ and redraw from softmax over the whole vocabulary (no top-p/top-k; stop ids included).
 * sampling_ids(ignore_eos): sets scores[speech_token_size] = −∞ first. For CosyVoice3 that index is `sos`,
 * not `eos` (an upstream quirk that must be kept for parity).
 */
import type { Sampler } from './sampler.js';
import { SamplingInputError, logSoftmax, softmax } from './softmax.js';

export interface RasOptions {
  topP: number;
  topK: number;
  winSize: number;
  tauR: number;
}

/** cosyvoice3.yaml `sampling: ras_sampling` partial. */
export const COSYVOICE3_RAS: Readonly<RasOptions> = Object.freeze({ topP: 0.8, topK: 25, winSize: 10, tauR: 0.1 });

/** Top-`k` (probability, id) pairs, descending, ties by ascending id — the head of a stable descending sort. */
export function topKStable(probs: ArrayLike<number>, k: number): { ids: number[]; probs: number[] } {
  const ids: number[] = [];
  const ps: number[] = [];
  for (let i = 0; i < probs.length; i++) {
    const p = probs[i];
    if (ids.length === k && !(p > ps[k - 1])) continue;
    // Insert after every element ≥ p, so equal probabilities keep increasing-id order.
    let pos = ids.length;
    while (pos > 0 && ps[pos - 1] < p) pos--;
    ids.splice(pos, 0, i);
    ps.splice(pos, 0, p);
    if (ids.length > k) {
      ids.pop();
      ps.pop();
    }
  }
  return { ids, probs: ps };
}

/**
 * The nucleus walk over probabilities already sorted descending. Returns the kept count, or −1 when the list
 * ran out while the walk still wanted more (the caller gave too few candidates).
 */
export function nucleusKeep(sortedProbs: ArrayLike<number>, opts: RasOptions): number {
  const topP = Math.fround(opts.topP);
  let cum = 0;
  let kept = 0;
  while (cum < topP && kept < opts.topK) {
    if (kept >= sortedProbs.length) return -1;
    cum = Math.fround(cum + Math.fround(sortedProbs[kept]));
    kept++;
  }
  return kept;
}

/** `nucleus_sampling(weighted_scores, top_p, top_k)`: returns a vocabulary id. */
export function nucleusSampling(scores: ArrayLike<number>, opts: RasOptions, sampler: Sampler): number {
  const probs = softmax(scores);
  const top = topKStable(probs, opts.topK);
  const kept = nucleusKeep(top.probs, opts);
  if (kept <= 0) throw new SamplingInputError(`nucleus sampling kept no candidate (vocabulary ${scores.length})`);
  return top.ids[sampler.multinomial(Float32Array.from(top.probs.slice(0, kept)))];
}

/** `random_sampling`: one draw from softmax over the whole vector. */
export function randomSampling(scores: ArrayLike<number>, sampler: Sampler): number {
  return sampler.multinomial(softmax(scores));
}

/** Occurrences of `id` in the last `winSize` entries of `decoded`. */
export function repetitionCount(decoded: ArrayLike<number>, id: number, winSize: number): number {
  let n = 0;
  for (let i = Math.max(0, decoded.length - winSize); i < decoded.length; i++) if (decoded[i] === id) n++;
  return n;
}

/** Whether the RAS fallback fires for this nucleus pick. */
export function rasShouldRedraw(decoded: ArrayLike<number>, id: number, opts: RasOptions): boolean {
  return repetitionCount(decoded, id, opts.winSize) >= opts.winSize * opts.tauR;
}

/** `ras_sampling(weighted_scores, decoded_tokens, ...)`. `scores` is not modified. */
export function rasSampling(
  scores: Float32Array,
  decoded: ArrayLike<number>,
  opts: RasOptions,
  sampler: Sampler,
): number {
  const top = nucleusSampling(scores, opts, sampler);
  if (!rasShouldRedraw(decoded, top, opts)) return top;
  const masked = scores.slice();
  masked[top] = -Infinity;
  return randomSampling(masked, sampler);
}

export interface SampleTokenOptions {
  /** S = speech_token_size; ids ≥ S stop decoding. */
  speechTokenSize: number;
  /** `ignore_eos` (true while step < min_len): masks index S (sos in CosyVoice3). */
  ignoreEos: boolean;
  ras?: RasOptions;
}

/**
 * One decode step from the raw `llm_decoder` logits: log_softmax, the ignore_eos mask, then ras_sampling —
 * `Qwen2LM.sampling_ids(logp, out_tokens, ...)` in one call.
 */
export function sampleToken(
  logits: Float32Array,
  history: ArrayLike<number>,
  opts: SampleTokenOptions,
  sampler: Sampler,
): number {
  const S = opts.speechTokenSize;
  if (!(S >= 0 && S < logits.length)) {
    throw new SamplingInputError(`speechTokenSize ${S} is outside the logits vector [${logits.length}]`);
  }
  const logp = logSoftmax(logits);
  if (opts.ignoreEos) logp[S] = -Infinity;
  return rasSampling(logp, history, opts.ras ?? COSYVOICE3_RAS, sampler);
}
