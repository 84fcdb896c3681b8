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
// F16KV.
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

@compute @workgroup_size(128)
fn attend_flash(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  head = wid.y;
  kvh = head / (p.Hq / p.Hkv);
  flash_tiles(lid, wid.x * BQ, p.M, p.scale);
}
