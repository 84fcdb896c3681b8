// DiT self-attention for GPUs, flash form: the same math, layouts and mask as shaders/dit_attention.wgsl
//
//   o[b, i, h·DH + d] = Σ_j softmax_j(q_i·k_j · scale + mask(i, j)) · v[b, j, h·DH + d]
//
// qkv [M, 3C] (columns q | k | v, rotary applied), o [M, C], keymask [M]; key j visible to query i iff
// keymask[b·T + j] > 0.5 and, with dims.chunk > 0, j < (⌊i/chunk⌋ + 1)·chunk. A row that sees no key gives 0.
// The tile walk is shaders/flash_core.wgsl (shared with the LLM's paged prefill); this file maps its rows onto
// batch b = wid.z, head h = wid.y. Grid (ceil(T/BQ), H, B). Defines: DH (multiple of 32), KT, RQ, SG.
#ifdef SG
enable subgroups;
#endif
#include "dit_attn_common"
#include "flash_core"
@group(0) @binding(2) var<storage, read> qkv: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> o: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> keymask: array<f32>;

var<private> row0: u32; // b·T: this batch's first row
var<private> col4: u32; // h·DH/4: this head's first vec4 column

fn ld4() -> u32 { return 3u * p.C / 4u; } // qkv row stride in vec4
fn fl_q(i: u32, c: u32) -> vec4<f32> { return qkv[(row0 + i) * ld4() + col4 + c]; }
fn fl_k(j: u32, c: u32) -> vec4<f32> { return qkv[(row0 + j) * ld4() + p.C / 4u + col4 + c]; }
fn fl_v(j: u32, c: u32) -> vec4<f32> { return qkv[(row0 + j) * ld4() + p.C / 2u + col4 + c]; }
fn fl_key_ok(j: u32) -> f32 { return keymask[row0 + j]; }
fn fl_key_end(i: u32) -> u32 { return key_limit(i); }
fn fl_store(i: u32, c: u32, v: vec4<f32>) { o[(row0 + i) * (p.C / 4u) + col4 + c] = v; }

@compute @workgroup_size(128)
fn flash(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  row0 = wid.z * dims.T;
  col4 = wid.y * DH4;
  flash_tiles(lid, wid.x * BQ, dims.T, p.scale);
}
