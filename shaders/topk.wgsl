// Top-k of each row of x[rows, cols] (f32): values[r, 0..k) descending and their column indices (i32).
//
// Order: larger value first; equal values by smaller index first (a total order, so the result is unique and
// stable across runs). −0 and +0 are equal values (ordered by index). NaN inputs are skipped. If fewer than k
// non-NaN elements exist, the tail gets value −3.4028235e38 (lowest f32; WGSL constants cannot be infinite) and
// index −1. Bindings: x [rows, cols] f32, values [rows, k] f32, indices [rows, k] i32; k ≤ 64 (TOPK_MAX).
// One workgroup of WG threads owns one row (rows ≤ 65535, one grid dimension).
//
// The selection itself is shaders/topk_select.wgsl (shared with the sampler, shaders/sample.wgsl), which
// describes both forms and their costs; the entries here only write its picks:
//   `rows`   the k-rounds form (no PT): k argmax rounds over the row, lane 0 writes each round's pick.
//   `radix`  (define PT, the per-thread key count) the radix select: thread lid < n writes its pick at its rank,
//            threads n ≤ lid < k the tail. The value is re-read from x, so −0 stays −0.

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
const LOWEST: f32 = -0x1.fffffep+127f;

#include "topk_select"

#ifndef PT
@compute @workgroup_size(WG)
fn rows(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let r = wid.x;
  var pick = Pick(0.0, NONE);
  for (var j = 0u; j < p.k; j++) {
    pick = round_pick(lid, r * p.cols, p.cols, j, pick);
    if (lid == 0u) {
      values[r * p.k + j] = select(pick.v, LOWEST, pick.i == NONE);
      indices[r * p.k + j] = select(i32(pick.i), -1, pick.i == NONE);
    }
  }
}
#else
@compute @workgroup_size(WG)
fn radix(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let r = wid.x;
  let base = r * p.cols;
  let sel = radix_select(lid, base, p.cols, p.k);
  if (lid < sel.n) {
    values[r * p.k + sel.rank] = x[base + sel.col];
    indices[r * p.k + sel.rank] = i32(sel.col);
  } else if (lid < p.k) {
    values[r * p.k + lid] = LOWEST;
    indices[r * p.k + lid] = -1;
  }
}
#endif
