/**
 * Reductions and normalisations of the CPU ONNX interpreter: Reduce{Mean,Sum,Max,Min,Prod,SumSquare,L1,L2,
 * LogSumExp}, ArgMax/ArgMin, Softmax/LogSoftmax, LayerNormalization, BatchNormalization (inference),
 * InstanceNormalization. Sums run in float64 (ONNX Runtime sums in float32, so float32 results may differ in the
 * last bits; the oracle test states the tolerance).
 */
import type { CpuKernels } from '../../kernels/cpu-linear.js';
import { OnnxRunError, alloc, allocFloat32, axisOf, conform, nextOffset, numel, type Value } from './tensor.js';

type Reducer = { init: number; step: (acc: number, x: number) => number; done?: (acc: number, n: number) => number };
const REDUCERS: Record<string, Reducer> = {
  ReduceSum: { init: 0, step: (a, x) => a + x },
  ReduceMean: { init: 0, step: (a, x) => a + x, done: (a, n) => a / n },
  ReduceMax: { init: -Infinity, step: (a, x) => (x > a || Number.isNaN(x) ? x : a) },
  ReduceMin: { init: Infinity, step: (a, x) => (x < a || Number.isNaN(x) ? x : a) },
  ReduceProd: { init: 1, step: (a, x) => a * x },
  ReduceSumSquare: { init: 0, step: (a, x) => a + x * x },
  ReduceL1: { init: 0, step: (a, x) => a + Math.abs(x) },
  ReduceL2: { init: 0, step: (a, x) => a + x * x, done: (a) => Math.sqrt(a) },
  ReduceLogSumExp: { init: 0, step: (a, x) => a + Math.exp(x), done: (a) => Math.log(a) },
};
export const REDUCE_OPS = new Set(Object.keys(REDUCERS));

/** Reduction over `axes` (undefined: all axes, unless noopWithEmpty). */
export function reduce(op: string, x: Value, axes: readonly number[] | undefined, keepdims: boolean, noopWithEmpty: boolean, what: string): Value {
  const r = x.dims.length;
  if ((axes === undefined || axes.length === 0) && noopWithEmpty) return x;
  const set = new Set((axes && axes.length ? axes : x.dims.map((_, i) => i)).map((a) => axisOf(a, r, what)));
  const red = REDUCERS[op];
  const outDims = x.dims.map((d, i) => (set.has(i) ? 1 : d));
  const n = numel(outDims);
  const acc = new Float64Array(n).fill(red.init);
  const inner = x.data.length / Math.max(1, n);
  if ([...set].every((a) => a >= r - set.size) && n > 0) {
    // The trailing axes (a mean over time, a norm's statistics): each output sums one contiguous run.
    const d = x.data, sum = op === 'ReduceSum' || op === 'ReduceMean';
    for (let o = 0, i = 0; o < n; o++) {
      let a = red.init;
      if (sum) for (const end = i + inner; i < end; i++) a += d[i];
      else for (const end = i + inner; i < end; i++) a = red.step(a, d[i]);
      acc[o] = a;
    }
    return reduced(x, acc, red, inner, keepdims ? outDims : x.dims.filter((_, i) => !set.has(i)));
  }
  // Output strides (0 on reduced axes) walked with the input's multi-index.
  const os: number[] = new Array<number>(r);
  let s = 1;
  for (let i = r - 1; i >= 0; i--) {
    os[i] = set.has(i) ? 0 : s;
    s *= outDims[i];
  }
  const idx = new Array<number>(r).fill(0);
  let o = 0;
  for (let i = 0; i < x.data.length; i++) {
    acc[o] = red.step(acc[o], x.data[i]);
    o = nextOffset(idx, o, x.dims, os, r - 1);
  }
  return reduced(x, acc, red, inner, keepdims ? outDims : x.dims.filter((_, i) => !set.has(i)));
}

/** The reduction's outputs from its accumulators (`count` values each). */
function reduced(x: Value, acc: Float64Array, red: Reducer, count: number, dims: number[]): Value {
  const out = alloc(x.dtype, acc.length);
  for (let i = 0; i < acc.length; i++) out[i] = red.done ? red.done(acc[i], count) : acc[i];
  conform(x.dtype, out);
  return { dtype: x.dtype, dims, data: out };
}

export function argReduce(op: 'ArgMax' | 'ArgMin', x: Value, axis: number, keepdims: boolean, selectLast: boolean, what: string): Value {
  const a = axisOf(axis, x.dims.length, what);
  const D = x.dims[a];
  const outer = numel(x.dims.slice(0, a)), inner = numel(x.dims.slice(a + 1));
  const out = new Float64Array(outer * inner);
  const better = op === 'ArgMax' ? (v: number, b: number) => v > b : (v: number, b: number) => v < b;
  for (let b = 0; b < outer; b++) {
    for (let j = 0; j < inner; j++) {
      let bi = 0, bv = x.data[b * D * inner + j];
      for (let t = 1; t < D; t++) {
        const v = x.data[(b * D + t) * inner + j];
        if (better(v, bv) || (selectLast && v === bv)) {
          bv = v;
          bi = t;
        }
      }
      out[b * inner + j] = bi;
    }
  }
  const dims = keepdims ? x.dims.map((d, i) => (i === a ? 1 : d)) : x.dims.filter((_, i) => i !== a);
  return { dtype: 'int64', dims, data: out };
}

/**
 * Softmax / LogSoftmax. Opset ≥ 13: over `axis` alone (default −1). Opset < 13: over the flattened dims from `axis`
 * on (default 1), as those opsets coerce the input to 2-D.
 */
export function softmax(x: Value, axis: number | undefined, opset: number, log: boolean, what: string, kernels?: CpuKernels): Value {
  const r = x.dims.length;
  let outer: number, D: number, inner: number;
  if (opset >= 13) {
    const a = axisOf(axis ?? -1, r, what);
    outer = numel(x.dims.slice(0, a));
    D = x.dims[a];
    inner = numel(x.dims.slice(a + 1));
  } else {
    const a = axisOf(axis ?? 1, r, what);
    outer = numel(x.dims.slice(0, a));
    D = numel(x.dims.slice(a));
    inner = 1;
  }
  // Contiguous float32 rows (the last axis: attention's probabilities) in WebAssembly, four lanes at a time.
  if (kernels && inner === 1 && x.data instanceof Float32Array && x.dtype === 'float32' && D > 0) {
    return { dtype: 'float32', dims: [...x.dims], data: kernels.softmaxRows(x.data, outer, D, log, allocFloat32(x.data.length)) };
  }
  const out = alloc(x.dtype, x.data.length);
  const xd = x.data;
  for (let b = 0; b < outer; b++) {
    for (let j = 0; j < inner; j++) {
      // Row of D values, `inner` apart. One exp a value: the exponentials go into out (float64 sum), then out is
      // scaled (or, for log, rewritten).
      const o = b * D * inner + j;
      let m = -Infinity;
      for (let t = 0, i = o; t < D; t++, i += inner) if (xd[i] > m) m = xd[i];
      let s = 0;
      for (let t = 0, i = o; t < D; t++, i += inner) {
        const e = Math.exp(xd[i] - m);
        out[i] = e;
        s += e;
      }
      if (log) {
        const ls = Math.log(s);
        for (let t = 0, i = o; t < D; t++, i += inner) out[i] = xd[i] - m - ls;
      } else {
        const inv = 1 / s;
        for (let t = 0, i = o; t < D; t++, i += inner) out[i] *= inv;
      }
    }
  }
  conform(x.dtype, out);
  return { dtype: x.dtype, dims: [...x.dims], data: out };
}

/** LayerNormalization over the dims from `axis` on: (x − mean)/√(var + eps)·scale + bias; mean/invStd as extra outputs. */
export function layerNorm(x: Value, scale: Value, bias: Value | undefined, axis: number, eps: number, what: string): Value[] {
  const a = axisOf(axis, x.dims.length, what);
  const outer = numel(x.dims.slice(0, a)), D = numel(x.dims.slice(a));
  if (scale.data.length !== D && scale.data.length !== 1) throw new OnnxRunError(`${what}: LayerNormalization scale [${scale.dims}] for rows of ${D}`);
  const out = alloc(x.dtype, x.data.length);
  const mean = new Float32Array(outer), inv = new Float32Array(outer);
  // Scale and bias as full rows (a one-element one broadcast), so the row loop reads typed arrays only.
  const sc = new Float64Array(D), bi = new Float64Array(D);
  for (let i = 0; i < D; i++) {
    sc[i] = scale.data[scale.data.length === 1 ? 0 : i];
    bi[i] = bias ? bias.data[bias.data.length === 1 ? 0 : i] : 0;
  }
  const xd = x.data;
  for (let b = 0; b < outer; b++) {
    const o = b * D;
    let m = 0;
    for (let i = 0; i < D; i++) m += xd[o + i];
    m /= D;
    let v = 0;
    for (let i = 0; i < D; i++) {
      const c = xd[o + i] - m;
      v += c * c;
    }
    v /= D;
    const is = 1 / Math.sqrt(v + eps);
    mean[b] = m;
    inv[b] = is;
    for (let i = 0; i < D; i++) out[o + i] = (xd[o + i] - m) * is * sc[i] + bi[i];
  }
  conform(x.dtype, out);
  const statDims = x.dims.map((d, i) => (i < a ? d : 1));
  return [
    { dtype: x.dtype, dims: [...x.dims], data: out },
    { dtype: 'float32', dims: statDims, data: mean },
    { dtype: 'float32', dims: statDims, data: inv },
  ];
}

/** BatchNormalization in inference mode over channel axis 1: (x − mean)/√(var + eps)·scale + B. */
export function batchNorm(x: Value, scale: Value, B: Value, mean: Value, variance: Value, eps: number, what: string): Value {
  const C = x.dims[1] ?? 1;
  for (const [n, v] of [['scale', scale], ['B', B], ['mean', mean], ['var', variance]] as const) {
    if (v.data.length !== C) throw new OnnxRunError(`${what}: BatchNormalization ${n} [${v.dims}] for ${C} channels`);
  }
  const N = x.dims[0] ?? 1, inner = numel(x.dims.slice(2));
  const out = alloc(x.dtype, x.data.length);
  for (let c = 0; c < C; c++) {
    const k = scale.data[c] / Math.sqrt(variance.data[c] + eps), m = mean.data[c], b = B.data[c];
    for (let n = 0; n < N; n++) {
      const o = (n * C + c) * inner;
      for (let i = 0; i < inner; i++) out[o + i] = (x.data[o + i] - m) * k + b;
    }
  }
  conform(x.dtype, out);
  return { dtype: x.dtype, dims: [...x.dims], data: out };
}

/** InstanceNormalization: per (n, c) over the spatial dims. */
export function instanceNorm(x: Value, scale: Value, B: Value, eps: number): Value {
  const N = x.dims[0], C = x.dims[1], inner = numel(x.dims.slice(2));
  const out = alloc(x.dtype, x.data.length);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const o = (n * C + c) * inner;
      let m = 0;
      for (let i = 0; i < inner; i++) m += x.data[o + i];
      m /= inner;
      let v = 0;
      for (let i = 0; i < inner; i++) v += (x.data[o + i] - m) ** 2;
      const k = scale.data[c] / Math.sqrt(v / inner + eps);
      for (let i = 0; i < inner; i++) out[o + i] = (x.data[o + i] - m) * k + B.data[c];
    }
  }
  conform(x.dtype, out);
  return { dtype: x.dtype, dims: [...x.dims], data: out };
}
