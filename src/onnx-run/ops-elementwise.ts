/**
 * Elementwise operators of the CPU ONNX interpreter: unary maths, broadcasting binaries (arithmetic, comparison,
 * logic), Where, Cast, Clip. Float32 values are computed in float64 and stored to float32, which is what ONNX
 * Runtime's float32 kernels give up to the last bit for + − × ÷ and within a few ulps for the transcendental ones
 * (its Erf, Tanh, Exp are vectorised approximations); the oracle test states the tolerance. Integer division
 * truncates towards zero, as ONNX Runtime's does.
 */
import type { CpuKernels } from '../../kernels/cpu-linear.js';
import { GELU_ERF } from './fuse.js';
import {
  OnnxRunError, alloc, allocFloat32, broadcastDims, broadcastStrides, conform, isFloat, numel, type Value, type ValueType, TYPE_CODES,
} from './tensor.js';

type Fn1 = (x: number) => number;

/** erf by its Maclaurin series (|x| < 2.5) or the continued fraction of erfc (above): float64-accurate, slow. */
export function erfExact(x: number): number {
  const a = Math.abs(x);
  if (a < 2.5) {
    // erf(x) = 2/√π Σ (−1)^n x^(2n+1) / (n! (2n+1)).
    let term = a, sum = a;
    const x2 = a * a;
    for (let n = 1; n < 80; n++) {
      term *= -x2 / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return Math.sign(x) * sum * (2 / Math.sqrt(Math.PI));
  }
  if (a > 6) return Math.sign(x);
  // erfc by its continued fraction (Lentz), accurate for a ≥ 2.5.
  const tiny = 1e-300;
  let f = a, C = a, D = 0;
  for (let n = 1; n < 200; n++) {
    const an = n / 2;
    D = a + an * D;
    D = D === 0 ? tiny : 1 / D;
    C = a + an / C;
    if (C === 0) C = tiny;
    const delta = C * D;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  const erfc = Math.exp(-a * a) / Math.sqrt(Math.PI) / f;
  return Math.sign(x) * (1 - erfc);
}

/**
 * erf from a table: values and slopes (2/√π·e^(−x²)) of erfExact every 1/512 on [0, 6], cubic Hermite between
 * them (error ≲ 1e-12, far below float32's), ~10 flops a value instead of the series' ~40 terms (GELU runs it on
 * every hidden activation of a transformer).
 */
const ERF_STEP = 512, ERF_MAX = 6;
let erfTable: Float64Array | undefined;
function erfTableOnce(): Float64Array {
  if (!erfTable) {
    const n = ERF_MAX * ERF_STEP + 1;
    erfTable = new Float64Array(2 * n);
    for (let i = 0; i < n; i++) {
      const u = i / ERF_STEP;
      erfTable[2 * i] = erfExact(u);
      erfTable[2 * i + 1] = (2 / Math.sqrt(Math.PI)) * Math.exp(-u * u) / ERF_STEP; // slope per step
    }
  }
  return erfTable;
}
export function erf(x: number): number {
  const a = x < 0 ? -x : x;
  if (!(a < ERF_MAX)) return Number.isNaN(x) ? x : x < 0 ? -1 : 1;
  const y = erfOfTable(a, erfTableOnce());
  return x < 0 ? -y : y;
}

/** erf(a) for 0 ≤ a < ERF_MAX: cubic Hermite between the table's values and slopes. */
function erfOfTable(a: number, tab: Float64Array): number {
  const u = a * ERF_STEP;
  const j = Math.floor(u), t = u - j;
  const t2 = t * t, t3 = t2 * t;
  return (2 * t3 - 3 * t2 + 1) * tab[2 * j] + (t3 - 2 * t2 + t) * tab[2 * j + 1] + (-2 * t3 + 3 * t2) * tab[2 * j + 2] + (t3 - t2) * tab[2 * j + 3];
}

/** Round half to even (ONNX Round). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export const UNARY: Record<string, Fn1> = {
  Abs: Math.abs, Neg: (x) => -x, Sqrt: Math.sqrt, Exp: Math.exp, Log: Math.log, Reciprocal: (x) => 1 / x,
  Sin: Math.sin, Cos: Math.cos, Tan: Math.tan, Tanh: Math.tanh, Erf: erf, Floor: Math.floor, Ceil: Math.ceil,
  Round: roundHalfEven, Sign: (x) => (x > 0 ? 1 : x < 0 ? -1 : 0), Relu: (x) => (x > 0 ? x : 0),
  Sigmoid: (x) => 1 / (1 + Math.exp(-x)), Softplus: (x) => (x > 20 ? x : Math.log1p(Math.exp(x))),
  Atan: Math.atan, Asin: Math.asin, Acos: Math.acos, Sinh: Math.sinh, Cosh: Math.cosh,
  Not: (x) => (x ? 0 : 1), IsNaN: (x) => (Number.isNaN(x) ? 1 : 0), IsInf: (x) => (x === Infinity || x === -Infinity ? 1 : 0),
};

/** x·½(1 + erf(x/√2)): the exact GELU, as fuse.ts folds torch's five-node export of it. */
export const geluErf: Fn1 = (x) => 0.5 * x * (1 + erf(x * Math.SQRT1_2));

/** The erf table and its parameters, for the WebAssembly GELU (kernels/cpu-linear.ts geluErf) that reads it. */
export function erfTableParams(): { table: Float64Array; step: number; limit: number } {
  return { table: erfTableOnce(), step: ERF_STEP, limit: ERF_MAX };
}

/** Unary op with attributes (LeakyRelu, Elu, Selu, HardSigmoid, Gelu). */
export function unaryWithAttrs(op: string, a: Record<string, unknown>): Fn1 | undefined {
  const f = (k: string, d: number) => (a[k] === undefined ? d : Number(a[k]));
  switch (op) {
    case 'LeakyRelu': {
      const s = f('alpha', 0.01);
      return (x) => (x >= 0 ? x : s * x);
    }
    case 'Elu': {
      const al = f('alpha', 1);
      return (x) => (x >= 0 ? x : al * (Math.exp(x) - 1));
    }
    case 'Selu': {
      const al = f('alpha', 1.67326319217681884765625), g = f('gamma', 1.05070102214813232421875);
      return (x) => g * (x > 0 ? x : al * (Math.exp(x) - 1));
    }
    case 'HardSigmoid': {
      const al = f('alpha', 0.2), be = f('beta', 0.5);
      return (x) => Math.max(0, Math.min(1, al * x + be));
    }
    case 'Gelu': {
      if ((a.approximate ?? 'none') === 'tanh') return (x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
      return geluErf;
    }
    default:
      return undefined;
  }
}

export function unary(x: Value, fn: Fn1, outType: ValueType = x.dtype): Value {
  const out = alloc(outType, x.data.length);
  const d = x.data;
  for (let i = 0; i < d.length; i++) out[i] = fn(d[i]);
  conform(outType, out);
  return { dtype: outType, dims: [...x.dims], data: out };
}

/**
 * A unary op by name: the common float32 ones as their own loops (no call per value), float32's exact GELU in
 * WebAssembly (`kernels`: the same f64 steps as geluErf, kernels/wasm/lib/onnx-ops.as.ts), the rest through UNARY.
 */
export function unaryOp(op: string, x: Value, kernels?: CpuKernels): Value {
  if (x.data instanceof Float32Array && x.dtype === 'float32') {
    if (op === GELU_ERF && kernels) {
      const { table, step, limit } = erfTableParams();
      return { dtype: 'float32', dims: [...x.dims], data: kernels.geluErf(x.data, table, step, limit, allocFloat32(x.data.length)) };
    }
    const d = x.data, out = allocFloat32(d.length);
    switch (op) {
      case 'Neg':
        for (let i = 0; i < d.length; i++) out[i] = -d[i];
        return { dtype: 'float32', dims: [...x.dims], data: out };
      case 'Relu':
        for (let i = 0; i < d.length; i++) out[i] = d[i] > 0 ? d[i] : 0;
        return { dtype: 'float32', dims: [...x.dims], data: out };
      case 'Sigmoid':
        for (let i = 0; i < d.length; i++) out[i] = 1 / (1 + Math.exp(-d[i]));
        return { dtype: 'float32', dims: [...x.dims], data: out };
      case 'Tanh':
        for (let i = 0; i < d.length; i++) out[i] = Math.tanh(d[i]);
        return { dtype: 'float32', dims: [...x.dims], data: out };
      case 'Sqrt':
        for (let i = 0; i < d.length; i++) out[i] = Math.sqrt(d[i]);
        return { dtype: 'float32', dims: [...x.dims], data: out };
      default:
    }
  }
  if (op === GELU_ERF) return unary(x, geluErf);
  return unary(x, UNARY[op], op === 'Not' || op === 'IsNaN' || op === 'IsInf' ? 'bool' : x.dtype);
}


type Fn2 = (a: number, b: number) => number;

const truncDiv: Fn2 = (a, b) => (b === 0 ? 0 : Math.trunc(a / b));
const ARITH: Record<string, Fn2> = {
  Add: (a, b) => a + b, Sub: (a, b) => a - b, Mul: (a, b) => a * b, Div: (a, b) => a / b, Pow: Math.pow,
  Max: Math.max, Min: Math.min,
};
const COMPARE: Record<string, Fn2> = {
  Equal: (a, b) => (a === b ? 1 : 0), Less: (a, b) => (a < b ? 1 : 0), Greater: (a, b) => (a > b ? 1 : 0),
  LessOrEqual: (a, b) => (a <= b ? 1 : 0), GreaterOrEqual: (a, b) => (a >= b ? 1 : 0),
  And: (a, b) => (a && b ? 1 : 0), Or: (a, b) => (a || b ? 1 : 0), Xor: (a, b) => ((a ? 1 : 0) ^ (b ? 1 : 0)),
};

export const BINARY_OPS = new Set([...Object.keys(ARITH), ...Object.keys(COMPARE), 'Mod']);

/** A binary op over broadcast inputs: arithmetic keeps the first input's type, comparisons give bool. */
export function binary(op: string, a: Value, b: Value, attrs: Record<string, unknown>, what: string): Value {
  let fn: Fn2;
  let outType: ValueType = a.dtype;
  if (op in COMPARE) {
    fn = COMPARE[op];
    outType = 'bool';
  } else if (op === 'Div' && !isFloat(a.dtype)) fn = truncDiv;
  else if (op === 'Mod') {
    // fmod = 1: C fmod (sign of the dividend); else Python-style (sign of the divisor), integers only.
    fn = Number(attrs.fmod ?? 0) ? (x, y) => x % y : (x, y) => (y === 0 ? 0 : ((x % y) + y) % y);
  } else if (op in ARITH) fn = ARITH[op];
  else throw new OnnxRunError(`${what}: ${op} is not a binary op`);
  if (op !== 'Pow' && !(op in COMPARE) && a.dtype !== b.dtype) throw new OnnxRunError(`${what}: ${op} of ${a.dtype} and ${b.dtype}`);
  return broadcast2(a, b, outType, fn, what, isFloat(a.dtype) ? ARITH_CODE[op] ?? 0 : 0);
}

const ARITH_CODE: Record<string, number> = { Add: 1, Sub: 2, Mul: 3, Div: 4 };

/**
 * fn over two broadcast inputs, as rows: the dims are collapsed wherever both inputs stay contiguous (or both
 * broadcast) across them, so equal shapes and a scalar side are one row, a bias [C] over [M, C] is M rows of C, a
 * channel scale [C, 1, 1] over [N, C, H, W] is N·C rows of H·W with b fixed. Within a row each input steps by 1 or
 * 0. + − × ÷ (code 1–4) run their own loops, without a call per element.
 */
export function broadcast2(a: Value, b: Value, outType: ValueType, fn: Fn2, what: string, code = 0): Value {
  const dims = broadcastDims([a.dims, b.dims], what);
  const n = numel(dims);
  const out = alloc(outType, n);
  const x = a.data, y = b.data;
  // Collapse dims (innermost first).
  const sa = broadcastStrides(a.dims, dims), sb = broadcastStrides(b.dims, dims);
  const cd: number[] = [], ca: number[] = [], cb: number[] = [];
  for (let i = dims.length - 1; i >= 0; i--) {
    if (dims[i] === 1) continue;
    const k = cd.length - 1;
    if (k >= 0 && sa[i] === ca[k] * cd[k] && sb[i] === cb[k] * cd[k]) cd[k] *= dims[i];
    else {
      cd.push(dims[i]);
      ca.push(sa[i]);
      cb.push(sb[i]);
    }
  }
  if (n === 0) return { dtype: outType, dims, data: out };
  const L = cd.length ? cd[0] : 1, px = cd.length ? ca[0] : 0, py = cd.length ? cb[0] : 0;
  const R = cd.length;
  const idx = new Array<number>(R).fill(0);
  let xo = 0, yo = 0;
  for (let o = 0; o < n; o += L) {
    rowOp(code, fn, out, o, x, xo, px, y, yo, py, L);
    // Next row: advance the outer collapsed dims (1 …).
    for (let d = 1; d < R; d++) {
      idx[d]++;
      xo += ca[d];
      yo += cb[d];
      if (idx[d] < cd[d]) break;
      xo -= ca[d] * cd[d];
      yo -= cb[d] * cd[d];
      idx[d] = 0;
    }
  }
  conform(outType, out);
  return { dtype: outType, dims, data: out };
}

type Data = Float32Array | Float64Array;
function rowOp(code: number, fn: Fn2, out: Data, o: number, x: Data, xo: number, px: number, y: Data, yo: number, py: number, L: number): void {
  switch (code) {
    case 1:
      for (let k = 0; k < L; k++) out[o + k] = x[xo + k * px] + y[yo + k * py];
      return;
    case 2:
      for (let k = 0; k < L; k++) out[o + k] = x[xo + k * px] - y[yo + k * py];
      return;
    case 3:
      for (let k = 0; k < L; k++) out[o + k] = x[xo + k * px] * y[yo + k * py];
      return;
    case 4:
      for (let k = 0; k < L; k++) out[o + k] = x[xo + k * px] / y[yo + k * py];
      return;
    default:
      for (let k = 0; k < L; k++) out[o + k] = fn(x[xo + k * px], y[yo + k * py]);
  }
}

/** out[i] = fn(inputs at i) over the broadcast shape; float32 results are stored as float32. */
export function broadcastMap(inputs: readonly Value[], outType: ValueType, fn: (v: number[]) => number, what: string): Value {
  const dims = broadcastDims(inputs.map((v) => v.dims), what);
  const n = numel(dims);
  const out = alloc(outType, n);
  const v = new Array<number>(inputs.length);
  const same = inputs.every((x) => x.data.length === n);
  if (same) {
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < inputs.length; k++) v[k] = inputs[k].data[i];
      out[i] = fn(v);
    }
  } else {
    const rank = dims.length;
    const strides = inputs.map((x) => broadcastStrides(x.dims, dims));
    const idx = new Array<number>(rank).fill(0);
    const off = new Array<number>(inputs.length).fill(0);
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < inputs.length; k++) v[k] = inputs[k].data[off[k]];
      out[i] = fn(v);
      // Next multi-index, updating each input's offset.
      for (let d = rank - 1; d >= 0; d--) {
        idx[d]++;
        for (let k = 0; k < inputs.length; k++) off[k] += strides[k][d];
        if (idx[d] < dims[d]) break;
        for (let k = 0; k < inputs.length; k++) off[k] -= strides[k][d] * dims[d];
        idx[d] = 0;
      }
    }
  }
  conform(outType, out);
  return { dtype: outType, dims, data: out };
}

/** Sum/Mean/Max/Min over any number of broadcast inputs. */
export function variadic(op: string, xs: readonly Value[], what: string): Value {
  const f = op === 'Max' ? (v: number[]) => Math.max(...v) : op === 'Min' ? (v: number[]) => Math.min(...v)
    : op === 'Mean' ? (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length : (v: number[]) => v.reduce((s, x) => s + x, 0);
  return broadcastMap(xs, xs[0].dtype, f, what);
}

export function where(c: Value, x: Value, y: Value, what: string): Value {
  if (x.dtype !== y.dtype) throw new OnnxRunError(`${what}: Where of ${x.dtype} and ${y.dtype}`);
  return broadcastMap([c, x, y], x.dtype, (v) => (v[0] ? v[1] : v[2]), what);
}

export function cast(x: Value, to: number, what: string): Value {
  const t = TYPE_CODES[to];
  if (!t) throw new OnnxRunError(`${what}: Cast to data type ${to} is not supported`);
  if (t === x.dtype) return x;
  const out = alloc(t, x.data.length);
  if (t === 'float32') out.set(x.data);
  else {
    for (let i = 0; i < x.data.length; i++) out[i] = x.data[i];
    // Float → integer casts of NaN/inf are undefined in ONNX; conform maps them to 0.
    conform(t, out);
  }
  return { dtype: t, dims: [...x.dims], data: out };
}

export function clip(x: Value, lo: number, hi: number): Value {
  return unary(x, (v) => (v < lo ? lo : v > hi ? hi : v));
}
