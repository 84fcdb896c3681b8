/** Row softmax / log-softmax (shaders/softmax.wgsl): x [.., cols] → out [.., cols], optional input scale. */
import { GpuContext } from '../src/gpu/context.js';
import { grid1d, packParams, type DispatchRecord } from '../src/gpu/dispatch.js';
import { ShapeMismatchError } from '../src/gpu/errors.js';
import type { GpuTensor } from '../src/gpu/tensor.js';

export interface SoftmaxArgs {
  /** [..., cols] f32; rows = numel / cols */
  x: GpuTensor;
  out: GpuTensor;
  /** Row length; defaults to the last dim of x. */
  cols?: number;
  /** Multiplies x before the softmax (1/temperature, attention scale); default 1. */
  scale?: number;
  log?: boolean;
  /**
   * The `rows_sg` entry (one 8-lane subgroup per row, no barriers). Default: on llvmpipe with subgroups of ≥ 8
   * lanes (GpuContext.hasWideSubgroups); other adapters keep the shared-memory trees.
   */
  subgroups?: boolean;
}

export function softmax(ctx: GpuContext, a: SoftmaxArgs, tag = ''): DispatchRecord {
  const cols = a.cols ?? a.x.shape[a.x.shape.length - 1];
  if (a.x.dtype !== 'f32' || a.out.dtype !== 'f32') throw new ShapeMismatchError(`softmax: x and out must be f32 (${a.x.label})`);
  if (!cols || a.x.numel % cols !== 0 || a.out.numel !== a.x.numel) {
    throw new ShapeMismatchError(`softmax: x [${a.x.shape}] / out [${a.out.shape}] do not form rows of ${cols} (${a.x.label || 'x'})`);
  }
  const rows = a.x.numel / cols;
  const grid = grid1d(rows);
  // Rows of whole vec4s are read as vec4s (VEC in the shader): lavapipe, 128×1200 softmax 695 / 679 → 464 / 411 µs
  // (two alternating runs each).
  const vec = cols % 4 === 0;
  const params = ctx.uniform(packParams([rows, vec ? cols / 4 : cols, grid[0], { f32: a.scale ?? 1 }]));
  // Each tree level is a barrier, so with many rows (enough workgroups to fill the device) 64 threads per row
  // win: lavapipe, 128×1200: 4.5 ms at 64 vs 8.2 ms at 256; 9600×600: 263 vs 798 ms. A lone long row (the
  // sampling softmax over 6761 logits) keeps 256 threads, the only parallelism there is.
  const sg = a.subgroups ?? ctx.hasWideSubgroups;
  if (sg) {
    ctx.requireWideSubgroups('softmax rows_sg');
    return ctx.record({ shader: 'softmax', entry: 'rows_sg', defines: { SG: true, LOG: !!a.log, VEC: vec } }, [params, a.x, a.out], grid, tag);
  }
  const WG = rows >= 32 || cols <= 256 ? 64 : 256;
  return ctx.record({ shader: 'softmax', entry: 'rows', defines: { WG, LOG: !!a.log, VEC: vec } }, [params, a.x, a.out], grid, tag);
}
