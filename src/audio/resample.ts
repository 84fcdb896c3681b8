/**
 * Band-limited resampling as upstream's prompt loading does it: torchaudio.functional.resample with its defaults
 * (sinc_interp_hann, lowpass_filter_width 6, rolloff 0.99), applied by CosyVoice's `load_wav`.
 *
 * With g = gcd(orig, new), o = orig/g, n = new/g, base = min(o, n)·rolloff, width = ⌈6·o / base⌉:
 *   kernel_j[m] = sinc(π·t)·cos²(π·t / 12)·base/o,  t = clamp((m − width)/o − j/n, ±6/base)·base,
 *     for phase j = 0..n−1 and tap m = 0..2·width+o−1 (evaluated in float64 and stored as float32; torchaudio's
 *     `transforms.Resample` evaluates it in float32 arithmetic, so taps agree to ~1e-7);
 *   y[f·n + j] = Σ_m xpad[f·o + m]·kernel_j[m], xpad = [width zeros, x, width+o zeros];
 *   output length ⌈n·L / o⌉.
 * Accumulation here is float64 (torch: float32 conv1d), so results agree to ~1e-7.
 */
import { AudioInputError } from './mel.js';

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

export interface ResampleOptions {
  lowpassFilterWidth?: number;
  rolloff?: number;
}

/** The [n, 2·width+o] polyphase kernel and its width. */
export function sincResampleKernel(
  origFreq: number,
  newFreq: number,
  opts: ResampleOptions = {},
): { kernel: Float32Array; width: number; phases: number; taps: number; orig: number } {
  const lpw = opts.lowpassFilterWidth ?? 6;
  const rolloff = opts.rolloff ?? 0.99;
  const g = gcd(origFreq, newFreq);
  const o = origFreq / g;
  const n = newFreq / g;
  const base = Math.min(o, n) * rolloff;
  const width = Math.ceil((lpw * o) / base);
  const taps = 2 * width + o;
  const kernel = new Float32Array(n * taps);
  for (let j = 0; j < n; j++) {
    for (let m = 0; m < taps; m++) {
      let t = (-j / n + (m - width) / o) * base;
      t = Math.max(-lpw, Math.min(lpw, t));
      const w = Math.cos((t * Math.PI) / lpw / 2) ** 2;
      const tp = t * Math.PI;
      const s = tp === 0 ? 1 : Math.sin(tp) / tp;
      kernel[j * taps + m] = s * w * (base / o);
    }
  }
  return { kernel, width, phases: n, taps, orig: o };
}

/** Resamples mono audio from `origFreq` to `newFreq` (integers, Hz). */
export function resample(
  x: Float32Array | Float64Array,
  origFreq: number,
  newFreq: number,
  opts: ResampleOptions = {},
): Float32Array {
  if (!Number.isInteger(origFreq) || !Number.isInteger(newFreq) || origFreq <= 0 || newFreq <= 0) {
    throw new AudioInputError(`resample: sample rates must be positive integers, got ${origFreq} → ${newFreq}`);
  }
  if (origFreq === newFreq) return Float32Array.from(x);
  const { kernel, width, phases, taps, orig } = sincResampleKernel(origFreq, newFreq, opts);
  const L = x.length;
  const frames = Math.floor(L / orig) + 1;
  const target = Math.ceil((phases * L) / orig);
  const out = new Float32Array(target);
  for (let f = 0; f < frames; f++) {
    const start = f * orig - width; // index into x of tap 0
    for (let j = 0; j < phases; j++) {
      const idx = f * phases + j;
      if (idx >= target) break;
      let s = 0;
      const row = j * taps;
      const m0 = Math.max(0, -start);
      const m1 = Math.min(taps, L - start);
      for (let m = m0; m < m1; m++) s += x[start + m] * kernel[row + m];
      out[idx] = s;
    }
  }
  return out;
}
