/** Snake activation over [C, L] (shaders/snake.wgsl); α packed with packSnakeAlpha (kernels/conv1d.ts). */
import { GpuContext } from '../src/gpu/context.js';
import { ceilDiv, grid1d, packParams, type DispatchRecord } from '../src/gpu/dispatch.js';
import { ShapeMismatchError } from '../src/gpu/errors.js';
import type { GpuTensor } from '../src/gpu/tensor.js';

export interface SnakeArgs {
  /** [C, L] */
  x: GpuTensor;
  /** [C, 2] (α, 1/(α+1e-9)) */
  alpha: GpuTensor;
  /** [C, L]; must not alias x */
  out: GpuTensor;
  /** 'vec4': four elements a thread (needs C·L % 4 == 0 and L ≥ 4); default: vec4 where the shape allows it. */
  form?: 'scalar' | 'vec4';
}

const WG = 256;

/** Whether the vec4 entry can run [C, L]: whole vec4s, and a vec4 spanning at most two channels. */
export function snakeVec4Fits(C: number, L: number): boolean {
  return (C * L) % 4 === 0 && L >= 4;
}

export function snake(ctx: GpuContext, a: SnakeArgs, tag = ''): DispatchRecord {
  if (a.x.shape.length !== 2) throw new ShapeMismatchError(`snake ${tag}: x must be [C, L], got [${a.x.shape}]`);
  const [C, L] = a.x.shape;
  if (a.alpha.numel !== 2 * C) throw new ShapeMismatchError(`snake ${tag}: alpha [${a.alpha.shape}] should be [${C}, 2]`);
  if (C > 65535) throw new ShapeMismatchError(`snake ${tag}: ${C} channels exceed one grid dimension`);
  if (a.out.numel < C * L) throw new ShapeMismatchError(`snake ${tag}: out [${a.out.shape}] < [${C}, ${L}]`);
  const vec4 = a.form ? a.form === 'vec4' : snakeVec4Fits(C, L);
  if (!vec4) {
    const params = ctx.uniform(packParams([C * L, L, 0, 0]));
    return ctx.record({ shader: 'snake', entry: 'snake', defines: {} }, [params, a.x, a.alpha, a.out], [ceilDiv(L, WG), C, 1], tag);
  }
  if (!snakeVec4Fits(C, L)) throw new ShapeMismatchError(`snake ${tag}: the vec4 form needs C·L % 4 == 0 and L ≥ 4, got [${C}, ${L}]`);
  const n4 = (C * L) / 4;
  const workgroups = grid1d(ceilDiv(n4, WG));
  const params = ctx.uniform(packParams([n4, L, workgroups[0] * WG, 0]));
  return ctx.record({ shader: 'snake', entry: 'snake4', defines: { VEC4: true } }, [params, a.x, a.alpha, a.out], workgroups, tag);
}
