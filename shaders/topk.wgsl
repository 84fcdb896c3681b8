// Top-k of each row of x[rows, cols] (f32): values[r, 0..k) descending and their column indices (i32).
//
// Order: larger value first; equal values by smaller index first (a total order, so the result is unique and
// stable across runs). NaN inputs are skipped.
//
// One workgroup of WG threads owns one row and runs k rounds. Round j selects the largest element strictly
// below the previous pick in that total order, so nothing has to be marked or copied (a 6761-logit row does
// not fit in workgroup memory). A round is a strided scan (each thread keeps its best candidate) and a
// shared-memory argmax tree. Cost k·cols reads per row: for k ≤ 64 and rows of a few thousand that is far
// below a sort's cost and needs no scratch buffer. If fewer than k elements exist, the tail gets
// value −3.4028235e38 (lowest f32; WGSL constants cannot be infinite) and index −1.

struct Params {
  rows: u32,
  cols: u32,
  k: u32,
  _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> values: array<f32>;
@group(0) @binding(3) var<storage, read_write> indices: array<i32>;

const WG: u32 = {{WG}}u;
const NONE: u32 = 0xffffffffu;
var<workgroup> rv: array<f32, WG>;
var<workgroup> ri: array<u32, WG>;

// (va, ia) comes before (vb, ib) in the output order. Index NONE marks "no candidate".
fn before(va: f32, ia: u32, vb: f32, ib: u32) -> bool {
  if (ia == NONE) { return false; }
  if (ib == NONE) { return true; }
  return va > vb || (va == vb && ia < ib);
}

@compute @workgroup_size(WG)
fn rows(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let r = wid.x;
  let base = r * p.cols;
  var pv = 0.0;      // previous pick
  var pi = NONE;
  for (var j = 0u; j < p.k; j++) {
    var bv = 0.0;
    var bi = NONE;
    for (var c = lid; c < p.cols; c += WG) {
      let v = x[base + c];
      if (v != v) { continue; } // NaN
      // Must come strictly after the previous pick (round 0: anything; once the picks run out, pi stays NONE
      // and before() rejects everything) ...
      let after_prev = j == 0u || before(pv, pi, v, c);
      // ... and before this thread's current best.
      if (after_prev && before(v, c, bv, bi)) {
        bv = v;
        bi = c;
      }
    }
    rv[lid] = bv;
    ri[lid] = bi;
    workgroupBarrier();
    for (var st = WG / 2u; st > 0u; st >>= 1u) {
      if (lid < st && before(rv[lid + st], ri[lid + st], rv[lid], ri[lid])) {
        rv[lid] = rv[lid + st];
        ri[lid] = ri[lid + st];
      }
      workgroupBarrier();
    }
    pv = rv[0];
    pi = ri[0];
    if (lid == 0u) {
      values[r * p.k + j] = select(pv, -0x1.fffffep+127f, pi == NONE);
      indices[r * p.k + j] = select(i32(pi), -1, pi == NONE);
    }
    workgroupBarrier(); // rv/ri are rewritten by the next round
  }
}
