/**
 * Host-side, input-independent numerics of the CFM solver, in the f32 rounding order of the reference:
 * the cosine time grid and its Euler steps, the sinusoidal timestep embedding, and the fixed starting noise.
 */
import { TorchGenerator } from '../../rng/torch-generator.js';

const f = Math.fround;

/** `1 − cos(linspace(0, 1, n+1)·0.5·π)` in f32, as torch.linspace (two-sided) and f32 elementwise ops. */
export function cosineTimeGrid(n: number): Float32Array {
  const steps = n + 1;
  const step = f(1 / n);
  const out = new Float32Array(steps);
  const halfway = Math.floor(steps / 2);
  for (let i = 0; i < steps; i++) {
    const lin = i < halfway ? f(0 + f(step * i)) : f(1 - f(step * (steps - i - 1)));
    out[i] = f(1 - f(Math.cos(f(f(lin * 0.5) * f(Math.PI)))));
  }
  return out;
}

/** The (t, dt) of each Euler step: t runs as t + dt and dt = t_span[k+1] − t, both in f32 (solve_euler). */
export function eulerSteps(grid: Float32Array): { t: number; dt: number }[] {
  const out: { t: number; dt: number }[] = [];
  let t = grid[0];
  let dt = f(grid[1] - grid[0]);
  for (let k = 1; k < grid.length; k++) {
    out.push({ t, dt });
    t = f(t + dt);
    if (k < grid.length - 1) dt = f(grid[k + 1] - t);
  }
  return out;
}

/**
 * SinusPositionEmbedding(dim)(t, scale=1000) for each t: [sin(a), cos(a)], a_i = (1000·t)·exp(−i·ln(10⁴)/(half−1)),
 * every product rounded to f32 as torch does; sin/cos evaluated in f64 from the f32 argument.
 */
export function timestepSinusoid(ts: ArrayLike<number>, dim: number): Float32Array {
  const half = dim / 2;
  const scale = f(-Math.log(10000) / (half - 1));
  const freqs = new Float32Array(half);
  for (let i = 0; i < half; i++) freqs[i] = f(Math.exp(f(i * scale)));
  const out = new Float32Array(ts.length * dim);
  for (let r = 0; r < ts.length; r++) {
    const st = f(1000 * ts[r]);
    for (let i = 0; i < half; i++) {
      const a = f(st * freqs[i]);
      out[r * dim + i] = Math.sin(a);
      out[r * dim + half + i] = Math.cos(a);
    }
  }
  return out;
}

let noiseTable: Float32Array | undefined;
/** Upstream's CausalConditionalCFM.rand_noise: torch.manual_seed(0); torch.randn([1, 80, 15000]) (cached). */
export function upstreamNoiseTable(): { data: Float32Array; channels: number; frames: number } {
  noiseTable ??= new TorchGenerator(0).randn(80 * 15000);
  return { data: noiseTable, channels: 80, frames: 15000 };
}

/** rand_noise[:, :, :T] as a contiguous [80, T]. */
export function upstreamNoise(T: number): Float32Array {
  const { data, channels, frames } = upstreamNoiseTable();
  if (T > frames) throw new RangeError(`flow noise: ${T} frames requested, the upstream table has ${frames}`);
  const out = new Float32Array(channels * T);
  for (let c = 0; c < channels; c++) out.set(data.subarray(c * frames, c * frames + T), c * T);
  return out;
}
