/** Row reductions (shaders/reduce.wgsl): x [rows, cols] → out [rows]. */
import { GpuContext } from '../src/gpu/context.js';
import { packParams, type DispatchRecord } from '../src/gpu/dispatch.js';
import { expectShape, type GpuTensor } from '../src/gpu/tensor.js';

export function reduceRows(ctx: GpuContext, op: 'sum' | 'max', x: GpuTensor, out: GpuTensor, tag = ''): DispatchRecord {
  const [rows, cols] = x.shape.length === 1 ? [1, x.shape[0]] : [x.shape[0], x.numel / x.shape[0]];
  expectShape('reduceRows out', out, [rows], ['f32']);
  const params = ctx.uniform(packParams([rows, cols]));
  const defines = { WG: 256, [op.toUpperCase()]: true };
  return ctx.record({ shader: 'reduce', entry: 'rows', defines }, [params, x, out], [rows, 1, 1], tag);
}
