/** Snake activation over [C, L] (shaders/snake.wgsl); α packed with packSnakeAlpha (kernels/conv1d.ts). */
import { GpuContext } from '../src/gpu/context.js';
import { ceilDiv, packParams, type DispatchRecord } from '../src/gpu/dispatch.js';
import { ShapeMismatchError } from '../src/gpu/errors.js';
import type { GpuTensor } from '../src/gpu/tensor.js';

export interface SnakeArgs {
  /** [C, L] */
  x: GpuTensor;
  /** [C, 2] (α, 1/(α+1e-9)) */
  alpha: GpuTensor;
  /** [C, L]; must not alias x */
  out: GpuTensor;
}

export function snake(ctx: GpuContext, a: SnakeArgs, tag = ''): DispatchRecord {
  if (a.x.shape.length !== 2) throw new ShapeMismatchError(`snake ${tag}: x must be [C, L], got [${a.x.shape}]`);
  const [C, L] = a.x.shape;
  if (a.alpha.numel !== 2 * C) throw new ShapeMismatchError(`snake ${tag}: alpha [${a.alpha.shape}] should be [${C}, 2]`);
  if (C > 65535) throw new ShapeMismatchError(`snake ${tag}: ${C} channels exceed one grid dimension`);
  if (a.out.numel < C * L) throw new ShapeMismatchError(`snake ${tag}: out [${a.out.shape}] < [${C}, ${L}]`);
  const params = ctx.uniform(packParams([C * L, L, 0, 0]));
  return ctx.record({ shader: 'snake', entry: 'snake', defines: {} }, [params, a.x, a.alpha, a.out], [ceilDiv(L, 256), C, 1], tag);
}
