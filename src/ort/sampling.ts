/**
 * Minimal private sampling helpers for the reference pipeline: log-softmax, argmax and upstream's
 * repetition-aware sampling (ras_sampling, spec §3.5) with the random draws replaced by argmax, which is what the
 * `llm_ras_argmax` fixture records. The project's full sampler (injectable uniform draws, torch-compatible
 * multinomial) lives in src/sampling/; this copy keeps verify independent of it.
 */

/** log_softmax in f32 like torch (max-shifted, log of the f32 sum). */
export function logSoftmax(x: Float32Array): Float32Array {
  let m = -Infinity;
  for (const v of x) m = Math.max(m, v);
  let s = 0;
  for (const v of x) s += Math.exp(v - m);
  const lse = Math.fround(m + Math.log(s));
  return x.map((v) => Math.fround(v - lse));
}

/** First index of the maximum (torch.argmax). */
export function argmax(x: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i] > x[best]) best = i;
  return best;
}

export interface RasParams { topP: number; topK: number; winSize: number; tauR: number }

/**
 * ras_sampling with multinomial → argmax: nucleus sampling's draw is the most probable kept id (the top-1 of the
 * stable descending sort, always kept); if it occurs ≥ win_size·tau_r times in the last win_size generated tokens,
 * it is set to −∞ and the full-softmax redraw (again argmax) picks the best remaining id.
 */
export function rasArgmax(logp: Float32Array, outTokens: number[], p: RasParams): number {
  const top = argmax(logp);
  const recent = outTokens.slice(-p.winSize);
  const rep = recent.filter((t) => t === top).length;
  if (rep >= p.winSize * p.tauR) {
    const masked = logp.slice();
    masked[top] = -Infinity;
    return argmax(masked);
  }
  return top;
}
