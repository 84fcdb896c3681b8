// AssemblyScript (exported by gemm.as.ts, whose memory it works in): the CPU ONNX interpreter's (src/onnx-run)
// widest steps besides the products, on f32 data copied into this memory (kernels/cpu-linear.ts): softmax over
// rows, the exact GELU, the 1-D depthwise convolution and N-D im2col rows. The GELU does in f64 exactly the
// operations of the TypeScript geluErf (ops-elementwise.ts), so its results are those bits; the 1-D conv sums in f64
// tap by tap; the softmax's exponentials are four-lane f32 (simd-math.as.ts), its sums f64.

import { expNonPositive, hmax } from './simd-math.as';

/** Lanes 0, 1 and 2, 3 of an f32x4 summed as f64 into acc. */
@inline function addWide(acc: v128, v: v128): v128 {
  return f64x2.add(f64x2.add(acc, f64x2.promote_low_f32x4(v)), f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 0, 1)));
}

/**
 * Softmax (log = 0) or log-softmax (log = 1) of each of `rows` rows of D contiguous floats, in place: the row's
 * max m, e = exp(x − m) four at a time, Σe in f64; then e / Σ, or x − m − ln Σ.
 */
export function softmaxRows(x: usize, rows: i32, D: i32, log: i32): void {
  const D4 = D & ~3;
  for (let r = 0; r < rows; r++) {
    const row = x + ((<usize>r * <usize>D) << 2);
    let vm = f32x4.splat(-Infinity);
    let j = 0;
    for (; j < D4; j += 4) vm = f32x4.max(vm, v128.load(row + (<usize>j << 2)));
    let m = hmax(vm);
    for (; j < D; j++) m = max<f32>(m, load<f32>(row + (<usize>j << 2)));
    const m4 = f32x4.splat(m);
    let s2 = f64x2.splat(0);
    let s: f64 = 0;
    for (j = 0; j < D4; j += 4) {
      const p = row + (<usize>j << 2);
      const e = expNonPositive(f32x4.sub(v128.load(p), m4));
      if (!log) v128.store(p, e);
      s2 = addWide(s2, e);
    }
    for (; j < D; j++) {
      const p = row + (<usize>j << 2);
      const e = f32x4.extract_lane(expNonPositive(f32x4.splat(load<f32>(p) - m)), 0);
      if (!log) store<f32>(p, e);
      s += <f64>e;
    }
    s += f64x2.extract_lane(s2, 0) + f64x2.extract_lane(s2, 1);
    if (log) {
      const c = <f32>(<f64>m + Math.log(s));
      const c4 = f32x4.splat(c);
      for (j = 0; j < D4; j += 4) v128.store(row + (<usize>j << 2), f32x4.sub(v128.load(row + (<usize>j << 2)), c4));
      for (; j < D; j++) store<f32>(row + (<usize>j << 2), load<f32>(row + (<usize>j << 2)) - c);
    } else {
      const inv = <f32>(1 / s);
      const i4 = f32x4.splat(inv);
      for (j = 0; j < D4; j += 4) v128.store(row + (<usize>j << 2), f32x4.mul(v128.load(row + (<usize>j << 2)), i4));
      for (; j < D; j++) store<f32>(row + (<usize>j << 2), load<f32>(row + (<usize>j << 2)) * inv);
    }
  }
}

/**
 * y = x·½(1 + erf(x/√2)) over n floats (y = x allowed), erf of |z| < limit from `tab`: f64 pairs (value, slope per
 * step) every 1/step, cubic Hermite between them; ±1 beyond (NaN stays NaN). ops-elementwise.ts geluErf32's steps.
 */
export function geluErf(x: usize, y: usize, n: i32, tab: usize, step: f64, limit: f64): void {
  // Branch-free: every lane looks up |z| clamped below the limit (NaN stays NaN through min and the Hermite sums),
  // then takes 1 at or past it; the sign comes back by copysign (r ≥ 0, and ±0 give the same 1 + e).
  const below = reinterpret<f64>(reinterpret<i64>(limit) - 1);
  for (let i = 0; i < n; i++) {
    const v = <f64>load<f32>(x + (<usize>i << 2));
    const z = v * Math.SQRT1_2;
    const a = abs<f64>(z);
    const u = min<f64>(a, below) * step;
    const jf = Math.floor(u);
    const t = u - jf;
    const t2 = t * t, t3 = t2 * t;
    const q = tab + (<usize>(<i32>jf) << 4); // NaN converts to 0 (non-trapping conversions, on in AssemblyScript by default)
    const r = (2 * t3 - 3 * t2 + 1) * load<f64>(q) + (t3 - 2 * t2 + t) * load<f64>(q, 8) + (-2 * t3 + 3 * t2) * load<f64>(q, 16) + (t3 - t2) * load<f64>(q, 24);
    const e = copysign<f64>(select<f64>(1, r, a >= limit), z);
    store<f32>(y + (<usize>i << 2), <f32>(0.5 * v * (1 + e)));
  }
}

/**
 * A 1-D depthwise convolution of stride and dilation 1 over C channels of L floats (x [C, L] → out [C, P]): out[c, p]
 * = Σ_k w[c, k]·x[c, p − pad + k] (zeros outside), tap by tap in f64 (`acc`: P f64 of scratch), two positions a
 * vector. ops-nn.ts lineConv's sums in its order.
 */
export function depthwiseLine(x: usize, w: usize, out: usize, C: i32, L: i32, Kk: i32, pad: i32, P: i32, acc: usize): void {
  for (let c = 0; c < C; c++) {
    const xc = x + ((<usize>c * <usize>L) << 2), oc = out + ((<usize>c * <usize>P) << 2);
    memory.fill(acc, 0, <usize>P << 3);
    for (let k = 0; k < Kk; k++) {
      const wk = <f64>load<f32>(w + ((<usize>c * <usize>Kk + <usize>k) << 2));
      const w2 = f64x2.splat(wk);
      const sh = k - pad;
      const lo = max<i32>(0, -sh), hi = min<i32>(P, L - sh);
      let p = lo;
      for (; p + 2 <= hi; p += 2) {
        const a = acc + (<usize>p << 3);
        v128.store(a, f64x2.add(v128.load(a), f64x2.mul(w2, f64x2.promote_low_f32x4(v128.load64_zero(xc + (<usize>(p + sh) << 2))))));
      }
      for (; p < hi; p++) {
        const a = acc + (<usize>p << 3);
        store<f64>(a, load<f64>(a) + wk * <f64>load<f32>(xc + (<usize>(p + sh) << 2)));
      }
    }
    for (let p = 0; p < P; p++) store<f32>(oc + (<usize>p << 2), <f32>load<f64>(acc + (<usize>p << 3)));
  }
}

/**
 * im2col rows of an N-D convolution's group for n output positions: row r (ld floats) holds, channel by channel,
 * x[c, taps[r·Kk + k]] for k < Kk (0 where the tap is −1, the padding), then zeros up to ld. x is [Cg, S]. The
 * tap table is onnx-run's (ops-nn.ts tapTable).
 */
export function im2colTaps(x: usize, S: i32, Cg: i32, taps: usize, n: i32, Kk: i32, ld: i32, cols: usize): void {
  const used = Cg * Kk;
  for (let r = 0; r < n; r++) {
    const row = cols + ((<usize>r * <usize>ld) << 2), t = taps + ((<usize>r * <usize>Kk) << 2);
    for (let c = 0; c < Cg; c++) {
      const xc = x + ((<usize>c * <usize>S) << 2), o = row + ((<usize>(c * Kk)) << 2);
      for (let k = 0; k < Kk; k++) {
        const src = load<i32>(t + (<usize>k << 2));
        let v: f32 = 0;
        if (src >= 0) v = load<f32>(xc + (<usize>src << 2));
        store<f32>(o + (<usize>k << 2), v);
      }
    }
    if (used < ld) memory.fill(row + (<usize>used << 2), 0, <usize>(ld - used) << 2);
  }
}
