/**
 * HiFT F0 predictor kernels in emulated double precision (shaders/f0.wgsl): every tensor is df64, i.e. f32
 * pairs (hi, lo) holding hi + lo, made from float64 with `packDf64` and read back with `unpackDf64`.
 *
 *   f0Conv: x [Cin, Lin] → ELU(conv(x)) [Cout, Lout], w [Cout, Cin, K], taps at t + j − padLeft, zeros outside
 *           [0, Lin) (the first layer: padLeft 0 with right padding or right context; the others: padLeft K−1)
 *   f0Head: h [C, Lout] → |cls·h + b| [Lout]
 */
import { GpuContext } from '../src/gpu/context.js';
import { ceilDiv, packParams, type DispatchRecord } from '../src/gpu/dispatch.js';
import { ShapeMismatchError } from '../src/gpu/errors.js';
import type { GpuTensor } from '../src/gpu/tensor.js';

/** float64 values → interleaved (hi, lo) f32 pairs: hi = fl32(v), lo = fl32(v − hi) (≈ 48 significant bits). */
export function packDf64(v: ArrayLike<number>): Float32Array {
  const out = new Float32Array(2 * v.length);
  for (let i = 0; i < v.length; i++) {
    const hi = Math.fround(v[i]);
    out[2 * i] = hi;
    out[2 * i + 1] = Math.fround(v[i] - hi);
  }
  return out;
}

/** (hi, lo) f32 pairs → float64 hi + lo. */
export function unpackDf64(pairs: Float32Array, n = pairs.length / 2): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = pairs[2 * i] + pairs[2 * i + 1];
  return out;
}

/** df64 elements (pairs) a tensor of f32 pairs holds. */
function pairs(t: GpuTensor): number {
  return Math.floor(t.numel / 2);
}

export interface F0ConvArgs {
  /** df64 [Cin, Lin] */
  x: GpuTensor;
  /** df64 [Cout, Cin, K] */
  w: GpuTensor;
  /** df64 [Cout] */
  bias: GpuTensor;
  /** df64 [Cout, Lout] */
  out: GpuTensor;
  cin: number;
  lin: number;
  cout: number;
  k: number;
  lout: number;
  /** Virtual zeros before x: output t reads x[t + j − padLeft], j < K. */
  padLeft: number;
}

/** One conv + ELU layer. Workgroups own [16 times × 16 couts]. */
export function f0Conv(ctx: GpuContext, a: F0ConvArgs, tag = ''): DispatchRecord {
  const { cin, lin, cout, k, lout, padLeft } = a;
  for (const [n, v] of Object.entries({ cin, lin, cout, k, lout })) {
    if (!Number.isInteger(v) || v < 1) throw new ShapeMismatchError(`f0Conv ${tag}: ${n} = ${v} must be a positive integer`);
  }
  if (!Number.isInteger(padLeft) || padLeft < 0 || padLeft >= k) throw new ShapeMismatchError(`f0Conv ${tag}: padLeft ${padLeft} outside 0..${k - 1}`);
  if (k > 8) throw new ShapeMismatchError(`f0Conv ${tag}: kernel size ${k} > 8 (the workgroup stages K taps)`);
  if (pairs(a.x) < cin * lin) throw new ShapeMismatchError(`f0Conv ${tag}: x [${a.x.shape}] holds ${pairs(a.x)} df64 values, [${cin}, ${lin}] needed`);
  if (pairs(a.w) !== cout * cin * k) throw new ShapeMismatchError(`f0Conv ${tag}: w [${a.w.shape}] holds ${pairs(a.w)} df64 values, [${cout}, ${cin}, ${k}] expected`);
  if (pairs(a.bias) !== cout) throw new ShapeMismatchError(`f0Conv ${tag}: bias [${a.bias.shape}] holds ${pairs(a.bias)} df64 values, [${cout}] expected`);
  if (pairs(a.out) < cout * lout) throw new ShapeMismatchError(`f0Conv ${tag}: out [${a.out.shape}] holds ${pairs(a.out)} df64 values, [${cout}, ${lout}] needed`);
  if (a.x.buffer === a.out.buffer) throw new ShapeMismatchError(`f0Conv ${tag}: x and out share a buffer (other workgroups still read x)`);
  const params = ctx.uniform(packParams([cin, lin, cout, lout, padLeft, 0, 0, 0]));
  return ctx.record(
    { shader: 'f0', entry: 'f0_conv', defines: { K: k } },
    [params, a.x, a.w, a.bias, a.out],
    [ceilDiv(lout, 16), ceilDiv(cout, 16), 1],
    tag,
  );
}

export interface F0HeadArgs {
  /** df64 [C, Lout] */
  h: GpuTensor;
  /** df64 [C] classifier weight */
  w: GpuTensor;
  /** df64 [1] classifier bias */
  bias: GpuTensor;
  /** df64 [Lout] */
  out: GpuTensor;
  c: number;
  lout: number;
}

/** f0[t] = |b + Σ_c w[c]·h[c, t]|: one workgroup per frame. */
export function f0Head(ctx: GpuContext, a: F0HeadArgs, tag = ''): DispatchRecord {
  const { c, lout } = a;
  if (!Number.isInteger(c) || c < 1 || !Number.isInteger(lout) || lout < 1) throw new ShapeMismatchError(`f0Head ${tag}: c ${c}, lout ${lout} must be positive integers`);
  if (lout > 65535) throw new ShapeMismatchError(`f0Head ${tag}: ${lout} frames > 65535 workgroups`);
  if (pairs(a.h) < c * lout) throw new ShapeMismatchError(`f0Head ${tag}: h [${a.h.shape}] holds ${pairs(a.h)} df64 values, [${c}, ${lout}] needed`);
  if (pairs(a.w) !== c) throw new ShapeMismatchError(`f0Head ${tag}: w [${a.w.shape}] holds ${pairs(a.w)} df64 values, [${c}] expected`);
  if (pairs(a.bias) !== 1) throw new ShapeMismatchError(`f0Head ${tag}: bias [${a.bias.shape}] must hold one df64 value`);
  if (pairs(a.out) < lout) throw new ShapeMismatchError(`f0Head ${tag}: out [${a.out.shape}] holds ${pairs(a.out)} df64 values, ${lout} needed`);
  const params = ctx.uniform(packParams([c, 0, 1, lout, 0, 0, 0, 0]));
  return ctx.record(
    { shader: 'f0', entry: 'f0_head', defines: { K: 1 } },
    [params, a.h, a.w, a.bias, a.out],
    [lout, 1, 1],
    tag,
  );
}
