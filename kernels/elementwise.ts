/** Elementwise kernels (shaders/elementwise.wgsl): binary ops (with optional row broadcast), scale, activations. */
import { GpuContext } from '../src/gpu/context.js';
import { ceilDiv, grid1d, packParams, type DispatchRecord } from '../src/gpu/dispatch.js';
import { ShapeMismatchError } from '../src/gpu/errors.js';
import type { GpuTensor } from '../src/gpu/tensor.js';
import type { Activation } from './matmul.js';

const WG = 256;

/** Elements per thread: 1 for small n (latency), up to ITEMS_MAX once there are plenty of workgroups. */
let ITEMS_MAX = 4;
/** Benchmark/tuning hook: the most elements one thread handles (default 4). */
export function setElementwiseItems(k: number): void {
  ITEMS_MAX = k;
}

/**
 * The grid over n elements, as vec4s (`vec`) when n and the broadcast row `d` (0: none) are multiples of 4;
 * `n`/`d` come back in the units the shader indexes.
 */
function flatGrid(numel: number, d = 0): { workgroups: [number, number, number]; rowStride: number; items: number; total: number; vec: boolean; n: number; d: number } {
  const vec = numel % 4 === 0 && d % 4 === 0 && numel > 0;
  const n = vec ? numel / 4 : numel;
  const items = n >= 64 * WG * ITEMS_MAX ? ITEMS_MAX : 1;
  const workgroups = grid1d(ceilDiv(n, WG * items));
  const total = workgroups[0] * workgroups[1] * WG;
  return { workgroups, rowStride: workgroups[0] * WG, items, total, vec, n, d: vec ? d / 4 : d };
}

/**
 * out = a + b (or a · b). Same element counts, or b is one row [D] broadcast over a [.., D] (D = b.numel must
 * divide a.numel, e.g. adding a bias or a per-channel vector).
 */
export function binary(ctx: GpuContext, op: 'add' | 'mul', a: GpuTensor, b: GpuTensor, out: GpuTensor, tag = ''): DispatchRecord {
  const bcast = b.numel !== a.numel;
  if (a.numel !== out.numel || (bcast && (b.numel === 0 || a.numel % b.numel !== 0))) {
    throw new ShapeMismatchError(`${op}: element counts differ: a [${a.shape}], b [${b.shape}], out [${out.shape}] (b may also be one row of a)`);
  }
  const g = flatGrid(a.numel, bcast ? b.numel : 0);
  const params = ctx.uniform(packParams([g.n, g.rowStride, { f32: 0 }, g.d, g.total]));
  const defines = { WG, ITEMS: g.items, VEC: g.vec, BINARY: true, BCAST: bcast, [op.toUpperCase()]: true };
  return ctx.record({ shader: 'elementwise', entry: 'binary', defines }, [params, a, b, out], g.workgroups, tag);
}

/** out = a · s. */
export function scale(ctx: GpuContext, a: GpuTensor, s: number, out: GpuTensor, tag = ''): DispatchRecord {
  if (a.numel !== out.numel) throw new ShapeMismatchError(`scale: a [${a.shape}] vs out [${out.shape}]`);
  const g = flatGrid(a.numel);
  const params = ctx.uniform(packParams([g.n, g.rowStride, { f32: s }, 0, g.total]));
  return ctx.record({ shader: 'elementwise', entry: 'scale', defines: { WG, ITEMS: g.items, VEC: g.vec } }, [params, a, out], g.workgroups, tag);
}

const ACT_DEFINE: Record<Activation, string> = { silu: 'ACT_SILU', gelu_tanh: 'ACT_GELU', mish: 'ACT_MISH', leaky_relu: 'ACT_LEAKY' };

/** out = act(a); `alpha` is leaky_relu's negative slope (default 0.01). */
export function activation(ctx: GpuContext, act: Activation, a: GpuTensor, out: GpuTensor, alpha = 0.01, tag = ''): DispatchRecord {
  if (a.numel !== out.numel) throw new ShapeMismatchError(`${act}: a [${a.shape}] vs out [${out.shape}]`);
  if (!(act in ACT_DEFINE)) throw new ShapeMismatchError(`activation: unknown activation ${String(act)}`);
  const g = flatGrid(a.numel);
  const params = ctx.uniform(packParams([g.n, g.rowStride, { f32: alpha }, 0, g.total]));
  const defines = { WG, ITEMS: g.items, VEC: g.vec, [ACT_DEFINE[act]]: true };
  return ctx.record({ shader: 'elementwise', entry: 'unary', defines }, [params, a, out], g.workgroups, tag);
}
