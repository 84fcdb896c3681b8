/** Top-k over logit rows (shaders/topk.wgsl): x [rows, cols] → values f32 [rows, k], indices i32 [rows, k]. */
import { GpuContext } from '../src/gpu/context.js';
import { packParams, type DispatchRecord } from '../src/gpu/dispatch.js';
import { ShapeMismatchError } from '../src/gpu/errors.js';
import { expectShape, type GpuTensor } from '../src/gpu/tensor.js';

export const TOPK_MAX = 64;

export interface TopkArgs {
  /** [rows, cols] or [cols] f32 */
  x: GpuTensor;
  k: number;
  /** [rows, k] f32, descending */
  values: GpuTensor;
  /** [rows, k] i32 column indices (ties: smaller index first) */
  indices: GpuTensor;
}

export function topk(ctx: GpuContext, a: TopkArgs, tag = ''): DispatchRecord {
  const cols = a.x.shape[a.x.shape.length - 1];
  const rows = a.x.numel / cols;
  if (!Number.isInteger(a.k) || a.k < 1 || a.k > TOPK_MAX) {
    throw new ShapeMismatchError(`topk: k=${a.k} must be an integer in [1, ${TOPK_MAX}] (${a.x.label || 'x'} [${a.x.shape}])`);
  }
  if (a.x.dtype !== 'f32') throw new ShapeMismatchError(`topk: x must be f32, got ${a.x.dtype}`);
  expectShape('topk values', a.values, [rows, a.k].slice(a.values.shape.length === 1 ? 1 : 0), ['f32']);
  expectShape('topk indices', a.indices, [rows, a.k].slice(a.indices.shape.length === 1 ? 1 : 0), ['i32']);
  if (rows > 65535) throw new ShapeMismatchError(`topk: ${rows} rows exceed one grid dimension`);
  const params = ctx.uniform(packParams([rows, cols, a.k]));
  return ctx.record({ shader: 'topk', entry: 'rows', defines: { WG: 256 } }, [params, a.x, a.values, a.indices], [rows, 1, 1], tag);
}
