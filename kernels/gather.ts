/**
 * Embedding gather (shaders/gather.wgsl): table [V, D] (f32 or packed f16) rows by i32 ids [T] → out f32 [T, D].
 * A table larger than one storage binding is split into row chunks: `gatherChunked` returns one record per
 * chunk (each fills only the rows whose ids it holds).
 */
import { GpuContext } from '../src/gpu/context.js';
import { ceilDiv, grid1d, packParams, type DispatchRecord } from '../src/gpu/dispatch.js';
import { ShapeMismatchError } from '../src/gpu/errors.js';
import { expectShape, type GpuTensor } from '../src/gpu/tensor.js';

export interface GatherArgs {
  /** [V, D]: f32, or f16 packed by packWeightF16 (rows of ceil(D/2) words) */
  table: GpuTensor;
  /** [T] i32; ids outside [0, V) give zero rows */
  ids: GpuTensor;
  /** [T, D] f32 */
  out: GpuTensor;
  /** The first id the table holds (a chunk of a larger table); default 0. */
  idOffset?: number;
  /** Leave rows of ids outside this table untouched instead of zeroing them (chunked tables). */
  keepOutside?: boolean;
}

export function gatherRows(ctx: GpuContext, a: GatherArgs, tag = ''): DispatchRecord {
  if (a.table.shape.length !== 2) throw new ShapeMismatchError(`gather: table ${a.table.label || ''} must be [V, D], got [${a.table.shape}]`);
  const [V, D] = a.table.shape;
  if (a.table.dtype !== 'f32' && a.table.dtype !== 'f16') {
    throw new ShapeMismatchError(`gather: table ${a.table.label} must be f32 or f16, got ${a.table.dtype}`);
  }
  if (a.ids.dtype !== 'i32') throw new ShapeMismatchError(`gather: ids must be i32, got ${a.ids.dtype}`);
  const T = a.ids.numel;
  expectShape('gather out', a.out, [T, D], ['f32']);
  const f16 = a.table.dtype === 'f16';
  const DW = Math.ceil(D / 2);
  // Four elements a thread where rows are whole vec4s (every model width); the shader's p.D counts vec4s then.
  const vec4 = D % 4 === 0;
  const units = vec4 ? D / 4 : D;
  const workgroups = grid1d(ceilDiv(T * units, 256));
  const params = ctx.uniform(packParams([T, units, V, workgroups[0] * 256, DW, { i32: a.idOffset ?? 0 }]));
  const table = f16 ? { buffer: a.table.buffer, offset: a.table.offset, size: V * DW * 4 } : a.table;
  const defines = { TABLE_F16: f16, KEEP: !!a.keepOutside, VEC4: vec4 };
  return ctx.record({ shader: 'gather', entry: 'rows', defines }, [params, table, a.ids, a.out], workgroups, tag);
}

/** One record per table chunk; chunk i holds ids [offsets[i], offsets[i] + V_i). Rows of ids in no chunk are 0. */
export function gatherChunked(ctx: GpuContext, chunks: readonly { table: GpuTensor; idOffset: number }[], ids: GpuTensor, out: GpuTensor, tag = ''): DispatchRecord[] {
  if (!chunks.length) throw new ShapeMismatchError('gatherChunked: no table chunks');
  // The first chunk zeroes rows it does not hold; the others only fill theirs.
  return chunks.map((c, i) => gatherRows(ctx, { table: c.table, ids, out, idOffset: c.idOffset, keepOutside: i > 0 }, `${tag}${tag ? '.' : ''}chunk${i}`));
}
