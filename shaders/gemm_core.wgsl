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
// Loads: A and B tiles arrive in chunks of 8 consecutive k (one 32-byte row segment; the hooks decode weight
// formats to f32), a thread keeping the same tile rows for the whole walk. Rows past M / N and chunks past K are
// zero-filled, so the hooks only see valid (row, chunk) pairs. K must be a multiple of 8.
//
// GC_GATEUP: the B tile's first BN/2 rows are gate rows n0 + r, its last BN/2 the up rows of the same outputs
//   (gc_b8's `half` = 1); each thread's column quad c = 1 is the up partner of quad c = 0 (needs TN = 8), so a
//   workgroup produces BM × BN/2 outputs of act(gate)·up.
// GC_ROWSQ: the loader threads also sum the squares of their raw A chunks (before gc_a_scale), so a row's
//   Σ_k A[m, k]² reaches the store hook without a pass of its own (the fused RMSNorm prologue).
//
// The including shader supplies, at module scope:
//   gc_a8(m, c) -> mat2x4<f32>          A[m, 8c .. 8c + 7]
//   gc_b8(n, half, c) -> mat2x4<f32>    B row n (of the up half when half = 1), elements 8c .. 8c + 7
//   gc_a_scale(c) -> mat2x4<f32>        (GC_ROWSQ) factors multiplied into A's chunk c after its squares are summed
//   gc_store4(m, n, acc, up, rowsq)     outputs m, n .. n + 3 (n < N; the hook checks n + j < N); `up` is the
//                                       GC_GATEUP partner (else zero), `rowsq` the row's Σ A² (GC_ROWSQ, else 0)
// and calls gemm_tiles(wid.xy, lid, M, N, K) from a @workgroup_size(GC_THREADS) entry; N counts outputs.
// Defines: BM, BN, TM, TN, BK (8 or 16), GC_GATEUP, GC_ROWSQ.

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
const LA: u32 = (BM * CPR + GC_THREADS - 1u) / GC_THREADS; // A chunks a thread loads per step
const LB: u32 = (BN * CPR + GC_THREADS - 1u) / GC_THREADS;
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

fn gemm_tiles(wg: vec2<u32>, lid: u32, M: u32, N: u32, K: u32) {
  let m0 = wg.y * BM;
  let n0 = wg.x * OUT_N;
  let tx = lid % TXN;
  let ty = lid / TXN;
  let nc = K / 8u;
  var acc: array<vec4<f32>, TM * CA>; // [row r·4 + i][column quad c]
  var pa: array<mat2x4<f32>, LA>;
  var pb: array<mat2x4<f32>, LB>;
#ifdef GC_ROWSQ
  var sq: array<f32, LA>;
#endif
  // Step 0's chunks into registers; each step stores them, then issues the next step's loads.
  for (var u = 0u; u < LA; u++) {
    let e = lid + u * GC_THREADS;
    pa[u] = mat2x4<f32>();
    if (e < BM * CPR && m0 + e / CPR < M && e % CPR < nc) { pa[u] = gc_a8(m0 + e / CPR, e % CPR); }
  }
  for (var u = 0u; u < LB; u++) {
    let e = lid + u * GC_THREADS;
    let bc = gc_bcol(n0, e / CPR);
    pb[u] = mat2x4<f32>();
    if (e < BN * CPR && bc.x < N && e % CPR < nc) { pb[u] = gc_b8(bc.x, bc.y, e % CPR); }
  }
  for (var c0 = 0u; c0 < nc; c0 += CPR) {
    for (var u = 0u; u < LA; u++) {
      let e = lid + u * GC_THREADS;
      if (e < BM * CPR) {
#ifdef GC_ROWSQ
        sq[u] += dot(pa[u][0], pa[u][0]) + dot(pa[u][1], pa[u][1]);
        var v = pa[u];
        if (c0 + e % CPR < nc) {
          let s = gc_a_scale(c0 + e % CPR);
          v = mat2x4<f32>(v[0] * s[0], v[1] * s[1]);
        }
        gc_put_a(e / CPR, e % CPR, v);
#else
        gc_put_a(e / CPR, e % CPR, pa[u]);
#endif
      }
    }
    for (var u = 0u; u < LB; u++) {
      let e = lid + u * GC_THREADS;
      if (e < BN * CPR) { gc_put_b(e / CPR, e % CPR, pb[u]); }
    }
    workgroupBarrier();
    let c1 = c0 + CPR;
    for (var u = 0u; u < LA; u++) {
      let e = lid + u * GC_THREADS;
      pa[u] = mat2x4<f32>();
      if (e < BM * CPR && m0 + e / CPR < M && c1 + e % CPR < nc) { pa[u] = gc_a8(m0 + e / CPR, c1 + e % CPR); }
    }
    for (var u = 0u; u < LB; u++) {
      let e = lid + u * GC_THREADS;
      let bc = gc_bcol(n0, e / CPR);
      pb[u] = mat2x4<f32>();
      if (e < BN * CPR && bc.x < N && c1 + e % CPR < nc) { pb[u] = gc_b8(bc.x, bc.y, c1 + e % CPR); }
    }
    for (var k = 0u; k < BK; k++) {
      var a: array<vec4<f32>, RA>;
      var b: array<vec4<f32>, CA>;
      for (var r = 0u; r < RA; r++) { a[r] = gc_as[k * BM4 + r * (BM4 / RA) + ty]; }
      for (var c = 0u; c < CA; c++) { b[c] = gc_bs[k * BN4 + c * (BN4 / CA) + tx]; }
      for (var r = 0u; r < RA; r++) {
        for (var i = 0u; i < 4u; i++) {
          for (var c = 0u; c < CA; c++) {
            acc[(r * 4u + i) * CA + c] = fma(vec4<f32>(a[r][i]), b[c], acc[(r * 4u + i) * CA + c]);
          }
        }
      }
    }
    workgroupBarrier();
  }
#ifdef GC_ROWSQ
  for (var u = 0u; u < LA; u++) {
    let e = lid + u * GC_THREADS;
    if (e < BM * CPR) { gc_sq[e] = sq[u]; }
  }
  workgroupBarrier();
#endif
  for (var r = 0u; r < RA; r++) {
    for (var i = 0u; i < 4u; i++) {
      let mr = r * (BM / RA) + 4u * ty + i; // row within the tile
      let m = m0 + mr;
      var rowsq = 0.0;
#ifdef GC_ROWSQ
      for (var j = 0u; j < CPR; j++) { rowsq += gc_sq[mr * CPR + j]; }
#endif
#ifdef GC_GATEUP
      let n = n0 + 4u * tx;
      if (m < M && n < N) { gc_store4(m, n, acc[(r * 4u + i) * CA], acc[(r * 4u + i) * CA + 1u], rowsq); }
#else
      for (var c = 0u; c < CA; c++) {
        let n = n0 + c * (BN / CA) + 4u * tx;
        if (m < M && n < N) { gc_store4(m, n, acc[(r * 4u + i) * CA + c], vec4<f32>(), rowsq); }
      }
#endif
    }
  }
}
