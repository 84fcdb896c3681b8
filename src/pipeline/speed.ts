/**
 * Upstream's speed change (cli/model.py token2wav, spec §2.1): with speed ≠ 1, an offline segment's mel is
 * resampled along time to int(T / speed) frames with F.interpolate(mode='linear', align_corners=False) before
 * HiFT, so the speech is shorter (speed > 1) or longer, at the same pitch. Upstream asserts it is not streaming.
 *
 * The resampling is F.interpolate's (align_corners=False): frame t reads source position u = (t + 0.5)·Tin/Tout − 0.5
 * (at least 0), i = ⌊u⌋, λ = u − i, out = (1 − λ)·x[i] + λ·x[min(i + 1, Tin − 1)]; a copy when Tin = Tout. u is
 * taken exactly, as the fraction ((2t + 1)·Tin − Tout) / (2·Tout), as shaders/interpolate.wgsl takes it: torch
 * computes u in f32, where it is good to an ulp of u (1.2e-4 near frame 1500) and its rounding depends on the
 * backend contracting the multiply-add, so the exact value is the one reference that does not. The mel is 80 × T
 * values, so this runs on the host for every engine (test/pipeline/speed.test.ts compares it with the kernel).
 */

const fr = Math.fround;

export class SpeedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SpeedError';
  }
}

/** Throws SpeedError unless `speed` is a finite number > 0; returns it. */
export function checkSpeed(speed: number): number {
  if (typeof speed !== 'number' || !Number.isFinite(speed) || speed <= 0) throw new SpeedError(`speed must be a finite number > 0, got ${speed}`);
  return speed;
}

/** Frames after the speed change: Python's int(T / speed). */
export function framesAtSpeed(T: number, speed: number): number {
  return Math.trunc(T / checkSpeed(speed));
}

/** mel [bins, T] row-major → [bins, int(T / speed)]; throws SpeedError when no frame would be left. */
export function resampleMel(mel: Float32Array, bins: number, T: number, speed: number): { mel: Float32Array; frames: number } {
  const tout = framesAtSpeed(T, speed);
  if (tout < 1) throw new SpeedError(`speed ${speed} leaves no mel frame of ${T}`);
  if (tout === T) return { mel, frames: T };
  const i0 = new Int32Array(tout), i1 = new Int32Array(tout), l0 = new Float32Array(tout), l1 = new Float32Array(tout);
  const den = 2 * tout;
  for (let t = 0; t < tout; t++) {
    const n = Math.max((2 * t + 1) * T - tout, 0);
    const i = Math.min(Math.floor(n / den), T - 1);
    const lambda = fr((n - Math.floor(n / den) * den) / den);
    i0[t] = i;
    i1[t] = Math.min(i + 1, T - 1);
    l1[t] = lambda;
    l0[t] = fr(1 - lambda);
  }
  const out = new Float32Array(bins * tout);
  for (let b = 0; b < bins; b++) {
    const row = mel.subarray(b * T, (b + 1) * T);
    for (let t = 0; t < tout; t++) out[b * tout + t] = fr(row[i0[t]] * l0[t]) + fr(row[i1[t]] * l1[t]);
  }
  return { mel: out, frames: tout };
}
