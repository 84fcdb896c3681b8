/**
 * HiFT spectrum head + iSTFT + clamp (shaders/istft.wgsl): y [N+2, F] (log-magnitude rows then phase rows) →
 * wave [H·(F−1) − drop].
 */
import { GpuContext } from '../src/gpu/context.js';
import { ceilDiv, packParams, type DispatchRecord } from '../src/gpu/dispatch.js';
import { ShapeMismatchError } from '../src/gpu/errors.js';
import type { GpuTensor } from '../src/gpu/tensor.js';

export interface IstftArgs {
  /** [N+2, frames] */
  y: GpuTensor;
  frames: number;
  /** stftTables(N) uploaded */
  tables: GpuTensor;
  /** [≥ nOut] */
  wave: GpuTensor;
  nFft: number;
  hop: number;
  /** Samples written: H·(frames−1) − drop. */
  nOut: number;
  /** Magnitude clip (upstream 1e2). */
  clip: number;
  /** Output clamp (upstream audio_limit 0.99). */
  limit: number;
}

export function istft(ctx: GpuContext, a: IstftArgs, tag = ''): DispatchRecord {
  const full = a.hop * (a.frames - 1);
  if (a.nOut < 1 || a.nOut > full) throw new ShapeMismatchError(`istft ${tag}: nOut ${a.nOut} outside 1..${full}`);
  if (a.y.numel < (a.nFft + 2) * a.frames) throw new ShapeMismatchError(`istft ${tag}: y [${a.y.shape}] < [${a.nFft + 2}, ${a.frames}]`);
  if (a.wave.numel < a.nOut) throw new ShapeMismatchError(`istft ${tag}: wave [${a.wave.shape}] < ${a.nOut}`);
  if (a.tables.numel !== 3 * a.nFft) throw new ShapeMismatchError(`istft ${tag}: tables must be [3, ${a.nFft}]`);
  if (a.nFft % 4 !== 0 || a.nFft % a.hop !== 0) throw new ShapeMismatchError(`istft ${tag}: n_fft ${a.nFft} must be a multiple of 4 and of hop ${a.hop}`);
  const params = ctx.uniform(packParams([a.frames, a.nOut, 0, 0, { f32: a.clip }, { f32: a.limit }, 0, 0]));
  // 64 threads × QS samples a workgroup: 256 samples share 69 frames (n_fft 16, hop 4), 7% computed twice.
  const qs = 4;
  return ctx.record(
    { shader: 'istft', entry: 'istft', defines: { N: a.nFft, H: a.hop, QS: qs } },
    [params, a.y, a.tables, a.wave],
    [ceilDiv(a.nOut, 64 * qs), 1, 1],
    tag,
  );
}
