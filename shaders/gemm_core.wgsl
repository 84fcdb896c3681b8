// The register-tiled GEMM walk that the GPU linear entries share (included, not a kernel family of its own):
// matmul.wgsl `gemm_rt` (the LLM's linears, every weight format) and dit_linear.wgsl `gemm_rt` (the DiT's).
//
//   acc[m, n] = Σ_k A[m, k] · B[n, k]        A = activations [M, K], B = weight rows [N, K] (nn.Linear layout)
//
// A workgroup owns a BM × BN tile of the output; each of its (BM/TM)·(BN/TN) threads owns TM × TN outputs
// (TM, TN ∈ {4, 8}) as 4×4 quads spread over the tile: row quads r·BM/RA + 4·ty, column quads c·BN/CA + 4·tx
// (RA = TM/4, CA = TN/4), so that the vec4 reads of a k step from workgroup memory are consecutive across tx
// (no bank conflicts) and the same across ty (broadcast). Per k: RA + CA vec4 loads from workgroup memory feed
// 4·TM·TN FMAs (TM = TN = 8: 4 loads, 256 FMAs; the older 4×4 `gemm` read 8 scalars for 64). Why this and not
// a bigger K step: a GPU runs few of these workgroups per SM, so the global loads of the next K step are issued
// into registers before this step's math (prefetch) and stored to workgroup memory after it, which hides their
// latency behind the FMAs with one tile of workgroup memory: 4·BK·(BM + BN) bytes (128×128, BK 16: 16 KiB).
//
// Loads: A and B tiles arrive in chunks of 8 consecutive k (one 32-byte row segment; B's raw words are decoded
// to f32 by a hook when stored, a K step after their load), one chunk of each tile a thread per step (BM·BK/8 and
// BN·BK/8 ≤ threads: the prefetch lives in scalars, never in an array a compiler might leave in local memory), a
// thread keeping the same tile rows for the whole walk. Rows past M / N and chunks past K are zero-filled, so the
// hooks only see valid (row, chunk) pairs. K must be a multiple of 8. The epilogue hands each 4×4 quad to the
// store hook with constant accumulator indices (GC_TM8 / GC_TN8 say which quads exist): on an H200 a loop over
// the quads calling a GELU or gate epilogue was left rolled, which put the whole accumulator array in local
// memory (DiT ff1: 13 ms instead of ~1).
//
// GC_GATEUP: the B tile's first BN/2 rows are gate rows n0 + r, its last BN/2 the up rows of the same outputs
//   (gc_b_raw's `half` = 1); each thread's column quad c = 1 is the up partner of quad c = 0 (needs TN = 8), so a
//   workgroup produces BM × BN/2 outputs of act(gate)·up.
// GC_ROWSQ: the loader threads also sum the squares of their raw A chunks (before gc_a_scale, whose factors are
//   prefetched with the chunk: loaded at the store instead, their latency stood exposed once a step), so a row's
//   Σ_k A[m, k]² reaches the store hook without a pass of its own (the fused RMSNorm prologue).
//
// The including shader supplies, at module scope:
//   gc_a8(m, c) -> mat2x4<f32>          A[m, 8c .. 8c + 7]
//   alias GcB                            B's storage for one chunk (f32 values, packed halves, quantised words…)
//   gc_b_raw(n, half, c) -> GcB         B row n (of the up half when half = 1), elements 8c .. 8c + 7, as stored
//   gc_b_dec(r) -> mat2x4<f32>          that chunk decoded to f32 (called a K step after the load: the prefetch
//                                       holds raw words, so no decode waits on its load before the step's FMAs)
//   gc_a_scale(c) -> mat2x4<f32>        (GC_ROWSQ) factors multiplied into A's chunk c after its squares are summed
//   gc_store4(m, n, acc, up, rowsq)     outputs m, n .. n + 3 (n < N; the hook checks n + j < N); `up` is the
//                                       GC_GATEUP partner (else zero), `rowsq` the row's Σ A² (GC_ROWSQ, else 0)
// and calls gemm_tiles(wid.xy, lid, M, N, K) from a @workgroup_size(GC_THREADS) entry; N counts outputs.
// Defines: BM, BN, TM, TN, BK (8, 16 or 32), GC_TM8 (TM = 8), GC_TN8 (TN = 8), GC_GATEUP, GC_ROWSQ.

const BM: u32 = {{BM}}u;
const BN: u32 = {{BN}}u;
const TM: u32 = {{TM}}u;
const TN: u32 = {{TN}}u;
const BK: u32 = {{BK}}u;
const RA: u32 = TM / 4u;
const CA: u32 = TN / 4u;
const BM4: u32 = BM / 4u;
const BN4: u32 = BN / 4u;
const TXN: u32 = BN / TN;                  // threads along a tile row
const GC_THREADS: u32 = (BM / TM) * TXN;
const CPR: u32 = BK / 8u;                  // 8-element chunks per tile row and K step
#ifdef GC_GATEUP
const OUT_N: u32 = BN / 2u;                // outputs a workgroup covers along N
#else
const OUT_N: u32 = BN;
#endif

var<workgroup> gc_as: array<vec4<f32>, BK * BM4>; // [BK][BM/4]: k-major, 4 rows a vec4
var<workgroup> gc_bs: array<vec4<f32>, BK * BN4>; // [BK][BN/4]
#ifdef GC_ROWSQ
var<workgroup> gc_sq: array<f32, BM * CPR>;       // partial Σ A² of a row, one slot per loader chunk
#endif

// Writes chunk (row r, chunk cc) of a tile into its k-major workgroup array as 8 scalars.
fn gc_put_a(r: u32, cc: u32, v: mat2x4<f32>) {
  for (var j = 0u; j < 8u; j++) {
    gc_as[(8u * cc + j) * BM4 + r / 4u][r % 4u] = v[j / 4u][j % 4u];
  }
}
fn gc_put_b(r: u32, cc: u32, v: mat2x4<f32>) {
  for (var j = 0u; j < 8u; j++) {
    gc_bs[(8u * cc + j) * BN4 + r / 4u][r % 4u] = v[j / 4u][j % 4u];
  }
}

// Tile column r of the B tile → (logical output column, half).
fn gc_bcol(n0: u32, r: u32) -> vec2<u32> {
#ifdef GC_GATEUP
  return vec2<u32>(n0 + r % OUT_N, r / OUT_N);
#else
  return vec2<u32>(n0 + r, 0u);
#endif
}

var<private> gc_m0: u32;
var<private> gc_n0: u32;
var<private> gc_tx: u32;
var<private> gc_ty: u32;
var<private> gc_M: u32;
var<private> gc_N: u32;

// Σ A² of tile row mr (GC_ROWSQ; else 0).
fn gc_rowsq(mr: u32) -> f32 {
  var s = 0.0;
#ifdef GC_ROWSQ
  for (var j = 0u; j < CPR; j++) { s += gc_sq[mr * CPR + j]; }
#endif
  return s;
}

// Row quad r, column quad c: its 4 rows' accumulators (and with GC_GATEUP their up partners) to the store hook.
fn gc_quad(r: u32, c: u32, a0: vec4<f32>, a1: vec4<f32>, a2: vec4<f32>, a3: vec4<f32>,
           u0: vec4<f32>, u1: vec4<f32>, u2: vec4<f32>, u3: vec4<f32>) {
  let mr = r * (BM / RA) + 4u * gc_ty;
  let n = gc_n0 + c * (BN / CA) + 4u * gc_tx;
  if (n >= gc_N) { return; }
  if (gc_m0 + mr < gc_M) { gc_store4(gc_m0 + mr, n, a0, u0, gc_rowsq(mr)); }
  if (gc_m0 + mr + 1u < gc_M) { gc_store4(gc_m0 + mr + 1u, n, a1, u1, gc_rowsq(mr + 1u)); }
  if (gc_m0 + mr + 2u < gc_M) { gc_store4(gc_m0 + mr + 2u, n, a2, u2, gc_rowsq(mr + 2u)); }
  if (gc_m0 + mr + 3u < gc_M) { gc_store4(gc_m0 + mr + 3u, n, a3, u3, gc_rowsq(mr + 3u)); }
}

fn gemm_tiles(wg: vec2<u32>, lid: u32, M: u32, N: u32, K: u32) {
  gc_m0 = wg.y * BM;
  gc_n0 = wg.x * OUT_N;
  gc_tx = lid % TXN;
  gc_ty = lid / TXN;
  gc_M = M;
  gc_N = N;
  let m0 = gc_m0;
  let nc = K / 8u;
  // This thread's loader chunk of each tile (the same tile row and chunk column every step).
  let ar = lid / CPR;
  let lc = lid % CPR;
  let aLoads = lid < BM * CPR && m0 + ar < M;
  let bc = gc_bcol(gc_n0, lid / CPR);
  let bLoads = lid < BN * CPR && bc.x < N;
  var acc: array<vec4<f32>, TM * CA>; // [column quad c][row r·4 + i]
  var pa = mat2x4<f32>();
  var pb = GcB();
#ifdef GC_ROWSQ
  var sq = 0.0;
  var ps = mat2x4<f32>(); // the scale factors of pa's chunk, prefetched with it
#endif
  // Step 0's chunks into registers; each step stores them, then issues the next step's loads.
  if (aLoads && lc < nc) { pa = gc_a8(m0 + ar, lc); }
  if (bLoads && lc < nc) { pb = gc_b_raw(bc.x, bc.y, lc); }
#ifdef GC_ROWSQ
  if (lid < BM * CPR && lc < nc) { ps = gc_a_scale(lc); }
#endif
  for (var c0 = 0u; c0 < nc; c0 += CPR) {
    if (lid < BM * CPR) {
#ifdef GC_ROWSQ
      sq += dot(pa[0], pa[0]) + dot(pa[1], pa[1]);
      gc_put_a(ar, lc, mat2x4<f32>(pa[0] * ps[0], pa[1] * ps[1]));
#else
      gc_put_a(ar, lc, pa);
#endif
    }
    if (lid < BN * CPR) { gc_put_b(lid / CPR, lc, gc_b_dec(pb)); }
    workgroupBarrier();
    let c1 = c0 + CPR + lc;
    pa = mat2x4<f32>();
    pb = GcB();
    if (aLoads && c1 < nc) { pa = gc_a8(m0 + ar, c1); }
    if (bLoads && c1 < nc) { pb = gc_b_raw(bc.x, bc.y, c1); }
#ifdef GC_ROWSQ
    if (lid < BM * CPR && c1 < nc) { ps = gc_a_scale(c1); }
#endif
    for (var k = 0u; k < BK; k++) {
      var a: array<vec4<f32>, RA>;
      var b: array<vec4<f32>, CA>;
      for (var r = 0u; r < RA; r++) { a[r] = gc_as[k * BM4 + r * (BM4 / RA) + gc_ty]; }
      for (var c = 0u; c < CA; c++) { b[c] = gc_bs[k * BN4 + c * (BN4 / CA) + gc_tx]; }
      for (var c = 0u; c < CA; c++) {
        for (var r = 0u; r < RA; r++) {
          for (var i = 0u; i < 4u; i++) {
            acc[c * TM + r * 4u + i] = fma(vec4<f32>(a[r][i]), b[c], acc[c * TM + r * 4u + i]);
          }
        }
      }
    }
    workgroupBarrier();
  }
#ifdef GC_ROWSQ
  if (lid < BM * CPR) { gc_sq[lid] = sq; }
  workgroupBarrier();
#endif
  // Constant indices only (see the header).
  let z = vec4<f32>();
#ifdef GC_GATEUP
  gc_quad(0u, 0u, acc[0], acc[1], acc[2], acc[3], acc[TM], acc[TM + 1u], acc[TM + 2u], acc[TM + 3u]);
#ifdef GC_TM8
  gc_quad(1u, 0u, acc[4], acc[5], acc[6], acc[7], acc[TM + 4u], acc[TM + 5u], acc[TM + 6u], acc[TM + 7u]);
#endif
#else
  gc_quad(0u, 0u, acc[0], acc[1], acc[2], acc[3], z, z, z, z);
#ifdef GC_TM8
  gc_quad(1u, 0u, acc[4], acc[5], acc[6], acc[7], z, z, z, z);
#endif
#ifdef GC_TN8
  gc_quad(0u, 1u, acc[TM], acc[TM + 1u], acc[TM + 2u], acc[TM + 3u], z, z, z, z);
#ifdef GC_TM8
  gc_quad(1u, 1u, acc[TM + 4u], acc[TM + 5u], acc[TM + 6u], acc[TM + 7u], z, z, z, z);
#endif
#endif
#endif
}
