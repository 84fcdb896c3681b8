// DiT self-attention for GPUs, flash form: the same math, layouts and mask as shaders/dit_attention.wgsl
//
//   o[b, i, h·DH + d] = Σ_j softmax_j(q_i·k_j · scale + mask(i, j)) · v[b, j, h·DH + d]
//
// qkv [M, 3C] (columns q | k | v, rotary applied), o [M, C], keymask [M]; key j visible to query i iff
// keymask[b·T + j] > 0.5 and, with dims.chunk > 0, j < (⌊i/chunk⌋ + 1)·chunk. A row that sees no key gives 0.
// The tile walk is shaders/flash_core.wgsl (shared with the LLM's paged prefill); this file maps its rows onto
// batch b = wid.z, head h = wid.y; queries are rows dims.lead on (the prefix cache's new frames; 0 otherwise).
// Grid (ceil((T − lead)/BQ), H, B). Defines: DH (multiple of 32), KT, RQ, SG, FL_SPLIT.
//
// FL_SPLIT (with SG): entry `flash` walks one of S = p.splits key ranges per workgroup (b = wid.z / S, split
// wid.z mod S; ranges of ⌈T/S⌉ keys rounded up to whole tiles) and leaves its partial in part [M, S, H, DH/4]
// vec4 and ml [M, S, H] (max, sum); entry `flash_combine` (a thread per row, head and vec4 of DH; grid
// ceil(B·T·H·DH/4 / 64)) merges the S partials into o. S times the workgroups for the same tile walks, for GPUs
// that run few flash workgroups per SM.
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

#ifdef FL_SPLIT
@group(0) @binding(5) var<storage, read_write> part: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read_write> ml: array<vec2<f32>>;
var<private> split: u32;

// Slot of (row r, split s, head h) in ml; part holds DH/4 vec4s a slot.
fn slot(r: u32, s: u32, h: u32) -> u32 { return (r * p.splits + s) * p.H + h; }
// Keys of split s: ranges of ⌈T/S⌉ rounded up to whole tiles.
fn key_span(s: u32) -> vec2<u32> {
  let n = ((dims.T + p.splits - 1u) / p.splits + KT - 1u) / KT * KT;
  return vec2<u32>(s * n, (s + 1u) * n);
}
fn fl_store_part(i: u32, c: u32, v: vec4<f32>) { part[slot(row0 + i, split, col4 / DH4) * DH4 + c] = v; }
fn fl_store_ml(i: u32, m: f32, l: f32) { ml[slot(row0 + i, split, col4 / DH4)] = vec2<f32>(m, l); }
#endif

@compute @workgroup_size(128)
fn flash(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  col4 = wid.y * DH4;
#ifdef FL_SPLIT
  split = wid.z % p.splits;
  row0 = (wid.z / p.splits) * dims.T;
  flash_tiles(lid, dims.lead + wid.x * BQ, dims.T, p.scale, key_span(wid.z % p.splits));
#else
  row0 = wid.z * dims.T;
  flash_tiles(lid, dims.lead + wid.x * BQ, dims.T, p.scale);
#endif
}

#ifdef FL_SPLIT
@compute @workgroup_size(64)
fn flash_combine(@builtin(global_invocation_id) gid: vec3<u32>) {
  let e = gid.x;
  let n = dims.T - dims.lead;
  if (e >= dims.B * n * p.H * DH4) { return; }
  let c = e % DH4;
  let h = (e / DH4) % p.H;
  let q = e / (DH4 * p.H); // of the B·(T − lead) query rows
  let r = (q / n) * dims.T + dims.lead + q % n;
  o[r * (p.C / 4u) + h * DH4 + c] = flash_merge(slot(r, 0u, h), p.H, p.splits, c);
}
#endif
