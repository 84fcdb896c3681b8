/**
 * Copies (shaders/copy.wgsl): one strided 4-D copy kernel behind copy, slice, concat and transpose of 32-bit
 * tensors. Element offsets travel in the uniform, so views need not sit at 256-byte aligned byte offsets.
 */
import { GpuContext } from '../src/gpu/context.js';
import { ceilDiv, grid1d, packParams, type DispatchRecord } from '../src/gpu/dispatch.js';
import { ShapeMismatchError } from '../src/gpu/errors.js';
import { contiguousStrides, numel, type GpuTensor } from '../src/gpu/tensor.js';

export interface StridedCopyArgs {
  src: GpuTensor;
  dst: GpuTensor;
  /** The index space (≤ 4 dims). */
  shape: readonly number[];
  /** Element strides of src / dst for each dim of `shape` (default: the tensors' own strides). */
  srcStrides?: readonly number[];
  dstStrides?: readonly number[];
  /** Element offsets added to the tensors' own offsets. */
  srcOffset?: number;
  dstOffset?: number;
}

const WORD_TYPES = new Set(['f32', 'i32', 'u32']);

/** A binding that starts at the 256-aligned byte offset at or below the tensor, plus the element shift to it. */
function wordBinding(t: GpuTensor): { binding: GPUBufferBinding; shift: number } {
  const base = Math.floor(t.offset / 256) * 256;
  return { binding: { buffer: t.buffer, offset: base, size: t.offset - base + t.byteLength }, shift: (t.offset - base) / 4 };
}

function pad4(v: readonly number[], fill: number): number[] {
  return [...new Array<number>(4 - v.length).fill(fill), ...v];
}

export function copyStrided(ctx: GpuContext, a: StridedCopyArgs, tag = ''): DispatchRecord {
  const what = `copy ${a.src.label || 'src'} → ${a.dst.label || 'dst'}`;
  if (!WORD_TYPES.has(a.src.dtype) || a.src.dtype !== a.dst.dtype) {
    throw new ShapeMismatchError(`${what}: needs equal 32-bit dtypes, got ${a.src.dtype} → ${a.dst.dtype}`);
  }
  if (a.shape.length > 4) throw new ShapeMismatchError(`${what}: at most 4 dims, got [${a.shape}]`);
  const ss = a.srcStrides ?? a.src.strides;
  const ds = a.dstStrides ?? a.dst.strides;
  if (ss.length !== a.shape.length || ds.length !== a.shape.length) {
    throw new ShapeMismatchError(`${what}: strides [${ss}] / [${ds}] do not match shape [${a.shape}]`);
  }
  // Bounds: the last element touched must lie inside each tensor.
  const last = (st: readonly number[], off: number) => off + a.shape.reduce((s, d, i) => s + (d - 1) * st[i], 0);
  const n = numel(a.shape);
  if (n > 0 && (last(ss, a.srcOffset ?? 0) >= a.src.numel || last(ds, a.dstOffset ?? 0) >= a.dst.numel)) {
    throw new ShapeMismatchError(`${what}: index space [${a.shape}] runs past src [${a.src.shape}] or dst [${a.dst.shape}]`);
  }
  const s = wordBinding(a.src), d = wordBinding(a.dst);
  let shape = pad4(a.shape, 1), srcSt = pad4(ss, 0), dstSt = pad4(ds, 0);
  let srcOff = s.shift + (a.srcOffset ?? 0), dstOff = d.shift + (a.dstOffset ?? 0), count = n;
  // vec4 form: the innermost dim contiguous on both sides, every other offset and stride in whole vec4s (a
  // dim of length 1 never moves, so its stride does not matter and becomes 0).
  const by4 = (v: number) => v % 4 === 0;
  const outerBy4 = (st: number[]) => [0, 1, 2].every((i) => shape[i] === 1 || by4(st[i]));
  const vec = n > 0 && srcSt[3] === 1 && dstSt[3] === 1 && by4(shape[3]) && by4(srcOff) && by4(dstOff) && outerBy4(srcSt) && outerBy4(dstSt);
  if (vec) {
    const quarter = (st: number[]) => [0, 1, 2].map((i) => (shape[i] === 1 ? 0 : st[i] / 4)).concat(1);
    [srcSt, dstSt] = [quarter(srcSt), quarter(dstSt)];
    shape = [shape[0], shape[1], shape[2], shape[3] / 4];
    srcOff /= 4;
    dstOff /= 4;
    count = n / 4;
  }
  // 4 elements per thread once there are plenty of workgroups (workgroup start-up dominates on CPU drivers).
  const items = count >= 64 * 256 * 4 ? 4 : 1;
  const workgroups = grid1d(ceilDiv(Math.max(count, 1), 256 * items));
  const params = ctx.uniform(packParams([...shape, ...srcSt, ...dstSt, count, srcOff, dstOff, workgroups[0] * 256, workgroups[0] * workgroups[1] * 256]));
  return ctx.record({ shader: 'copy', entry: 'strided', defines: { ITEMS: items, VEC: vec } }, [params, s.binding, d.binding], workgroups, tag);
}

/** dst = src (same element count, both contiguous). */
export function copy(ctx: GpuContext, src: GpuTensor, dst: GpuTensor, tag = ''): DispatchRecord {
  if (src.numel !== dst.numel) throw new ShapeMismatchError(`copy: src [${src.shape}] and dst [${dst.shape}] differ in size`);
  return copyStrided(ctx, { src, dst, shape: [src.numel], srcStrides: [1], dstStrides: [1] }, tag);
}

/** dst = src.narrow(dim, start, dst.shape[dim]) (PyTorch semantics; other dims must match). */
export function slice(ctx: GpuContext, src: GpuTensor, dst: GpuTensor, dim: number, start: number, tag = ''): DispatchRecord {
  const len = dst.shape[dim];
  const ok = src.shape.length === dst.shape.length && src.shape.every((v, i) => i === dim || v === dst.shape[i]);
  if (!ok || start < 0 || start + len > src.shape[dim]) {
    throw new ShapeMismatchError(`slice: src [${src.shape}] dim ${dim} [${start}, ${start + len}) does not give dst [${dst.shape}]`);
  }
  const st = contiguousStrides(src.shape);
  return copyStrided(ctx, { src, dst, shape: dst.shape, srcStrides: st, srcOffset: start * st[dim] }, tag);
}

/** out = torch.cat(inputs, dim): one record per input. */
export function concat(ctx: GpuContext, inputs: readonly GpuTensor[], out: GpuTensor, dim: number, tag = ''): DispatchRecord[] {
  const total = inputs.reduce((s, t) => s + t.shape[dim], 0);
  const ok = inputs.every((t) => t.shape.length === out.shape.length && t.shape.every((v, i) => i === dim || v === out.shape[i]));
  if (!ok || total !== out.shape[dim]) {
    throw new ShapeMismatchError(`concat dim ${dim}: inputs ${inputs.map((t) => `[${t.shape}]`).join(', ')} do not give out [${out.shape}]`);
  }
  const st = contiguousStrides(out.shape);
  let at = 0;
  return inputs.map((t, i) => {
    const r = copyStrided(ctx, { src: t, dst: out, shape: t.shape, dstStrides: st, dstOffset: at * st[dim] }, `${tag}${tag ? '.' : ''}cat${i}`);
    at += t.shape[dim];
    return r;
  });
}

/** dst = src.permute(perm).contiguous(). */
export function transpose(ctx: GpuContext, src: GpuTensor, dst: GpuTensor, perm: readonly number[], tag = ''): DispatchRecord {
  const want = perm.map((p) => src.shape[p]);
  if (perm.length !== src.shape.length || [...perm].sort().some((p, i) => p !== i) || want.some((v, i) => v !== dst.shape[i])) {
    throw new ShapeMismatchError(`transpose: src [${src.shape}] permuted by [${perm}] is [${want}], dst is [${dst.shape}]`);
  }
  const st = contiguousStrides(src.shape);
  return copyStrided(ctx, { src, dst, shape: dst.shape, srcStrides: perm.map((p) => st[p]) }, tag);
}
