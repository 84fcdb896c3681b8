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
#include "paged_attn_params"
#include "llm_step"
#include "flash_core"

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<uniform> step: Step;
@group(0) @binding(2) var<storage, read> q: array<vec4<f32>>;
#ifdef F16KV
@group(0) @binding(3) var<storage, read> pool: array<vec2<u32>>;
#else
@group(0) @binding(3) var<storage, read> pool: array<vec4<f32>>;
#endif
@group(0) @binding(4) var<storage, read> block_table: array<u32>;
@group(0) @binding(5) var<storage, read_write> o: array<vec4<f32>>;

var<private> head: u32; // q head h
var<private> kvh: u32;  // its kv head g

// vec4 index of K (which 0) or V (1) row j, kv head g, in the pool.
fn kv_row4(j: u32, which: u32) -> u32 {
  let page = block_table[step.slot * p.maxPages + j / p.pageSize];
  return (((page * 2u + which) * p.pageSize + j % p.pageSize) * p.Hkv + kvh) * DH4;
}
#ifdef F16KV
fn kv4(e: u32) -> vec4<f32> {
  let w = pool[e];
  return vec4<f32>(unpack2x16float(w.x), unpack2x16float(w.y));
}
#else
fn kv4(e: u32) -> vec4<f32> { return pool[e]; }
#endif

fn fl_q(i: u32, c: u32) -> vec4<f32> { return q[(i * p.Hq + head) * DH4 + c]; }
fn fl_k(j: u32, c: u32) -> vec4<f32> { return kv4(kv_row4(j, 0u) + c); }
fn fl_v(j: u32, c: u32) -> vec4<f32> { return kv4(kv_row4(j, 1u) + c); }
fn fl_key_ok(j: u32) -> f32 { return 1.0; }
fn fl_key_end(i: u32) -> u32 { return step.start + i + 1u; }
fn fl_store(i: u32, c: u32, v: vec4<f32>) { o[(i * p.Hq + head) * DH4 + c] = v; }

@compute @workgroup_size(128)
fn attend_flash(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  head = wid.y;
  kvh = head / (p.Hq / p.Hkv);
  flash_tiles(lid, wid.x * BQ, p.M, p.scale);
}
