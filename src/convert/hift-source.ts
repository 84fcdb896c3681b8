/**
 * HiFT front half as ONNX: the F0 predictor in float64 and the NSF harmonic source (spec §5.2–5.3).
 *
 * F0 predictor: ORT's CPU EP has no float64 Conv or Elu, so each causal conv is an im2col — k shifted Slices of
 * the padded input concatenated on the channel axis — times the weight reshaped to [O, k·C] (MatMul has a double
 * kernel); ELU is Where(x > 0, x, exp(x) − 1). Weights are the float64 weight-norm fold (torch folds in f64 here).
 *
 * Source (f32, as upstream): per-frame r_h = ((f0·h)/sr) mod 1; Φ = ((cumsum_frames r)·2)·π·480 with the cumsum
 * accumulated in double like torch's CPU kernel; sine = 0.1·sin(Φ) with sin taken in double from the f32 Φ
 * (Φ reaches 1e4–1e5 rad); then nearest ×480 to samples, uv = f0 > threshold,
 * noise = (uv·σ + (1−uv)·α/3)·U[n, h] with U the fixed uniform table (graph input `sine_noise`, sliced to L);
 * s = tanh(l_linear(sine·uv + noise)). `rand_ini` is omitted: it cannot reach the output (spec §5.3 step 3).
 */
import type { Builder } from '../onnx/builder.js';
import type { HiftConfig } from './config.js';

const BIG = 2 ** 62;

/** Causal conv in float64 via im2col. `x` [1, C, L] double (already padded so the output has L−(k−1) frames). */
function convIm2col(b: Builder, x: string, prefix: string, k: number): string {
  const taps: string[] = [];
  for (let j = 0; j < k; j++) taps.push(b.slice(x, [j], [j - (k - 1) < 0 ? j - (k - 1) : BIG], [2]));
  const col = b.concat(taps, 1); // [1, k·C, L'] with row j·C + c
  const w = b.weight(`${prefix}.weight`, true); // [O, C, k]
  const O = b.src.get(`${prefix}.weight`).dims[0];
  const wm = b.reshape(b.transpose(w, [0, 2, 1]), [O, -1]); // [O, k·C]
  return b.add(b.matmul(wm, col), b.unsqueeze(b.weight(`${prefix}.bias`, true), [1]));
}

function elu(b: Builder, x: string): string {
  return b.where(b.op('Greater', [x, b.f64(0)]), x, b.sub(b.exp(x), b.f64(1)));
}

/**
 * mel [1, 80, T] f32 and `fin` (int64 [1], 1 = finalize) → f0 [1, T'] float64, T' = T (finalize) or T − 3
 * (the last 3 frames are right context).
 */
export function f0Predictor(b: Builder, mel: string, fin: string, cfg: HiftConfig): string {
  const look = cfg.f0LookRight;
  let x = b.cast(mel, 'double');
  x = b.op('Pad', [x, b.concat([b.i64([0, 0, 0, 0, 0]), b.mul(fin, b.i64([look]))], 0)]);
  x = elu(b, convIm2col(b, x, 'f0_predictor.condnet.0', look + 1));
  for (const i of [2, 4, 6, 8]) {
    const k = b.src.get(`f0_predictor.condnet.${i}.weight`).dims[2];
    x = elu(b, convIm2col(b, b.pad(x, [0, 0, k - 1, 0, 0, 0]), `f0_predictor.condnet.${i}`, k));
  }
  const wc = b.transpose(b.weight('f0_predictor.classifier.weight', true), [1, 0]); // [C, 1]
  const y = b.add(b.matmul(b.transpose(x, [0, 2, 1]), wc), b.weight('f0_predictor.classifier.bias', true));
  return b.abs(b.squeeze(y, [2]));
}

/** f0 [1, T'] f32, sine_noise [1, ≥L, H] → source s [1, 1, L], L = T'·up (up = 480). */
export function harmonicSource(b: Builder, f0: string, sineNoise: string, cfg: HiftConfig): string {
  const H = cfg.nbHarmonics + 1;
  const up = cfg.upsampleRates.reduce((a, c) => a * c, 1) * cfg.hop;
  const harm = b.f32(Array.from({ length: H }, (_, i) => i + 1), [1, 1, H]);
  const fn = b.mul(b.unsqueeze(f0, [2]), harm); // [1, T', H]
  const r = b.op('Mod', [b.div(fn, b.f32(cfg.sampleRate)), b.f32(1)], { fmod: 1 });
  const cum = b.cast(b.op('CumSum', [b.cast(r, 'double'), b.i64(1)]), 'float');
  const phase = b.mul(b.mul(b.mul(cum, b.f32(2)), b.f32(Math.PI)), b.f32(up));
  const sine = b.mul(b.cast(b.sin(b.cast(phase, 'double')), 'float'), b.f32(cfg.nsfAlpha)); // [1, T', H]
  const uv = b.cast(b.op('Greater', [f0, b.f32(cfg.voicedThreshold)]), 'float'); // [1, T']
  const uv3 = b.unsqueeze(uv, [2]);
  const amp = b.add(b.mul(uv3, b.f32(cfg.nsfSigma)), b.div(b.mul(b.sub(b.f32(1), uv3), b.f32(cfg.nsfAlpha)), b.f32(3)));
  // nearest ×up: [1, T', 1, c] → expand [1, T', up, c] → [1, L, c]
  const rep = (v: string, c: number) => {
    const shp = b.concat([b.shape(v, 0, 2), b.i64([up, c])], 0);
    return b.reshape(b.op('Expand', [b.unsqueeze(v, [2]), shp]), [1, -1, c]);
  };
  const sineS = rep(b.mul(sine, uv3), H); // sine·uv is per frame, so multiply before repeating
  const ampS = rep(amp, 1);
  const L = b.mul(b.shape(f0, 1, 2), b.i64([up]));
  const U = b.sliceDyn(sineNoise, b.i64([0]), L, [1]);
  const sw = b.add(sineS, b.mul(ampS, U));
  const s = b.tanh(b.linear(sw, 'm_source.l_linear'));
  return b.transpose(s, [0, 2, 1]);
}
