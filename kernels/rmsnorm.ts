/** RMSNorm and the SwiGLU gate product (shaders/rmsnorm.wgsl). */
import { GpuContext } from '../src/gpu/context.js';
import { ceilDiv, grid1d, packParams, type DispatchRecord } from '../src/gpu/dispatch.js';
import { ShapeMismatchError } from '../src/gpu/errors.js';
import { expectShape, type GpuTensor } from '../src/gpu/tensor.js';

const WG = 128;

export interface RmsNormArgs {
  /** [R, C] f32; rows [rowOffset, rowOffset + rows) are normalised */
  x: GpuTensor;
  /** [C] f32 */
  weight: GpuTensor;
  /** [rows, C] f32 */
  y: GpuTensor;
  eps: number;
  /** First row of x to read (default 0). */
  rowOffset?: number;
  /** Rows to normalise (default: all rows of y). */
  rows?: number;
}

export function rmsNorm(ctx: GpuContext, a: RmsNormArgs, tag = ''): DispatchRecord {
  const C = a.weight.shape[a.weight.shape.length - 1];
  expectShape('rmsNorm weight', a.weight, [C], ['f32']);
  if (a.x.dtype !== 'f32' || a.y.dtype !== 'f32') throw new ShapeMismatchError('rmsNorm: x and y must be f32');
  if (a.x.numel % C !== 0) throw new ShapeMismatchError(`rmsNorm: x [${a.x.shape}] is not a multiple of cols ${C}`);
  const rows = a.rows ?? a.y.numel / C;
  const r0 = a.rowOffset ?? 0;
  if (a.y.numel < rows * C) throw new ShapeMismatchError(`rmsNorm: y [${a.y.shape}] cannot hold ${rows}×${C}`);
  if (r0 + rows > a.x.numel / C) {
    throw new ShapeMismatchError(`rmsNorm: rows [${r0}, ${r0 + rows}) exceed x [${a.x.shape}]`);
  }
  if (a.x.buffer === a.y.buffer) throw new ShapeMismatchError('rmsNorm: x and y must be different buffers');
  const params = ctx.uniform(packParams([rows, C, r0, { f32: a.eps }, 0]));
  return ctx.record(
    { shader: 'rmsnorm', entry: 'rmsnorm', defines: { WG, NORM: true } },
    [params, a.x, a.weight, a.y],
    [rows, 1, 1],
    tag,
  );
}

/** a[M, F] = silu(gu[:, :F]) · gu[:, F:] with gu [M, 2F]. */
export function siluMul(ctx: GpuContext, gu: GpuTensor, out: GpuTensor, tag = ''): DispatchRecord {
  const F = out.shape[out.shape.length - 1];
  const M = out.numel / F;
  if (gu.numel !== 2 * M * F) throw new ShapeMismatchError(`siluMul: gu [${gu.shape}] should hold [${M}, ${2 * F}]`);
  const workgroups = grid1d(ceilDiv(M * F, WG));
  const params = ctx.uniform(packParams([M, F, 0, { f32: 0 }, workgroups[0] * WG]));
  return ctx.record(
    { shader: 'rmsnorm', entry: 'silu_mul', defines: { WG, SILU_MUL: true } },
    [params, gu, null, out],
    workgroups,
    tag,
  );
}
