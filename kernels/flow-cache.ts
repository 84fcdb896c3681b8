/**
 * The DiT streaming prefix cache's copies (shaders/flow_cache.wgsl; the cache itself is
 * src/models/flow/prefix-cache.ts): merging kept keys and values with a call's new rows, dropping leading rows,
 * and the Euler state's history of the cached frames.
 */
import type { GpuContext } from '../src/gpu/context.js';
import { ceilDiv, packParams } from '../src/gpu/dispatch.js';
import { ShapeMismatchError } from '../src/gpu/errors.js';
import { expectShape, type GpuTensor } from '../src/gpu/tensor.js';
import { dyn, flatGrid, sharedUniform, type DynRecord } from './flow-dims.js';

export interface KvMergeArgs {
  /** Dims of the whole sequence with lead = q0 (cached frames) and keep (end of the frames to store). */
  dims: GPUBuffer;
  /** [Mmax, 3C]: this call's q|k|v rows, frames q0 on ([B, T − q0, 3C] live) */
  qkvNew: GpuTensor;
  /** [Mmax, 3C]: the whole sequence's rows for the attention ([B, T, 3C] live) */
  qkv: GpuTensor;
  /** [B, cap, 2C]: kept k|v rows of one (solver step, block) */
  cache: GpuTensor;
}

/** Grid: one thread per vec4 of the whole sequence's qkv rows (grid(T, B) with the whole T). */
export function kvMerge(ctx: GpuContext, a: KvMergeArgs, tag = ''): DynRecord {
  expectShape(`kvMerge ${tag} qkv`, a.qkv, [-1, -1], ['f32']);
  const [Mmax, C3] = a.qkv.shape;
  expectShape(`kvMerge ${tag} qkvNew`, a.qkvNew, [Mmax, C3], ['f32']);
  expectShape(`kvMerge ${tag} cache`, a.cache, [-1, -1, (2 * C3) / 3], ['f32']);
  if (C3 % 12 !== 0) throw new ShapeMismatchError(`kvMerge ${tag}: qkv width ${C3} is not 3·C with C a multiple of 4`);
  const cap = a.cache.shape[1];
  const params = sharedUniform(ctx, packParams([C3 / 12, cap]));
  const rec = ctx.record({ shader: 'flow_cache', entry: 'kv_merge', defines: { MERGE: true } }, [a.dims, params, a.qkvNew, a.qkv, a.cache], [1, 1, 1], tag);
  return dyn(rec, (T, B) => flatGrid(ceilDiv((B * T * C3) / 4, 256)));
}

export interface RowsFromArgs {
  /** Dims whose T rows a batch item src holds; rows lead on are copied. */
  dims: GPUBuffer;
  /** [Mmax, W] */
  src: GpuTensor;
  /** [Mmax, W]: [B, T − lead, W] live */
  dst: GpuTensor;
}

/** dst[b, i] = src[b, lead + i]. Grid from the bound dims' (T, B): lead·B rows of threads idle. */
export function rowsFrom(ctx: GpuContext, a: RowsFromArgs, tag = ''): DynRecord {
  expectShape(`rowsFrom ${tag} src`, a.src, [-1, -1], ['f32']);
  const W = a.src.shape[1];
  expectShape(`rowsFrom ${tag} dst`, a.dst, [a.src.shape[0], W], ['f32']);
  if (W % 4 !== 0) throw new ShapeMismatchError(`rowsFrom ${tag}: row width ${W} is not a multiple of 4`);
  const params = sharedUniform(ctx, packParams([W / 4]));
  const rec = ctx.record({ shader: 'flow_cache', entry: 'rows_from', defines: { ROWS: true } }, [a.dims, params, a.src, a.dst], [1, 1, 1], tag);
  return dyn(rec, (T, B) => flatGrid(ceilDiv((B * T * W) / 4, 256)));
}

export interface XHistoryArgs {
  /** Dims of the new rows (q0, full, keep). */
  dims: GPUBuffer;
  /** [mel, maxFrames]: the Euler state ([mel, full] live) */
  x: GpuTensor;
  /** [steps + 1, mel, cap] */
  hist: GpuTensor;
  /** Solver step whose state x holds (0 = the noise, steps = the solution). */
  step: number;
}

/** Loads the cached frames' state at `step` into x and stores the new frames' up to keep. Grid: grid(full, ·). */
export function xHistory(ctx: GpuContext, a: XHistoryArgs, tag = ''): DynRecord {
  expectShape(`xHistory ${tag} x`, a.x, [-1, -1], ['f32']);
  const mel = a.x.shape[0];
  expectShape(`xHistory ${tag} hist`, a.hist, [-1, mel, -1], ['f32']);
  const [steps1, , cap] = a.hist.shape;
  if (!Number.isInteger(a.step) || a.step < 0 || a.step >= steps1) throw new ShapeMismatchError(`xHistory ${tag}: step ${a.step} outside hist [${a.hist.shape}]`);
  const params = sharedUniform(ctx, packParams([mel, cap, a.step]));
  const rec = ctx.record({ shader: 'flow_cache', entry: 'x_history', defines: { XHIST: true } }, [a.dims, params, a.x, a.hist], [1, 1, 1], tag);
  return dyn(rec, (T) => flatGrid(ceilDiv(mel * T, 256)));
}
