/**
 * The HiFT pieces around the convolutions, on the CPU over time-major data ([L, C], row = one time):
 * NSF source merge, source STFT, Snake, LeakyReLU, spectrum head + iSTFT. Same math as the WGSL kernels
 * (shaders/sinegen.wgsl, stft.wgsl, istft.wgsl, snake.wgsl); sums run in float64 and are stored as f32, well
 * inside the vocoder's 1e-3 tolerance. None is a matrix product. snake and leakyRelu are the references of the
 * WebAssembly steps the engine runs on its resident activations (kernels/wasm/lib/hift-ops.as.ts, the same bits:
 * test/kernels/cpu-hift-ops.test.ts); in JavaScript they took about a quarter of a full-size call.
 */
/**
 * Source merge: s[n] = tanh(Σ_h lin[h]·(frames[f, h] + frames[f, H]·U[n, h]) + lin[H]), f = ⌊n / spf⌋.
 * frames [T_f, H+1] (src/models/hift/source.ts sourceFrameTable); U [≥ len, H] read by absolute sample index.
 */
export function mergeSource(frames: Float32Array, noise: Float32Array, lin: Float32Array, H: number, spf: number, len: number, out: Float32Array): Float32Array {
  for (let n = 0; n < len; n++) {
    const f = ((n / spf) | 0) * (H + 1);
    const amp = frames[f + H];
    let acc = lin[H];
    for (let h = 0; h < H; h++) acc += lin[h] * Math.fround(frames[f + h] + Math.fround(amp * noise[n * H + h]));
    out[n] = Math.tanh(acc);
  }
  return out;
}

/**
 * torch.stft(center, reflect, onesided) of s [len] → out [frames, N+2] time-major (Re bins 0..N/2, then Im).
 * tables: kernels/stft.ts stftTables(N) (window, cos, sin).
 */
export function stftTimeMajor(s: Float32Array, len: number, tables: Float32Array, n: number, hop: number, frames: number, out: Float32Array): Float32Array {
  const nb = n / 2 + 1;
  const fr = new Float64Array(n);
  for (let f = 0; f < frames; f++) {
    for (let j = 0; j < n; j++) {
      let i = f * hop + j - n / 2;
      if (i < 0) i = -i;
      if (i >= len) i = 2 * (len - 1) - i;
      fr[j] = tables[j] * s[i];
    }
    const o = f * 2 * nb;
    for (let k = 0; k < nb; k++) {
      let re = 0, im = 0;
      for (let j = 0; j < n; j++) {
        const r = (k * j) % n;
        re += fr[j] * tables[n + r];
        im -= fr[j] * tables[2 * n + r];
      }
      out[o + k] = re;
      out[o + nb + k] = im;
    }
  }
  return out;
}

/**
 * sin²(y) without Math.sin (≈12 ns a call in V8 against ≈5 here; Snake makes ≈18 M calls per second of audio at
 * full size). y = k·π/2 + r with |r| ≤ π/4 (π/2 in two parts; k rounded to nearest by the 1.5·2⁵² trick), then
 * sin r by its Taylor series through r⁹ (error < 2e-9, below f32's ulp); sin² y = sin² r for even k, cos² r = 1 −
 * sin² r for odd k. Valid while |y| < 2³¹·π/2 (k's parity is read as an int32), far beyond any activation.
 */
const ROUND = 6755399441055744;
const TWO_OVER_PI = 2 / Math.PI;
const HALF_PI_HI = Math.PI / 2;
const HALF_PI_LO = 6.123233995736766e-17;
export function sinSquared(y: number): number {
  const k = y * TWO_OVER_PI + ROUND - ROUND;
  const r = y - k * HALF_PI_HI - k * HALF_PI_LO;
  const r2 = r * r;
  const s = r * (1 + r2 * (-1 / 6 + r2 * (1 / 120 + r2 * (-1 / 5040 + r2 / 362880))));
  return k & 1 ? 1 - s * s : s * s;
}

/**
 * out[t, c] = x + (1/(α_c+1e-9))·sin²(α_c·x), x [L, C]; out may alias x. `alpha` holds (α, 1/(α+1e-9)) pairs
 * [C, 2] as kernels/conv1d.ts packSnakeAlpha rounds them.
 */
export function snake(x: Float32Array, alpha: Float32Array, L: number, C: number, out: Float32Array): Float32Array {
  for (let t = 0; t < L; t++) {
    const o = t * C;
    for (let c = 0; c < C; c++) {
      const v = x[o + c];
      out[o + c] = v + alpha[2 * c + 1] * sinSquared(alpha[2 * c] * v);
    }
  }
  return out;
}

/** out = LeakyReLU(x) over n values; out may alias x. */
export function leakyRelu(x: Float32Array, n: number, slope: number, out: Float32Array): Float32Array {
  for (let i = 0; i < n; i++) {
    const v = x[i];
    out[i] = v < 0 ? v * slope : v;
  }
  return out;
}

/**
 * The inverse real DFT as a matrix B [N, N] acting on a frame's spectrum row (Re₀ … Re_{N/2}, Im₁ … Im_{N/2−1}):
 * frame[j] = Σ_c B[j, c]·spec[c] (irfft: the imaginary parts of DC and Nyquist are dropped). Exact f64 cos/sin.
 */
function irfftMatrix(n: number): Float64Array {
  const nb = n / 2 + 1;
  const b = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    for (let c = 0; c < n; c++) {
      const k = c < nb ? c : c - nb + 1;
      const ang = (2 * Math.PI * ((k * j) % n)) / n;
      const edge = c === 0 || c === nb - 1;
      b[j * n + c] = (c < nb ? (edge ? 1 : 2) * Math.cos(ang) : -2 * Math.sin(ang)) / n;
    }
  }
  return b;
}

/**
 * Spectrum head + torch.istft(center) + clamp: y [F, N+2] time-major (log-magnitudes, then phase logits) →
 * wave [nOut], nOut ≤ hop·(F−1):
 *   mag = min(exp(y_k), clip), ph = sin(y_{N/2+1+k}), frame_f = irfft(mag·e^{i·ph}),
 *   wave[n] = clamp(Σ_f w[j]·frame_f[j] / Σ_f w[j]², ±limit),  j = n + N/2 − hop·f.
 */
export class Istft {
  private readonly b: Float64Array;
  private readonly window: Float64Array;
  private num = new Float64Array(0);
  private env = new Float64Array(0);

  constructor(readonly n: number, readonly hop: number, tables: Float32Array) {
    this.b = irfftMatrix(n);
    this.window = Float64Array.from(tables.subarray(0, n));
  }

  run(y: Float32Array, F: number, nOut: number, clip: number, limit: number, out: Float32Array): Float32Array {
    const { n, hop, b, window: w } = this;
    const nb = n / 2 + 1;
    const total = hop * (F - 1) + n;
    if (this.num.length < total) (this.num = new Float64Array(total)), (this.env = new Float64Array(total));
    const num = this.num, env = this.env;
    num.fill(0, 0, total);
    env.fill(0, 0, total);
    const spec = new Float64Array(n);
    for (let f = 0; f < F; f++) {
      const yo = f * 2 * nb;
      for (let k = 0; k < nb; k++) {
        const mag = Math.min(Math.exp(y[yo + k]), clip);
        const ph = Math.sin(y[yo + nb + k]);
        spec[k] = mag * Math.cos(ph);
        if (k > 0 && k < nb - 1) spec[nb - 1 + k] = mag * Math.sin(ph);
      }
      for (let j = 0; j < n; j++) {
        let v = 0;
        for (let c = 0; c < n; c++) v += b[j * n + c] * spec[c];
        num[f * hop + j] += w[j] * v;
        env[f * hop + j] += w[j] * w[j];
      }
    }
    for (let i = 0; i < nOut; i++) out[i] = Math.max(-limit, Math.min(limit, num[i + n / 2] / env[i + n / 2]));
    return out;
  }
}
