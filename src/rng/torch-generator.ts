/**
 * A PyTorch-compatible CPU random generator: `new TorchGenerator(seed)` behaves like the default CPU generator
 * after `torch.manual_seed(seed)` (aten CPUGeneratorImpl + DistributionsHelper + cpu/DistributionTemplates.h).
 *
 * Draw rules reproduced (facts read from PyTorch's sources):
 * - `random()` is one 32-bit mt19937 output; `random64()` is two, the first as the high word.
 * - float32 uniform [0,1): `(random() & (2^24−1)) · 2^−24`; float64 uniform: `(random64() & (2^53−1)) · 2^−53`.
 * - `randn` on a contiguous float32 tensor with n ≥ 16 (`normal_fill`): first ALL n float uniforms are drawn,
 *   then every block of 16 is transformed in place by Box–Muller, lanes j and j+8 sharing one pair
 *   (u1 = 1 − data[j], u2 = data[j+8]; data[j] = r·cos θ, data[j+8] = r·sin θ, r = √(−2 ln u1), θ = 2π·u2).
 *   If n % 16 ≠ 0, 16 FRESH uniforms are drawn into the last 16 slots (overwriting already-transformed values)
 *   and that tail block is transformed again. x86-64 builds use the AVX2 variant with Cephes log/sincos in
 *   f32 (see f32-math.ts); `normalKernel: 'scalar'` selects the portable std::log/cos/sin float variant
 *   (ARM / non-AVX2 builds; approximated here with correctly rounded f32 results, not verified).
 * - `randn` with n < 16 (or non-contiguous): per element `normal_distribution<double>`: two double uniforms
 *   u1, u2; r = √(−2·log1p(−u2)), θ = 2π·u1; returns r·cos θ and caches r·sin θ IN THE GENERATOR for the next
 *   scalar normal draw (the cache survives across calls and is cleared by `manualSeed`).
 * - `exponential_` (float tensor): per element −log(1 − u) with u a double uniform, cast to f32.
 */
import { Mt19937 } from './mt19937.js';
import { logF32Avx, sincosF32Avx } from './f32-math.js';

const f = Math.fround;
const TWO_PI_F32 = f(2 * Math.PI);
const TWO_POW_M24 = 2 ** -24;
const TWO_POW_M53 = 2 ** -53;
const TWO_POW_32 = 2 ** 32;

export type NormalKernel = 'avx2' | 'scalar';

export interface TorchGeneratorOptions {
  /** Which CPU `normal_fill` variant to mirror for n ≥ 16: 'avx2' (x86-64 wheels, default, verified) or 'scalar'. */
  normalKernel?: NormalKernel;
}

export class TorchGenerator {
  private readonly engine = new Mt19937();
  private nextDoubleNormal: number | null = null;
  private readonly normalKernel: NormalKernel;
  private readonly sc = new Float64Array(2);

  constructor(seed: number | bigint = 67280421310721n, opts: TorchGeneratorOptions = {}) {
    this.normalKernel = opts.normalKernel ?? 'avx2';
    this.manualSeed(seed);
  }

  /** `torch.manual_seed(seed)`: reseeds the engine and clears the cached normal sample. */
  manualSeed(seed: number | bigint): void {
    this.engine.seed(seed);
    this.nextDoubleNormal = null;
  }

  /** One 32-bit draw, unsigned. */
  random(): number {
    return this.engine.nextU32();
  }

  /** One float32 uniform in [0, 1) (exactly representable; returned as a JS number). */
  uniformF32(): number {
    return (this.engine.nextU32() & 0xffffff) * TWO_POW_M24;
  }

  /** One float64 uniform in [0, 1) from random64(): the low 53 bits (21 of the high word, all of the low). */
  uniformF64(): number {
    const hi = this.engine.nextU32();
    const lo = this.engine.nextU32();
    return ((hi & 0x1fffff) * TWO_POW_32 + lo) * TWO_POW_M53;
  }

  /** `torch.rand(n)` (float32). */
  rand(n: number, out = new Float32Array(n)): Float32Array {
    checkCount(n, out);
    for (let i = 0; i < n; i++) out[i] = (this.engine.nextU32() & 0xffffff) * TWO_POW_M24;
    return out;
  }

  /** `torch.rand(n, dtype=torch.float64)`. */
  randF64(n: number, out = new Float64Array(n)): Float64Array {
    checkCount(n, out);
    for (let i = 0; i < n; i++) out[i] = this.uniformF64();
    return out;
  }

  /** One scalar `normal_distribution<double>` draw (with the generator's cached second value). */
  normalF64(): number {
    if (this.nextDoubleNormal !== null) {
      const v = this.nextDoubleNormal;
      this.nextDoubleNormal = null;
      return v;
    }
    const u1 = this.uniformF64();
    const u2 = this.uniformF64();
    const r = Math.sqrt(-2 * Math.log1p(-u2));
    const theta = 2 * Math.PI * u1;
    this.nextDoubleNormal = r * Math.sin(theta);
    return r * Math.cos(theta);
  }

  /** `torch.randn(n)` (float32, contiguous). */
  randn(n: number, out = new Float32Array(n)): Float32Array {
    checkCount(n, out);
    if (n < 16) {
      for (let i = 0; i < n; i++) out[i] = this.normalF64();
      return out;
    }
    this.rand(n, out);
    for (let i = 0; i + 16 <= n; i += 16) this.boxMuller16(out, i);
    if (n % 16 !== 0) {
      const base = n - 16;
      for (let i = 0; i < 16; i++) out[base + i] = (this.engine.nextU32() & 0xffffff) * TWO_POW_M24;
      this.boxMuller16(out, base);
    }
    return out;
  }

  /** Box–Muller over data[i..i+16) in place, as `normal_fill_16(_AVX2)` with mean 0, std 1. */
  private boxMuller16(d: Float32Array, i: number): void {
    const sc = this.sc;
    if (this.normalKernel === 'avx2') {
      for (let j = 0; j < 8; j++) {
        const u1 = f(1 - d[i + j]);
        const radius = f(Math.sqrt(f(-2 * logF32Avx(u1))));
        sincosF32Avx(f(TWO_PI_F32 * d[i + j + 8]), sc);
        d[i + j] = radius * sc[1];
        d[i + j + 8] = radius * sc[0];
      }
    } else {
      for (let j = 0; j < 8; j++) {
        const u1 = f(1 - d[i + j]);
        const radius = f(Math.sqrt(f(-2 * f(Math.log(u1)))));
        const theta = f(TWO_PI_F32 * d[i + j + 8]);
        d[i + j] = radius * f(Math.cos(theta));
        d[i + j + 8] = radius * f(Math.sin(theta));
      }
    }
  }

  /** `torch.empty(n).exponential_(1)` (float32): −log(1 − u), u a double uniform. */
  exponential(n: number, out = new Float32Array(n)): Float32Array {
    checkCount(n, out);
    for (let i = 0; i < n; i++) out[i] = -Math.log(1 - this.uniformF64());
    return out;
  }

  /** Engine snapshot (for forking a stream in tests). */
  getState(): { engine: { state: Uint32Array; index: number }; nextDoubleNormal: number | null } {
    return { engine: this.engine.getState(), nextDoubleNormal: this.nextDoubleNormal };
  }

  setState(st: { engine: { state: Uint32Array; index: number }; nextDoubleNormal: number | null }): void {
    this.engine.setState(st.engine);
    this.nextDoubleNormal = st.nextDoubleNormal;
  }
}

function checkCount(n: number, out: { length: number }): void {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`TorchGenerator: element count must be an integer ≥ 0, got ${n}`);
  if (out.length < n) throw new RangeError(`TorchGenerator: output holds ${out.length} elements, need ${n}`);
}
