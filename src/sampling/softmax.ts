/**
 * log_softmax / softmax over a 1-D float32 vector, computed in float64 and rounded once to float32.
 *
 * PyTorch's CPU kernels accumulate in f32 with vectorised exp, so individual values can differ from these by an
 * ulp or two; sampling decisions only depend on them through comparisons, and the fixture tests (greedy and
 * RAS-with-argmax token sequences) confirm the decisions agree. −∞ entries give probability 0 / log-prob −∞.
 */

export class SamplingInputError extends Error {
  override name = 'SamplingInputError';
}

function maxOf(x: ArrayLike<number>): number {
  let m = -Infinity;
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    if (Number.isNaN(v)) throw new SamplingInputError(`logits contain NaN at index ${i} (length ${x.length})`);
    if (v > m) m = v;
  }
  if (m === -Infinity) throw new SamplingInputError(`all ${x.length} logits are −∞: nothing can be sampled`);
  if (m === Infinity) throw new SamplingInputError('logits contain +∞');
  return m;
}

/** log(Σ exp(x_i)) in float64. */
export function logSumExp(x: ArrayLike<number>): number {
  const m = maxOf(x);
  let s = 0;
  for (let i = 0; i < x.length; i++) s += Math.exp(x[i] - m);
  return m + Math.log(s);
}

/** `x.log_softmax(dim=-1)` for a 1-D vector. */
export function logSoftmax(x: ArrayLike<number>, out = new Float32Array(x.length)): Float32Array {
  const lse = logSumExp(x);
  for (let i = 0; i < x.length; i++) out[i] = x[i] - lse;
  return out;
}

/** `x.softmax(dim=0)` for a 1-D vector. */
export function softmax(x: ArrayLike<number>, out = new Float32Array(x.length)): Float32Array {
  const m = maxOf(x);
  let s = 0;
  for (let i = 0; i < x.length; i++) s += Math.exp(x[i] - m);
  for (let i = 0; i < x.length; i++) out[i] = Math.exp(x[i] - m) / s;
  return out;
}

/** Index of the first maximum (torch.argmax semantics on CPU for finite inputs). */
export function argmax(x: ArrayLike<number>): number {
  let best = 0;
  let bestVal = -Infinity;
  for (let i = 0; i < x.length; i++) {
    if (x[i] > bestVal) {
      bestVal = x[i];
      best = i;
    }
  }
  return best;
}
