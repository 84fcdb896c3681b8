/**
 * Mixed-radix complex FFT (recursive decimation in time) for any length whose prime factors are small —
 * 1920 = 2^7·3·5 for the CosyVoice3 flow mel — in float64 with one precomputed twiddle table per length.
 *
 * Forward transform X[k] = Σ_n x[n]·e^{−2πi·nk/N}. Radix-p butterflies are plain p-point DFTs, so any factor
 * works; large prime factors just make it slower (a prime N degenerates to the O(N²) DFT).
 */

export class FftError extends Error {
  override name = 'FftError';
}

function factorize(n: number): number[] {
  const out: number[] = [];
  let m = n;
  for (const p of [4, 2, 3, 5]) {
    while (m % p === 0 && (p !== 4 || m % 4 === 0)) {
      out.push(p);
      m /= p;
    }
  }
  for (let p = 7; m > 1; p += 2) {
    while (m % p === 0) {
      out.push(p);
      m /= p;
    }
  }
  return out;
}

export class Fft {
  readonly n: number;
  private readonly factors: number[];
  private readonly cos: Float64Array;
  private readonly sin: Float64Array;
  private readonly tRe: Float64Array;
  private readonly tIm: Float64Array;

  constructor(n: number) {
    if (!Number.isInteger(n) || n < 1) throw new FftError(`FFT length must be a positive integer, got ${n}`);
    this.n = n;
    this.factors = factorize(n);
    this.cos = new Float64Array(n);
    this.sin = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      const a = (-2 * Math.PI * j) / n;
      this.cos[j] = Math.cos(a);
      this.sin[j] = Math.sin(a);
    }
    const pmax = Math.max(1, ...this.factors);
    this.tRe = new Float64Array(pmax);
    this.tIm = new Float64Array(pmax);
  }

  /** Forward FFT of (inRe, inIm) into (outRe, outIm); inputs are not modified. inIm may be omitted (real input). */
  forward(inRe: Float64Array, inIm: Float64Array | null, outRe: Float64Array, outIm: Float64Array): void {
    if (inRe.length < this.n || outRe.length < this.n || outIm.length < this.n || (inIm && inIm.length < this.n)) {
      throw new FftError(`FFT of length ${this.n}: buffers too short`);
    }
    this.rec(inRe, inIm, 0, 1, this.n, outRe, outIm, 0, 0);
  }

  private rec(
    inRe: Float64Array,
    inIm: Float64Array | null,
    inOff: number,
    stride: number,
    n: number,
    outRe: Float64Array,
    outIm: Float64Array,
    outOff: number,
    fi: number,
  ): void {
    if (n === 1) {
      outRe[outOff] = inRe[inOff];
      outIm[outOff] = inIm ? inIm[inOff] : 0;
      return;
    }
    const p = this.factors[fi];
    const m = n / p;
    // Sub-transforms of the p decimated sequences land in consecutive blocks of m outputs.
    for (let r = 0; r < p; r++) {
      this.rec(inRe, inIm, inOff + r * stride, stride * p, m, outRe, outIm, outOff + r * m, fi + 1);
    }
    const { cos, sin, tRe, tIm } = this;
    const step = this.n / n; // W_n^e = W_N^{e·step}
    const stepP = this.n / p; // W_p^e = W_N^{e·stepP}
    for (let k = 0; k < m; k++) {
      for (let r = 0; r < p; r++) {
        const yr = outRe[outOff + r * m + k];
        const yi = outIm[outOff + r * m + k];
        const t = ((r * k) % n) * step;
        const c = cos[t], s = sin[t];
        tRe[r] = yr * c - yi * s;
        tIm[r] = yr * s + yi * c;
      }
      for (let q = 0; q < p; q++) {
        let sr = 0, si = 0;
        for (let r = 0; r < p; r++) {
          const t = ((r * q) % p) * stepP;
          const c = cos[t], s = sin[t];
          sr += tRe[r] * c - tIm[r] * s;
          si += tRe[r] * s + tIm[r] * c;
        }
        outRe[outOff + q * m + k] = sr;
        outIm[outOff + q * m + k] = si;
      }
    }
  }
}
