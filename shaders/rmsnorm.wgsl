// RMSNorm (Qwen2RMSNorm) and the SwiGLU gate product used next to it in the Qwen2 MLP.
//
// Entry `rmsnorm`:  y[r, :] = w ⊙ (x[r0 + r, :] · 1/sqrt(mean(x[r0 + r, :]²) + eps))   for r in [0, rows)
//   x [*, cols] f32, w [cols] f32, y [rows, cols] f32. `r0` (inRowOffset) lets the final norm read only the last
//   row of a prefill without a 256-byte-aligned sub-view. Statistics in f32 with a tree sum (upstream casts to
//   f32 as well); the weight multiply comes last, as in HF (`weight * hidden.to(dtype)`).
//   One workgroup owns one row; WG threads stride over the columns. Grid: (rows).
//   1/sqrt instead of inverseSqrt: some drivers implement inverseSqrt as an approximation.
//
// Entry `silu_mul`: a[m, f] = silu(gu[m, f]) · gu[m, F + f]   (gu [M, 2F] = [gate | up] from one fused GEMM)
//   silu(g) = g / (1 + exp(−g)). One thread per output element; flat grid split over x/y (rowStride).
//   For the prefill path (M rows through kernels/matmul.ts GEMM).
//
// Entry `gemv` (define GEMV; M rows, weights f32 or F16W packed halves, K % 8 == 0):
//   y[m, n] = Σ_k x̂[m, k]·W[n, k] (+ bias[n]) (+ res[m, n])      W [N, K] (nn.Linear layout)
//   x̂ = PRENORM ? nw ⊙ (x · 1/sqrt(mean(x²) + eps))        (the RMSNorm fused into the projection after it)
//     : SWIGLU_X ? silu(x[k]) · x[K + k]                    (x = [gate | up] [2K]: the SwiGLU fused into down_proj)
//     : x
//   One workgroup = LANES (8) threads = one SIMD group on lavapipe, owning ROWS output columns × MR input rows
//   (register block: one weight load feeds MR rows, one x load feeds ROWS columns); lane l covers the 8-element
//   chunks c ≡ l (mod 8), read as vec4 pairs. Lane partials meet in workgroup memory (one barrier; a second for
//   the norm statistics); lane l finishes outputs l, l+8, …. Grid (ceil(N/ROWS), ceil(M/MR)). The norm prologue
//   recomputes Σx² per workgroup (K reads, negligible next to ROWS·K weight reads). Chosen on CPU adapters,
//   where the per-workgroup and barrier costs of wide reductions dominate (src/models/qwen2/forward.ts).

// Entry `gemv_sg` (defines GEMV + GEMV_SG; llvmpipe with subgroups of ≥ 8 lanes; decode, M = 1): a workgroup is
//   one 8-lane subgroup and lane s owns output row 8·wid + s whole, accumulating in one vec4 register. Per 8
//   chunks of 8 k, lane s forms x̂ of chunk c0 + s (norm / SwiGLU prologue applied) and subgroupBroadcast hands
//   it to every lane, so x costs 2 loads per lane per 64 k; the lane's weights are its own row. No workgroup
//   memory, no barrier, no reduction (the `gemv` form keeps ROWS accumulators in an indexed array, which
//   llvmpipe spills to memory with per-lane accesses). Chunks past K are zero on the broadcasting lane.
//   Grid (ceil(N/8), 1).
//
// Entry `gemm_sg` (defines GEMV + GEMM_SG; llvmpipe with subgroups of ≥ 8 lanes; M ≥ 8 prefill rows): the same
//   y = x̂·Wᵀ (+ bias) (+ res) as `gemv`, blocked like dit_linear.wgsl `sgblock`: a subgroup owns 8 rows, lane s
//   forms x̂ of row m0 + s (norm statistics from its own pass over the row; SwiGLU from gate and up) and
//   subgroupBroadcast hands each row to every lane; a lane owns 4 columns. Per 8 k: 2 x loads (+2 gate/up or
//   norm-weight loads) and 4 W loads (f16: one word group per column) feed 256 FMAs, no barrier, no reduction.
//   Grid (ceil(N/256), ceil(M/8)), workgroup 64; rows and columns past the end are clamped for loads, not stored.
// Entry `gemm_sg32` (the same defines; M ≥ 32): 32 rows a subgroup, so per 8 k 8 x̂ chunks and 4 W chunks feed
//   1024 FMAs. Grid (ceil(N/256), ceil(M/32)).

#ifdef GEMM_SG
enable subgroups;
#endif
#ifdef GEMV_SG
enable subgroups;
#endif
#include "half8"

#ifndef GEMV
struct Params {
  rows: u32,
  cols: u32,
  inRowOffset: u32,
  eps: f32,
  rowStride: u32,  // silu_mul: threads per grid row
  _p0: u32,
  _p1: u32,
  _p2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
#ifdef NORM4
// vec4 bindings (cols % 4 == 0): llvmpipe charges a load per lane whatever its width.
@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> w: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> y: array<vec4<f32>>;
#else
@group(0) @binding(1) var<storage, read> x: array<f32>;
#ifdef NORM
@group(0) @binding(2) var<storage, read> w: array<f32>;
#endif
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
#endif

const WG: u32 = {{WG}}u;
var<workgroup> partial: array<f32, WG>;

#ifdef NORM
// NORM4 (cols % 4 == 0): the same walk over vec4s, four columns a load; the bindings are vec4 arrays then.
#ifdef NORM4
alias Cols = vec4<f32>;
const PER: u32 = 4u;
fn hsum(v: vec4<f32>) -> f32 { return (v.x + v.y) + (v.z + v.w); }
#else
alias Cols = f32;
const PER: u32 = 1u;
fn hsum(v: f32) -> f32 { return v; }
#endif

@compute @workgroup_size(WG)
fn rmsnorm(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let r = wid.x;
  let n = p.cols / PER;
  let xb = (p.inRowOffset + r) * n;
  let yb = r * n;
  var acc = Cols(0.0);
  for (var c = lid; c < n; c += WG) {
    let v = x[xb + c];
    acc = fma(v, v, acc);
  }
  partial[lid] = hsum(acc);
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) {
      partial[lid] += partial[lid + s];
    }
    workgroupBarrier();
  }
  let inv = 1.0 / sqrt(partial[0] / f32(p.cols) + p.eps);
  for (var c = lid; c < n; c += WG) {
    y[yb + c] = w[c] * (x[xb + c] * inv);
  }
}
#endif

#ifdef SILU_MUL
@compute @workgroup_size(WG)
fn silu_mul(@builtin(global_invocation_id) gid: vec3<u32>) {
  // rows = M, cols = F
  let i = gid.y * p.rowStride + gid.x;
  if (i >= p.rows * p.cols) { return; }
  let m = i / p.cols;
  let f = i % p.cols;
  let g = x[m * 2u * p.cols + f];
  let u = x[m * 2u * p.cols + p.cols + f];
  y[i] = g / (1.0 + exp(-g)) * u;
}
#endif
#endif

#ifdef GEMV
struct GParams {
  N: u32,
  K: u32,
  eps: f32,
  M: u32,
}

@group(0) @binding(0) var<uniform> gp: GParams;
@group(0) @binding(1) var<storage, read> gx: array<vec4<f32>>;
#ifdef F16W
@group(0) @binding(2) var<storage, read> gw: array<vec4<u32>>;
#else
@group(0) @binding(2) var<storage, read> gw: array<vec4<f32>>;
#endif
@group(0) @binding(3) var<storage, read_write> gy: array<f32>;
#ifdef PRENORM
@group(0) @binding(4) var<storage, read> gnorm: array<vec4<f32>>;
#endif
#ifdef BIAS
@group(0) @binding(5) var<storage, read> gbias: array<f32>;
#endif
#ifdef RESIDUAL
@group(0) @binding(6) var<storage, read> gres: array<f32>;
#endif

#ifdef GEMV_ROWS
const LANES: u32 = 8u;
const ROWS: u32 = {{ROWS}}u;
const MR: u32 = {{MR}}u;
var<workgroup> red: array<f32, ROWS * MR * LANES>;
var<workgroup> ssq: array<f32, MR * LANES>;
#endif

// Weight elements 8c..8c+7 of row n.
fn w8(n: u32, c: u32) -> mat2x4<f32> {
#ifdef F16W
  return half8(gw[n * (gp.K >> 3u) + c]);
#else
  let b = n * (gp.K >> 2u) + 2u * c;
  return mat2x4<f32>(gw[b], gw[b + 1u]);
#endif
}

// y[m, n] = v (+ bias[n]) (+ res[m, n]): the epilogue of both GEMV entries.
fn store_out(m: u32, n: u32, v: f32) {
  var o = v;
#ifdef BIAS
  o += gbias[n];
#endif
#ifdef RESIDUAL
  o += gres[m * gp.N + n];
#endif
  gy[m * gp.N + n] = o;
}

fn silu4(g: vec4<f32>) -> vec4<f32> {
  return g / (vec4<f32>(1.0) + exp(-g));
}

#ifdef GEMV_ROWS
@compute @workgroup_size(LANES)
fn gemv(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let n0 = wid.x * ROWS;
  let m0 = wid.y * MR;
  let C = gp.K >> 3u;
#ifdef SWIGLU_X
  let XS = gp.K >> 1u;
#else
  let XS = gp.K >> 2u;
#endif
#ifdef PRENORM
  var inv: array<f32, MR>;
  for (var mr = 0u; mr < MR; mr++) {
    let xb0 = min(m0 + mr, gp.M - 1u) * XS;
    var s = 0.0;
    for (var c = lid; c < C; c += LANES) {
      let a = gx[xb0 + 2u * c];
      let b = gx[xb0 + 2u * c + 1u];
      s += dot(a, a) + dot(b, b);
    }
    ssq[mr * LANES + lid] = s;
  }
  workgroupBarrier();
  for (var mr = 0u; mr < MR; mr++) {
    var tot = 0.0;
    for (var i = 0u; i < LANES; i++) {
      tot += ssq[mr * LANES + i];
    }
    inv[mr] = 1.0 / sqrt(tot / f32(gp.K) + gp.eps);
  }
#endif
  var acc: array<f32, ROWS * MR>;
  var xa: array<vec4<f32>, MR>;
  var xb: array<vec4<f32>, MR>;
  for (var c = lid; c < C; c += LANES) {
    for (var mr = 0u; mr < MR; mr++) {
      let xr = min(m0 + mr, gp.M - 1u) * XS;
#ifdef SWIGLU_X
      xa[mr] = silu4(gx[xr + 2u * c]) * gx[xr + (gp.K >> 2u) + 2u * c];
      xb[mr] = silu4(gx[xr + 2u * c + 1u]) * gx[xr + (gp.K >> 2u) + 2u * c + 1u];
#else
      xa[mr] = gx[xr + 2u * c];
      xb[mr] = gx[xr + 2u * c + 1u];
#endif
#ifdef PRENORM
      xa[mr] = gnorm[2u * c] * (xa[mr] * inv[mr]);
      xb[mr] = gnorm[2u * c + 1u] * (xb[mr] * inv[mr]);
#endif
    }
    for (var r = 0u; r < ROWS; r++) {
      let wv = w8(min(n0 + r, gp.N - 1u), c);
      for (var mr = 0u; mr < MR; mr++) {
        acc[r * MR + mr] += dot(wv[0], xa[mr]) + dot(wv[1], xb[mr]);
      }
    }
  }
  for (var j = 0u; j < ROWS * MR; j++) {
    red[j * LANES + lid] = acc[j];
  }
  workgroupBarrier();
  for (var j = lid; j < ROWS * MR; j += LANES) {
    let n = n0 + j / MR;
    let m = m0 + j % MR;
    if (n < gp.N && m < gp.M) {
      var v = 0.0;
      for (var i = 0u; i < LANES; i++) {
        v += red[j * LANES + i];
      }
      store_out(m, n, v);
    }
  }
}
#endif

#ifdef GEMV_SG
// x̂ of chunk c (elements 8c..8c+7) of the single input row, as two vec4 halves; zero past K.
fn xhat8(c: u32, inv: f32) -> mat2x4<f32> {
  if (c >= (gp.K >> 3u)) { return mat2x4<f32>(); }
#ifdef SWIGLU_X
  let up = gp.K >> 2u;
  return mat2x4<f32>(silu4(gx[2u * c]) * gx[up + 2u * c], silu4(gx[2u * c + 1u]) * gx[up + 2u * c + 1u]);
#else
#ifdef PRENORM
  return mat2x4<f32>(gnorm[2u * c] * (gx[2u * c] * inv), gnorm[2u * c + 1u] * (gx[2u * c + 1u] * inv));
#else
  return mat2x4<f32>(gx[2u * c], gx[2u * c + 1u]);
#endif
#endif
}

@compute @workgroup_size(8)
fn gemv_sg(@builtin(workgroup_id) wid: vec3<u32>, @builtin(subgroup_invocation_id) sid: u32) {
  let C = gp.K >> 3u;
  let row = wid.x * 8u + sid;
  let n = min(row, gp.N - 1u);
  var inv = 1.0;
#ifdef PRENORM
  var ss = 0.0;
  for (var c = sid; c < C; c += 8u) {
    let a = gx[2u * c];
    let b = gx[2u * c + 1u];
    ss += dot(a, a) + dot(b, b);
  }
  inv = 1.0 / sqrt(subgroupAdd(ss) / f32(gp.K) + gp.eps);
#endif
  var acc = vec4<f32>();
  let last = C - 1u;
  // Written out 8 times rather than looped: subgroupBroadcast takes the source lane as a constant expression.
  for (var c0 = 0u; c0 < C; c0 += 8u) {
    let xs = xhat8(c0 + sid, inv);
    let xa = xs[0];
    let xb = xs[1];
    var w = w8(n, min(c0, last));
    acc += w[0] * subgroupBroadcast(xa, 0u) + w[1] * subgroupBroadcast(xb, 0u);
    w = w8(n, min(c0 + 1u, last));
    acc += w[0] * subgroupBroadcast(xa, 1u) + w[1] * subgroupBroadcast(xb, 1u);
    w = w8(n, min(c0 + 2u, last));
    acc += w[0] * subgroupBroadcast(xa, 2u) + w[1] * subgroupBroadcast(xb, 2u);
    w = w8(n, min(c0 + 3u, last));
    acc += w[0] * subgroupBroadcast(xa, 3u) + w[1] * subgroupBroadcast(xb, 3u);
    w = w8(n, min(c0 + 4u, last));
    acc += w[0] * subgroupBroadcast(xa, 4u) + w[1] * subgroupBroadcast(xb, 4u);
    w = w8(n, min(c0 + 5u, last));
    acc += w[0] * subgroupBroadcast(xa, 5u) + w[1] * subgroupBroadcast(xb, 5u);
    w = w8(n, min(c0 + 6u, last));
    acc += w[0] * subgroupBroadcast(xa, 6u) + w[1] * subgroupBroadcast(xb, 6u);
    w = w8(n, min(c0 + 7u, last));
    acc += w[0] * subgroupBroadcast(xa, 7u) + w[1] * subgroupBroadcast(xb, 7u);
  }
  if (row < gp.N) {
    store_out(0u, row, acc.x + acc.y + acc.z + acc.w);
  }
}
#endif

#ifdef GEMM_SG
// One output row m: 4 columns from n0 (those ≥ N are not stored).
fn store_row(m: u32, n0: u32, acc: vec4<f32>) {
  if (m >= gp.M) { return; }
  for (var j = 0u; j < 4u; j++) {
    let n = n0 + j;
    if (n >= gp.N) { return; }
    store_out(m, n, acc[j]);
  }
}

#include "sg_chunk"

// The lane's 4 weight rows (output columns), clamped past N.
fn lane_cols(nOwn: u32) -> vec4<u32> {
  return min(vec4<u32>(nOwn, nOwn + 1u, nOwn + 2u, nOwn + 3u), vec4<u32>(gp.N - 1u));
}

// Row stride of x in vec4 (SwiGLU input: gate | up halves).
fn x_stride4() -> u32 {
#ifdef SWIGLU_X
  return gp.K >> 1u;
#else
  return gp.K >> 2u;
#endif
}

// 1 / RMS of the row at vec4 offset xr (PRENORM), from the lane's own pass over it; 1 otherwise.
fn row_inv_rms(xr: u32) -> f32 {
#ifdef PRENORM
  var ss = 0.0;
  for (var c = 0u; c < (gp.K >> 3u); c++) {
    let a = gx[xr + 2u * c];
    let b = gx[xr + 2u * c + 1u];
    ss += dot(a, a) + dot(b, b);
  }
  return 1.0 / sqrt(ss / f32(gp.K) + gp.eps);
#else
  return 1.0;
#endif
}

// Chunk c (8 elements, two vec4 halves) of x̂ for the row at vec4 offset xr: SwiGLU of gate and up, the RMSNorm
// (inv from row_inv_rms), or x itself.
fn x_chunk(xr: u32, c: u32, inv: f32) -> mat2x4<f32> {
#ifdef SWIGLU_X
  return mat2x4<f32>(silu4(gx[xr + 2u * c]) * gx[xr + (gp.K >> 2u) + 2u * c],
                     silu4(gx[xr + 2u * c + 1u]) * gx[xr + (gp.K >> 2u) + 2u * c + 1u]);
#else
#ifdef PRENORM
  return mat2x4<f32>(gnorm[2u * c] * (gx[xr + 2u * c] * inv), gnorm[2u * c + 1u] * (gx[xr + 2u * c + 1u] * inv));
#else
  return mat2x4<f32>(gx[xr + 2u * c], gx[xr + 2u * c + 1u]);
#endif
#endif
}

@compute @workgroup_size(64)
fn gemm_sg(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32,
           @builtin(subgroup_invocation_id) sid: u32) {
  let nOwn = (wid.x * 64u + lid) * 4u;
  let m0 = wid.y * 8u;
  // Lane s prepares row m0 + s (lanes ≥ 8 of a wider subgroup prepare a row nobody broadcasts).
  let xr = min(m0 + sid, gp.M - 1u) * x_stride4();
  let inv = row_inv_rms(xr);
  let n = lane_cols(nOwn);
  var a0 = vec4<f32>(); var a1 = vec4<f32>(); var a2 = vec4<f32>(); var a3 = vec4<f32>();
  var a4 = vec4<f32>(); var a5 = vec4<f32>(); var a6 = vec4<f32>(); var a7 = vec4<f32>();
  for (var c = 0u; c < (gp.K >> 3u); c++) {
    let xv = x_chunk(xr, c, inv);
    let xa = xv[0];
    let xb = xv[1];
    let w0 = w8(n.x, c);
    let w1 = w8(n.y, c);
    let w2 = w8(n.z, c);
    let w3 = w8(n.w, c);
    a0 += sg_dot8x4(subgroupBroadcast(xa, 0u), subgroupBroadcast(xb, 0u), w0, w1, w2, w3);
    a1 += sg_dot8x4(subgroupBroadcast(xa, 1u), subgroupBroadcast(xb, 1u), w0, w1, w2, w3);
    a2 += sg_dot8x4(subgroupBroadcast(xa, 2u), subgroupBroadcast(xb, 2u), w0, w1, w2, w3);
    a3 += sg_dot8x4(subgroupBroadcast(xa, 3u), subgroupBroadcast(xb, 3u), w0, w1, w2, w3);
    a4 += sg_dot8x4(subgroupBroadcast(xa, 4u), subgroupBroadcast(xb, 4u), w0, w1, w2, w3);
    a5 += sg_dot8x4(subgroupBroadcast(xa, 5u), subgroupBroadcast(xb, 5u), w0, w1, w2, w3);
    a6 += sg_dot8x4(subgroupBroadcast(xa, 6u), subgroupBroadcast(xb, 6u), w0, w1, w2, w3);
    a7 += sg_dot8x4(subgroupBroadcast(xa, 7u), subgroupBroadcast(xb, 7u), w0, w1, w2, w3);
  }
  if (nOwn >= gp.N) { return; }
  store_row(m0, nOwn, a0);
  store_row(m0 + 1u, nOwn, a1);
  store_row(m0 + 2u, nOwn, a2);
  store_row(m0 + 3u, nOwn, a3);
  store_row(m0 + 4u, nOwn, a4);
  store_row(m0 + 5u, nOwn, a5);
  store_row(m0 + 6u, nOwn, a6);
  store_row(m0 + 7u, nOwn, a7);
}

// gemm_sg with 32 rows a subgroup (lane s prepares rows m0 + s, +8, +16, +24): per 8 k, 8 x̂ chunks and 4 W
// chunks feed 1024 FMAs. Accumulators indexed by literals only (see dit_linear.wgsl sgblock32).
@compute @workgroup_size(64)
fn gemm_sg32(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32,
             @builtin(subgroup_invocation_id) sid: u32) {
  let nOwn = (wid.x * 64u + lid) * 4u;
  let m0 = wid.y * 32u;
  let xr0 = min(m0 + 0u + sid, gp.M - 1u) * x_stride4();
  let xr1 = min(m0 + 8u + sid, gp.M - 1u) * x_stride4();
  let xr2 = min(m0 + 16u + sid, gp.M - 1u) * x_stride4();
  let xr3 = min(m0 + 24u + sid, gp.M - 1u) * x_stride4();
  let inv0 = row_inv_rms(xr0);
  let inv1 = row_inv_rms(xr1);
  let inv2 = row_inv_rms(xr2);
  let inv3 = row_inv_rms(xr3);
  let n = lane_cols(nOwn);
  var acc: array<vec4<f32>, 32>;
  for (var c = 0u; c < (gp.K >> 3u); c++) {
    let x0 = x_chunk(xr0, c, inv0);
    let x1 = x_chunk(xr1, c, inv1);
    let x2 = x_chunk(xr2, c, inv2);
    let x3 = x_chunk(xr3, c, inv3);
    let w0 = w8(n.x, c);
    let w1 = w8(n.y, c);
    let w2 = w8(n.z, c);
    let w3 = w8(n.w, c);
    sg_rows32_dot8x4(&acc, x0, x1, x2, x3, w0, w1, w2, w3);
  }
  if (nOwn >= gp.N) { return; }
  for (var i = 0u; i < 32u; i++) { store_row(m0 + i, nOwn, acc[i]); }
}
#endif
#endif
