// Causal prefill attention over the paged KV cache for GPUs, flash form (the math of paged_attention.wgsl):
//
//   o[m, h, :] = Σ_{j ≤ start + m} softmax_j(scale · q[m, h, :]·K[j, g, :]) · V[j, g, :],   g = h / (Hq / Hkv)
//
// q [M, Hq, D] f32 (rotated), o [M, Hq·D] f32, K/V of position j at page block_table[step.slot, j / pageSize],
// slot j % pageSize of pool [numPages, 2, pageSize, Hkv, D] (f32, or packed halves with F16KV; kv_cache.wgsl).
// The tile walk is shaders/flash_core.wgsl: a workgroup owns BQ = 16·RQ query rows of one q head and walks key
// tiles up to its last row's position, each tile's K/V rows staged in workgroup memory and reused by all BQ
// rows (the workgroup-per-(row, head) `attend` reads every K/V row once per query row: 655 µs on an H200 for
// 512 rows × 14 heads against ORT's 152). Grid (ceil(M/BQ), Hq). Defines: D = DH (multiple of 32), KT, RQ, SG,
// F16KV, FL_SPLIT.
//
// FL_SPLIT (with SG): the keys 0 .. start + M − 1 in S = p.splits ranges of whole tiles, a workgroup per (row
// block, head, range) (grid (ceil(M/BQ), Hq, S)): a causal prefill's last row blocks walk every key, and S ranges
// give them S shorter walks in parallel (ranges past a block's last row end at once). Partials part [M, S, Hq,
// D/4] vec4 and ml [M, S, Hq] (max, sum); `attend_flash_combine` (a thread per row, head and vec4 of D; grid
// ceil(M·Hq·D/4 / 64)) merges them into o.
#ifdef SG
enable subgroups;
#endif
#include "flash_core"
const D4: u32 = DH4;
#include "paged_attn_vec4"

var<private> head: u32; // q head h
var<private> kvh: u32;  // its kv head g

fn fl_q(i: u32, c: u32) -> vec4<f32> { return q[(i * p.Hq + head) * DH4 + c]; }
fn fl_k(j: u32, c: u32) -> vec4<f32> { return kv4(row_base4(j, 0u, kvh) + c); }
fn fl_v(j: u32, c: u32) -> vec4<f32> { return kv4(row_base4(j, 1u, kvh) + c); }
fn fl_key_ok(j: u32) -> f32 { return 1.0; }
fn fl_key_end(i: u32) -> u32 { return step.start + i + 1u; }
fn fl_store(i: u32, c: u32, v: vec4<f32>) { o[(i * p.Hq + head) * DH4 + c] = v; }

#ifdef FL_SPLIT
@group(0) @binding(6) var<storage, read_write> part: array<vec4<f32>>;
@group(0) @binding(7) var<storage, read_write> ml: array<vec2<f32>>;
var<private> split: u32;

// Slot of (row i, split s, head h) in ml; part holds DH/4 vec4s a slot.
fn slot(i: u32, s: u32, h: u32) -> u32 { return (i * p.splits + s) * p.Hq + h; }
// Keys of split s: the prefix and the M new rows' keys in ranges of whole tiles.
fn key_span(s: u32) -> vec2<u32> {
  let n = ((step.start + p.M + p.splits - 1u) / p.splits + KT - 1u) / KT * KT;
  return vec2<u32>(s * n, (s + 1u) * n);
}
fn fl_store_part(i: u32, c: u32, v: vec4<f32>) { part[slot(i, split, head) * DH4 + c] = v; }
fn fl_store_ml(i: u32, m: f32, l: f32) { ml[slot(i, split, head)] = vec2<f32>(m, l); }
#endif

@compute @workgroup_size(128)
fn attend_flash(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  head = wid.y;
  kvh = head / (p.Hq / p.Hkv);
#ifdef FL_SPLIT
  split = wid.z;
  flash_tiles(lid, wid.x * BQ, p.M, p.scale, key_span(wid.z));
#else
  flash_tiles(lid, wid.x * BQ, p.M, p.scale);
#endif
}

#ifdef FL_SPLIT
@compute @workgroup_size(64)
fn attend_flash_combine(@builtin(global_invocation_id) gid: vec3<u32>) {
  let e = gid.x;
  if (e >= p.M * p.Hq * DH4) { return; }
  let c = e % DH4;
  let h = (e / DH4) % p.Hq;
  let i = e / (DH4 * p.Hq);
  o[(i * p.Hq + h) * DH4 + c] = flash_merge(slot(i, 0u, h), p.Hq, p.splits, c);
}
#endif
