// AssemblyScript, WASM SIMD: the CPU engine's matrix kernel, y[M, N] = x[M, K] · W[N, K]ᵀ (+ bias[N]), f32 in,
// f32 accumulation in four lanes per output; y's rows are ldy floats apart (ldy = N, or the full width when
// threads each compute a slice of the columns: kernels/cpu-linear.ts). W is row-major [N, K] (PyTorch Linear
// order), so every output is a dot product of two contiguous rows. A block of 2 rows of x × 4 rows of W keeps 8
// vector accumulators: each W vector loaded serves 2 rows and each x vector 4; every row of x passes over one
// cache-sized block of W rows before the next. K % 4 == 0 takes the vector loop; other K the scalar one. Each
// output's sum runs in the same order whatever the blocking and the thread split.
// Pointers are byte offsets into this module's memory (kernels/cpu-linear.ts manages it). Built twice
// (scripts/build-wasm.mjs): with its own memory, and importing a shared one for the worker threads.

import { expNonPositive, hmax, hsum } from './lib/simd-math.as';

@inline function biasAt(bias: usize, n: i32): f32 {
  return bias != 0 ? load<f32>(bias + (<usize>n << 2)) : 0;
}

function gemmScalar(x: usize, w: usize, bias: usize, y: usize, M: i32, N: i32, K: i32, ldy: i32, ldw: i32, ldx: i32): void {
  for (let m = 0; m < M; m++) {
    const xr = x + (<usize>m * <usize>ldx << 2);
    for (let n = 0; n < N; n++) {
      const wr = w + (<usize>n * <usize>ldw << 2);
      let acc: f32 = 0;
      for (let k = 0; k < K; k++) acc += load<f32>(xr + (<usize>k << 2)) * load<f32>(wr + (<usize>k << 2));
      store<f32>(y + ((<usize>m * <usize>ldy + <usize>n) << 2), acc + biasAt(bias, n));
    }
  }
}

// One row of x against W rows [n0, n1), W's rows wb bytes apart.
function rowTail(xr: usize, w: usize, bias: usize, yr: usize, n0: i32, n1: i32, K: i32, wb: usize): void {
  const kb = <usize>K << 2;
  for (let n = n0; n < n1; n++) {
    const wr = w + <usize>n * wb;
    let a = f32x4.splat(0);
    for (let k: usize = 0; k < kb; k += 16) a = f32x4.add(a, f32x4.mul(v128.load(xr + k), v128.load(wr + k)));
    store<f32>(yr + (<usize>n << 2), hsum(a) + biasAt(bias, n));
  }
}

/** Rows x0, x1 (→ y0, y1) against W rows [n0, n1) (wb bytes apart), n1 − n0 a multiple of 4: the 2×4 register block. */
@inline function pairBlock(x0: usize, x1: usize, y0: usize, y1: usize, w: usize, bias: usize, n0: i32, n1: i32, kb: usize, wb: usize): void {
  for (let n = n0; n < n1; n += 4) {
    const w0 = w + <usize>n * wb, w1 = w0 + wb, w2 = w1 + wb, w3 = w2 + wb;
    let a00 = f32x4.splat(0), a01 = f32x4.splat(0), a02 = f32x4.splat(0), a03 = f32x4.splat(0);
    let a10 = f32x4.splat(0), a11 = f32x4.splat(0), a12 = f32x4.splat(0), a13 = f32x4.splat(0);
    for (let k: usize = 0; k < kb; k += 16) {
      const u = v128.load(x0 + k), v = v128.load(x1 + k);
      const b0 = v128.load(w0 + k), b1 = v128.load(w1 + k), b2 = v128.load(w2 + k), b3 = v128.load(w3 + k);
      a00 = f32x4.add(a00, f32x4.mul(u, b0));
      a01 = f32x4.add(a01, f32x4.mul(u, b1));
      a02 = f32x4.add(a02, f32x4.mul(u, b2));
      a03 = f32x4.add(a03, f32x4.mul(u, b3));
      a10 = f32x4.add(a10, f32x4.mul(v, b0));
      a11 = f32x4.add(a11, f32x4.mul(v, b1));
      a12 = f32x4.add(a12, f32x4.mul(v, b2));
      a13 = f32x4.add(a13, f32x4.mul(v, b3));
    }
    const o = <usize>n << 2;
    store<f32>(y0 + o, hsum(a00) + biasAt(bias, n));
    store<f32>(y0 + o + 4, hsum(a01) + biasAt(bias, n + 1));
    store<f32>(y0 + o + 8, hsum(a02) + biasAt(bias, n + 2));
    store<f32>(y0 + o + 12, hsum(a03) + biasAt(bias, n + 3));
    store<f32>(y1 + o, hsum(a10) + biasAt(bias, n));
    store<f32>(y1 + o + 4, hsum(a11) + biasAt(bias, n + 1));
    store<f32>(y1 + o + 8, hsum(a12) + biasAt(bias, n + 2));
    store<f32>(y1 + o + 12, hsum(a13) + biasAt(bias, n + 3));
  }
}

/** The odd last row x0 (→ y0) against W rows [n0, n1), 4 at a time. */
@inline function rowBlock(x0: usize, y0: usize, w: usize, bias: usize, n0: i32, n1: i32, kb: usize, wb: usize): void {
  for (let n = n0; n < n1; n += 4) {
    const w0 = w + <usize>n * wb, w1 = w0 + wb, w2 = w1 + wb, w3 = w2 + wb;
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
    for (let k: usize = 0; k < kb; k += 16) {
      const u = v128.load(x0 + k);
      a0 = f32x4.add(a0, f32x4.mul(u, v128.load(w0 + k)));
      a1 = f32x4.add(a1, f32x4.mul(u, v128.load(w1 + k)));
      a2 = f32x4.add(a2, f32x4.mul(u, v128.load(w2 + k)));
      a3 = f32x4.add(a3, f32x4.mul(u, v128.load(w3 + k)));
    }
    const o = <usize>n << 2;
    store<f32>(y0 + o, hsum(a0) + biasAt(bias, n));
    store<f32>(y0 + o + 4, hsum(a1) + biasAt(bias, n + 1));
    store<f32>(y0 + o + 8, hsum(a2) + biasAt(bias, n + 2));
    store<f32>(y0 + o + 12, hsum(a3) + biasAt(bias, n + 3));
  }
}

/** W rows per cache block: at most 256 KiB of W, so that a block stays in L2 while every row of x passes over it. */
const BLOCK_BYTES: usize = 256 << 10;

/** 2·√(2/π), the double kernels/cpu-linear.ts and src/models/cpu/dit-ops.ts use. */
const GELU_2C: f64 = 1.5957691216057308;

/**
 * The epilogue over the computed slice y[M, N] (row stride ldy): act 1 = GELU with the tanh approximation (the
 * DiT feed-forward), in f64 as ½x(1 + tanh u) = x·σ(2u) = x / (1 + e^(−2u)), u = √(2/π)(x + 0.044715x³): one exp
 * where tanh costs more; e^(−2u) overflowing gives x/∞ = −0, the limit. Each thread runs it on its own slice.
 */
function activate(y: usize, M: i32, N: i32, ldy: i32, act: i32): void {
  if (act == 2) {
    swiglu(y, M, N, ldy);
    return;
  }
  if (act != 1) return;
  for (let m = 0; m < M; m++) {
    const r = y + ((<usize>m * <usize>ldy) << 2);
    for (let n = 0; n < N; n++) {
      const p = r + (<usize>n << 2);
      const v = <f64>load<f32>(p);
      store<f32>(p, <f32>(v / (1 + Math.exp(-GELU_2C * (v + 0.044715 * v * v * v)))));
    }
  }
}

/**
 * act 2 = SwiGLU over column pairs (W's rows interleaved gate, up, gate, up, …; the Qwen2 MLP): in each row,
 * y[j] = SiLU(y[2j]) · y[2j + 1] for j < N/2 (N even), in f64 as g / (1 + e^(−g)) · u, written in place from the
 * left, so each thread compacts its own slice (kernels/cpu-linear.ts gathers the slices).
 */
function swiglu(y: usize, M: i32, N: i32, ldy: i32): void {
  for (let m = 0; m < M; m++) {
    const r = y + ((<usize>m * <usize>ldy) << 2);
    for (let j = 0; j < N >> 1; j++) {
      const p = r + (<usize>j << 3);
      const g = <f64>load<f32>(p);
      store<f32>(r + (<usize>j << 2), <f32>((g / (1 + Math.exp(-g))) * <f64>load<f32>(p + 4)));
    }
  }
}

/**
 * y = act(x · Wᵀ + bias), x's rows ldx floats apart: ldx = K for a plain matrix, or less for rows that overlap, as a
 * stride-1 convolution's im2col rows do in time-major x (row t is x[t − pad … t − pad + k) read in place:
 * src/models/cpu/conv.ts).
 */
export function gemm(x: usize, w: usize, bias: usize, y: usize, M: i32, N: i32, K: i32, ldy: i32, act: i32, ldx: i32): void {
  gemmPlain(x, w, bias, y, M, N, K, ldy, K, ldx);
  activate(y, M, N, ldy, act);
}

/** y[M, N] (rows ldy apart) = x[M, K] · W[N, K]ᵀ (+ bias), W's rows ldw ≥ K floats apart, x's ldx (K unless given). */
function gemmPlain(x: usize, w: usize, bias: usize, y: usize, M: i32, N: i32, K: i32, ldy: i32, ldw: i32, ldx: i32 = K): void {
  if (K & 3) {
    gemmScalar(x, w, bias, y, M, N, K, ldy, ldw, ldx);
    return;
  }
  const kb = <usize>K << 2, wb = <usize>ldw << 2, xb = <usize>ldx << 2;
  const yb = <usize>ldy << 2;
  const N4 = N & ~3;
  // Without the blocking every pair of rows streams all of W from memory: [384, 1024]·[3072, 1024]ᵀ ran at
  // 16 G multiply-adds/s, [132, 896]·[4864, 896]ᵀ at 12; blocked, both at 21–22 (one thread, this EPYC).
  const NB = max<i32>(4, <i32>(BLOCK_BYTES / kb) & ~3);
  for (let nb = 0; nb < N4; nb += NB) {
    const ne = min<i32>(N4, nb + NB);
    let m = 0;
    for (; m + 2 <= M; m += 2) {
      const x0 = x + <usize>m * xb, y0 = y + <usize>m * yb;
      pairBlock(x0, x0 + xb, y0, y0 + yb, w, bias, nb, ne, kb, wb);
    }
    if (m < M) rowBlock(x + <usize>m * xb, y + <usize>m * yb, w, bias, nb, ne, kb, wb);
  }
  for (let m = 0; m < M; m++) rowTail(x + <usize>m * xb, w, bias, y + <usize>m * yb, N4, N, K, wb);
}

// ---- int8 weights (q8) -------------------------------------------------------------------------------------
// W as int8 [N, K] row-major with one f32 scale per group of G values along K (scales [N, K/G]): w = q · scale,
// the values and layout of kernels/quant.ts quantizeHost (its q8 words are these bytes on a little-endian host).
// G is a multiple of 16 dividing K. A one-row call (a decode step) takes its row as int16 (quantizeRow16) and sums
// int8 × int16 products exactly in registers (q16Row); a larger one dequantises a block of W rows into f32 scratch
// (`tmp`) and runs the f32 blocks over every row of x. Either way the int8 rows are read once a call: a quarter of
// the f32 bytes.

/** The f32 scratch bytes one gemmQ8 call with this M and K needs (per thread). */
export function q8ScratchBytes(M: i32, K: i32): usize {
  if (M == 1) return 0;
  const kb = <usize>K << 2;
  return <usize>q8BlockRows(M, kb) * kb;
}

/** W rows dequantised at a time: a 16 KiB block (L1) for two rows of x, else a cache block as above. */
@inline function q8BlockRows(M: i32, kb: usize): i32 {
  return max<i32>(4, <i32>((M <= 2 ? Q8_SMALL_BLOCK : BLOCK_BYTES) / kb) & ~3);
}
const Q8_SMALL_BLOCK: usize = 16 << 10;

/** The 16 int8 of v as four f32x4, in order (widen0: values 0–3, …, widen3: 12–15). */
@inline function widen0(v: v128): v128 {
  return f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(i16x8.extend_low_i8x16_s(v)));
}
@inline function widen1(v: v128): v128 {
  return f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(i16x8.extend_low_i8x16_s(v)));
}
@inline function widen2(v: v128): v128 {
  return f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(i16x8.extend_high_i8x16_s(v)));
}
@inline function widen3(v: v128): v128 {
  return f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(i16x8.extend_high_i8x16_s(v)));
}

/** tmp[(n − n0)·K + k] = q[n, k] · scale[n, k / G] for rows [n0, n1). */
function dequantRows(wq: usize, sc: usize, tmp: usize, n0: i32, n1: i32, K: i32, G: i32): void {
  const SG = K / G;
  for (let n = n0; n < n1; n++) {
    const src = wq + <usize>n * <usize>K;
    const dst = tmp + ((<usize>(n - n0) * <usize>K) << 2);
    const srow = sc + ((<usize>n * <usize>SG) << 2);
    for (let g = 0; g < SG; g++) {
      const s = f32x4.splat(load<f32>(srow + (<usize>g << 2)));
      const k1 = <usize>(g + 1) * <usize>G;
      for (let k = <usize>g * <usize>G; k < k1; k += 16) {
        const v = v128.load(src + k);
        const d = dst + (k << 2);
        v128.store(d, f32x4.mul(widen0(v), s));
        v128.store(d + 16, f32x4.mul(widen1(v), s));
        v128.store(d + 32, f32x4.mul(widen2(v), s));
        v128.store(d + 48, f32x4.mul(widen3(v), s));
      }
    }
  }
}

/** Byte offset of a quantizeRow16 row's scales: after its K int16, 16-aligned. */
@inline function row16ScalesAt(K: i32): usize {
  return ((<usize>K << 1) + 15) & ~15;
}

/** Bytes of a row quantised by quantizeRow16 (K int16, then K/G f32 scales). */
export function row16Bytes(K: i32, G: i32): usize {
  return row16ScalesAt(K) + ((<usize>(K / G)) << 2);
}

/**
 * The one-row input of a q8 product as int16 with an f32 scale per group of G values (G a multiple of 16):
 * m = max|x| over the group, s = m / 32767, q = x · (32767 / m) rounded to nearest (ties to even) and saturated
 * to ±32767; s = q = 0 for a group of zeros. x ≈ q · s to 1/65534 of the group's largest value, 250× finer than
 * the int8 weights it meets, and q8 × int16 products sum exactly in i32 (i32x4.dot_i16x8_s).
 */
export function quantizeRow16(x: usize, xq: usize, K: i32, G: i32): void {
  const sc = xq + row16ScalesAt(K);
  for (let g = 0; g < K / G; g++) {
    const k0 = <usize>g * <usize>G;
    let mx = f32x4.splat(0);
    for (let k = k0; k < k0 + <usize>G; k += 4) mx = f32x4.max(mx, f32x4.abs(v128.load(x + (k << 2))));
    const m = max<f32>(max<f32>(f32x4.extract_lane(mx, 0), f32x4.extract_lane(mx, 1)), max<f32>(f32x4.extract_lane(mx, 2), f32x4.extract_lane(mx, 3)));
    const inv = f32x4.splat(m > 0 ? <f32>32767 / m : 0);
    store<f32>(sc + ((<usize>g) << 2), m / <f32>32767);
    for (let k = k0; k < k0 + <usize>G; k += 8) {
      const a = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(x + (k << 2)), inv)));
      const b = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(x + (k << 2) + 16), inv)));
      v128.store(xq + (k << 1), i16x8.narrow_i32x4_s(a, b));
    }
  }
}

/**
 * One row against W rows [n0, n1) in q8: x as quantizeRow16 left it (xq int16, xs its scales). Per group, the
 * int8 × int16 products sum exactly in i32 lanes (i32x4.dot_i16x8_s: two products a lane a step), then the lanes
 * go to f32 scaled by the weight row's and the input's group scales. ~2.4× the f32-widening loop it replaced with
 * W in cache, ~1.6× streaming W from memory, as a decode step does.
 */
function q16Row(xq: usize, xs: usize, wq: usize, sc: usize, bias: usize, y: usize, n0: i32, n1: i32, K: i32, G: i32): void {
  const SG = K / G;
  const kq = <usize>K;
  let n = n0;
  for (; n + 4 <= n1; n += 4) {
    const w0 = wq + <usize>n * kq, w1 = w0 + kq, w2 = w1 + kq, w3 = w2 + kq;
    const s0 = sc + ((<usize>n * <usize>SG) << 2), s1 = s0 + (<usize>SG << 2), s2 = s1 + (<usize>SG << 2), s3 = s2 + (<usize>SG << 2);
    let t0 = f32x4.splat(0), t1 = f32x4.splat(0), t2 = f32x4.splat(0), t3 = f32x4.splat(0);
    for (let g = 0; g < SG; g++) {
      let i0 = i32x4.splat(0), i1 = i32x4.splat(0), i2 = i32x4.splat(0), i3 = i32x4.splat(0);
      const k0 = <usize>g * <usize>G;
      for (let k = k0; k < k0 + <usize>G; k += 16) {
        const xa = v128.load(xq + (k << 1)), xb = v128.load(xq + (k << 1) + 16);
        i0 = i32x4.add(i0, dot16q(xa, xb, v128.load(w0 + k)));
        i1 = i32x4.add(i1, dot16q(xa, xb, v128.load(w1 + k)));
        i2 = i32x4.add(i2, dot16q(xa, xb, v128.load(w2 + k)));
        i3 = i32x4.add(i3, dot16q(xa, xb, v128.load(w3 + k)));
      }
      const go = <usize>g << 2;
      const xsg = load<f32>(xs + go);
      t0 = f32x4.add(t0, f32x4.mul(f32x4.convert_i32x4_s(i0), f32x4.splat(load<f32>(s0 + go) * xsg)));
      t1 = f32x4.add(t1, f32x4.mul(f32x4.convert_i32x4_s(i1), f32x4.splat(load<f32>(s1 + go) * xsg)));
      t2 = f32x4.add(t2, f32x4.mul(f32x4.convert_i32x4_s(i2), f32x4.splat(load<f32>(s2 + go) * xsg)));
      t3 = f32x4.add(t3, f32x4.mul(f32x4.convert_i32x4_s(i3), f32x4.splat(load<f32>(s3 + go) * xsg)));
    }
    const o = <usize>n << 2;
    store<f32>(y + o, hsum(t0) + biasAt(bias, n));
    store<f32>(y + o + 4, hsum(t1) + biasAt(bias, n + 1));
    store<f32>(y + o + 8, hsum(t2) + biasAt(bias, n + 2));
    store<f32>(y + o + 12, hsum(t3) + biasAt(bias, n + 3));
  }
  for (; n < n1; n++) {
    const w0 = wq + <usize>n * kq;
    const s0 = sc + ((<usize>n * <usize>SG) << 2);
    let t0 = f32x4.splat(0);
    for (let g = 0; g < SG; g++) {
      let i0 = i32x4.splat(0);
      const k0 = <usize>g * <usize>G;
      for (let k = k0; k < k0 + <usize>G; k += 16) i0 = i32x4.add(i0, dot16q(v128.load(xq + (k << 1)), v128.load(xq + (k << 1) + 16), v128.load(w0 + k)));
      const go = <usize>g << 2;
      t0 = f32x4.add(t0, f32x4.mul(f32x4.convert_i32x4_s(i0), f32x4.splat(load<f32>(s0 + go) * load<f32>(xs + go))));
    }
    store<f32>(y + (<usize>n << 2), hsum(t0) + biasAt(bias, n));
  }
}

/** Σ of 16 int16 × int8 products (xa: values 0–7, xb: 8–15, v: the 16 int8) in four i32 lanes, exactly. */
@inline function dot16q(xa: v128, xb: v128, v: v128): v128 {
  return i32x4.add(i32x4.dot_i16x8_s(xa, i16x8.extend_low_i8x16_s(v)), i32x4.dot_i16x8_s(xb, i16x8.extend_high_i8x16_s(v)));
}

/**
 * y = act(x · Wᵀ (+ bias)) with W in q8 (wq, sc, group G); tmp: q8ScratchBytes(M, K) bytes of this thread's.
 * One row (x then as quantizeRow16 wrote it): q16Row. More: blocks of W dequantised into tmp and the f32 register
 * blocks over every row, so each output equals the f32 kernel's on the dequantised W bit for bit.
 */
export function gemmQ8(x: usize, wq: usize, sc: usize, bias: usize, y: usize, M: i32, N: i32, K: i32, G: i32, ldy: i32, act: i32, tmp: usize): void {
  if (M == 1) {
    // x is the row as quantizeRow16 wrote it.
    q16Row(x, x + row16ScalesAt(K), wq, sc, bias, y, 0, N, K, G);
    activate(y, M, N, ldy, act);
    return;
  }
  const kb = <usize>K << 2;
  const yb = <usize>ldy << 2;
  const NB = q8BlockRows(M, kb);
  for (let nb = 0; nb < N; nb += NB) {
    const ne = min<i32>(N, nb + NB);
    dequantRows(wq, sc, tmp, nb, ne, K, G);
    // Row n of the block sits at wt + n·kb (wasm32 address arithmetic wraps, so wt may lie "below" 0).
    const wt = tmp - <usize>nb * kb;
    const e4 = nb + ((ne - nb) & ~3);
    let m = 0;
    for (; m + 2 <= M; m += 2) {
      const x0 = x + <usize>m * kb, y0 = y + <usize>m * yb;
      pairBlock(x0, x0 + kb, y0, y0 + yb, wt, bias, nb, e4, kb, kb);
    }
    if (m < M) rowBlock(x + <usize>m * kb, y + <usize>m * yb, wt, bias, nb, e4, kb, kb);
    if (e4 < ne) for (let r = 0; r < M; r++) rowTail(x + <usize>r * kb, wt, bias, y + <usize>r * yb, e4, ne, K, kb);
  }
  activate(y, M, N, ldy, act);
}

/**
 * Quantises f32 W [N, K] (at src) into wq (int8) and sc (f32 [N, K/G]) exactly as quantizeHost does in
 * JavaScript: scale = fround(max|w| / 127) in double, q = Math.round(w / scale) (ties up) clamped to ±127, 0 when
 * the group is all zeros. G must be a multiple of 16 (CpuKernels passes Q8_GROUP = 32).
 */
export function quantizeQ8(src: usize, wq: usize, sc: usize, N: i32, K: i32, G: i32): void {
  const SG = K / G;
  for (let n = 0; n < N; n++) {
    for (let g = 0; g < SG; g++) {
      const r = <usize>n * <usize>K + <usize>g * <usize>G;
      quantizeGroup(src + (r << 2), wq + r, sc + ((<usize>n * <usize>SG + <usize>g) << 2), G);
    }
  }
}

/**
 * One group, 16 values at a time: the division, rounding and clamp in two-lane f64 (exact, so the values are
 * quantizeHost's), narrowed to 16 int8 with one store. The scalar loop it replaced took ~15 ns a value at full size
 * (its output's first-touch page faults included), most of a q8 load.
 */
function quantizeGroup(x: usize, q: usize, s: usize, G: i32): void {
  let m = f32x4.splat(0);
  for (let k = 0; k < G; k += 4) m = f32x4.max(m, f32x4.abs(v128.load(x + (<usize>k << 2))));
  const amax = max<f32>(max<f32>(f32x4.extract_lane(m, 0), f32x4.extract_lane(m, 1)), max<f32>(f32x4.extract_lane(m, 2), f32x4.extract_lane(m, 3)));
  const scale = <f32>(<f64>amax / 127);
  store<f32>(s, scale);
  if (!(scale > 0)) {
    for (let k = 0; k < G; k += 16) v128.store(q + <usize>k, i32x4.splat(0));
    return;
  }
  const sd = f64x2.splat(<f64>scale);
  for (let k = 0; k < G; k += 16) {
    const p = x + (<usize>k << 2);
    const a = i16x8.narrow_i32x4_s(quantize4(v128.load(p), sd), quantize4(v128.load(p, 16), sd));
    const b = i16x8.narrow_i32x4_s(quantize4(v128.load(p, 32), sd), quantize4(v128.load(p, 48), sd));
    v128.store(q + <usize>k, i8x16.narrow_i16x8_s(a, b));
  }
}

/** Four f32 → four i32: min(127, max(−127, round(v / scale))), in f64. */
@inline function quantize4(v: v128, sd: v128): v128 {
  const lo = quantize2(f64x2.promote_low_f32x4(v), sd);
  const hi = quantize2(f64x2.promote_low_f32x4(i8x16.shuffle(v, v, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7)), sd);
  return i8x16.shuffle(lo, hi, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23);
}

/** JavaScript's Math.round (nearest, halves toward +∞: floor, then +1 when the rest is ≥ ½), clamped, as i32. */
@inline function quantize2(v: v128, sd: v128): v128 {
  const x = f64x2.div(v, sd);
  const f = f64x2.floor(x);
  const up = f64x2.ge(f64x2.sub(x, f), f64x2.splat(0.5));
  const r = f64x2.add(f, v128.and(up, f64x2.splat(1)));
  return i32x4.trunc_sat_f64x2_s_zero(f64x2.min(f64x2.splat(127), f64x2.max(f64x2.splat(-127), r)));
}

// ---- DiT self-attention -------------------------------------------------------------------------------------
// One (batch item, head) pair at a time, start to end in this module: q and k rows of the head copied out of the
// packed qkv rows [B·T, 3C], v transposed; scores = q·kᵀ by gemmPlain straight into the probabilities' rows
// (stride Tp = T rounded up to 4); the masked softmax in place; o = P·v by gemmPlain; each output row scaled by
// its 1/Σ. Threads take the pairs one at a time (kernels/cpu-threads.ts op 3).
// Mask: key j is visible to query i iff keymask[b·T + j] > 0.5 and, with a static chunk (streaming), j lies in a
// chunk not after i's: j < (⌊i/chunk⌋ + 1)·chunk. A row that sees no key attends to every key (upstream forces an
// all-False mask row to True).

/** Bytes of one thread's attention scratch for Tq query rows over T keys, head size dh. */
export function ditAttentionScratchBytes(Tq: i32, T: i32, dh: i32): usize {
  const Tp = <usize>((T + 3) & ~3);
  return (2 * <usize>Tq * <usize>dh + <usize>T * <usize>dh + <usize>dh * Tp + <usize>Tq * Tp + <usize>Tq + Tp + 64) << 2;
}

/**
 * One row of n4 scores (n4 a multiple of 4) → unnormalised probabilities exp(scale·(s − max)) over the columns
 * j < end (and, unless `dense`, with vis[j] > 0), 0 elsewhere; returns 1 / Σ. Masked columns may hold anything.
 */
@inline function softmaxRow(row: usize, n4: i32, end: i32, vis: usize, dense: bool, scale: f32): f32 {
  const lanes = i32x4(0, 1, 2, 3);
  const ninf = f32x4.splat(-Infinity), zero = f32x4.splat(0);
  const e4 = i32x4.splat(end);
  let vmx = ninf;
  for (let j = 0; j < n4; j += 4) {
    let ok = i32x4.lt_s(i32x4.add(i32x4.splat(j), lanes), e4);
    if (!dense) ok = v128.and(ok, f32x4.gt(v128.load(vis + (<usize>j << 2)), zero));
    vmx = f32x4.max(vmx, v128.bitselect(v128.load(row + (<usize>j << 2)), ninf, ok));
  }
  const mx = f32x4.splat(hmax(vmx));
  const sc = f32x4.splat(scale);
  let sum = zero;
  for (let j = 0; j < n4; j += 4) {
    let ok = i32x4.lt_s(i32x4.add(i32x4.splat(j), lanes), e4);
    if (!dense) ok = v128.and(ok, f32x4.gt(v128.load(vis + (<usize>j << 2)), zero));
    const p = row + (<usize>j << 2);
    const e = v128.bitselect(expNonPositive(f32x4.mul(f32x4.sub(v128.load(p), mx), sc)), zero, ok);
    v128.store(p, e);
    sum = f32x4.add(sum, e);
  }
  return 1 / hsum(sum);
}

/** dst[0 … n) = src[0 … n) · s (src = dst allowed). */
@inline function scaledCopy(src: usize, dst: usize, n: i32, s: f32): void {
  const s4 = f32x4.splat(s);
  let d = 0;
  for (; d + 4 <= n; d += 4) v128.store(dst + (<usize>d << 2), f32x4.mul(v128.load(src + (<usize>d << 2)), s4));
  for (; d < n; d++) store<f32>(dst + (<usize>d << 2), load<f32>(src + (<usize>d << 2)) * s);
}

/**
 * Rows of `probs` [Tq, Tp] (scores on entry; row i is query q0 + i) → unnormalised probabilities
 * exp(scale·(s − max)) over each query's visible keys, zero elsewhere; rowScale[i] = 1 / Σ. vis [Tp]: 1 for an
 * unpadded key of this batch item, else 0.
 */
function maskedSoftmax(probs: usize, rowScale: usize, vis: usize, Tq: i32, q0: i32, T: i32, Tp: i32, chunk: i32, first: i32, all: bool, scale: f32): void {
  for (let i = 0; i < Tq; i++) {
    const lim = chunk > 0 ? min<i32>(T, ((q0 + i) / chunk + 1) * chunk) : T;
    // Query q0 + i sees keys [0, lim) minus the padding: none when the first unpadded key lies past lim.
    const rowEmpty = first >= lim;
    const row = probs + ((<usize>i * <usize>Tp) << 2);
    store<f32>(rowScale + (<usize>i << 2), softmaxRow(row, Tp, rowEmpty ? T : lim, vis, all || rowEmpty, scale));
  }
}

/**
 * o[b·Tq + i, h·dh + d] for the (b, h) pairs [p0, p1) (pair = b·heads + h): the queries q0 … q0 + Tq − 1 of T
 * frames. Query row i of item b at q + (b·Tq + i)·ldq floats (head h at column h·dh, rotary applied); key row j at
 * kv + (b·T + j)·ldkv, its value C = heads·dh floats further. keymask [B·T] f32. A whole-sequence call is q0 = 0,
 * Tq = T over a fused qkv [B·T, 3C]: q = qkv, kv = qkv + C, ldq = ldkv = 3C. Query rows give the same bits in
 * either form: each row's scores, softmax and P·V walk the same keys in the same order.
 * scratch: ditAttentionScratchBytes(Tq, T, dh) bytes of this thread's.
 */
export function ditAttention(q: usize, ldq: i32, kv: usize, ldkv: i32, o: usize, Tq: i32, q0: i32, T: i32, heads: i32, dh: i32, keymask: usize, chunk: i32, scale: f32, p0: i32, p1: i32, scratch: usize): void {
  const C = heads * dh, Tp = (T + 3) & ~3;
  const qrowB = <usize>ldq << 2, kvrowB = <usize>ldkv << 2, hb = <usize>dh << 2;
  const qh = (scratch + 15) & ~15;
  const kh = qh + ((<usize>Tq * <usize>dh) << 2);
  const oh = kh + ((<usize>T * <usize>dh) << 2);
  const vt = oh + ((<usize>Tq * <usize>dh) << 2);
  const probs = vt + ((<usize>dh * <usize>Tp) << 2);
  const rowScale = probs + ((<usize>Tq * <usize>Tp) << 2);
  const vis = rowScale + (<usize>Tq << 2);
  let b0 = -1, first = T, all = true;
  for (let p = p0; p < p1; p++) {
    const b = p / heads, h = p % heads;
    if (b != b0) {
      b0 = b;
      first = T;
      all = true;
      for (let j = T - 1; j >= 0; j--) {
        const seen = load<f32>(keymask + ((<usize>(b * T + j)) << 2)) > 0.5;
        store<f32>(vis + (<usize>j << 2), seen ? 1 : 0);
        if (seen) first = j;
        else all = false;
      }
      for (let j = T; j < Tp; j++) store<f32>(vis + (<usize>j << 2), 0);
    }
    for (let t = 0; t < Tq; t++) memory.copy(qh + <usize>t * hb, q + <usize>(b * Tq + t) * qrowB + <usize>h * hb, hb);
    for (let t = 0; t < T; t++) {
      const r = kv + <usize>(b * T + t) * kvrowB + <usize>h * hb;
      memory.copy(kh + <usize>t * hb, r, hb);
      const v = r + (<usize>C << 2);
      for (let d = 0; d < dh; d++) store<f32>(vt + ((<usize>d * <usize>Tp + <usize>t) << 2), load<f32>(v + (<usize>d << 2)));
    }
    for (let d = 0; d < dh; d++) for (let t = T; t < Tp; t++) store<f32>(vt + ((<usize>d * <usize>Tp + <usize>t) << 2), 0);
    gemmPlain(qh, kh, 0, probs, Tq, T, dh, Tp, dh);
    maskedSoftmax(probs, rowScale, vis, Tq, q0, T, Tp, chunk, first, all, scale);
    gemmPlain(probs, vt, 0, oh, Tq, dh, Tp, dh, Tp);
    for (let t = 0; t < Tq; t++) {
      scaledCopy(oh + <usize>t * hb, o + ((<usize>(b * Tq + t) * <usize>C + <usize>h * <usize>dh) << 2), dh, load<f32>(rowScale + (<usize>t << 2)));
    }
  }
}

// ---- LLM causal GQA attention of one kv group ----------------------------------------------------------------
// The CPU LLM (src/models/cpu/llm-attention.ts) hands over, per kv group, the query rows of its heads Qg [R, D]
// (time-major, the group's `rep` heads within each time row), the cached keys [n, D] and the transposed values
// Vᵀ [D, n4] (n4 = n rounded up to 4, zero-padded); scores, the causal softmax and P·V run here, so that neither the
// scores nor the probabilities leave the module.

/** Bytes of scratch llmAttention needs for R query rows over n4 keys. */
export function llmAttentionScratchBytes(R: i32, n4: i32): usize {
  return ((<usize>R * <usize>n4 + <usize>R) << 2) + 16;
}

/**
 * o [R, D] = softmax(scale · Qg·Kᵀ) · V over the keys row r may see: 0 … pos0 + ⌊r / rep⌋ (causal; every row sees
 * at least key 0). k [n, D]; vt [D, n4] with rows ldv ≥ n4 floats apart (the KV cache's own Vᵀ rows: columns n …
 * n4 − 1 must be finite, the probabilities there are 0).
 */
export function llmAttention(qg: usize, k: usize, vt: usize, ldv: i32, o: usize, R: i32, n: i32, n4: i32, D: i32, rep: i32, pos0: i32, scale: f32, scratch: usize): void {
  const probs = (scratch + 15) & ~15;
  const rowScale = probs + ((<usize>R * <usize>n4) << 2);
  gemmPlain(qg, k, 0, probs, R, n, D, n4, D);
  // Columns ≥ n were never written: the causal mask drops them with the later keys.
  for (let r = 0; r < R; r++) {
    const row = probs + ((<usize>r * <usize>n4) << 2);
    store<f32>(rowScale + (<usize>r << 2), softmaxRow(row, n4, min<i32>(n, pos0 + r / rep + 1), 0, true, scale));
  }
  gemmPlain(probs, vt, 0, o, R, D, n4, D, ldv);
  for (let r = 0; r < R; r++) {
    const row = o + ((<usize>r * <usize>D) << 2);
    scaledCopy(row, row, D, load<f32>(rowScale + (<usize>r << 2)));
  }
}

// ---- The DiT's and HiFT's elementwise steps (lib/dit-ops.as.ts, lib/hift-ops.as.ts) ------------------------

export { adaLayerNorm, gatedResidual, rotary } from './lib/dit-ops.as';
export { snake, leakyRelu, addInto, addSumInto, divideBy } from './lib/hift-ops.as';

// ---- The CPU ONNX interpreter's row steps (lib/onnx-ops.as.ts) ------------------------------------------------

export { softmaxRows, geluErf, depthwiseLine, im2colTaps } from './lib/onnx-ops.as';

// ---- im2col ---------------------------------------------------------------------------------------------------

/**
 * cols [m, row] for output times t0 … t0+m−1 of a conv1d over time-major x [lin, cin] (src/models/cpu/conv.ts):
 * row r holds the k taps x[(t0+r)·stride + j·dilation − padLeft, :] (zeros outside [0, lin)), then zeros up to
 * `row`. Each tap is one memory.copy of cin floats (the whole row at once when dilation is 1 and it lies inside).
 */
export function im2col(x: usize, cols: usize, lin: i32, cin: i32, k: i32, row: i32, t0: i32, m: i32, stride: i32, dilation: i32, padLeft: i32): void {
  const cb = <usize>cin << 2;
  const used = <usize>(k * cin) << 2, rb = <usize>row << 2;
  for (let r = 0; r < m; r++) {
    const base = (t0 + r) * stride - padLeft;
    const o = cols + <usize>r * rb;
    if (dilation == 1 && base >= 0 && base + k <= lin) memory.copy(o, x + <usize>base * cb, used);
    else {
      for (let j = 0; j < k; j++) {
        const q = base + j * dilation;
        const dst = o + <usize>j * cb;
        if (q >= 0 && q < lin) memory.copy(dst, x + <usize>q * cb, cb);
        else memory.fill(dst, 0, cb);
      }
    }
    if (used < rb) memory.fill(o + used, 0, rb - used);
  }
}

/** Grows memory so that `bytes` fit after static data; returns the first free 16-aligned byte offset, 0 if not. */
export function reserve(bytes: usize): usize {
  const base = (__heap_base + 15) & ~15;
  const need = <i32>((base + bytes + 0xffff) >>> 16) - memory.size();
  if (need > 0 && memory.grow(need) < 0) return 0;
  return base;
}
