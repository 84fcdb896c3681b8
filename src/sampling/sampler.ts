/**
 * The one random decision in upstream's sampling is `probs.multinomial(1, replacement=True)`. It is injected
 * through this interface so that tests can replace it by argmax (as the `llm_ras_argmax` fixture did by
 * monkeypatching `Tensor.multinomial`) and a runtime can use the PyTorch-compatible generator.
 */
import { TorchGenerator } from '../rng/torch-generator.js';
import { multinomial, type MultinomialAlgorithm } from '../rng/multinomial.js';
import { argmax } from './softmax.js';

export interface Sampler {
  /** Draws one index from unnormalised, non-negative probabilities (at least one > 0). */
  multinomial(probs: Float32Array): number;
}

/** `multinomial` replaced by argmax (first maximum), as in the `llm_ras_argmax` fixture. */
export const argmaxSampler: Sampler = {
  multinomial: (probs) => argmax(probs),
};

/** Draws with PyTorch's CPU multinomial algorithm on a PyTorch-compatible generator stream. */
export class TorchSampler implements Sampler {
  constructor(
    readonly generator: TorchGenerator,
    readonly algorithm: MultinomialAlgorithm = 'exponential',
  ) {}

  multinomial(probs: Float32Array): number {
    return multinomial(this.generator, probs, this.algorithm);
  }
}

/** A sampler that replays fixed uniforms u ∈ [0,1) through the inverse CDF (for tests of draw plumbing). */
export class InverseCdfSampler implements Sampler {
  private next = 0;
  constructor(private readonly uniforms: ArrayLike<number>) {}

  multinomial(probs: Float32Array): number {
    if (this.next >= this.uniforms.length) throw new RangeError('InverseCdfSampler: out of uniforms');
    const u = this.uniforms[this.next++];
    let total = 0;
    for (let i = 0; i < probs.length; i++) total += probs[i];
    let acc = 0;
    for (let i = 0; i < probs.length; i++) {
      acc += probs[i];
      if (probs[i] > 0 && u * total < acc) return i;
    }
    for (let i = probs.length - 1; i >= 0; i--) if (probs[i] > 0) return i;
    return 0;
  }
}
