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
//   Kept here until the matmul SwiGLU epilogue lands; it is the only non-norm entry of this file.

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
@group(0) @binding(1) var<storage, read> x: array<f32>;
#ifdef NORM
@group(0) @binding(2) var<storage, read> w: array<f32>;
#endif
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

const WG: u32 = {{WG}}u;
var<workgroup> partial: array<f32, WG>;

#ifdef NORM
@compute @workgroup_size(WG)
fn rmsnorm(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let r = wid.x;
  let xb = (p.inRowOffset + r) * p.cols;
  let yb = r * p.cols;
  var acc = 0.0;
  for (var c = lid; c < p.cols; c += WG) {
    let v = x[xb + c];
    acc = fma(v, v, acc);
  }
  partial[lid] = acc;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) {
      partial[lid] += partial[lid + s];
    }
    workgroupBarrier();
  }
  let inv = 1.0 / sqrt(partial[0] / f32(p.cols) + p.eps);
  for (var c = lid; c < p.cols; c += WG) {
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
