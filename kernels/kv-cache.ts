/** Fused q/k RoPE + paged K/V append (shaders/kv_cache.wgsl). */
import { GpuContext } from '../src/gpu/context.js';
import { ceilDiv, grid1d, packParams, type DispatchRecord } from '../src/gpu/dispatch.js';
import { ShapeMismatchError } from '../src/gpu/errors.js';
import { expectShape, type GpuTensor } from '../src/gpu/tensor.js';

export interface QkvAppendArgs {
  /** [M, (Hq + 2·Hkv)·D] f32 */
  qkv: GpuTensor;
  /** [maxPos, D] rope table */
  table: GpuTensor;
  /** [maxSeqs, maxPages] u32 */
  blockTable: GpuTensor;
  /** [M, Hq, D] f32 (rotated q) */
  q: GpuTensor;
  /** [numPages, 2, pageSize, Hkv, D] f32 or f16 (packed halves; one layer's pool) */
  pool: GpuTensor;
  /** 16-byte uniform {start, slot} the caller rewrites every step. */
  step: GPUBuffer;
}

export function qkvAppend(ctx: GpuContext, a: QkvAppendArgs, tag = ''): DispatchRecord {
  expectShape('qkvAppend q', a.q, [-1, -1, -1], ['f32']);
  const [M, Hq, D] = a.q.shape;
  expectShape('qkvAppend pool', a.pool, [-1, 2, -1, -1, D], ['f32', 'f16']);
  const [, , pageSize, Hkv] = a.pool.shape;
  expectShape('qkvAppend qkv', a.qkv, [M, (Hq + 2 * Hkv) * D], ['f32']);
  expectShape('qkvAppend table', a.table, [-1, D], ['f32']);
  expectShape('qkvAppend blockTable', a.blockTable, [-1, -1], ['u32', 'i32']);
  if (D % 4) throw new ShapeMismatchError(`qkvAppend: head_dim ${D} must be a multiple of 4`);
  const workgroups = grid1d(ceilDiv((M * (Hq + 2 * Hkv) * D) / 4, 64));
  const params = ctx.uniform(packParams([M, Hq, Hkv, D, pageSize, a.blockTable.shape[1], workgroups[0] * 64]));
  return ctx.record(
    { shader: 'kv_cache', entry: 'qkv_append', defines: { F16KV: a.pool.dtype === 'f16' } },
    [params, a.step, a.qkv, a.table, a.blockTable, a.q, a.pool],
    workgroups,
    tag,
  );
}
