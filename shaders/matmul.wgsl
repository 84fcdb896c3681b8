// Linear layers: y[M, N] = epilogue(x[M, K] · W[N, K]ᵀ)
//
// W is the PyTorch nn.Linear weight [out_features, in_features], row-major, in one of four storage formats
// (exactly one of W_F16 / W_Q8 / W_Q4, or none for f32):
//   f32   w: [N, K] f32
//   f16   w: [N, KW] u32 words, KW = ceil(K/2); element k of a row is half (k & 1) of word k/2 (low half first),
//         decoded with unpack2x16float, so no `shader-f16` is needed.
//   q8    w: [N, K/4] u32, 4 signed bytes per word (byte i = element 4j+i), scales[N, K/G] f32:
//         W[n, k] = i8 · scales[n, k/G]
//   q4    w: [N, K/8] u32, 8 nibbles per word (nibble i = element 8j+i) storing q+8 for q in [−8, 7]:
//         W[n, k] = (nibble − 8) · scales[n, k/G]
// Quantised weights need K % G == 0 and G % 8 == 0 (G = 32 or 64 in practice).
//
// Epilogue, in this order: + bias[n]; activation (ACT_SILU | ACT_GELU | ACT_MISH | ACT_LEAKY with p.alpha);
// + residual[m, n]. GATEUP (SwiGLU / GEGLU): W holds [gate; up] stacked as [2N, K] (up rows start at p.up_row
// = N), bias (if any) is [2N], and y[m, n] = act(x·W[n]ᵀ + b[n]) · (x·W[N+n]ᵀ + b[N+n]) (+ residual); act
// defaults to SiLU there.
//
// Entry `gemv` (decode, M small; memory bound): one workgroup of LANES threads owns ROWS output columns of
//   one row m. Threads stride over K in chunks of 8 elements (two vec4 of x, one 128-bit word group of f16 W),
//   each thread keeps ROWS partial sums so one x load feeds ROWS rows. Partial sums are combined with
//   subgroupAdd (SUBGROUPS) or a shared-memory tree. Grid: (ceil(N/ROWS), M).
// Entry `gemm` (prefill, DiT, convs as GEMM): a 64×64 output tile per workgroup; each thread owns TM rows ×
//   4 columns (TM = 8: 128 threads; TM = 4: 256). K advances in steps of BK (32; 16 with GATEUP, whose two W
//   tiles must fit the 16 KiB workgroup memory floor) through k-major shared tiles; with VEC the tiles are
//   loaded in 8-element chunks (two 128-bit loads of x, one chunk of W decoded by w8), so every weight format
//   shares one inner loop: 4 + TM shared loads per 4·TM FMAs. Grid: (ceil(N/64), ceil(M/64)).
// Entry `gemm_rt` (GEMM_RT + VEC; the GPU default above GEMV rows): shaders/gemm_core.wgsl's register-tiled walk,
//   BM × BN outputs a workgroup, TM × TN a thread, the next K step's loads in flight during this one's FMAs; takes
//   every weight format through w8, GATEUP (TN = 8) and PRENORM (the RMSNorm's Σ x² summed by the tile loaders,
//   so the norm costs no pass of its own). Grid: (ceil(N/BN), ceil(M/BM)) (GATEUP: ceil(N/(BN/2))).
// Entry `gemm_sg` (VEC + SUBGROUPS; llvmpipe with subgroups of ≥ 8 lanes, where every storage or workgroup load
//   costs ~30 FMAs per component): a subgroup owns 8 rows, lane s loads the 8-element x chunk of row m0 + s and
//   subgroupBroadcast hands it to every lane; a lane decodes 4 weight rows with w8 (4 columns, or with GATEUP
//   2 gate rows + their 2 up rows). Per chunk 2 x loads + 4 weight chunks feed 256 FMAs; no shared memory, no
//   barrier. Grid: (ceil(N/256), ceil(M/8)) (GATEUP: N/128); rows/columns past the end are clamped, not stored.
// Entry `gemm_sg32` (the same defines; M ≥ 32): 32 rows a subgroup, 8 x loads + 4 weight chunks per 1024 FMAs.
//   Grid: (ceil(N/256), ceil(M/32)) (GATEUP: N/128).
//
// PRENORM (gemv or gemm_rt, + VEC; the GPU plan): x is replaced by the RMSNorm of its row, nw ⊙ (x · 1/sqrt(mean(x²) +
//   eps)) as rmsnorm.wgsl computes it (weight last); each workgroup first sums x² over its row (K reads, next to
//   ROWS·K weight reads) and meets the lane sums in workgroup memory. Saves the norm's own dispatch and its
//   round trip through memory.
// VEC (K % 8 == 0) binds x and W as vector arrays; without it scalar paths handle any K (f32 and f16 only).
// Limits: M·K, N·K, M·N < 2^32 elements; rows beyond N are clamped, computed and never written.

#ifdef SUBGROUPS
enable subgroups;
#endif

#include "activation"
#include "half8"

struct Params {
  M: u32,
  N: u32,
  K: u32,
  KW: u32,     // weight row stride in storage elements of w (f32: K, f16: ceil(K/2) words, q8: K/4, q4: K/8)
  G: u32,      // quantisation group size along K
  SG: u32,     // scales per weight row (K / G)
  up_row: u32, // GATEUP: first row of the up half
  alpha: f32,  // leaky_relu slope
  eps: f32,    // PRENORM: RMSNorm epsilon
  _p0: u32,
  _p1: u32,
  _p2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
#ifdef VEC
@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;
#else
@group(0) @binding(1) var<storage, read> x: array<f32>;
#endif
#ifdef W_F16
#ifdef VEC
@group(0) @binding(2) var<storage, read> w: array<vec4<u32>>;
#else
@group(0) @binding(2) var<storage, read> w: array<u32>;
#endif
#endif
#ifdef W_Q8
@group(0) @binding(2) var<storage, read> w: array<vec2<u32>>;
#endif
#ifdef W_Q4
@group(0) @binding(2) var<storage, read> w: array<u32>;
#endif
#ifdef W_F32
#ifdef VEC
@group(0) @binding(2) var<storage, read> w: array<vec4<f32>>;
#else
@group(0) @binding(2) var<storage, read> w: array<f32>;
#endif
#endif
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
#ifdef BIAS
@group(0) @binding(4) var<storage, read> bias: array<f32>;
#endif
#ifdef RESIDUAL
@group(0) @binding(5) var<storage, read> residual: array<f32>;
#endif
#ifdef QUANT
@group(0) @binding(6) var<storage, read> scales: array<f32>;
#endif

#ifdef QUANT
// The group size is a compile-time constant (32 or 64) so that k / G is a shift, not a division per chunk.
const QG: u32 = {{G}}u;
#endif

fn x_at(m: u32, k: u32) -> f32 {
  let e = m * p.K + k;
#ifdef VEC
  return x[e >> 2u][e & 3u];
#else
  return x[e];
#endif
}

// Sign-extends the 4 bytes of a word: byte i → component i.
fn i8x4(u: u32) -> vec4<f32> {
  let v = vec4<i32>(bitcast<i32>(u));
  return vec4<f32>((v << vec4<u32>(24u, 16u, 8u, 0u)) >> vec4<u32>(24u));
}

fn u4x4(u: u32, shift: u32) -> vec4<f32> {
  let v = (vec4<u32>(u) >> (vec4<u32>(0u, 4u, 8u, 12u) + shift)) & vec4<u32>(15u);
  return vec4<f32>(v) - vec4<f32>(8.0);
}

// One weight element, decoded to f32 (GEMM tile loads, unaligned GEMV).
fn w_at(n: u32, k: u32) -> f32 {
#ifdef W_F32
  let e = n * p.KW + k;
#ifdef VEC
  return w[e >> 2u][e & 3u];
#else
  return w[e];
#endif
#endif
#ifdef W_F16
  let e = n * p.KW + (k >> 1u);
#ifdef VEC
  let word = w[e >> 2u][e & 3u];
#else
  let word = w[e];
#endif
  return unpack2x16float(word)[k & 1u];
#endif
#ifdef W_Q8
  let e = n * p.KW + (k >> 2u);
  let word = w[e >> 1u][e & 1u];
  let q = bitcast<i32>(word << (24u - 8u * (k & 3u))) >> 24u;
  return f32(q) * scales[n * p.SG + k / QG];
#endif
#ifdef W_Q4
  let word = w[n * p.KW + (k >> 3u)];
  let q = (word >> (4u * (k & 7u))) & 15u;
  return (f32(q) - 8.0) * scales[n * p.SG + k / QG];
#endif
}

#ifdef VEC
// Partial dot product of weight row n, elements 8c..8c+7, with x chunk (xa, xb).
fn dot8(n: u32, c: u32, xa: vec4<f32>, xb: vec4<f32>) -> f32 {
#ifdef W_F32
  let b = n * (p.KW >> 2u) + 2u * c;
  return dot(w[b], xa) + dot(w[b + 1u], xb);
#endif
#ifdef W_F16
  let h = half8(w[n * (p.KW >> 2u) + c]);
  return dot(h[0], xa) + dot(h[1], xb);
#endif
#ifdef W_Q8
  let q = w[n * (p.KW >> 1u) + c];
  return (dot(i8x4(q.x), xa) + dot(i8x4(q.y), xb)) * scales[n * p.SG + c / (QG / 8u)];
#endif
#ifdef W_Q4
  let q = w[n * p.KW + c];
  return (dot(u4x4(q, 0u), xa) + dot(u4x4(q, 16u), xb)) * scales[n * p.SG + c / (QG / 8u)];
#endif
}
#endif

#ifdef VEC
// Elements 8c..8c+7 of x row m / weight row n, decoded to f32 (GEMM tile loads: one wide load per chunk).
fn x8(m: u32, c: u32) -> mat2x4<f32> {
  let b = m * (p.K >> 2u) + 2u * c;
  return mat2x4<f32>(x[b], x[b + 1u]);
}

// Weight chunk (row n, elements 8c..8c+7) as stored (WChunk: the words, with the group scale for q8/q4), and its
// decode to f32: gemm_rt prefetches the raw words and decodes them a K step later, so the decode does not wait on
// the load it follows.
#ifdef W_F32
alias WChunk = mat2x4<f32>;
fn w_raw(n: u32, c: u32) -> WChunk {
  let b = n * (p.KW >> 2u) + 2u * c;
  return mat2x4<f32>(w[b], w[b + 1u]);
}
fn w_dec(r: WChunk) -> mat2x4<f32> { return r; }
#endif
#ifdef W_F16
alias WChunk = vec4<u32>;
fn w_raw(n: u32, c: u32) -> WChunk { return w[n * (p.KW >> 2u) + c]; }
fn w_dec(q: WChunk) -> mat2x4<f32> { return half8(q); }
#endif
#ifdef W_Q8
struct WChunk { q: vec2<u32>, s: f32 }
fn w_raw(n: u32, c: u32) -> WChunk { return WChunk(w[n * (p.KW >> 1u) + c], scales[n * p.SG + c / (QG / 8u)]); }
fn w_dec(r: WChunk) -> mat2x4<f32> { return mat2x4<f32>(i8x4(r.q.x) * r.s, i8x4(r.q.y) * r.s); }
#endif
#ifdef W_Q4
struct WChunk { q: u32, s: f32 }
fn w_raw(n: u32, c: u32) -> WChunk { return WChunk(w[n * p.KW + c], scales[n * p.SG + c / (QG / 8u)]); }
fn w_dec(r: WChunk) -> mat2x4<f32> { return mat2x4<f32>(u4x4(r.q, 0u) * r.s, u4x4(r.q, 16u) * r.s); }
#endif

fn w8(n: u32, c: u32) -> mat2x4<f32> { return w_dec(w_raw(n, c)); }
#endif

fn activate(v: f32) -> f32 {
#ifdef ACT_SILU
  return act_silu(v);
#endif
#ifdef ACT_GELU
  return act_gelu_tanh(v);
#endif
#ifdef ACT_MISH
  return act_mish(v);
#endif
#ifdef ACT_LEAKY
  return act_leaky_relu(v, p.alpha);
#endif
#ifdef ACT_NONE
  return v;
#endif
}

// acc = gate dot product; up = up dot product (GATEUP only, else ignored).
fn epilogue(m: u32, n: u32, acc: f32, up: f32) -> f32 {
  var v = acc;
#ifdef BIAS
  v += bias[n];
#endif
#ifdef GATEUP
  var u = up;
#ifdef BIAS
  u += bias[p.up_row + n];
#endif
  v = activate(v) * u;
#else
  v = activate(v);
#endif
#ifdef RESIDUAL
  v += residual[m * p.N + n];
#endif
  return v;
}

#ifdef GATEUP
const NW: u32 = 2u;
#else
const NW: u32 = 1u;
#endif

const ROWS: u32 = {{ROWS}}u;
const LANES: u32 = {{LANES}}u;
var<workgroup> red: array<f32, ROWS * NW * LANES>;
#ifdef PRENORM
@group(0) @binding(7) var<storage, read> nw: array<vec4<f32>>;
var<workgroup> ssq: array<f32, LANES>;
#endif

@compute @workgroup_size(LANES)
fn gemv(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
#ifdef SUBGROUPS
  @builtin(subgroup_invocation_id) sg_lane: u32,
#endif
) {
  let m = wid.y;
  let n0 = wid.x * ROWS;
  var acc: array<f32, ROWS * NW>;
#ifdef VEC
  let xb = m * (p.K >> 2u);
#ifdef PRENORM
  var sq = 0.0;
  for (var c = lid; c < (p.K >> 3u); c += LANES) {
    let a = x[xb + 2u * c];
    let b = x[xb + 2u * c + 1u];
    sq += dot(a, a) + dot(b, b);
  }
  ssq[lid] = sq;
  workgroupBarrier();
  var tot = 0.0;
  for (var i = 0u; i < LANES; i++) {
    tot += ssq[i];
  }
  let inv = 1.0 / sqrt(tot / f32(p.K) + p.eps);
#endif
  for (var c = lid; c < (p.K >> 3u); c += LANES) {
#ifdef PRENORM
    let xa = nw[2u * c] * (x[xb + 2u * c] * inv);
    let xc = nw[2u * c + 1u] * (x[xb + 2u * c + 1u] * inv);
#else
    let xa = x[xb + 2u * c];
    let xc = x[xb + 2u * c + 1u];
#endif
    for (var r = 0u; r < ROWS; r++) {
      let n = min(n0 + r, p.N - 1u);
      acc[r] += dot8(n, c, xa, xc);
#ifdef GATEUP
      acc[ROWS + r] += dot8(n + p.up_row, c, xa, xc);
#endif
    }
  }
#else
  for (var k = lid; k < p.K; k += LANES) {
    let xv = x[m * p.K + k];
    for (var r = 0u; r < ROWS; r++) {
      let n = min(n0 + r, p.N - 1u);
      acc[r] += xv * w_at(n, k);
#ifdef GATEUP
      acc[ROWS + r] += xv * w_at(n + p.up_row, k);
#endif
    }
  }
#endif

#ifdef SUBGROUPS
  // Each subgroup sums in registers; its first lane leaves the total in its own slot, the rest leave 0, so the
  // final sum over LANES slots is right whatever the subgroup size or lane-to-index mapping.
  for (var j = 0u; j < ROWS * NW; j++) {
    let s = subgroupAdd(acc[j]);
    red[j * LANES + lid] = select(0.0, s, sg_lane == 0u);
  }
  workgroupBarrier();
  if (lid < ROWS) {
    var g = 0.0;
    var u = 0.0;
    for (var i = 0u; i < LANES; i++) {
      g += red[lid * LANES + i];
#ifdef GATEUP
      u += red[(ROWS + lid) * LANES + i];
#endif
    }
    let n = n0 + lid;
    if (n < p.N) { y[m * p.N + n] = epilogue(m, n, g, u); }
  }
#else
  for (var j = 0u; j < ROWS * NW; j++) {
    red[j * LANES + lid] = acc[j];
  }
  workgroupBarrier();
  for (var s = LANES / 2u; s > 0u; s >>= 1u) {
    if (lid < s) {
      for (var j = 0u; j < ROWS * NW; j++) {
        red[j * LANES + lid] += red[j * LANES + lid + s];
      }
    }
    workgroupBarrier();
  }
  if (lid < ROWS) {
    let n = n0 + lid;
    var u = 0.0;
#ifdef GATEUP
    u = red[(ROWS + lid) * LANES];
#endif
    if (n < p.N) { y[m * p.N + n] = epilogue(m, n, red[lid * LANES], u); }
  }
#endif
}

#ifdef GEMM_RT
#include "gemm_core"

// gemm_core.wgsl's hooks over this file's weight formats and epilogue (PRENORM: the norm weight scales A's chunks,
// the row's 1/rms scales the sums; GATEUP: the up rows start at p.up_row).
fn gc_a8(m: u32, c: u32) -> mat2x4<f32> { return x8(m, c); }
alias GcB = WChunk;
fn gc_b_raw(n: u32, half: u32, c: u32) -> GcB { return w_raw(n + half * p.up_row, c); }
fn gc_b_dec(r: GcB) -> mat2x4<f32> { return w_dec(r); }
#ifdef PRENORM
fn gc_a_scale(c: u32) -> mat2x4<f32> { return mat2x4<f32>(nw[2u * c], nw[2u * c + 1u]); }
#endif
fn gc_store4(m: u32, n: u32, acc: vec4<f32>, up: vec4<f32>, rowsq: f32) {
  var s = 1.0;
#ifdef PRENORM
  s = 1.0 / sqrt(rowsq / f32(p.K) + p.eps);
#endif
  for (var j = 0u; j < 4u; j++) {
    if (n + j < p.N) { y[m * p.N + n + j] = epilogue(m, n + j, acc[j] * s, up[j] * s); }
  }
}

@compute @workgroup_size(GC_THREADS)
fn gemm_rt(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  gemm_tiles(wid.xy, lid, p.M, p.N, p.K);
}
#else
const BM: u32 = {{BM}}u;
const BN: u32 = {{BN}}u;
const BK: u32 = {{BK}}u;
const TM: u32 = {{TM}}u;               // rows per thread (4 or 8); each thread owns TM rows × 4 columns
const GWG: u32 = (BM / TM) * (BN / 4u); // threads per GEMM workgroup (128 for the default 64×64, TM 8)
var<workgroup> xs: array<f32, BK * BM>;      // [BK][BM]
var<workgroup> ws: array<f32, NW * BK * BN>; // [NW][BK][BN]

@compute @workgroup_size(GWG)
fn gemm(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let m0 = wid.y * BM;
  let n0 = wid.x * BN;
  let tx = lid % (BN / 4u); // columns 4·tx .. +3
  let ty = lid / (BN / 4u); // rows TM·ty .. +TM−1
  var acc: array<vec4<f32>, TM>; // acc[i] = row TM·ty+i, vec4 over the thread's 4 columns
#ifdef GATEUP
  var accu: array<vec4<f32>, TM>;
#endif
  for (var k0 = 0u; k0 < p.K; k0 += BK) {
#ifdef VEC
    // Tile loads in 8-element chunks along k (two 128-bit loads of x / one to four words of W per chunk),
    // transposed into k-major tiles with constant component indices. Row r < BM feeds xs, r < BN feeds ws.
    for (var e = lid; e < max(BM, BN) * (BK / 8u); e += GWG) {
      let r = e / (BK / 8u);
      let cc = e % (BK / 8u);
      let c = k0 / 8u + cc;
      let inK = 8u * c < p.K; // K % 8 == 0: a chunk is wholly inside or outside
      if (r < BM) {
        var xv = mat2x4<f32>();
        if (m0 + r < p.M && inK) { xv = x8(m0 + r, c); }
        for (var j = 0u; j < 4u; j++) {
          xs[(8u * cc + j) * BM + r] = xv[0][j];
          xs[(8u * cc + 4u + j) * BM + r] = xv[1][j];
        }
      }
      if (r < BN) {
        var wv = mat2x4<f32>();
        if (n0 + r < p.N && inK) { wv = w8(n0 + r, c); }
#ifdef GATEUP
        var uv = mat2x4<f32>();
        if (n0 + r < p.N && inK) { uv = w8(n0 + r + p.up_row, c); }
#endif
        for (var j = 0u; j < 4u; j++) {
          ws[(8u * cc + j) * BN + r] = wv[0][j];
          ws[(8u * cc + 4u + j) * BN + r] = wv[1][j];
#ifdef GATEUP
          ws[(BK + 8u * cc + j) * BN + r] = uv[0][j];
          ws[(BK + 8u * cc + 4u + j) * BN + r] = uv[1][j];
#endif
        }
      }
    }
#else
    // Any K: element loads; consecutive threads read consecutive k of one row.
    for (var e = lid; e < max(BM, BN) * BK; e += GWG) {
      let r = e / BK;
      let kk = e % BK;
      let k = k0 + kk;
      if (r < BM) {
        var v = 0.0;
        if (m0 + r < p.M && k < p.K) { v = x_at(m0 + r, k); }
        xs[kk * BM + r] = v;
      }
      if (r < BN) {
        let ok = n0 + r < p.N && k < p.K;
        var vw = 0.0;
        if (ok) { vw = w_at(n0 + r, k); }
        ws[kk * BN + r] = vw;
#ifdef GATEUP
        var vu = 0.0;
        if (ok) { vu = w_at(n0 + r + p.up_row, k); }
        ws[(BK + kk) * BN + r] = vu;
#endif
      }
    }
#endif
    workgroupBarrier();
    for (var kk = 0u; kk < BK; kk++) {
      let bo = kk * BN + 4u * tx;
      let b = vec4<f32>(ws[bo], ws[bo + 1u], ws[bo + 2u], ws[bo + 3u]);
#ifdef GATEUP
      let uo = (BK + kk) * BN + 4u * tx;
      let bu = vec4<f32>(ws[uo], ws[uo + 1u], ws[uo + 2u], ws[uo + 3u]);
#endif
      for (var i = 0u; i < TM; i++) {
        let a = vec4<f32>(xs[kk * BM + TM * ty + i]);
        acc[i] = fma(a, b, acc[i]);
#ifdef GATEUP
        accu[i] = fma(a, bu, accu[i]);
#endif
      }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < TM; i++) {
    let m = m0 + TM * ty + i;
    if (m >= p.M) { break; }
    for (var j = 0u; j < 4u; j++) {
      let n = n0 + 4u * tx + j;
      if (n >= p.N) { break; }
      var u = 0.0;
#ifdef GATEUP
      u = accu[i][j];
#endif
      y[m * p.N + n] = epilogue(m, n, acc[i][j], u);
    }
  }
}

#endif

#ifdef VEC
#ifdef SUBGROUPS
#ifdef GATEUP
const SG_COLS: u32 = 2u; // gate columns per lane; loads 2 and 3 are their up rows
#else
const SG_COLS: u32 = 4u;
#endif

#include "sg_chunk"

// The lane's 4 weight rows (4 columns, or with GATEUP 2 gate rows and their 2 up rows), clamped past N.
fn sg_rows(nOwn: u32) -> vec4<u32> {
#ifdef GATEUP
  let r0 = min(nOwn, p.N - 1u);
  let r1 = min(nOwn + 1u, p.N - 1u);
  return vec4<u32>(r0, r1, r0 + p.up_row, r1 + p.up_row);
#else
  return min(vec4<u32>(nOwn, nOwn + 1u, nOwn + 2u, nOwn + 3u), vec4<u32>(p.N - 1u));
#endif
}

// Row m's SG_COLS outputs from the lane's accumulator (with GATEUP: gate in .xy, up in .zw).
fn sg_store(m: u32, nOwn: u32, a: vec4<f32>) {
  for (var j = 0u; j < SG_COLS; j++) {
    let n = nOwn + j;
    if (n >= p.N) { break; }
#ifdef GATEUP
    y[m * p.N + n] = epilogue(m, n, a[j], a[j + 2u]);
#else
    y[m * p.N + n] = epilogue(m, n, a[j], 0.0);
#endif
  }
}

@compute @workgroup_size(64)
fn gemm_sg(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32,
           @builtin(subgroup_invocation_id) sid: u32) {
  let nOwn = (wid.x * 64u + lid) * SG_COLS;
  let m0 = wid.y * 8u;
  let xm = min(m0 + sid, p.M - 1u); // lanes ≥ 8 of a wider subgroup load a row nobody broadcasts
  let r = sg_rows(nOwn);
  var a0 = vec4<f32>(); var a1 = vec4<f32>(); var a2 = vec4<f32>(); var a3 = vec4<f32>();
  var a4 = vec4<f32>(); var a5 = vec4<f32>(); var a6 = vec4<f32>(); var a7 = vec4<f32>();
  for (var c = 0u; c < (p.K >> 3u); c++) {
    let xv = x8(xm, c);
    let w0 = w8(r.x, c);
    let w1 = w8(r.y, c);
    let w2 = w8(r.z, c);
    let w3 = w8(r.w, c);
    a0 += sg_dot8x4(subgroupBroadcast(xv[0], 0u), subgroupBroadcast(xv[1], 0u), w0, w1, w2, w3);
    a1 += sg_dot8x4(subgroupBroadcast(xv[0], 1u), subgroupBroadcast(xv[1], 1u), w0, w1, w2, w3);
    a2 += sg_dot8x4(subgroupBroadcast(xv[0], 2u), subgroupBroadcast(xv[1], 2u), w0, w1, w2, w3);
    a3 += sg_dot8x4(subgroupBroadcast(xv[0], 3u), subgroupBroadcast(xv[1], 3u), w0, w1, w2, w3);
    a4 += sg_dot8x4(subgroupBroadcast(xv[0], 4u), subgroupBroadcast(xv[1], 4u), w0, w1, w2, w3);
    a5 += sg_dot8x4(subgroupBroadcast(xv[0], 5u), subgroupBroadcast(xv[1], 5u), w0, w1, w2, w3);
    a6 += sg_dot8x4(subgroupBroadcast(xv[0], 6u), subgroupBroadcast(xv[1], 6u), w0, w1, w2, w3);
    a7 += sg_dot8x4(subgroupBroadcast(xv[0], 7u), subgroupBroadcast(xv[1], 7u), w0, w1, w2, w3);
  }
  if (nOwn >= p.N) { return; }
  let acc = array<vec4<f32>, 8>(a0, a1, a2, a3, a4, a5, a6, a7);
  for (var i = 0u; i < 8u; i++) {
    if (m0 + i >= p.M) { break; }
    sg_store(m0 + i, nOwn, acc[i]);
  }
}

// gemm_sg with 32 rows a subgroup (lane s loads the chunks of rows m0 + s, +8, +16, +24): per chunk 8 x loads +
// 4 weight chunks feed 1024 FMAs. Accumulators indexed by literals only (a loop over the 4 row groups indexing
// one array ran 15–25% slower in the DiT's twin, dit_linear.wgsl sgblock32).
@compute @workgroup_size(64)
fn gemm_sg32(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32,
             @builtin(subgroup_invocation_id) sid: u32) {
  let nOwn = (wid.x * 64u + lid) * SG_COLS;
  let m0 = wid.y * 32u;
  let xm0 = min(m0 + 0u + sid, p.M - 1u);
  let xm1 = min(m0 + 8u + sid, p.M - 1u);
  let xm2 = min(m0 + 16u + sid, p.M - 1u);
  let xm3 = min(m0 + 24u + sid, p.M - 1u);
  let r = sg_rows(nOwn);
  var acc: array<vec4<f32>, 32>;
  for (var c = 0u; c < (p.K >> 3u); c++) {
    let x0 = x8(xm0, c);
    let x1 = x8(xm1, c);
    let x2 = x8(xm2, c);
    let x3 = x8(xm3, c);
    let w0 = w8(r.x, c);
    let w1 = w8(r.y, c);
    let w2 = w8(r.z, c);
    let w3 = w8(r.w, c);
    sg_rows32_dot8x4(&acc, x0, x1, x2, x3, w0, w1, w2, w3);
  }
  if (nOwn >= p.N) { return; }
  for (var i = 0u; i < 32u; i++) {
    if (m0 + i >= p.M) { break; }
    sg_store(m0 + i, nOwn, acc[i]);
  }
}
#endif
#endif
