// DiT attention as three register-blocked passes for CPU adapters (lavapipe), where a thread holding a whole
// 64-wide q row and output row spills: scores S = q·kᵀ·scale (masked), row softmax in place, then O = P·v.
//
//   scores   S[z, i, j] = scale · Σ_d q[b·T + i, h·DH + d] · k[b·T + j, h·DH + d]   (z = b·H + h), or −3e38
//            where key j is not visible to query i (keymask[b·T + j] ≤ 0.5, or j ≥ (⌊i/chunk⌋+1)·chunk when
//            dims.chunk > 0). Thread: 8 queries × 4 keys, vec4 along d. Grid (ceil(T/256), ceil(T/8), B·H).
//   softmax  P[z, i, :] = softmax(S[z, i, :]) in f32 (max-subtracted); masked entries become 0 and a row with no
//            visible key becomes all 0 (upstream would attend everywhere; cannot happen at inference).
//            One thread per row, no barriers (three sweeps over the row, a vec4 at a time when T % 4 == 0).
//            Grid (ceil(B·H·T/64), 1, 1).
//   pv       o[b·T + i, h·DH + d] = Σ_j P[z, i, j] · v[b·T + j, h·DH + d]. Thread: 8 queries × 4 channels.
//            Grid (ceil(DH/4 · ceil(T/8) / 64), B·H).
// qkv: [M, 3C] = [q | k | v] (rotary already applied), o: [M, C], S: [B·H, T, T] live (row stride T).
// Queries are rows dims.lead on (the prefix cache's new frames; 0 otherwise): each grid's query extent is T − lead,
// and the rows before lead are left as they were.
// Define DH (multiple of 4).
// SG (llvmpipe with subgroups of ≥ 8 lanes; see dit_linear.wgsl `sgblock` for why): the same passes with one load
// shared by a subgroup. scores_sg: a subgroup owns 8 queries (lane s loads q row i0 + s, subgroupBroadcast hands
// each to every lane), a lane owns 4 keys; per 4 d: 5 vec4 loads feed 128 FMAs (scores: 12). Grid (ceil(T/256),
// ceil(T/8), B·H). pv_sg: a lane owns 4 channels of one head (16 lanes span DH = 64), a subgroup 8 queries whose P
// rows its lanes load once and broadcast; per 4 keys: 4 P loads + 4 v vec4 loads feed 128 FMAs (pv: 48 scalar
// loads). A workgroup covers DH/4 channel groups × 64·4/DH query blocks of 8. Grid (ceil(T / (8·256/DH)), B·H).
// scores_sg32 / pv_sg32 (the default where T ≥ 32): the same with 32 queries a subgroup (lane s loads rows i0 + s,
// + 8, + 16, + 24; shaders/sg_chunk.wgsl): per 4 d (scores) or 4 keys (pv), 4 + 4 loads feed 512 FMAs. Grids:
// (ceil(T/256), ceil(T/32), B·H) and (ceil(T / (32·256/DH)), B·H).
// No lane returns early in SG entries (broadcasts need every lane); out-of-range rows are clamped for loads.
#ifdef SG
enable subgroups;
#endif
#include "dit_attn_common"
#ifdef SG
#include "sg_chunk"
#endif
#ifdef SG
@group(0) @binding(2) var<storage, read> qkv4: array<vec4<f32>>;
#else
#ifndef SOFTMAX
@group(0) @binding(2) var<storage, read> qkv: array<f32>;
#endif
#endif
#ifdef SCORES
@group(0) @binding(3) var<storage, read> keymask: array<f32>;
@group(0) @binding(4) var<storage, read_write> S: array<f32>;
#endif
#ifdef SOFTMAX
// Viewed as vec4s: rows of T % 4 == 0 floats start 16-byte aligned and are swept a vec4 at a time (a quarter of
// the loads and stores, which lavapipe charges per lane); other T index single components.
@group(0) @binding(4) var<storage, read_write> S4: array<vec4<f32>>;
#endif
#ifdef PV
@group(0) @binding(4) var<storage, read> S: array<f32>;
@group(0) @binding(5) var<storage, read_write> o: array<f32>;
#endif

const DH: u32 = {{DH}}u;
const DH4: u32 = DH / 4u;
const MASKED: f32 = -3.0e38;


#ifndef SOFTMAX
#ifndef SG
fn load4(base: u32) -> vec4<f32> {
  return vec4<f32>(qkv[base], qkv[base + 1u], qkv[base + 2u], qkv[base + 3u]);
}
#endif
#endif

#ifdef SCORES
#ifndef SG
@compute @workgroup_size(64)
fn scores(@builtin(global_invocation_id) gid: vec3<u32>) {
  let T = dims.T;
  let j0 = gid.x * 4u;
  let i0 = dims.lead + gid.y * 8u;
  if (j0 >= T || i0 >= T) { return; }
  let z = gid.z;
  let b = z / p.H;
  let h = z % p.H;
  let ld = 3u * p.C;
  var kr: array<u32, 4>;
  var qr: array<u32, 8>;
  for (var c = 0u; c < 4u; c++) { kr[c] = (b * T + min(j0 + c, T - 1u)) * ld + p.C + h * DH; }
  for (var r = 0u; r < 8u; r++) { qr[r] = (b * T + min(i0 + r, T - 1u)) * ld + h * DH; }
  var acc: array<vec4<f32>, 8>;
  for (var d = 0u; d < DH; d += 4u) {
    let k0 = load4(kr[0] + d);
    let k1 = load4(kr[1] + d);
    let k2 = load4(kr[2] + d);
    let k3 = load4(kr[3] + d);
    for (var r = 0u; r < 8u; r++) {
      let q = load4(qr[r] + d);
      acc[r] += vec4<f32>(dot(q, k0), dot(q, k1), dot(q, k2), dot(q, k3));
    }
  }
  for (var r = 0u; r < 8u; r++) {
    let i = i0 + r;
    if (i >= T) { break; }
    let lim = key_limit(i);
    for (var c = 0u; c < 4u; c++) {
      let j = j0 + c;
      if (j >= T) { break; }
      let ok = j < lim && keymask[b * T + j] > 0.5;
      S[(z * T + i) * T + j] = select(MASKED, acc[r][c] * p.scale, ok);
    }
  }
}
#endif
#endif

#ifdef SOFTMAX
fn s_get(e: u32) -> f32 { return S4[e >> 2u][e & 3u]; }
fn s_set(e: u32, v: f32) { S4[e >> 2u][e & 3u] = v; }
fn masked_exp(s: f32, mx: f32) -> f32 { return select(0.0, exp(s - mx), s > -1.0e38); }

@compute @workgroup_size(64)
fn softmax(@builtin(global_invocation_id) gid: vec3<u32>) {
  let T = dims.T;
  let n = T - dims.lead;
  if (gid.x >= dims.B * p.H * n) { return; }
  let row = (gid.x / n) * T + dims.lead + gid.x % n; // query rows lead on of each (b, h)
  let base = row * T;
  var mx = MASKED;
  var sum = 0.0;
  if ((T & 3u) == 0u) {
    // The same three sweeps a vec4 at a time; the sum still adds e_j in j order, so results equal the scalar path.
    let b4 = base >> 2u;
    let n4 = T >> 2u;
    for (var j = 0u; j < n4; j++) {
      let s = S4[b4 + j];
      mx = max(mx, max(max(s.x, s.y), max(s.z, s.w)));
    }
    for (var j = 0u; j < n4; j++) {
      let s = S4[b4 + j];
      let e = vec4<f32>(masked_exp(s.x, mx), masked_exp(s.y, mx), masked_exp(s.z, mx), masked_exp(s.w, mx));
      S4[b4 + j] = e;
      sum += e.x;
      sum += e.y;
      sum += e.z;
      sum += e.w;
    }
    let inv = select(0.0, 1.0 / sum, sum > 0.0);
    for (var j = 0u; j < n4; j++) { S4[b4 + j] *= inv; }
    return;
  }
  for (var j = 0u; j < T; j++) { mx = max(mx, s_get(base + j)); }
  for (var j = 0u; j < T; j++) {
    let e = masked_exp(s_get(base + j), mx);
    s_set(base + j, e);
    sum += e;
  }
  let inv = select(0.0, 1.0 / sum, sum > 0.0);
  for (var j = 0u; j < T; j++) { s_set(base + j, s_get(base + j) * inv); }
}
#endif

#ifdef PV
#ifndef SG
@compute @workgroup_size(64)
fn pv(@builtin(global_invocation_id) gid: vec3<u32>) {
  let T = dims.T;
  let dq = gid.x % DH4;
  let i0 = dims.lead + (gid.x / DH4) * 8u;
  if (i0 >= T) { return; }
  let z = gid.y;
  let b = z / p.H;
  let h = z % p.H;
  let ld = 3u * p.C;
  let vcol = 2u * p.C + h * DH + dq * 4u;
  var srow: array<u32, 8>;
  for (var r = 0u; r < 8u; r++) { srow[r] = (z * T + min(i0 + r, T - 1u)) * T; }
  var acc: array<vec4<f32>, 8>;
  for (var j = 0u; j < T; j += 4u) {
    let v0 = load4((b * T + j) * ld + vcol);
    let v1 = load4((b * T + min(j + 1u, T - 1u)) * ld + vcol);
    let v2 = load4((b * T + min(j + 2u, T - 1u)) * ld + vcol);
    let v3 = load4((b * T + min(j + 3u, T - 1u)) * ld + vcol);
    for (var r = 0u; r < 8u; r++) {
      let sb = srow[r] + j;
      let pr = vec4<f32>(S[sb], select(0.0, S[sb + 1u], j + 1u < T), select(0.0, S[sb + 2u], j + 2u < T), select(0.0, S[sb + 3u], j + 3u < T));
      acc[r] += pr.x * v0 + pr.y * v1 + pr.z * v2 + pr.w * v3;
    }
  }
  for (var r = 0u; r < 8u; r++) {
    let i = i0 + r;
    if (i >= T) { break; }
    let ob = (b * T + i) * p.C + h * DH + dq * 4u;
    o[ob] = acc[r].x;
    o[ob + 1u] = acc[r].y;
    o[ob + 2u] = acc[r].z;
    o[ob + 3u] = acc[r].w;
  }
}
#endif
#endif


#ifdef SCORES
#ifdef SG

// Writes the 4 scores of query row i: visible keys scaled, the rest MASKED. `kv` holds the lane's 4 key-mask
// flags, loaded once per lane rather than once per (row, key).
fn store_scores(z: u32, i: u32, j0: u32, acc: vec4<f32>, kv: vec4<bool>) {
  let T = dims.T;
  if (i >= T) { return; }
  let lim = key_limit(i);
  for (var c = 0u; c < 4u; c++) {
    let j = j0 + c;
    if (j >= T) { return; }
    S[(z * T + i) * T + j] = select(MASKED, acc[c] * p.scale, j < lim && kv[c]);
  }
}

@compute @workgroup_size(64)
fn scores_sg(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32,
             @builtin(subgroup_invocation_id) sid: u32) {
  let T = dims.T;
  let j0 = (wid.x * 64u + lid) * 4u;
  let i0 = dims.lead + wid.y * 8u;
  let z = wid.z;
  let b = z / p.H;
  let h = z % p.H;
  let ld4 = 3u * p.C / 4u;
  let qrow = (b * T + min(i0 + sid, T - 1u)) * ld4 + h * DH4;
  let kcol = p.C / 4u + h * DH4;
  let k0r = (b * T + min(j0, T - 1u)) * ld4 + kcol;
  let k1r = (b * T + min(j0 + 1u, T - 1u)) * ld4 + kcol;
  let k2r = (b * T + min(j0 + 2u, T - 1u)) * ld4 + kcol;
  let k3r = (b * T + min(j0 + 3u, T - 1u)) * ld4 + kcol;
  var a0 = vec4<f32>(); var a1 = vec4<f32>(); var a2 = vec4<f32>(); var a3 = vec4<f32>();
  var a4 = vec4<f32>(); var a5 = vec4<f32>(); var a6 = vec4<f32>(); var a7 = vec4<f32>();
  for (var d = 0u; d < DH4; d++) {
    let qv = qkv4[qrow + d];
    let k0 = qkv4[k0r + d];
    let k1 = qkv4[k1r + d];
    let k2 = qkv4[k2r + d];
    let k3 = qkv4[k3r + d];
    a0 += sg_dot4x4(subgroupBroadcast(qv, 0u), k0, k1, k2, k3);
    a1 += sg_dot4x4(subgroupBroadcast(qv, 1u), k0, k1, k2, k3);
    a2 += sg_dot4x4(subgroupBroadcast(qv, 2u), k0, k1, k2, k3);
    a3 += sg_dot4x4(subgroupBroadcast(qv, 3u), k0, k1, k2, k3);
    a4 += sg_dot4x4(subgroupBroadcast(qv, 4u), k0, k1, k2, k3);
    a5 += sg_dot4x4(subgroupBroadcast(qv, 5u), k0, k1, k2, k3);
    a6 += sg_dot4x4(subgroupBroadcast(qv, 6u), k0, k1, k2, k3);
    a7 += sg_dot4x4(subgroupBroadcast(qv, 7u), k0, k1, k2, k3);
  }
  if (j0 >= T) { return; }
  let km = b * T;
  let kv = vec4<bool>(keymask[km + j0] > 0.5, keymask[km + min(j0 + 1u, T - 1u)] > 0.5,
                      keymask[km + min(j0 + 2u, T - 1u)] > 0.5, keymask[km + min(j0 + 3u, T - 1u)] > 0.5);
  store_scores(z, i0, j0, a0, kv);
  store_scores(z, i0 + 1u, j0, a1, kv);
  store_scores(z, i0 + 2u, j0, a2, kv);
  store_scores(z, i0 + 3u, j0, a3, kv);
  store_scores(z, i0 + 4u, j0, a4, kv);
  store_scores(z, i0 + 5u, j0, a5, kv);
  store_scores(z, i0 + 6u, j0, a6, kv);
  store_scores(z, i0 + 7u, j0, a7, kv);
}

@compute @workgroup_size(64)
fn scores_sg32(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32,
               @builtin(subgroup_invocation_id) sid: u32) {
  let T = dims.T;
  let j0 = (wid.x * 64u + lid) * 4u;
  let i0 = dims.lead + wid.y * 32u;
  let z = wid.z;
  let b = z / p.H;
  let h = z % p.H;
  let ld4 = 3u * p.C / 4u;
  let qcol = h * DH4;
  let q0r = (b * T + min(i0 + sid, T - 1u)) * ld4 + qcol;
  let q1r = (b * T + min(i0 + 8u + sid, T - 1u)) * ld4 + qcol;
  let q2r = (b * T + min(i0 + 16u + sid, T - 1u)) * ld4 + qcol;
  let q3r = (b * T + min(i0 + 24u + sid, T - 1u)) * ld4 + qcol;
  let kcol = p.C / 4u + h * DH4;
  let k0r = (b * T + min(j0, T - 1u)) * ld4 + kcol;
  let k1r = (b * T + min(j0 + 1u, T - 1u)) * ld4 + kcol;
  let k2r = (b * T + min(j0 + 2u, T - 1u)) * ld4 + kcol;
  let k3r = (b * T + min(j0 + 3u, T - 1u)) * ld4 + kcol;
  var acc: array<vec4<f32>, 32>;
  for (var d = 0u; d < DH4; d++) {
    sg_rows32_dot4x4(&acc, qkv4[q0r + d], qkv4[q1r + d], qkv4[q2r + d], qkv4[q3r + d],
                     qkv4[k0r + d], qkv4[k1r + d], qkv4[k2r + d], qkv4[k3r + d]);
  }
  if (j0 >= T) { return; }
  let km = b * T;
  let kv = vec4<bool>(keymask[km + j0] > 0.5, keymask[km + min(j0 + 1u, T - 1u)] > 0.5,
                      keymask[km + min(j0 + 2u, T - 1u)] > 0.5, keymask[km + min(j0 + 3u, T - 1u)] > 0.5);
  for (var r = 0u; r < 32u; r++) { store_scores(z, i0 + r, j0, acc[r], kv); }
}
#endif
#endif

#ifdef PV
#ifdef SG
fn store_o(b: u32, h: u32, i: u32, dq: u32, acc: vec4<f32>) {
  if (i >= dims.T) { return; }
  let ob = (b * dims.T + i) * p.C + h * DH + dq * 4u;
  o[ob] = acc.x;
  o[ob + 1u] = acc.y;
  o[ob + 2u] = acc.z;
  o[ob + 3u] = acc.w;
}

// P[z, i, j] for the 4 keys j..j+3 (0 past T).
fn load_p(row: u32, j: u32) -> vec4<f32> {
  let T = dims.T;
  return vec4<f32>(S[row + j], select(0.0, S[row + j + 1u], j + 1u < T), select(0.0, S[row + j + 2u], j + 2u < T),
                   select(0.0, S[row + j + 3u], j + 3u < T));
}

// V rows j..j+3 (clamped at T − 1; their P is 0) at the lane's vec4 column `vcol`, as the columns of a matrix.
fn v_rows4(b: u32, j: u32, ld4: u32, vcol: u32) -> mat4x4<f32> {
  let T = dims.T;
  return mat4x4<f32>(qkv4[(b * T + j) * ld4 + vcol], qkv4[(b * T + min(j + 1u, T - 1u)) * ld4 + vcol],
                     qkv4[(b * T + min(j + 2u, T - 1u)) * ld4 + vcol], qkv4[(b * T + min(j + 3u, T - 1u)) * ld4 + vcol]);
}

@compute @workgroup_size(64)
fn pv_sg(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32,
         @builtin(subgroup_invocation_id) sid: u32) {
  let T = dims.T;
  let dq = lid % DH4;
  let i0 = dims.lead + (wid.x * (64u / DH4) + lid / DH4) * 8u;
  let z = wid.y;
  let b = z / p.H;
  let h = z % p.H;
  let ld4 = 3u * p.C / 4u;
  let vcol = 2u * p.C / 4u + h * DH4 + dq;
  let prow = (z * T + min(i0 + sid, T - 1u)) * T;
  var a0 = vec4<f32>(); var a1 = vec4<f32>(); var a2 = vec4<f32>(); var a3 = vec4<f32>();
  var a4 = vec4<f32>(); var a5 = vec4<f32>(); var a6 = vec4<f32>(); var a7 = vec4<f32>();
  for (var j = 0u; j < T; j += 4u) {
    let pv4 = load_p(prow, j);
    let vm = v_rows4(b, j, ld4, vcol);
    a0 += sg_mat4_mul(vm, subgroupBroadcast(pv4, 0u));
    a1 += sg_mat4_mul(vm, subgroupBroadcast(pv4, 1u));
    a2 += sg_mat4_mul(vm, subgroupBroadcast(pv4, 2u));
    a3 += sg_mat4_mul(vm, subgroupBroadcast(pv4, 3u));
    a4 += sg_mat4_mul(vm, subgroupBroadcast(pv4, 4u));
    a5 += sg_mat4_mul(vm, subgroupBroadcast(pv4, 5u));
    a6 += sg_mat4_mul(vm, subgroupBroadcast(pv4, 6u));
    a7 += sg_mat4_mul(vm, subgroupBroadcast(pv4, 7u));
  }
  store_o(b, h, i0, dq, a0);
  store_o(b, h, i0 + 1u, dq, a1);
  store_o(b, h, i0 + 2u, dq, a2);
  store_o(b, h, i0 + 3u, dq, a3);
  store_o(b, h, i0 + 4u, dq, a4);
  store_o(b, h, i0 + 5u, dq, a5);
  store_o(b, h, i0 + 6u, dq, a6);
  store_o(b, h, i0 + 7u, dq, a7);
}

@compute @workgroup_size(64)
fn pv_sg32(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32,
           @builtin(subgroup_invocation_id) sid: u32) {
  let T = dims.T;
  let dq = lid % DH4;
  let i0 = dims.lead + (wid.x * (64u / DH4) + lid / DH4) * 32u;
  let z = wid.y;
  let b = z / p.H;
  let h = z % p.H;
  let ld4 = 3u * p.C / 4u;
  let vcol = 2u * p.C / 4u + h * DH4 + dq;
  let p0 = (z * T + min(i0 + sid, T - 1u)) * T;
  let p1 = (z * T + min(i0 + 8u + sid, T - 1u)) * T;
  let p2 = (z * T + min(i0 + 16u + sid, T - 1u)) * T;
  let p3 = (z * T + min(i0 + 24u + sid, T - 1u)) * T;
  var acc: array<vec4<f32>, 32>;
  for (var j = 0u; j < T; j += 4u) {
    let vm = v_rows4(b, j, ld4, vcol);
    sg_rows32_mat4(&acc, load_p(p0, j), load_p(p1, j), load_p(p2, j), load_p(p3, j), vm);
  }
  for (var r = 0u; r < 32u; r++) { store_o(b, h, i0 + r, dq, acc[r]); }
}
#endif
#endif
