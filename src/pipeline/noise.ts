/**
 * The fixed random tables of CosyVoice3 inference (spec §1, "RNG-derived tables"):
 * - the flow's starting noise: exactly upstream's `torch.manual_seed(0); torch.randn([1, 80, 15000])`, generated
 *   by the PyTorch-compatible generator (bit-exact against ../shared/fixtures/torch-rng), sliced per call;
 * - HiFT's harmonic noise: a uniform [0, 1) table [samples, 9] read by absolute sample index. Upstream draws it
 *   with torch.rand at construction from the global RNG stream (its values depend on everything initialised
 *   before), so no checkpoint fixes it; we draw it from a generator seeded with `seed` (default 0), extended on
 *   demand: a longer table always starts with the shorter one, which streaming relies on.
 */
import { TorchGenerator } from '../rng/index.js';

export const FLOW_NOISE_FRAMES = 15000;

let flowNoise: Float32Array | undefined;

/** [80, 15000] row-major (bins × frames), upstream's `rand_noise[0]`. */
export function flowNoiseTable(bins = 80): Float32Array {
  if (bins !== 80) throw new RangeError(`the upstream noise table has 80 bins, not ${bins}`);
  flowNoise ??= new TorchGenerator(0).randn(80 * FLOW_NOISE_FRAMES);
  return flowNoise;
}

/** The harmonic-noise table, [samples, harmonics] row-major, prefix-stable. */
export class SineNoiseTable {
  private gen: TorchGenerator;
  private data: Float32Array = new Float32Array(0);

  constructor(
    readonly harmonics = 9,
    seed = 0,
  ) {
    this.gen = new TorchGenerator(seed);
  }

  /** A caller-supplied table (e.g. exported from a live upstream instance); it cannot grow. */
  static fromTable(table: Float32Array, harmonics = 9): SineNoiseTable {
    const t = new SineNoiseTable(harmonics);
    t.data = table;
    t.fixed = true;
    return t;
  }
  private fixed = false;

  /** At least `samples` rows (a view: valid until the next call that grows the table). */
  get(samples: number): Float32Array {
    const need = samples * this.harmonics;
    if (need > this.data.length) {
      if (this.fixed) {
        throw new RangeError(`the supplied sine-noise table has ${this.data.length / this.harmonics} samples, ${samples} are needed`);
      }
      // Grow by doubling so streaming does not regenerate per chunk; the generator continues its stream.
      const size = Math.max(need, this.data.length * 2, 24000 * this.harmonics);
      const next = new Float32Array(size);
      next.set(this.data);
      this.gen.rand(size - this.data.length, next.subarray(this.data.length));
      this.data = next;
    }
    return this.data.subarray(0, need);
  }
}
