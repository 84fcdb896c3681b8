/**
 * Causal grouped Conv1d + Mish of the DiT conv position embedding (shaders/conv_pos.wgsl), on time-major rows.
 * w: Conv1d weight [C, C/groups, KS]; `res` adds the residual after the Mish.
 */
import type { GpuContext } from '../src/gpu/context.js';
import { ceilDiv, packParams } from '../src/gpu/dispatch.js';
import { ShapeMismatchError } from '../src/gpu/errors.js';
import { expectShape, type GpuTensor } from '../src/gpu/tensor.js';
import { dyn, sharedUniform, type DynRecord } from './flow-dims.js';

export interface ConvPosArgs {
  dims: GPUBuffer;
  /** [Mmax, C] */
  x: GpuTensor;
  /** [C, CPG, KS] */
  w: GpuTensor;
  /** [C] */
  bias: GpuTensor;
  /** [Mmax, C] (must not alias x or res) */
  y: GpuTensor;
  /** [Mmax, C] */
  res?: GpuTensor;
}

export function convPos(ctx: GpuContext, a: ConvPosArgs, tag = ''): DynRecord {
  expectShape(`convPos ${tag} x`, a.x, [-1, -1], ['f32']);
  const [Mmax, C] = a.x.shape;
  expectShape(`convPos ${tag} w`, a.w, [C, -1, -1], ['f32']);
  const [, CPG, KS] = a.w.shape;
  if (C % CPG !== 0) throw new ShapeMismatchError(`convPos ${tag}: C=${C} not a multiple of channels per group ${CPG}`);
  const OCB = Math.min(CPG, 64);
  if (CPG % OCB !== 0 || 256 % OCB !== 0) throw new ShapeMismatchError(`convPos ${tag}: channels per group ${CPG} unsupported`);
  if ((32 + KS - 1) * CPG * 4 > 16384) throw new ShapeMismatchError(`convPos ${tag}: window (${32 + KS - 1}×${CPG}) exceeds 16 KiB of workgroup memory`);
  expectShape(`convPos ${tag} bias`, a.bias, [C], ['f32']);
  expectShape(`convPos ${tag} y`, a.y, [Mmax, C], ['f32']);
  if (a.res) expectShape(`convPos ${tag} res`, a.res, [Mmax, C], ['f32']);
  const params = sharedUniform(ctx, packParams([C]));
  const rec = ctx.record(
    { shader: 'conv_pos', entry: 'main', defines: { CPG, KS, OCB, RESIDUAL: !!a.res } },
    [a.dims, params, a.x, a.w, a.bias, a.y, a.res ?? null],
    [1, C / OCB, 1],
    tag,
  );
  return dyn(rec, (T, B) => [ceilDiv(T, 32), C / OCB, B]);
}
