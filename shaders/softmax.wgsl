// Softmax / log-softmax over the rows of x[rows, cols] (row-major, f32), with an input scale s:
//
//   z = s · x[r, :];   out[r, c] = exp(z_c − max z) / Σ_j exp(z_j − max z)             (default)
//                      out[r, c] = (z_c − max z) − log Σ_j exp(z_j − max z)            (LOG)
//
// Max-subtracted so exp never overflows; every statistic in f32. One workgroup of WG threads owns one row:
// threads stride over the columns (coalesced), the max and the sum are combined by shared-memory trees, then
// the row is written in a third strided pass. Rows may exceed 65535: the grid is split over x/y and the row
// index is flattened with p.gx.
//
// Entry `rows_sg` (define SG; llvmpipe with subgroups of ≥ 8 lanes): the same three passes with a workgroup of
// one 8-lane subgroup and subgroupMax/subgroupAdd instead of the shared-memory trees. On llvmpipe a workgroup
// runs on one core and every barrier is a coroutine switch for each SIMD group, so a lone 6761-long row is
// cheaper on 8 lanes without barriers than on 256 threads with 16 of them.
//
// VEC (cols a multiple of 4; the wrapper passes cols in vec4s): x and out are read as vec4 rows, so each lane
// issues a quarter of the loads and stores, which is what lavapipe charges for (see bench/adapter-probe.ts) and
// 16-byte transactions on GPUs. A lane then sums 4 columns per step, so sums round in a different order.
//
// −inf inputs (masked logits) give 0 (log: −inf); an all −inf row gives NaN,
// as PyTorch does. `out` may not alias `x`.

#ifdef SG
enable subgroups;
#endif

#ifdef VEC
alias E = vec4<f32>;
fn hmax(v: E) -> f32 { return max(max(v.x, v.y), max(v.z, v.w)); }
fn hsum(v: E) -> f32 { return (v.x + v.y) + (v.z + v.w); }
#else
alias E = f32;
fn hmax(v: E) -> f32 { return v; }
fn hsum(v: E) -> f32 { return v; }
#endif

struct Params {
  rows: u32,
  cols: u32,  // in E
  gx: u32,    // workgroups along x
  s: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<E>;
@group(0) @binding(2) var<storage, read_write> out: array<E>;

#ifndef SG
const WG: u32 = {{WG}}u;
var<workgroup> red: array<f32, WG>;

fn tree_max(lid: u32, v: f32) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  for (var st = WG / 2u; st > 0u; st >>= 1u) {
    if (lid < st) { red[lid] = max(red[lid], red[lid + st]); }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier(); // red is reused by the next tree
  return r;
}

fn tree_sum(lid: u32, v: f32) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  for (var st = WG / 2u; st > 0u; st >>= 1u) {
    if (lid < st) { red[lid] += red[lid + st]; }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}

#endif

const NEG_MAX = -0x1.fffffep+127f;

// Third pass of both entries: lanes `lane`, `lane + stride`, … of row `base`.
fn write_row(base: u32, lane: u32, stride: u32, mx: f32, sum: f32) {
#ifdef LOG
  let lse = log(sum);
  for (var c = lane; c < p.cols; c += stride) { out[base + c] = (p.s * x[base + c] - mx) - lse; }
#else
  let inv = 1.0 / sum;
  for (var c = lane; c < p.cols; c += stride) { out[base + c] = exp(p.s * x[base + c] - mx) * inv; }
#endif
}

#ifndef SG
@compute @workgroup_size(WG)
fn rows(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let r = wid.y * p.gx + wid.x;
  // Uniform per workgroup, so the early return keeps barriers in uniform control flow.
  if (r >= p.rows) { return; }
  let base = r * p.cols;
  var mx = NEG_MAX;
  for (var c = lid; c < p.cols; c += WG) { mx = max(mx, hmax(p.s * x[base + c])); }
  mx = tree_max(lid, mx);
  var sum = 0.0;
  for (var c = lid; c < p.cols; c += WG) { sum += hsum(exp(p.s * x[base + c] - mx)); }
  sum = tree_sum(lid, sum);
  write_row(base, lid, WG, mx, sum);
}
#endif

#ifdef SG
@compute @workgroup_size(8)
fn rows_sg(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let r = wid.y * p.gx + wid.x;
  if (r >= p.rows) { return; }
  let base = r * p.cols;
  var mx = NEG_MAX;
  for (var c = lid; c < p.cols; c += 8u) { mx = max(mx, hmax(p.s * x[base + c])); }
  mx = subgroupMax(mx);
  var sum = 0.0;
  for (var c = lid; c < p.cols; c += 8u) { sum += hsum(exp(p.s * x[base + c] - mx)); }
  sum = subgroupAdd(sum);
  write_row(base, lid, 8u, mx, sum);
}
#endif
