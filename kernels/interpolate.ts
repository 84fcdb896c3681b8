/** Time resampling (shaders/interpolate.wgsl): x [C, Tin] → out [C, Tout], nearest or linear (align_corners=False). */
import { GpuContext } from '../src/gpu/context.js';
import { ceilDiv, packParams, type DispatchRecord } from '../src/gpu/dispatch.js';
import { ShapeMismatchError } from '../src/gpu/errors.js';
import type { GpuTensor } from '../src/gpu/tensor.js';

export function interpolate(ctx: GpuContext, mode: 'nearest' | 'linear', x: GpuTensor, out: GpuTensor, tag = ''): DispatchRecord {
  if (x.shape.length !== 2 || out.shape.length !== 2 || x.shape[0] !== out.shape[0]) {
    throw new ShapeMismatchError(`interpolate ${tag}: x [${x.shape}] and out [${out.shape}] must be [C, T] with the same C`);
  }
  const [C, tin] = x.shape;
  const tout = out.shape[1];
  if (tin < 1 || tout < 1 || C > 65535) throw new ShapeMismatchError(`interpolate ${tag}: [${C}, ${tin}] → [${C}, ${tout}]`);
  if (mode === 'linear' && 2 * tin * tout >= 2 ** 32) {
    // The shader's exact source position works in u32 (shaders/interpolate.wgsl); ~46k frames each way.
    throw new ShapeMismatchError(`interpolate ${tag}: linear [${C}, ${tin}] → [${C}, ${tout}] needs 2·Tin·Tout < 2^32`);
  }
  const params = ctx.uniform(packParams([tin, tout, { f32: tin / tout }]));
  return ctx.record({ shader: 'interpolate', entry: 'interpolate', defines: { LINEAR: mode === 'linear' } }, [params, x, out], [ceilDiv(tout, 256), C, 1], tag);
}
