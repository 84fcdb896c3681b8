// Causal GQA prefill attention over the paged KV cache for llvmpipe (subgroups of exactly 8 lanes): the
// `attend_rows` result (shaders/paged_attention.wgsl, same Params, Step, bindings and pool layout), computed with
// subgroup-shared loads.
//
//   o[m, h, :] = Σ_{j ≤ start + m} softmax_j(scale · q[m, h, :]·K[j, g, :]) · V[j, g, :],   g = h / (Hq / Hkv)
//
// Why: on llvmpipe a storage load costs as much as ~4 vec4 FMAs whether or not lanes share its address
// (bench/adapter-probe.ts), and `attend_rows` loads a whole K and V row per key in every lane: 2 loads per 2
// FMAs. Here a workgroup is one 8-lane subgroup owning 8 consecutive query rows of one q head. Keys go in blocks
// of 8: lane s loads key jb + s (K, then V, a vec4 at a time) and subgroupBroadcast hands each vec4 to all 8
// lanes, so every lane scores its row against the 8 keys (and accumulates their 8 values) from 1 load per 8 dot
// products. The online softmax is the usual one (running max, rescale by exp(old − new)), once per block.
// Keys past a row's position are masked to −3.4e38 (exp gives 0); key 0 is visible to every row, so the running
// max is finite after the first block. Lanes past M compute row M − 1 again (subgroup ops need all 8) and do
// not write.
//
// Entry `attend_heads_sg` (decode: one or a few rows): the same walk with the lanes on the GQ = Hq / Hkv q heads
// of one kv head and one row (GQ ≤ 8; lanes past GQ repeat the last head and do not write), so every K/V load
// also feeds 8 dot products, the whole context in one dispatch with no partials to combine. Grid (M, Hkv).
//
// q [M, Hq, D] f32 (rotated), o [M, Hq·D] f32, pool f32 or packed halves (F16KV), D a multiple of 4.
// Grid of `attend_rows_sg`: (ceil(M / 8), Hq). The broadcasts are written out: their source lane must be a
// constant expression.

enable subgroups;

const D4: u32 = {{D}}u / 4u;
#include "paged_attn_vec4"
const NEG_BIG: f32 = -3.402823e38;

// The walk both entries share: this lane's query (first vec4 qb of q and o) sees keys 0..pos of kv head g; the
// subgroup walks keys 0..nAll−1 (uniform); `live` lanes write their row.
fn attend8(lane: u32, g: u32, qb: u32, pos: u32, nAll: u32, live: bool) {
  var qr: array<vec4<f32>, D4>;
  var acc: array<vec4<f32>, D4>;
  for (var c = 0u; c < D4; c++) {
    qr[c] = q[qb + c] * p.scale;
    acc[c] = vec4<f32>(0.0);
  }
  var mx = NEG_BIG;
  var l = 0.0;
  for (var jb = 0u; jb < nAll; jb += 8u) {
    let j = min(jb + lane, nAll - 1u);              // the key this lane loads (clamped in the last block)
    let kb = row_base4(j, 0u, g);
    var s0 = vec4<f32>(0.0);                        // scores of keys jb .. jb + 3
    var s1 = vec4<f32>(0.0);                        // keys jb + 4 .. jb + 7
    for (var c = 0u; c < D4; c++) {
      let kc = kv4(kb + c);
      let qc = qr[c];
      s0.x += dot(qc, subgroupBroadcast(kc, 0u));
      s0.y += dot(qc, subgroupBroadcast(kc, 1u));
      s0.z += dot(qc, subgroupBroadcast(kc, 2u));
      s0.w += dot(qc, subgroupBroadcast(kc, 3u));
      s1.x += dot(qc, subgroupBroadcast(kc, 4u));
      s1.y += dot(qc, subgroupBroadcast(kc, 5u));
      s1.z += dot(qc, subgroupBroadcast(kc, 6u));
      s1.w += dot(qc, subgroupBroadcast(kc, 7u));
    }
    let j0 = vec4<u32>(jb) + vec4<u32>(0u, 1u, 2u, 3u);
    s0 = select(vec4<f32>(NEG_BIG), s0, j0 <= vec4<u32>(pos));
    s1 = select(vec4<f32>(NEG_BIG), s1, j0 + vec4<u32>(4u) <= vec4<u32>(pos));
    let bmax = max(max(max(s0.x, s0.y), max(s0.z, s0.w)), max(max(s1.x, s1.y), max(s1.z, s1.w)));
    let nmx = max(mx, bmax);
    let alpha = exp(mx - nmx);
    let p0 = exp(s0 - vec4<f32>(nmx));
    let p1 = exp(s1 - vec4<f32>(nmx));
    l = l * alpha + ((p0.x + p0.y) + (p0.z + p0.w)) + ((p1.x + p1.y) + (p1.z + p1.w));
    let vb = row_base4(j, 1u, g);
    for (var c = 0u; c < D4; c++) {
      let vc = kv4(vb + c);
      var a = acc[c] * alpha;
      a = fma(vec4<f32>(p0.x), subgroupBroadcast(vc, 0u), a);
      a = fma(vec4<f32>(p0.y), subgroupBroadcast(vc, 1u), a);
      a = fma(vec4<f32>(p0.z), subgroupBroadcast(vc, 2u), a);
      a = fma(vec4<f32>(p0.w), subgroupBroadcast(vc, 3u), a);
      a = fma(vec4<f32>(p1.x), subgroupBroadcast(vc, 4u), a);
      a = fma(vec4<f32>(p1.y), subgroupBroadcast(vc, 5u), a);
      a = fma(vec4<f32>(p1.z), subgroupBroadcast(vc, 6u), a);
      a = fma(vec4<f32>(p1.w), subgroupBroadcast(vc, 7u), a);
      acc[c] = a;
    }
    mx = nmx;
  }
  if (live) {
    for (var c = 0u; c < D4; c++) {
      o[qb + c] = acc[c] / l;
    }
  }
}

@compute @workgroup_size(8)
fn attend_rows_sg(@builtin(workgroup_id) wid: vec3<u32>, @builtin(subgroup_invocation_id) lane: u32) {
  let h = wid.y;
  let m0 = wid.x * 8u;
  let m = min(m0 + lane, p.M - 1u);
  let pos = step.start + m;
  attend8(lane, h / (p.Hq / p.Hkv), (m * p.Hq + h) * D4, pos, step.start + min(m0 + 8u, p.M), m0 + lane < p.M);
}

@compute @workgroup_size(8)
fn attend_heads_sg(@builtin(workgroup_id) wid: vec3<u32>, @builtin(subgroup_invocation_id) lane: u32) {
  let m = wid.x;
  let g = wid.y;
  let gq = p.Hq / p.Hkv;
  let h = g * gq + min(lane, gq - 1u);
  let pos = step.start + m;
  attend8(lane, g, (m * p.Hq + h) * D4, pos, pos + 1u, lane < gq);
}
