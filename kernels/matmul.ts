/**
 * Linear layers (shaders/matmul.wgsl): y[M, N] = x[M, K] · W[N, K]ᵀ (+ bias) (+ residual).
 * GEMV for M ≤ 4 (decode), tiled GEMM above.
 */
import { GpuContext } from '../src/gpu/context.js';
import { ceilDiv, packParams, type DispatchRecord } from '../src/gpu/dispatch.js';
import { ShapeMismatchError } from '../src/gpu/errors.js';
import { expectShape, type GpuTensor } from '../src/gpu/tensor.js';

export interface LinearArgs {
  /** [M, K] (leading dims flattened) */
  x: GpuTensor;
  /** [N, K] */
  w: GpuTensor;
  /** [M, N] */
  y: GpuTensor;
  /** [N] */
  bias?: GpuTensor;
  /** [M, N] added after the bias */
  residual?: GpuTensor;
  /** Force an entry point (tests cover both on every shape). */
  mode?: 'gemv' | 'gemm';
}

export function linear(ctx: GpuContext, a: LinearArgs, tag = ''): DispatchRecord {
  if (a.w.shape.length !== 2) throw new ShapeMismatchError(`linear: weight must be [N, K], got [${a.w.shape}]`);
  const [N, K] = a.w.shape;
  if (a.x.numel % K !== 0) throw new ShapeMismatchError(`linear: x [${a.x.shape}] is not a multiple of K=${K}`);
  const M = a.x.numel / K;
  if (a.y.numel !== M * N) throw new ShapeMismatchError(`linear: y [${a.y.shape}] should hold [${M}, ${N}]`);
  if (a.bias) expectShape('linear bias', a.bias, [N], ['f32']);
  if (a.residual && a.residual.numel !== M * N) {
    throw new ShapeMismatchError(`linear: residual [${a.residual.shape}] should hold [${M}, ${N}]`);
  }
  const mode = a.mode ?? (M <= 4 ? 'gemv' : 'gemm');
  const defines = { BIAS: !!a.bias, RESIDUAL: !!a.residual };
  const params = ctx.uniform(packParams([M, N, K]));
  const grid: [number, number, number] = mode === 'gemv' ? [ceilDiv(N, 4), M, 1] : [ceilDiv(N, 64), ceilDiv(M, 64), 1];
  return ctx.record(
    { shader: 'matmul', entry: mode, defines },
    [params, a.x, a.w, a.y, a.bias ?? null, a.residual ?? null],
    grid,
    tag,
  );
}
