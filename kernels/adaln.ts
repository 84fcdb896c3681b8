/**
 * LayerNorm (no affine) + AdaLN modulation (shaders/adaln.wgsl): y = LN(x)·(1 + scale[b]) + shift[b].
 * shift/scale are rows of a modulation table: element offsets of batch row 0 and the stride between batch rows.
 */
import type { GpuContext } from '../src/gpu/context.js';
import { ceilDiv, packParams } from '../src/gpu/dispatch.js';
import { ShapeMismatchError } from '../src/gpu/errors.js';
import { expectShape, type GpuTensor } from '../src/gpu/tensor.js';
import { dyn, flatGrid, sharedUniform, type DynRecord } from './flow-dims.js';

export interface AdaLnArgs {
  dims: GPUBuffer;
  /** [Mmax, C] */
  x: GpuTensor;
  /** [Mmax, C] */
  y: GpuTensor;
  /** modulation table (any shape, f32) */
  mod: GpuTensor;
  shiftBase: number;
  scaleBase: number;
  modStride: number;
  eps: number;
  /** Entry point; default `rowwise` (one thread per row, no barriers) on CPU adapters, `main` elsewhere. */
  impl?: 'workgroup' | 'rowwise';
}

export function adaLayerNorm(ctx: GpuContext, a: AdaLnArgs, tag = ''): DynRecord {
  expectShape(`adaLayerNorm ${tag} x`, a.x, [-1, -1], ['f32']);
  const [Mmax, C] = a.x.shape;
  expectShape(`adaLayerNorm ${tag} y`, a.y, [Mmax, C], ['f32']);
  const maxOff = Math.max(a.shiftBase, a.scaleBase) + C;
  if (maxOff > a.mod.numel) throw new ShapeMismatchError(`adaLayerNorm ${tag}: modulation offset ${maxOff} beyond table [${a.mod.shape}]`);
  const params = sharedUniform(ctx, packParams([C, a.shiftBase, a.scaleBase, a.modStride, { f32: a.eps }]));
  const vec4 = C % 4 === 0 && a.shiftBase % 4 === 0 && a.scaleBase % 4 === 0 && a.modStride % 4 === 0;
  const rowwise = (a.impl ?? (ctx.isCpuAdapter && vec4 ? 'rowwise' : 'workgroup')) === 'rowwise';
  if (rowwise && !vec4) throw new ShapeMismatchError(`adaLayerNorm ${tag}: rowwise reads vec4s: C, the modulation offsets and stride must be multiples of 4 (C=${C}, ${a.shiftBase}, ${a.scaleBase}, ${a.modStride})`);
  const spec = rowwise ? { shader: 'adaln', entry: 'rowwise', defines: { ROWWISE: true } } : { shader: 'adaln', entry: 'main' };
  const grid = (M: number) => (rowwise ? flatGrid(ceilDiv(M, 64)) : flatGrid(M));
  const rec = ctx.record(spec, [a.dims, params, a.x, a.y, a.mod], grid(Mmax), tag);
  return dyn(rec, (T, B) => grid(T * B));
}
