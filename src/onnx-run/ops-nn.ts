/**
 * Matrix products, convolutions and pools of the CPU ONNX interpreter. Float32 products go through the CPU
 * fallback's WebAssembly SIMD GEMM (kernels/cpu-linear.ts): a MatMul or Gemm whose right operand is an initializer
 * keeps it resident there, transposed once to [N, K] (`Products.constant`); a product of two activations (attention
 * scores) and the im2col rows of a Conv are copied in per call (`CpuKernels.product`). Float64 and integer products
 * run in plain loops.
 *
 * Conv: N-D with groups, strides, dilations, pads and auto_pad, as im2col rows [P, Cin/g·∏k] against each group's
 * weights, built from a tap table in the GEMM's memory a cache-sized run of positions at a time (CpuKernels.convTaps),
 * so the output is already [Cout, P] (NCHW); a depthwise conv (one input channel a group) runs as a
 * direct loop instead, where im2col would copy ∏k values for one multiply-add each, and a 1-D one of stride and
 * dilation 1 (the S3 tokenizer's FSMN memory) in WebAssembly (CpuKernels.depthwiseLine).
 */
import type { CpuKernels, CpuMatrix } from '../../kernels/cpu-linear.js';
import { OnnxRunError, alloc, allocFloat32, broadcastDims, conform, numel, recycle, stridesOf, type Value } from './tensor.js';

/** The float32 GEMMs of one session. */
export class Products {
  private readonly prepared = new Map<string, CpuMatrix>();

  constructor(readonly kernels: CpuKernels) {}

  /** W [N, K] made resident once under `key` (an initializer's name and how it is read). */
  constant(key: string, N: number, K: number, fill: (dst: Float32Array) => void, bias?: Float32Array): CpuMatrix {
    let m = this.prepared.get(key);
    if (!m) {
      m = this.kernels.matrix(fill, N, K, bias, key);
      this.prepared.set(key, m);
    }
    return m;
  }

  /** y[M, N] = x[M, K] · w[N, K]ᵀ, into `out` (zeroed, as alloc gives it) or new storage. */
  product(x: Float32Array, M: number, K: number, w: Float32Array, N: number, out: Float32Array = allocFloat32(M * N)): Float32Array {
    if (M === 0 || N === 0 || K === 0) return out;
    return this.kernels.product(x, M, w, N, K, out);
  }
}

/** [K, N] row-major → [N, K], in 32×32 tiles (a weight of 1280 × 5120 would miss the cache on every write otherwise). */
export function transpose2(b: ArrayLike<number>, K: number, N: number, dst: Float32Array = new Float32Array(K * N)): Float32Array {
  const B = 32;
  for (let k0 = 0; k0 < K; k0 += B) {
    const k1 = Math.min(K, k0 + B);
    for (let n0 = 0; n0 < N; n0 += B) {
      const n1 = Math.min(N, n0 + B);
      for (let k = k0; k < k1; k++) for (let n = n0; n < n1; n++) dst[n * K + k] = b[k * N + n];
    }
  }
  return dst;
}

function loopProduct(a: ArrayLike<number>, b: ArrayLike<number>, M: number, K: number, N: number, out: Float32Array | Float64Array, o: number): void {
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += a[i * K + k] * b[k * N + j];
      out[o + i * N + j] = s;
    }
  }
}

/**
 * numpy matmul: 1-D operands promoted (and the added dim dropped), batch dims broadcast. `constB`: B's [N, K]
 * resident form when B is a 2-D initializer.
 */
export function matmul(p: Products, a: Value, b: Value, constB: CpuMatrix | undefined, what: string): Value {
  const ad = a.dims.length === 1 ? [1, a.dims[0]] : [...a.dims];
  const bd = b.dims.length === 1 ? [b.dims[0], 1] : [...b.dims];
  const M = ad[ad.length - 2], K = ad[ad.length - 1], N = bd[bd.length - 1];
  if (bd[bd.length - 2] !== K) throw new OnnxRunError(`${what}: MatMul of [${a.dims}] and [${b.dims}]`);
  const batch = broadcastDims([ad.slice(0, -2), bd.slice(0, -2)], what);
  let dims = [...batch, M, N];
  if (a.dims.length === 1) dims.splice(dims.length - 2, 1);
  if (b.dims.length === 1) dims = dims.slice(0, -1);
  const f32 = a.dtype === 'float32' && b.dtype === 'float32';
  if (f32 && constB && bd.length === 2) {
    // All of A's rows against one resident W.
    const rows = numel(ad) / K;
    const y = rows && N ? p.kernels.linear(a.data as Float32Array, rows, constB, allocFloat32(rows * N)) : new Float32Array(0);
    return { dtype: 'float32', dims, data: y };
  }
  const nb = numel(batch);
  const out = alloc(a.dtype, nb * M * N);
  const aBatch = ad.slice(0, -2), bBatch = bd.slice(0, -2);
  const off = (bdims: number[], i: number) => {
    // Offset (in matrices) of batch item i of the broadcast batch in an operand of batch dims `bdims`.
    const st = stridesOf(bdims);
    const os = stridesOf(batch);
    let o = 0, rem = i;
    for (let d = 0; d < batch.length; d++) {
      const c = Math.floor(rem / os[d]);
      rem -= c * os[d];
      const k = d - (batch.length - bdims.length);
      if (k >= 0 && bdims[k] !== 1) o += c * st[k];
    }
    return o;
  };
  const bt = new Float32Array(K * N);
  for (let i = 0; i < nb; i++) {
    const ao = off(aBatch, i) * M * K, bo = off(bBatch, i) * K * N;
    const am = a.data.subarray(ao, ao + M * K), bm = b.data.subarray(bo, bo + K * N);
    if (f32) p.product(am as Float32Array, M, K, transpose2(bm, K, N, bt), N, (out as Float32Array).subarray(i * M * N, (i + 1) * M * N));
    else loopProduct(am, bm, M, K, N, out, i * M * N);
  }
  conform(a.dtype, out);
  return { dtype: a.dtype, dims, data: out };
}

/** Gemm: alpha·op(A)·op(B) + beta·C, C broadcast to [M, N]. */
export function gemm(p: Products, a: Value, b: Value, c: Value | undefined, attrs: Record<string, unknown>, constB: CpuMatrix | undefined, what: string): Value {
  const transA = Number(attrs.transA ?? 0), transB = Number(attrs.transB ?? 0);
  const alpha = Number(attrs.alpha ?? 1), beta = Number(attrs.beta ?? 1);
  if (a.dims.length !== 2 || b.dims.length !== 2) throw new OnnxRunError(`${what}: Gemm of [${a.dims}] and [${b.dims}]`);
  const M = transA ? a.dims[1] : a.dims[0], K = transA ? a.dims[0] : a.dims[1];
  const N = transB ? b.dims[0] : b.dims[1];
  if ((transB ? b.dims[1] : b.dims[0]) !== K) throw new OnnxRunError(`${what}: Gemm of [${a.dims}] and [${b.dims}] (transA ${transA}, transB ${transB})`);
  const A = transA ? transpose2(a.data, a.dims[0], a.dims[1]) : (a.data as Float32Array);
  let y: Float32Array;
  if (a.dtype !== 'float32') throw new OnnxRunError(`${what}: Gemm of ${a.dtype} is not supported`);
  if (constB) y = M * N ? p.kernels.linear(A, M, constB, allocFloat32(M * N)) : new Float32Array(0);
  else y = p.product(A, M, K, transB ? (b.data as Float32Array) : transpose2(b.data, b.dims[0], b.dims[1]), N);
  const out = allocFloat32(M * N);
  const cs = c ? cStrides(c.dims, M, N, what) : [0, 0];
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) out[i * N + j] = alpha * y[i * N + j] + (c ? beta * c.data[i * cs[0] + j * cs[1]] : 0);
  }
  recycle(y);
  return { dtype: 'float32', dims: [M, N], data: out };
}

function cStrides(dims: readonly number[], M: number, N: number, what: string): [number, number] {
  const d = broadcastDims([dims, [M, N]], what);
  if (d[0] !== M || d[1] !== N) throw new OnnxRunError(`${what}: Gemm C [${dims}] does not broadcast to [${M}, ${N}]`);
  const r = dims.length;
  const rows = r === 2 ? dims[0] : 1, cols = r >= 1 ? dims[r - 1] : 1;
  return [rows === 1 ? 0 : cols, cols === 1 ? 0 : 1];
}

interface ConvGeometry {
  spatial: number[];
  kernel: number[];
  strides: number[];
  dilations: number[];
  padBegin: number[];
  out: number[];
}

/** Output sizes and begin pads of a Conv or pool over `spatial` (explicit pads or auto_pad). */
export function convGeometry(spatial: readonly number[], kernel: readonly number[], attrs: Record<string, unknown>, ceil: boolean, what: string): ConvGeometry {
  const n = spatial.length;
  const ints = (k: string, d: number) => (attrs[k] === undefined ? new Array<number>(n).fill(d) : (attrs[k] as unknown[]).map(Number));
  const strides = ints('strides', 1), dilations = ints('dilations', 1);
  const pads = attrs.pads === undefined ? new Array<number>(2 * n).fill(0) : (attrs.pads as unknown[]).map(Number);
  const autoPad = String(attrs.auto_pad ?? 'NOTSET');
  const padBegin: number[] = [], out: number[] = [];
  for (let i = 0; i < n; i++) {
    const ek = (kernel[i] - 1) * dilations[i] + 1;
    let b = pads[i], e = pads[i + n];
    if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
      const o = Math.ceil(spatial[i] / strides[i]);
      const total = Math.max(0, (o - 1) * strides[i] + ek - spatial[i]);
      b = autoPad === 'SAME_UPPER' ? Math.floor(total / 2) : Math.ceil(total / 2);
      e = total - b;
    } else if (autoPad === 'VALID') {
      b = 0;
      e = 0;
    } else if (autoPad !== 'NOTSET') throw new OnnxRunError(`${what}: auto_pad ${autoPad}`);
    const span = spatial[i] + b + e - ek;
    let o = (ceil ? Math.ceil(span / strides[i]) : Math.floor(span / strides[i])) + 1;
    // ceil_mode: a last window starting inside the right padding is dropped (as PyTorch and ONNX Runtime do).
    if (ceil && (o - 1) * strides[i] >= spatial[i] + b) o--;
    if (o < 1) throw new OnnxRunError(`${what}: input [${spatial}] is smaller than the kernel [${kernel}]`);
    padBegin.push(b);
    out.push(o);
  }
  return { spatial: [...spatial], kernel: [...kernel], strides, dilations, padBegin, out };
}

/** Conv (N-D, groups) with optional bias. */
export function conv(p: Products, x: Value, w: Value, bias: Value | undefined, attrs: Record<string, unknown>, what: string): Value {
  if (x.dtype !== 'float32' || w.dtype !== 'float32') throw new OnnxRunError(`${what}: Conv of ${x.dtype} is not supported`);
  const [N, C] = x.dims;
  const [Cout, Cg] = w.dims;
  const group = Number(attrs.group ?? 1);
  const kernel = w.dims.slice(2);
  if (C !== Cg * group || Cout % group) throw new OnnxRunError(`${what}: Conv of input [${x.dims}] with weight [${w.dims}], group ${group}`);
  const g = convGeometry(x.dims.slice(2), kernel, attrs, false, what);
  const P = numel(g.out), S = numel(g.spatial), Kk = numel(kernel);
  const Og = Cout / group;
  const out = allocFloat32(N * Cout * P);
  const depthwise = Cg === 1 && Og === 1;
  // A 1×1 conv of stride 1 without padding reads x as it lies: its rows are x transposed, no tap table.
  const pointwise = Kk === 1 && P === S && g.padBegin.every((p) => p === 0) && g.strides.every((s) => s === 1);
  // A 1-D depthwise conv of stride and dilation 1 (the S3 tokenizer's FSMN memory) runs tap by tap over rows.
  const line = depthwise && g.spatial.length === 1 && g.strides[0] === 1 && g.dilations[0] === 1;
  const taps = pointwise || line ? undefined : tapTable(g);
  const xd = x.data as Float32Array;
  const K = Cg * Kk;
  const cols = pointwise ? allocFloat32(P * K) : undefined;
  for (let n = 0; n < N; n++) {
    if (line) {
      // Every channel at once in WebAssembly (kernels/wasm/lib/onnx-ops.as.ts depthwiseLine: f64 sums tap by tap).
      p.kernels.depthwiseLine(xd.subarray(n * C * S, (n + 1) * C * S), C, S, w.data as Float32Array, Kk, g.padBegin[0], P, out.subarray(n * Cout * P, (n + 1) * Cout * P));
      continue;
    }
    for (let gi = 0; gi < group; gi++) {
      const xo = (n * C + gi * Cg) * S;
      if (depthwise) {
        directConv(xd, xo, w.data as Float32Array, gi * Kk, taps!, P, Kk, out, (n * Cout + gi) * P);
        continue;
      }
      const wg = (w.data as Float32Array).subarray(gi * Og * K, (gi + 1) * Og * K);
      const og = out.subarray((n * Cout + gi * Og) * P, (n * Cout + (gi + 1) * Og) * P);
      if (pointwise) p.product(wg, Og, K, transpose2(xd.subarray(xo, xo + Cg * S), Cg, S, cols), P, og);
      else p.kernels.convTaps(xd.subarray(xo, xo + Cg * S), Cg, S, taps!, P, Kk, wg, Og, og);
    }
  }
  if (cols) recycle(cols);
  if (bias) {
    for (let n = 0; n < N; n++) for (let c = 0; c < Cout; c++) {
      const o = (n * Cout + c) * P, b = bias.data[c];
      for (let i = 0; i < P; i++) out[o + i] += b;
    }
  }
  return { dtype: 'float32', dims: [N, Cout, ...g.out], data: out };
}

const tapTables = new Map<string, Int32Array>();

/** For output position p and kernel tap k, the input's flat spatial index, or −1 in the padding (kept per geometry: a graph's convs repeat a few). */
function tapTable(g: ConvGeometry): Int32Array {
  const key = JSON.stringify(g);
  let t = tapTables.get(key);
  if (!t) {
    if (tapTables.size > 64) tapTables.clear();
    t = buildTapTable(g);
    tapTables.set(key, t);
  }
  return t;
}

function buildTapTable(g: ConvGeometry): Int32Array {
  const n = g.spatial.length;
  const P = numel(g.out), Kk = numel(g.kernel);
  const t = new Int32Array(P * Kk);
  const os = stridesOf(g.out), ks = stridesOf(g.kernel), ss = stridesOf(g.spatial);
  for (let p = 0; p < P; p++) {
    for (let k = 0; k < Kk; k++) {
      let src = 0, inside = true;
      for (let d = 0; d < n; d++) {
        const o = Math.floor(p / os[d]) % g.out[d], kk = Math.floor(k / ks[d]) % g.kernel[d];
        const i = o * g.strides[d] - g.padBegin[d] + kk * g.dilations[d];
        if (i < 0 || i >= g.spatial[d]) inside = false;
        src += i * ss[d];
      }
      t[p * Kk + k] = inside ? src : -1;
    }
  }
  return t;
}

function directConv(x: Float32Array, xo: number, w: Float32Array, wo: number, taps: Int32Array, P: number, Kk: number, out: Float32Array, oo: number): void {
  for (let p = 0; p < P; p++) {
    let s = 0;
    for (let k = 0; k < Kk; k++) {
      const src = taps[p * Kk + k];
      if (src >= 0) s += x[xo + src] * w[wo + k];
    }
    out[oo + p] = s;
  }
}

/**
 * ConvTranspose (N-D, groups, strides, dilations, pads, output_padding, output_shape and auto_pad as the ONNX
 * spec gives them): each input position adds x·w over the output window it maps to, o = i·stride + k·dilation −
 * pad_begin, summed in float64.
 */
export function convTranspose(x: Value, w: Value, bias: Value | undefined, attrs: Record<string, unknown>, what: string): Value {
  const [N, C] = x.dims;
  const spatial = x.dims.slice(2), kernel = w.dims.slice(2), nd = spatial.length;
  const group = Number(attrs.group ?? 1);
  const [Cw, Mg] = w.dims;
  if (Cw !== C || C % group || kernel.length !== nd) throw new OnnxRunError(`${what}: ConvTranspose of input [${x.dims}] with weight [${w.dims}], group ${group}`);
  const list = (k: string, d: number): number[] => (attrs[k] === undefined ? new Array<number>(nd).fill(d) : (attrs[k] as unknown[]).map(Number));
  const strides = list('strides', 1), dil = list('dilations', 1), outPad = list('output_padding', 0);
  let pads = attrs.pads === undefined ? new Array<number>(2 * nd).fill(0) : (attrs.pads as unknown[]).map(Number);
  const autoPad = String(attrs.auto_pad ?? 'NOTSET');
  const full = spatial.map((s, i) => strides[i] * (s - 1) + outPad[i] + (kernel[i] - 1) * dil[i] + 1);
  const target = attrs.output_shape !== undefined ? (attrs.output_shape as unknown[]).map(Number).slice(-nd)
    : autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER' ? spatial.map((s, i) => s * strides[i]) : undefined;
  if (target) {
    pads = new Array<number>(2 * nd);
    for (let i = 0; i < nd; i++) {
      const total = full[i] - target[i], half = Math.floor(total / 2);
      pads[i] = autoPad === 'SAME_UPPER' ? half : total - half;
      pads[i + nd] = total - pads[i];
    }
  } else if (autoPad === 'VALID') pads = new Array<number>(2 * nd).fill(0);
  const out = full.map((f, i) => f - pads[i] - pads[i + nd]);
  if (out.some((d) => d < 1)) throw new OnnxRunError(`${what}: ConvTranspose output [${out}] of input [${x.dims}]`);
  const Pin = numel(spatial), Pout = numel(out), Kk = numel(kernel), M = Mg * group, Cg = C / group;
  // For input position p and tap t, the output's flat position (−1 outside it).
  const to = new Int32Array(Pin * Kk);
  const is = stridesOf(spatial), ks = stridesOf(kernel), os = stridesOf(out);
  for (let p = 0; p < Pin; p++) {
    for (let t = 0; t < Kk; t++) {
      let o = 0, inside = true;
      for (let d = 0; d < nd; d++) {
        const c = Math.floor(p / is[d]) % spatial[d], k = Math.floor(t / ks[d]) % kernel[d];
        const q = c * strides[d] + k * dil[d] - pads[d];
        if (q < 0 || q >= out[d]) inside = false;
        o += q * os[d];
      }
      to[p * Kk + t] = inside ? o : -1;
    }
  }
  const acc = new Float64Array(N * M * Pout);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const g = Math.floor(c / Cg), xo = (n * C + c) * Pin;
      for (let m = 0; m < Mg; m++) {
        const wo = (c * Mg + m) * Kk, oo = (n * M + g * Mg + m) * Pout;
        for (let p = 0; p < Pin; p++) {
          const v = x.data[xo + p];
          for (let t = 0; t < Kk; t++) {
            const o = to[p * Kk + t];
            if (o >= 0) acc[oo + o] += v * w.data[wo + t];
          }
        }
      }
    }
  }
  const y = allocFloat32(acc.length);
  for (let i = 0; i < acc.length; i++) y[i] = acc[i] + (bias ? bias.data[Math.floor(i / Pout) % M] : 0);
  return { dtype: 'float32', dims: [N, M, ...out], data: y };
}

/** AveragePool / MaxPool (N-D; ceil_mode, count_include_pad) and their Global forms. */
export function pool(op: string, x: Value, attrs: Record<string, unknown>, what: string): Value {
  const [N, C] = x.dims;
  const spatial = x.dims.slice(2);
  const global = op.startsWith('Global');
  const kernel = global ? spatial : (attrs.kernel_shape as unknown[]).map(Number);
  const g = global
    ? convGeometry(spatial, kernel, {}, false, what)
    : convGeometry(spatial, kernel, attrs, Number(attrs.ceil_mode ?? 0) === 1, what);
  const isMax = op.endsWith('MaxPool');
  const includePad = Number(attrs.count_include_pad ?? 0) === 1;
  const P = numel(g.out), S = numel(spatial), Kk = numel(kernel);
  const taps = tapTable(g);
  // With count_include_pad, a window counts the padding it covers but not what lies past the right padding.
  const n = spatial.length;
  const pads = attrs.pads === undefined ? new Array<number>(2 * n).fill(0) : (attrs.pads as unknown[]).map(Number);
  const os = stridesOf(g.out), ks = stridesOf(kernel);
  const padCount = new Float64Array(P);
  if (includePad) {
    for (let p = 0; p < P; p++) {
      let cnt = 0;
      for (let k = 0; k < Kk; k++) {
        let ok = true;
        for (let d = 0; d < n; d++) {
          const o = Math.floor(p / os[d]) % g.out[d], kk = Math.floor(k / ks[d]) % kernel[d];
          const i = o * g.strides[d] - g.padBegin[d] + kk * g.dilations[d];
          if (i < -g.padBegin[d] || i >= spatial[d] + pads[d + n]) ok = false;
        }
        if (ok) cnt++;
      }
      padCount[p] = cnt;
    }
  }
  const out = alloc(x.dtype, N * C * P);
  for (let nc = 0; nc < N * C; nc++) {
    for (let p = 0; p < P; p++) {
      let s = isMax ? -Infinity : 0, cnt = 0;
      for (let k = 0; k < Kk; k++) {
        const src = taps[p * Kk + k];
        if (src < 0) continue;
        const v = x.data[nc * S + src];
        if (isMax) s = v > s ? v : s;
        else s += v;
        cnt++;
      }
      out[nc * P + p] = isMax ? s : s / (includePad ? padCount[p] : cnt);
    }
  }
  conform(x.dtype, out);
  return { dtype: x.dtype, dims: [N, C, ...g.out], data: out };
}

/**
 * Einsum by its definition: every combination of the equation's letters, the product of the operands at it summed
 * into the output at its letters (float64 sums). For the small contractions exported graphs use it for (rotary's
 * outer product `i,j->ij`); no ellipsis. The implicit form (no `->`) outputs the letters used once, sorted.
 */
export function einsum(equation: string, xs: readonly Value[], what: string): Value {
  const eq = equation.replace(/\s+/g, '');
  if (eq.includes('.')) throw new OnnxRunError(`${what}: Einsum "${equation}": ellipsis is not supported`);
  const [lhs, rhsGiven] = eq.split('->');
  const terms = lhs.split(',');
  if (terms.length !== xs.length) throw new OnnxRunError(`${what}: Einsum "${equation}" has ${terms.length} operands, got ${xs.length}`);
  const size = new Map<string, number>();
  terms.forEach((t, k) => {
    if (t.length !== xs[k].dims.length) throw new OnnxRunError(`${what}: Einsum "${equation}": operand ${k} is [${xs[k].dims}]`);
    [...t].forEach((c, i) => {
      const d = xs[k].dims[i], had = size.get(c);
      if (had !== undefined && had !== d && had !== 1 && d !== 1) throw new OnnxRunError(`${what}: Einsum "${equation}": ${c} is ${had} and ${d}`);
      size.set(c, Math.max(had ?? 1, d));
    });
  });
  const counts = new Map<string, number>();
  for (const c of terms.join('')) counts.set(c, (counts.get(c) ?? 0) + 1);
  const rhs = rhsGiven ?? [...counts].filter(([, n]) => n === 1).map(([c]) => c).sort().join('');
  const letters = [...size.keys()];
  const outDims = [...rhs].map((c) => size.get(c)!);
  const out = new Float64Array(numel(outDims));
  const L = letters.map((c) => size.get(c)!);
  // Strides of each operand and of the output per letter (0 where it lacks the letter or has it broadcast).
  const strideOf = (t: string, dims: readonly number[]) => {
    const st = stridesOf(dims);
    return letters.map((c) => [...t].reduce((acc, tc, i) => (tc === c && dims[i] !== 1 ? acc + st[i] : acc), 0));
  };
  const xst = terms.map((t, k) => strideOf(t, xs[k].dims));
  const ost = strideOf(rhs, outDims);
  const idx = new Array<number>(letters.length).fill(0);
  const off = new Array<number>(xs.length).fill(0);
  let oo = 0;
  const total = numel(L);
  for (let i = 0; i < total; i++) {
    let p = 1;
    for (let k = 0; k < xs.length; k++) p *= xs[k].data[off[k]];
    out[oo] += p;
    for (let d = letters.length - 1; d >= 0; d--) {
      idx[d]++;
      for (let k = 0; k < xs.length; k++) off[k] += xst[k][d];
      oo += ost[d];
      if (idx[d] < L[d]) break;
      for (let k = 0; k < xs.length; k++) off[k] -= xst[k][d] * L[d];
      oo -= ost[d] * L[d];
      idx[d] = 0;
    }
  }
  const data = alloc(xs[0].dtype, out.length);
  data.set(out);
  conform(xs[0].dtype, data);
  return { dtype: xs[0].dtype, dims: outDims, data };
}
