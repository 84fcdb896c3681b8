// DiT linear layers with fused epilogues: y[M, N] = epi(x[M, K] · W[N, K]ᵀ + bias[N])
//
// W is the nn.Linear weight [out, in], row-major: f32, or (F16W) f16 packed two per u32 word along K (low half =
// even k), unpacked with unpack2x16float so the kernel runs without `shader-f16`. Activations and accumulation
// are f32. K must be a multiple of 4 (vec4 loads; every DiT width is).
//
// Epilogues (defines):
//   (none)      y = acc + bias
//   ACT_SILU    y = silu(acc + bias)                      (time MLP, AdaLN input)
//   ACT_GELU    y = gelu_tanh(acc + bias)                 (FFN inner)
//   GATE        y = y + gate[b, n] · (acc + bias)         (AdaLN-zero gated residual, in place on y; b = m / T)
//   ROWMASK     with GATE: the branch is zeroed on rows whose key-mask entry is 0 (attention re-mask)
//   ROPE        the fused q|k|v projection: after the bias, the interleaved DiT rotary (#include dit_rotary) rotates
//               columns n < rotDim (q) and C ≤ n < C + rotDim (k), C = p.ropeC, at position t = m mod T — i.e. on
//               projected q/k before the head split, head 0 only. Each thread's 4 columns hold whole pairs.
// Rows M: p.M, or the live dims.M when p.M == 0 (activations sized by the current length).
//
// Entry `main` (GPUs): a workgroup owns a 64×64 tile of y; K advances 16 at a time through shared memory (A and W tiles stored
// k-major so the inner product reads broadcast rows); each of the 256 threads owns a 4×4 block of outputs.
// Grid: (ceil(N/64), ceil(M/64)).
// Entry `gemm_rt` (GEMM_RT; GPUs from 64 rows, K % 8 == 0): shaders/gemm_core.wgsl's register-tiled walk, BM × BN
// outputs a workgroup, TM × TN a thread, the next K step's loads in flight during this one's FMAs (the 4×4 `main`
// reads 8 scalars of workgroup memory per 16 FMAs; 8×8 here reads 4 vec4 per 256). Grid: (ceil(N/BN), ceil(M/BM)).
// Entry `regblock` (CPU adapters: lavapipe, SwiftShader): no shared memory and no barriers (workgroup memory is
// plain memory there and every barrier splits the shader); each thread owns 8 rows × 4 columns in registers and
// streams vec4s of x and W along K. Grid: (ceil(N/256), ceil(M/8)); needs N % 4 == 0.
// Entry `sgblock` (SG; llvmpipe with subgroups of ≥ 8 lanes): there every storage load costs about as much as 30
// FMAs per component, uniform address or not, so the kernel minimises loads per FMA. A subgroup owns 8 rows: lane s
// loads the vec4 of x at row m0 + s, and subgroupBroadcast (a register shuffle there) hands each of the 8 rows to
// every lane; each lane owns 4 columns, whose W vec4s it loads itself. Per 4 k: 1 x load + 4 W loads feed 128 FMAs
// (regblock: 12 loads). No lane returns early (broadcasts need every lane); rows/columns past the end are clamped
// for loads and skipped for stores. Grid: (ceil(N/256), ceil(M/8)); needs N % 4 == 0.
// Entry `sgblock32` (SG; the default for M ≥ 32): the same with 32 rows a subgroup (lane s loads rows m0 + s,
// m0 + 8 + s, m0 + 16 + s and m0 + 24 + s): per 4 k, 4 x loads + 4 W loads feed 512 FMAs (sgblock: 5 per 128).
// Its 32 accumulators take more registers than llvmpipe has, but a spill costs less than a gather there.
// Grid: (ceil(N/256), ceil(M/32)).
// Limits: M·K, N·K < 2^32.
#ifdef SG
enable subgroups;
#endif
#include "flow_dims"
#include "half8"

struct Params {
  M: u32,
  N: u32,
  K: u32,
  gateBase: u32,   // element offset of gate[b=0, 0] in `gate`
  gateStride: u32, // elements between batch rows of `gate`
  rotDim: u32,     // ROPE: rotated channels of q and of k
  ropeC: u32,      // ROPE: width of q (= of k)
  _p2: u32,
}

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<uniform> p: Params;
@group(0) @binding(2) var<storage, read> x: array<vec4<f32>>;
#ifdef F16W
@group(0) @binding(3) var<storage, read> w: array<vec2<u32>>;
#else
@group(0) @binding(3) var<storage, read> w: array<vec4<f32>>;
#endif
@group(0) @binding(4) var<storage, read_write> y: array<f32>;
@group(0) @binding(5) var<storage, read> bias: array<f32>;
#ifdef GATE
@group(0) @binding(6) var<storage, read> gate: array<f32>;
#endif
#ifdef ROWMASK
@group(0) @binding(7) var<storage, read> rowmask: array<f32>;
#endif
#ifdef ROPE
@group(0) @binding(8) var<storage, read> rope_table: array<vec2<f32>>;
#include "dit_rotary"
#endif

fn gelu_tanh(v: f32) -> f32 {
  // tanh argument clamped: |u| > 15 already gives ±1 in f32, and some backends return NaN for large |u|.
  let u = clamp(0.7978845608028654 * (v + 0.044715 * v * v * v), -15.0, 15.0);
  return 0.5 * v * (1.0 + tanh(u));
}

fn epilogue(m: u32, n: u32, acc: f32) -> f32 {
  var v = acc + bias[n];
#ifdef ACT_SILU
  v = v / (1.0 + exp(-v));
#endif
#ifdef ACT_GELU
  v = gelu_tanh(v);
#endif
#ifdef GATE
#ifdef ROWMASK
  v = select(0.0, v, rowmask[m] > 0.5);
#endif
  let b = m / dims.T;
  v = y[m * p.N + n] + gate[p.gateBase + b * p.gateStride + n] * v;
#endif
  return v;
}

// Four consecutive columns n0..n0+3 of row m (n0 % 4 == 0, n0 + 3 < N): epilogue, then store.
fn finish4(m: u32, n0: u32, acc: vec4<f32>) {
#ifdef ROPE
  var v = acc + vec4<f32>(bias[n0], bias[n0 + 1u], bias[n0 + 2u], bias[n0 + 3u]);
  let c = select(n0, n0 - p.ropeC, n0 >= p.ropeC);
  if (n0 < 2u * p.ropeC && c < p.rotDim) {
    let pos = dims.q0 + m % dims.T;
    v = vec4<f32>(rope_rotate(v.x, v.y, c, pos, p.rotDim), rope_rotate(v.y, v.x, c + 1u, pos, p.rotDim),
                  rope_rotate(v.z, v.w, c + 2u, pos, p.rotDim), rope_rotate(v.w, v.z, c + 3u, pos, p.rotDim));
  }
  for (var j = 0u; j < 4u; j++) { y[m * p.N + n0 + j] = v[j]; }
#else
  for (var j = 0u; j < 4u; j++) { y[m * p.N + n0 + j] = epilogue(m, n0 + j, acc[j]); }
#endif
}

fn load_w(n: u32, k4: u32) -> vec4<f32> {
  // k4 indexes groups of 4 consecutive k in row n.
#ifdef F16W
  let words = w[(n * p.K) / 4u + k4];
  return vec4<f32>(unpack2x16float(words.x), unpack2x16float(words.y));
#else
  return w[(n * p.K) / 4u + k4];
#endif
}

#ifdef GEMM_RT
#include "gemm_core"

// gemm_core.wgsl's hooks: x and W chunks of 8 k (K % 8 == 0), the epilogue through finish4 (4 whole columns) or
// element by element at a ragged right edge.
fn gc_a8(m: u32, c: u32) -> mat2x4<f32> {
  let b = m * (p.K / 4u) + 2u * c;
  return mat2x4<f32>(x[b], x[b + 1u]);
}
#ifdef F16W
alias GcB = vec4<u32>; // the chunk's 8 halves, decoded a K step after their load
fn gc_b_raw(n: u32, half: u32, c: u32) -> GcB {
  let i = (n * p.K) / 4u + 2u * c;
  return vec4<u32>(w[i], w[i + 1u]);
}
fn gc_b_dec(q: GcB) -> mat2x4<f32> { return half8(q); }
#else
alias GcB = mat2x4<f32>;
fn gc_b_raw(n: u32, half: u32, c: u32) -> GcB { return mat2x4<f32>(load_w(n, 2u * c), load_w(n, 2u * c + 1u)); }
fn gc_b_dec(r: GcB) -> mat2x4<f32> { return r; }
#endif
fn gc_store4(m: u32, n: u32, acc: vec4<f32>, up: vec4<f32>, rowsq: f32) {
  if (n + 3u < p.N) {
    finish4(m, n, acc);
  } else {
    for (var j = 0u; j < 4u; j++) {
      if (n + j < p.N) { y[m * p.N + n + j] = epilogue(m, n + j, acc[j]); }
    }
  }
}

@compute @workgroup_size(GC_THREADS)
fn gemm_rt(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  gemm_tiles(wid.xy, lid, select(p.M, dims.M, p.M == 0u), p.N, p.K);
}
#else
const TM: u32 = 64u;
const TN: u32 = 64u;
const TK: u32 = 16u;
var<workgroup> tile_a: array<f32, 1024>; // [TK][TM]
var<workgroup> tile_b: array<f32, 1024>; // [TK][TN]
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let M = select(p.M, dims.M, p.M == 0u);
  let m0 = wid.y * TM;
  let n0 = wid.x * TN;
  let tx = lid % 16u;
  let ty = lid / 16u;
  // Loader role: thread lid fetches 4 consecutive k (one vec4) of row lid/4 of both tiles.
  let lrow = lid / 4u;
  let lk4 = lid % 4u;
  let K4 = p.K / 4u;
  var acc: array<array<f32, 4>, 4>;
  for (var k0 = 0u; k0 < p.K; k0 += TK) {
    let kq = k0 / 4u + lk4;
    let am = m0 + lrow;
    let bn = n0 + lrow;
    var av = vec4<f32>(0.0);
    var bv = vec4<f32>(0.0);
    if (am < M && kq < K4) { av = x[am * K4 + kq]; }
    if (bn < p.N && kq < K4) { bv = load_w(bn, kq); }
    let kk = lk4 * 4u;
    tile_a[(kk + 0u) * TM + lrow] = av.x;
    tile_a[(kk + 1u) * TM + lrow] = av.y;
    tile_a[(kk + 2u) * TM + lrow] = av.z;
    tile_a[(kk + 3u) * TM + lrow] = av.w;
    tile_b[(kk + 0u) * TN + lrow] = bv.x;
    tile_b[(kk + 1u) * TN + lrow] = bv.y;
    tile_b[(kk + 2u) * TN + lrow] = bv.z;
    tile_b[(kk + 3u) * TN + lrow] = bv.w;
    workgroupBarrier();
    for (var k = 0u; k < TK; k++) {
      let a = vec4<f32>(tile_a[k * TM + ty * 4u], tile_a[k * TM + ty * 4u + 1u], tile_a[k * TM + ty * 4u + 2u], tile_a[k * TM + ty * 4u + 3u]);
      let b = vec4<f32>(tile_b[k * TN + tx * 4u], tile_b[k * TN + tx * 4u + 1u], tile_b[k * TN + tx * 4u + 2u], tile_b[k * TN + tx * 4u + 3u]);
      for (var i = 0u; i < 4u; i++) {
        acc[i][0] = fma(a[i], b.x, acc[i][0]);
        acc[i][1] = fma(a[i], b.y, acc[i][1]);
        acc[i][2] = fma(a[i], b.z, acc[i][2]);
        acc[i][3] = fma(a[i], b.w, acc[i][3]);
      }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i++) {
    let m = m0 + ty * 4u + i;
    if (m >= M) { continue; }
    let nb = n0 + tx * 4u;
    if (nb + 3u < p.N) {
      finish4(m, nb, vec4<f32>(acc[i][0], acc[i][1], acc[i][2], acc[i][3]));
    } else {
      for (var j = 0u; j < 4u; j++) {
        if (nb + j < p.N) { y[m * p.N + nb + j] = epilogue(m, nb + j, acc[i][j]); }
      }
    }
  }
}

#endif

const RB_M: u32 = 8u;
const RB_N: u32 = 4u;

@compute @workgroup_size(64)
fn regblock(@builtin(global_invocation_id) gid: vec3<u32>) {
  let M = select(p.M, dims.M, p.M == 0u);
  let n0 = gid.x * RB_N;
  let m0 = gid.y * RB_M;
  if (n0 >= p.N || m0 >= M) { return; }
  let K4 = p.K / 4u;
  // Rows past M re-read row M−1 (their results are dropped) so the inner loop has no branches.
  var xr: array<u32, 8>;
  for (var i = 0u; i < RB_M; i++) { xr[i] = min(m0 + i, M - 1u) * K4; }
  let r0 = xr[0]; let r1 = xr[1]; let r2 = xr[2]; let r3 = xr[3];
  let r4 = xr[4]; let r5 = xr[5]; let r6 = xr[6]; let r7 = xr[7];
  var a0 = vec4<f32>(); var a1 = vec4<f32>(); var a2 = vec4<f32>(); var a3 = vec4<f32>();
  var a4 = vec4<f32>(); var a5 = vec4<f32>(); var a6 = vec4<f32>(); var a7 = vec4<f32>();
  for (var k = 0u; k < K4; k++) {
    let b0 = load_w(n0, k);
    let b1 = load_w(n0 + 1u, k);
    let b2 = load_w(n0 + 2u, k);
    let b3 = load_w(n0 + 3u, k);
    var xv = x[r0 + k]; a0 += vec4<f32>(dot(xv, b0), dot(xv, b1), dot(xv, b2), dot(xv, b3));
    xv = x[r1 + k]; a1 += vec4<f32>(dot(xv, b0), dot(xv, b1), dot(xv, b2), dot(xv, b3));
    xv = x[r2 + k]; a2 += vec4<f32>(dot(xv, b0), dot(xv, b1), dot(xv, b2), dot(xv, b3));
    xv = x[r3 + k]; a3 += vec4<f32>(dot(xv, b0), dot(xv, b1), dot(xv, b2), dot(xv, b3));
    xv = x[r4 + k]; a4 += vec4<f32>(dot(xv, b0), dot(xv, b1), dot(xv, b2), dot(xv, b3));
    xv = x[r5 + k]; a5 += vec4<f32>(dot(xv, b0), dot(xv, b1), dot(xv, b2), dot(xv, b3));
    xv = x[r6 + k]; a6 += vec4<f32>(dot(xv, b0), dot(xv, b1), dot(xv, b2), dot(xv, b3));
    xv = x[r7 + k]; a7 += vec4<f32>(dot(xv, b0), dot(xv, b1), dot(xv, b2), dot(xv, b3));
  }
  var acc = array<vec4<f32>, 8>(a0, a1, a2, a3, a4, a5, a6, a7);
  for (var i = 0u; i < RB_M; i++) {
    let m = m0 + i;
    if (m >= M) { break; }
    finish4(m, n0, acc[i]);
  }
}

#ifdef SG
#include "sg_chunk"

@compute @workgroup_size(64)
fn sgblock(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32,
           @builtin(subgroup_invocation_id) sid: u32) {
  let M = select(p.M, dims.M, p.M == 0u);
  let nOwn = (wid.x * 64u + lid) * 4u;
  let n0 = min(nOwn, p.N - 4u);
  let m0 = wid.y * 8u;
  let K4 = p.K / 4u;
  // Lanes ≥ 8 (wider subgroups) load a row that is never broadcast.
  let xrow = min(m0 + sid, M - 1u) * K4;
  var a0 = vec4<f32>(); var a1 = vec4<f32>(); var a2 = vec4<f32>(); var a3 = vec4<f32>();
  var a4 = vec4<f32>(); var a5 = vec4<f32>(); var a6 = vec4<f32>(); var a7 = vec4<f32>();
  for (var k = 0u; k < K4; k++) {
    let xv = x[xrow + k];
    let b0 = load_w(n0, k);
    let b1 = load_w(n0 + 1u, k);
    let b2 = load_w(n0 + 2u, k);
    let b3 = load_w(n0 + 3u, k);
    a0 += sg_dot4x4(subgroupBroadcast(xv, 0u), b0, b1, b2, b3);
    a1 += sg_dot4x4(subgroupBroadcast(xv, 1u), b0, b1, b2, b3);
    a2 += sg_dot4x4(subgroupBroadcast(xv, 2u), b0, b1, b2, b3);
    a3 += sg_dot4x4(subgroupBroadcast(xv, 3u), b0, b1, b2, b3);
    a4 += sg_dot4x4(subgroupBroadcast(xv, 4u), b0, b1, b2, b3);
    a5 += sg_dot4x4(subgroupBroadcast(xv, 5u), b0, b1, b2, b3);
    a6 += sg_dot4x4(subgroupBroadcast(xv, 6u), b0, b1, b2, b3);
    a7 += sg_dot4x4(subgroupBroadcast(xv, 7u), b0, b1, b2, b3);
  }
  if (nOwn >= p.N) { return; }
  let acc = array<vec4<f32>, 8>(a0, a1, a2, a3, a4, a5, a6, a7);
  for (var i = 0u; i < 8u; i++) {
    let m = m0 + i;
    if (m >= M) { break; }
    finish4(m, n0, acc[i]);
  }
}

@compute @workgroup_size(64)
fn sgblock32(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32,
             @builtin(subgroup_invocation_id) sid: u32) {
  let M = select(p.M, dims.M, p.M == 0u);
  let nOwn = (wid.x * 64u + lid) * 4u;
  let n0 = min(nOwn, p.N - 4u);
  let m0 = wid.y * 32u;
  let K4 = p.K / 4u;
  let xr0 = min(m0 + 0u + sid, M - 1u) * K4;
  let xr1 = min(m0 + 8u + sid, M - 1u) * K4;
  let xr2 = min(m0 + 16u + sid, M - 1u) * K4;
  let xr3 = min(m0 + 24u + sid, M - 1u) * K4;
  var acc: array<vec4<f32>, 32>;
  for (var k = 0u; k < K4; k++) {
    let x0 = x[xr0 + k];
    let x1 = x[xr1 + k];
    let x2 = x[xr2 + k];
    let x3 = x[xr3 + k];
    let b0 = load_w(n0 + 0u, k);
    let b1 = load_w(n0 + 1u, k);
    let b2 = load_w(n0 + 2u, k);
    let b3 = load_w(n0 + 3u, k);
    sg_rows32_dot4x4(&acc, x0, x1, x2, x3, b0, b1, b2, b3);
  }
  if (nOwn >= p.N) { return; }
  for (var i = 0u; i < 32u; i++) {
    let m = m0 + i;
    if (m >= M) { break; }
    finish4(m, n0, acc[i]);
  }
}
#endif
