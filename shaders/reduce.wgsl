// Row reductions of a [rows, cols] f32 matrix (row-major):
//
//   out[r] = Σ_c x[r, c]          (define SUM)
//   out[r] = max_c x[r, c]        (define MAX)
//
// One workgroup owns one row; each of the WG threads strides over the columns, then a shared-memory tree
// combines the WG partial results. Accumulation in f32; for the sizes we reduce (≤ 1e6 per row) the tree keeps
// the error near √(log n)·ε rather than n·ε.

struct Params {
  rows: u32,
  cols: u32,
  _pad0: u32,
  _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

const WG: u32 = {{WG}}u;
var<workgroup> partial: array<f32, WG>;

fn combine(a: f32, b: f32) -> f32 {
#ifdef MAX
  return max(a, b);
#else
  return a + b;
#endif
}

@compute @workgroup_size(WG)
fn rows(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let r = wid.x;
  let base = r * p.cols;
#ifdef MAX
  var acc = -3.402823e38;
#else
  var acc = 0.0;
#endif
  for (var c = lid; c < p.cols; c += WG) {
    acc = combine(acc, x[base + c]);
  }
  partial[lid] = acc;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) {
      partial[lid] = combine(partial[lid], partial[lid + s]);
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    out[r] = partial[0];
  }
}
