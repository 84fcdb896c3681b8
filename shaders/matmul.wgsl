// Linear layers: y[M, N] = x[M, K] · W[N, K]ᵀ (+ bias[N]) (+ residual[M, N])
//
// W is the PyTorch nn.Linear weight, [out_features, in_features], row-major. Activations f32; accumulate f32.
//
// Entry `gemv` (decode, small M): one workgroup owns ROWS=4 output columns n of one row m; 64 threads per n
//   stride over K (consecutive threads read consecutive k, so loads coalesce), then a shared-memory tree
//   reduces the 64 partial sums. Grid: (ceil(N/4), M).
// Entry `gemm` (prefill, DiT, convs as GEMM): 64×64 output tile per workgroup, K in steps of 16 through shared
//   memory, each of the 256 threads owns a 4×4 block of outputs. Grid: (ceil(N/64), ceil(M/64)).
//
// Variants (defines): BIAS adds bias[n]; RESIDUAL adds residual[m, n] (which may alias nothing but y's own
// previous contents are not read: pass the residual explicitly).
// Limits: M·N, M·K, N·K < 2^32 elements.

struct Params {
  M: u32,
  N: u32,
  K: u32,
  _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
#ifdef BIAS
@group(0) @binding(4) var<storage, read> bias: array<f32>;
#endif
#ifdef RESIDUAL
@group(0) @binding(5) var<storage, read> residual: array<f32>;
#endif

fn epilogue(m: u32, n: u32, acc: f32) -> f32 {
  var v = acc;
#ifdef BIAS
  v += bias[n];
#endif
#ifdef RESIDUAL
  v += residual[m * p.N + n];
#endif
  return v;
}

const GEMV_ROWS: u32 = 4u;
const GEMV_LANES: u32 = 64u;
var<workgroup> gemv_part: array<f32, 256>;

@compute @workgroup_size(256)
fn gemv(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let r = lid / GEMV_LANES;
  let lane = lid % GEMV_LANES;
  let n = wid.x * GEMV_ROWS + r;
  let m = wid.y;
  var acc = 0.0;
  if (n < p.N) {
    let xb = m * p.K;
    let wb = n * p.K;
    for (var k = lane; k < p.K; k += GEMV_LANES) {
      acc += x[xb + k] * w[wb + k];
    }
  }
  gemv_part[lid] = acc;
  workgroupBarrier();
  for (var s = GEMV_LANES / 2u; s > 0u; s >>= 1u) {
    if (lane < s) {
      gemv_part[lid] += gemv_part[lid + s];
    }
    workgroupBarrier();
  }
  if (lane == 0u && n < p.N) {
    y[m * p.N + n] = epilogue(m, n, gemv_part[lid]);
  }
}

const TM: u32 = 64u;
const TN: u32 = 64u;
const TK: u32 = 16u;
var<workgroup> tile_a: array<f32, 1024>; // [TK][TM]
var<workgroup> tile_b: array<f32, 1024>; // [TK][TN]

@compute @workgroup_size(256)
fn gemm(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let m0 = wid.y * TM;
  let n0 = wid.x * TN;
  let tx = lid % 16u;
  let ty = lid / 16u;
  var acc: array<array<f32, 4>, 4>;
  for (var k0 = 0u; k0 < p.K; k0 += TK) {
    // Each thread loads 4 elements of each tile; element e = lid + 256·i covers row e / TK, column e % TK so
    // that consecutive threads read consecutive k of one row (coalesced).
    for (var i = 0u; i < 4u; i++) {
      let e = lid + 256u * i;
      let row = e / TK;
      let kk = e % TK;
      let k = k0 + kk;
      let am = m0 + row;
      let bn = n0 + row;
      tile_a[kk * TM + row] = select(0.0, x[am * p.K + k], am < p.M && k < p.K);
      tile_b[kk * TN + row] = select(0.0, w[bn * p.K + k], bn < p.N && k < p.K);
    }
    workgroupBarrier();
    for (var kk = 0u; kk < TK; kk++) {
      var a: array<f32, 4>;
      var b: array<f32, 4>;
      for (var i = 0u; i < 4u; i++) {
        a[i] = tile_a[kk * TM + ty * 4u + i];
        b[i] = tile_b[kk * TN + tx * 4u + i];
      }
      for (var i = 0u; i < 4u; i++) {
        for (var j = 0u; j < 4u; j++) {
          acc[i][j] = fma(a[i], b[j], acc[i][j]);
        }
      }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i++) {
    let m = m0 + ty * 4u + i;
    if (m >= p.M) { continue; }
    for (var j = 0u; j < 4u; j++) {
      let n = n0 + tx * 4u + j;
      if (n < p.N) {
        y[m * p.N + n] = epilogue(m, n, acc[i][j]);
      }
    }
  }
}
