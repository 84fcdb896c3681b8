/** NSF source merge (shaders/sinegen.wgsl): per-frame sines + uniform noise table → tanh(Linear) source [L]. */
import { GpuContext } from '../src/gpu/context.js';
import { ceilDiv, packParams, type DispatchRecord } from '../src/gpu/dispatch.js';
import { ShapeMismatchError } from '../src/gpu/errors.js';
import type { GpuTensor } from '../src/gpu/tensor.js';

export interface SinegenArgs {
  /** [T_f, H+1]: 0.1·sin(Φ)·uv per harmonic, then the noise amplitude */
  frames: GpuTensor;
  /** [rows, H] uniform [0,1) table, read at row n0 + n */
  noise: GpuTensor;
  /** [H+1]: l_linear weight then bias */
  lin: GpuTensor;
  /** [≥ len] */
  s: GpuTensor;
  len: number;
  /** samples per frame (f0 upsampling factor) */
  up: number;
  harmonics: number;
  n0?: number;
  /**
   * A uniform the caller writes before each run (sinegenParams(len, up, n0)), in place of one fixed at record
   * time: a plan reused across calls whose first sample moves (the streaming window, src/models/hift/stream.ts).
   * The noise bound is then the caller's to check.
   */
  params?: GPUBuffer;
}

/** The Params uniform of shaders/sinegen.wgsl. */
export function sinegenParams(len: number, up: number, n0 = 0): Uint32Array {
  return packParams([len, up, n0, 0]);
}

export function sinegen(ctx: GpuContext, a: SinegenArgs, tag = ''): DispatchRecord {
  const H = a.harmonics;
  const tf = Math.ceil(a.len / a.up);
  if (a.frames.numel < tf * (H + 1)) throw new ShapeMismatchError(`sinegen ${tag}: frames [${a.frames.shape}] < [${tf}, ${H + 1}]`);
  if (!a.params && a.noise.numel < ((a.n0 ?? 0) + a.len) * H) {
    throw new ShapeMismatchError(`sinegen ${tag}: noise table [${a.noise.shape}] has fewer than ${(a.n0 ?? 0) + a.len} rows of ${H}`);
  }
  if (a.lin.numel !== H + 1) throw new ShapeMismatchError(`sinegen ${tag}: lin must be [${H + 1}]`);
  if (a.s.numel < a.len) throw new ShapeMismatchError(`sinegen ${tag}: s [${a.s.shape}] < ${a.len}`);
  if (ceilDiv(a.len, 64) > 65535) throw new ShapeMismatchError(`sinegen ${tag}: ${a.len} samples exceed one dispatch row`);
  const params = a.params ?? ctx.uniform(sinegenParams(a.len, a.up, a.n0));
  return ctx.record(
    { shader: 'sinegen', entry: 'sinegen', defines: { H } },
    [params, a.frames, a.noise, a.lin, a.s],
    [ceilDiv(a.len, 64), 1, 1],
    tag,
  );
}
