/**
 * Frame-level part of the NSF source (SineGen2 with causal=True), on the CPU: one row per f0 frame.
 *
 * With f0 nearest-upsampled ×spf and the ↓spf linear interpolation reading two samples of the same frame, the
 * per-sample phase increments collapse to per-frame values R[f, h] = ((f0[f]·h)/sr) mod 1 (f32), and the phase
 *   Φ[f, h] = ((cumsum_f R)·2·π)·spf
 * is nearest-upsampled again, so the "sine" is constant within a frame. rand_ini only touches sample 0, which
 * the interpolation never reads, so it is omitted. All steps are f32 as upstream computes them, except:
 *   - the cumsum accumulator: PyTorch's CPU cumsum accumulates float in double (acc_type<float> = double) and
 *     rounds each prefix to f32 — reproduced here;
 *   - sin(Φ) is evaluated in f64 from the exact f32 Φ (≈1e4 rad) and rounded: within 1 ulp of torch's sinf.
 * Row layout (H+1 values): 0.1·sin(Φ)·uv for each harmonic, then the noise amplitude uv·σ + (1−uv)·α/3.
 *
 * `cum` is the running phase sum per harmonic (f64, before rounding), updated in place: a stream that passes the
 * same array with each new run of frames gets the rows a call on all frames from 0 would give (HiftStream).
 */
import type { HiftConfig } from './config.js';

const fr = Math.fround;

export function sourceFrameTable(
  cfg: HiftConfig,
  f0: ArrayLike<number>,
  out: Float32Array = new Float32Array(f0.length * (cfg.harmonics + 1)),
  cum: Float64Array = new Float64Array(cfg.harmonics),
): Float32Array {
  const H = cfg.harmonics;
  const sr = cfg.samplingRate;
  const pi = fr(Math.PI);
  const alpha = fr(cfg.nsfAlpha);
  const sigma = fr(cfg.nsfSigma);
  const unvoicedAmp = fr(fr(alpha) / 3);
  for (let t = 0; t < f0.length; t++) {
    const f = fr(f0[t]);
    const uv = f > cfg.voicedThreshold ? 1 : 0;
    for (let h = 0; h < H; h++) {
      const r = fr(fr(f * (h + 1)) / sr);
      cum[h] += r - Math.floor(r);
      const phase = fr(fr(fr(fr(cum[h]) * 2) * pi) * cfg.samplesPerFrame);
      const sine = fr(fr(Math.sin(phase)) * alpha);
      out[t * (H + 1) + h] = fr(sine * uv);
    }
    out[t * (H + 1) + H] = uv ? sigma : unvoicedAmp;
  }
  return out;
}
