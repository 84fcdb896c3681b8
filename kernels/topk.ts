/**
 * Top-k over logit rows (shaders/topk.wgsl): x [rows, cols] → values f32 [rows, k], indices i32 [rows, k].
 * The selection (shaders/topk_select.wgsl) is shared with the sampler's top-k (kernels/sample.ts).
 */
import { GpuContext } from '../src/gpu/context.js';
import { packParams, type DispatchRecord } from '../src/gpu/dispatch.js';
import { AdapterLimitError, ShapeMismatchError } from '../src/gpu/errors.js';
import { expectShape, type GpuTensor } from '../src/gpu/tensor.js';

export const TOPK_MAX = 64;

/** `rounds`: k argmax rounds over the row (entry `rows`). `radix`: one radix select + rank (entry `radix`). */
export type TopkImpl = 'rounds' | 'radix';

export interface TopkArgs {
  /** [rows, cols] or [cols] f32 */
  x: GpuTensor;
  k: number;
  /** [rows, k] f32, descending */
  values: GpuTensor;
  /** [rows, k] i32 column indices (ties: smaller index first) */
  indices: GpuTensor;
  /**
   * Default `radix` on every adapter; both give identical results. GPU: the k rounds are k dependent, latency-
   * bound row scans (H200, [1,6761] k=25: 142 µs). lavapipe (bench/sweep-topk.ts, GPU-timestamp µs, median of
   * 5, 2 cores shared with other jobs, so ±30 %): [1,6761] k=25 rounds 1000 / radix 290; k=64 2700 / 300;
   * [4,6761] k=25 6000 / 800: 2–3 histogram passes over registers beat k re-scans of the row there too. H200
   * (same sweep): [1,6761] k=25 rounds 170 / radix 25.3 (wg 256), 20.6 (512), 18.7 (1024); k=64 421 / 29.0 /
   * 25.0 / 23.9. So radixWorkgroup: 1024 on GPUs, 256 on CPU adapters (512 and 1024 were 10–50 % slower there).
   */
  impl?: TopkImpl;
  /** Threads per row of the radix entry: a power of two from 256 (the WebGPU floor) to the adapter's limit. */
  wg?: number;
}

/** The widest 1-D workgroup this device takes. */
export function workgroupLimit(ctx: GpuContext): number {
  return Math.min(ctx.device.limits.maxComputeInvocationsPerWorkgroup, ctx.device.limits.maxComputeWorkgroupSizeX);
}

/** Default threads per row of a radix top-k (see TopkArgs.impl for the measurements). */
export function radixWorkgroup(ctx: GpuContext): number {
  return ctx.adapterKind === 'gpu' && workgroupLimit(ctx) >= 1024 ? 1024 : 256;
}

/** Keys each radix thread keeps in registers: enough for the row, rounded to a power of two (few variants), ≤ 32. */
export function radixPerThread(cols: number, wg: number): number {
  const need = Math.ceil(cols / wg);
  let pt = 1;
  while (pt < need && pt < 32) pt *= 2;
  return pt;
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
  const res = [params, a.x, a.values, a.indices];
  if (a.impl === 'rounds') return ctx.record({ shader: 'topk', entry: 'rows', defines: { WG: 256 } }, res, [rows, 1, 1], tag);
  const wg = a.wg ?? radixWorkgroup(ctx);
  // 256 scanning threads own one histogram bin each, and the first k threads one output each.
  if (!Number.isInteger(wg) || wg < 256 || (wg & (wg - 1)) !== 0) throw new ShapeMismatchError(`topk: radix wg=${wg} must be a power of two ≥ 256`);
  const lim = workgroupLimit(ctx);
  if (wg > lim) throw new AdapterLimitError('maxComputeInvocationsPerWorkgroup (topk radix wg)', wg, lim);
  const defines = { WG: wg, PT: radixPerThread(cols, wg) };
  return ctx.record({ shader: 'topk', entry: 'radix', defines }, res, [rows, 1, 1], tag);
}
