/** Half-split RoPE (shaders/rope.wgsl) and its cos/sin table. */
import { GpuContext } from '../src/gpu/context.js';
import { ceilDiv, grid1d, packParams, type DispatchRecord } from '../src/gpu/dispatch.js';
import { ShapeMismatchError } from '../src/gpu/errors.js';
import type { GpuTensor } from '../src/gpu/tensor.js';

/**
 * [maxPos, D] table, row p = [cos(a_0..a_{D/2−1}), sin(a_0..a_{D/2−1})], a_i = f32(p · inv_freq_i), with
 * inv_freq_i = f32(1 / f32(θ ^ f32(2i / D))) as HF computes it in float32. cos/sin are evaluated in float64 and
 * rounded once, which is what an accurate float32 libm gives.
 */
export function ropeTable(theta: number, headDim: number, maxPos: number): Float32Array {
  if (headDim % 2) throw new ShapeMismatchError(`ropeTable: head_dim ${headDim} must be even`);
  const half = headDim / 2;
  const inv = new Float64Array(half);
  for (let i = 0; i < half; i++) inv[i] = Math.fround(1 / Math.fround(Math.pow(theta, Math.fround((2 * i) / headDim))));
  const t = new Float32Array(maxPos * headDim);
  for (let p = 0; p < maxPos; p++) {
    for (let i = 0; i < half; i++) {
      const a = Math.fround(p * inv[i]);
      t[p * headDim + i] = Math.cos(a);
      t[p * headDim + half + i] = Math.sin(a);
    }
  }
  return t;
}

export interface RopeArgs {
  /** [M, H, D] f32, rotated in place */
  x: GpuTensor;
  /** [maxPos, D] from ropeTable */
  table: GpuTensor;
  /** Position of row 0. */
  start: number;
}

export function rope(ctx: GpuContext, a: RopeArgs, tag = ''): DispatchRecord {
  if (a.x.shape.length !== 3) throw new ShapeMismatchError(`rope: x must be [M, H, D], got [${a.x.shape}]`);
  const [M, H, D] = a.x.shape;
  if (a.table.shape.length !== 2 || a.table.shape[1] !== D) {
    throw new ShapeMismatchError(`rope: table [${a.table.shape}] does not match head_dim ${D}`);
  }
  if (a.start + M > a.table.shape[0]) {
    throw new ShapeMismatchError(`rope: positions up to ${a.start + M - 1} exceed the table's ${a.table.shape[0]} rows`);
  }
  const workgroups = grid1d(ceilDiv((M * H * D) / 2, 64));
  const params = ctx.uniform(packParams([M, H, D, a.start, workgroups[0] * 64]));
  return ctx.record({ shader: 'rope', entry: 'rope' }, [params, a.table, a.x], workgroups, tag);
}
