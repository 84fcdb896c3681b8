/**
 * HiFT's fixed random table (spec §1, "RNG-derived tables"; the flow's starting noise is upstream's exact
 * seed-0 table, src/models/flow/schedule.ts upstreamNoiseTable):
 * - HiFT's harmonic noise: a uniform [0, 1) table [samples, 9] read by absolute sample index. Upstream draws it
 *   with torch.rand at construction from the global RNG stream (its values depend on everything initialised
 *   before), so no checkpoint fixes it; we draw it from a generator seeded with `seed` (default 0), extended on
 *   demand: a longer table always starts with the shorter one, which streaming relies on.
 */
import { TorchGenerator } from '../rng/index.js';

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
