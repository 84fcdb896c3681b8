/** Elementwise kernels (shaders/elementwise.wgsl). */
import { GpuContext } from '../src/gpu/context.js';
import { ceilDiv, grid1d, packParams, type DispatchRecord } from '../src/gpu/dispatch.js';
import { ShapeMismatchError } from '../src/gpu/errors.js';
import type { GpuTensor } from '../src/gpu/tensor.js';

const WG = 256;

function flatGrid(n: number): { workgroups: [number, number, number]; rowStride: number } {
  const workgroups = grid1d(ceilDiv(n, WG));
  return { workgroups, rowStride: workgroups[0] * WG };
}

/** out = a + b (or a · b), all [n] f32. */
export function binary(ctx: GpuContext, op: 'add' | 'mul', a: GpuTensor, b: GpuTensor, out: GpuTensor, tag = ''): DispatchRecord {
  if (a.numel !== b.numel || a.numel !== out.numel) {
    throw new ShapeMismatchError(`${op}: element counts differ: a [${a.shape}], b [${b.shape}], out [${out.shape}]`);
  }
  const { workgroups, rowStride } = flatGrid(a.numel);
  const params = ctx.uniform(packParams([a.numel, rowStride, { f32: 0 }]));
  const defines = { WG, BINARY: true, [op.toUpperCase()]: true };
  return ctx.record({ shader: 'elementwise', entry: 'binary', defines }, [params, a, b, out], workgroups, tag);
}

/** out = a · s. */
export function scale(ctx: GpuContext, a: GpuTensor, s: number, out: GpuTensor, tag = ''): DispatchRecord {
  if (a.numel !== out.numel) throw new ShapeMismatchError(`scale: a [${a.shape}] vs out [${out.shape}]`);
  const { workgroups, rowStride } = flatGrid(a.numel);
  const params = ctx.uniform(packParams([a.numel, rowStride, { f32: s }]));
  return ctx.record({ shader: 'elementwise', entry: 'scale', defines: { WG } }, [params, a, out], workgroups, tag);
}
