/** Source STFT (shaders/stft.wgsl): s [L] → [2·(N/2+1), frames] (real rows then imaginary rows). */
import { GpuContext } from '../src/gpu/context.js';
import { ceilDiv, packParams, type DispatchRecord } from '../src/gpu/dispatch.js';
import { ShapeMismatchError } from '../src/gpu/errors.js';
import type { GpuTensor } from '../src/gpu/tensor.js';

/** [3, N] f32: periodic Hann window (scipy get_window('hann', N, fftbins=True)), cos(2πr/N), sin(2πr/N). */
export function stftTables(n: number): Float32Array {
  const t = new Float32Array(3 * n);
  for (let r = 0; r < n; r++) {
    t[r] = 0.5 - 0.5 * Math.cos((2 * Math.PI * r) / n);
    t[n + r] = Math.cos((2 * Math.PI * r) / n);
    t[2 * n + r] = Math.sin((2 * Math.PI * r) / n);
  }
  return t;
}

export interface StftArgs {
  /** [≥ sOffset + len] */
  s: GpuTensor;
  len: number;
  sOffset?: number;
  /** stftTables(n) uploaded, [3, N] */
  tables: GpuTensor;
  /** [2·(N/2+1), frames] */
  out: GpuTensor;
  nFft: number;
  hop: number;
  /** Frames computed (≤ len/hop + 1). */
  frames: number;
}

export function stft(ctx: GpuContext, a: StftArgs, tag = ''): DispatchRecord {
  const nb = a.nFft / 2 + 1;
  const total = Math.floor(a.len / a.hop) + 1;
  if (a.frames > total || a.frames < 1) throw new ShapeMismatchError(`stft ${tag}: ${a.frames} frames of ${total}`);
  if (a.len <= a.nFft / 2) throw new ShapeMismatchError(`stft ${tag}: reflect padding needs len > ${a.nFft / 2}, got ${a.len}`);
  if (a.s.numel < (a.sOffset ?? 0) + a.len) throw new ShapeMismatchError(`stft ${tag}: s [${a.s.shape}] shorter than ${a.len}`);
  if (a.tables.numel !== 3 * a.nFft) throw new ShapeMismatchError(`stft ${tag}: tables must be [3, ${a.nFft}]`);
  if (a.out.numel < 2 * nb * a.frames) throw new ShapeMismatchError(`stft ${tag}: out [${a.out.shape}] < [${2 * nb}, ${a.frames}]`);
  if (a.nFft > 64 || a.nFft % 2) throw new ShapeMismatchError(`stft ${tag}: n_fft ${a.nFft} must be even and ≤ 64`);
  const params = ctx.uniform(packParams([a.len, a.frames, a.sOffset ?? 0, 0]));
  return ctx.record(
    { shader: 'stft', entry: 'stft', defines: { N: a.nFft, H: a.hop } },
    [params, a.s, a.tables, a.out],
    [ceilDiv(a.frames, 64), 1, 1],
    tag,
  );
}
