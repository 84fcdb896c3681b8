/**
 * CausalConvRNNF0Predictor in float64 on the CPU (upstream casts the predictor and the mel to float64; WGSL has
 * no f64). Plain TypeScript numbers are IEEE doubles, so this reproduces the reference up to summation order
 * (≈1e-15 relative), far inside the 1e-5 fixture tolerance.
 *
 *   h = ELU(conv₀(mel))            conv₀: k taps reading mel t..t+k−1 (right padding, or right context when not
 *                                  finalizing: the last `pad` frames are context and produce no output)
 *   h = ELU(convᵢ(h)), i ≥ 1       causal left padding (k−1)
 *   f0[t] = |classifier · h[:, t] + b|
 *
 * Cost: Σ Cout·Cin·K MACs per frame (3.3 M at full size, ≈0.17 G per second of audio).
 */
import type { F0Weights } from './weights.js';

export class F0InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'F0InputError';
  }
}

/** out[co, t] (length lout) = bias + Σ w[co, ci, k]·x[ci, t + k − padLeft], zero outside [0, lin). */
function convF64(x: Float64Array, cin: number, lin: number, w: Float64Array, bias: Float64Array, cout: number, k: number, padLeft: number, lout: number): Float64Array {
  const out = new Float64Array(cout * lout);
  for (let co = 0; co < cout; co++) {
    const o = co * lout;
    out.fill(bias[co], o, o + lout);
    for (let ci = 0; ci < cin; ci++) {
      const xi = ci * lin;
      for (let j = 0; j < k; j++) {
        const wv = w[(co * cin + ci) * k + j];
        const shift = j - padLeft;
        const t0 = Math.max(0, -shift);
        const t1 = Math.min(lout, lin - shift);
        for (let t = t0; t < t1; t++) out[o + t] += wv * x[xi + t + shift];
      }
    }
  }
  return out;
}

function eluInPlace(a: Float64Array): void {
  for (let i = 0; i < a.length; i++) if (a[i] <= 0) a[i] = Math.expm1(a[i]);
}

/** Output frames for T mel frames: T (finalize) or T − pad₀ (streaming: the last pad₀ frames are context). */
export function f0OutFrames(f: F0Weights, T: number, finalize: boolean): number {
  const pad = f.layers[0].pad;
  const tOut = finalize ? T : T - pad;
  if (tOut < 1) throw new F0InputError(`f0 predictor: ${T} mel frames leave no output with ${pad} context frames`);
  return tOut;
}

/** The input checks every F0 backend (f0.ts, f0-wasm.ts, f0-gpu.ts) makes; returns the output frames. */
export function checkF0Input(f: F0Weights, mel: ArrayLike<number>, cin: number, T: number, finalize: boolean): number {
  const l0 = f.layers[0];
  if (cin !== l0.cin) throw new F0InputError(`f0 predictor: mel has ${cin} channels, condnet.0 expects ${l0.cin}`);
  if (mel.length < cin * T) throw new F0InputError(`f0 predictor: mel holds ${mel.length} values, [${cin}, ${T}] expected`);
  return f0OutFrames(f, T, finalize);
}

/**
 * mel [Cin, T] (row-major, f32 values) → f0 [T] (finalize) or [T − pad₀] (streaming), in f64.
 */
export function predictF0(f: F0Weights, mel: ArrayLike<number>, cin: number, T: number, finalize: boolean): Float64Array {
  const l0 = f.layers[0];
  const tOut = checkF0Input(f, mel, cin, T, finalize);
  let x: Float64Array = Float64Array.from({ length: cin * T }, (_, i) => mel[i]);
  x = convF64(x, cin, T, l0.w, l0.bias, l0.cout, l0.k, 0, tOut);
  eluInPlace(x);
  let c = l0.cout;
  for (let i = 1; i < f.layers.length; i++) {
    const l = f.layers[i];
    x = convF64(x, c, tOut, l.w, l.bias, l.cout, l.k, l.pad, tOut);
    eluInPlace(x);
    c = l.cout;
  }
  const f0 = new Float64Array(tOut);
  for (let t = 0; t < tOut; t++) {
    let acc = 0;
    for (let ch = 0; ch < c; ch++) acc += f.classifier[ch] * x[ch * tOut + t];
    f0[t] = Math.abs(acc + f.classifierBias);
  }
  return f0;
}
