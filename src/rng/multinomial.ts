/**
 * `torch.multinomial(probs, 1, replacement=True)` on a 1-D float32 CPU tensor, the call upstream's
 * `nucleus_sampling` / `random_sampling` make (probabilities need not sum to 1).
 *
 * PyTorch has used two CPU algorithms for this call (facts from PyTorch's sources; which release switched could
 * not be pinned down here, and there is no PyTorch-made fixture for it):
 * - 'cdf' (the with-replacement kernel, used for n_sample = 1 by older releases incl. 1.13, the fixtures' torch):
 *   f32 running sum, each entry divided by the total in f32, the last bucket forced to 1, one double uniform u
 *   (2 engine words), and a lower-bound binary search for the first bucket with cum ≥ u.
 * - 'exponential' (newer releases take the `!with_replacement || n_sample == 1` fast path): q =
 *   empty_like(p).exponential_(1), then argmax(p / q) in f32 (first index on ties). With the default kernel
 *   q_i = f32(−log(1 − u_i)), u_i a double uniform (2 engine words per element) — reproduced here.
 *
 * Caveat for "torch 2.3 behaviour": MKL-enabled x86-64 wheels of the 2.x series routed `exponential_` through
 * MKL VSL (vsRngExponential on an MCG31 stream; the stored source seeds it from a separate MKL generator, and
 * seeding differed between releases) until that path was disabled again (pytorch issue 132395). That stream is not
 * reproduced, so on such builds the draws will differ (the distribution is the same). Builds without MKL RNG
 * (e.g. aarch64 / macOS wheels, and releases after the MKL path was disabled) use the default kernel above.
 */
import { TorchGenerator } from './torch-generator.js';

export type MultinomialAlgorithm = 'exponential' | 'cdf';

export class MultinomialError extends Error {
  override name = 'MultinomialError';
}

function validate(probs: Float32Array): void {
  if (probs.length === 0) throw new MultinomialError('multinomial: empty probability vector');
  let sum = 0;
  for (let i = 0; i < probs.length; i++) {
    const v = probs[i];
    if (!(v >= 0) || v === Infinity) {
      throw new MultinomialError(`multinomial: probability tensor contains inf, nan or < 0 (index ${i}: ${v})`);
    }
    sum += v;
  }
  if (sum <= 0) throw new MultinomialError('multinomial: invalid distribution (sum of probabilities <= 0)');
}

/** One draw with PyTorch's exponential-race fast path. */
export function multinomialExponential(gen: TorchGenerator, probs: Float32Array): number {
  validate(probs);
  const n = probs.length;
  let best = -1;
  let bestVal = -Infinity;
  for (let i = 0; i < n; i++) {
    const q = Math.fround(-Math.log(1 - gen.uniformF64()));
    const v = Math.fround(probs[i] / q);
    // argmax keeps the first maximum; NaN (0/0) never wins here because q > 0 except with probability 2^-53.
    if (v > bestVal) {
      bestVal = v;
      best = i;
    }
  }
  return best < 0 ? 0 : best;
}

/** One draw with PyTorch's legacy CDF + binary-search kernel. */
export function multinomialCdf(gen: TorchGenerator, probs: Float32Array): number {
  validate(probs);
  const n = probs.length;
  const cum = new Float32Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    sum = Math.fround(sum + probs[i]);
    cum[i] = sum;
  }
  for (let i = 0; i < n; i++) cum[i] = cum[i] / sum;
  const u = gen.uniformF64();
  cum[n - 1] = 1;
  let left = 0;
  let right = n;
  while (right - left > 0) {
    const mid = left + ((right - left) >> 1);
    if (cum[mid] < u) left = mid + 1;
    else right = mid;
  }
  return left;
}

export function multinomial(gen: TorchGenerator, probs: Float32Array, algorithm: MultinomialAlgorithm = 'exponential'): number {
  return algorithm === 'exponential' ? multinomialExponential(gen, probs) : multinomialCdf(gen, probs);
}
