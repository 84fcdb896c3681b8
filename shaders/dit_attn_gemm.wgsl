// DiT attention as three register-blocked passes for CPU adapters (lavapipe), where a thread holding a whole
// 64-wide q row and output row spills: scores S = q·kᵀ·scale (masked), row softmax in place, then O = P·v.
//
//   scores   S[z, i, j] = scale · Σ_d q[b·T + i, h·DH + d] · k[b·T + j, h·DH + d]   (z = b·H + h), or −3e38
//            where key j is not visible to query i (keymask[b·T + j] ≤ 0.5, or j ≥ (⌊i/chunk⌋+1)·chunk when
//            dims.chunk > 0). Thread: 8 queries × 4 keys, vec4 along d. Grid (ceil(T/256), ceil(T/8), B·H).
//   softmax  P[z, i, :] = softmax(S[z, i, :]) in f32 (max-subtracted); masked entries become 0 and a row with no
//            visible key becomes all 0 (upstream would attend everywhere; cannot happen at inference).
//            One thread per row, no barriers (three sweeps over the row). Grid (ceil(B·H·T/64), 1, 1).
//   pv       o[b·T + i, h·DH + d] = Σ_j P[z, i, j] · v[b·T + j, h·DH + d]. Thread: 8 queries × 4 channels.
//            Grid (ceil(DH/4 · ceil(T/8) / 64), B·H).
// qkv: [M, 3C] = [q | k | v] (rotary already applied), o: [M, C], S: [B·H, T, T] live (row stride T).
// Define DH (multiple of 4).
#include "flow_dims"

struct Params {
  H: u32,
  C: u32,
  _p0: u32,
  scale: f32,
}

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<uniform> p: Params;
#ifdef SCORES
@group(0) @binding(2) var<storage, read> qkv: array<f32>;
@group(0) @binding(3) var<storage, read> keymask: array<f32>;
@group(0) @binding(4) var<storage, read_write> S: array<f32>;
#endif
#ifdef SOFTMAX
@group(0) @binding(4) var<storage, read_write> S: array<f32>;
#endif
#ifdef PV
@group(0) @binding(2) var<storage, read> qkv: array<f32>;
@group(0) @binding(4) var<storage, read> S: array<f32>;
@group(0) @binding(5) var<storage, read_write> o: array<f32>;
#endif

const DH: u32 = {{DH}}u;
const DH4: u32 = DH / 4u;
const MASKED: f32 = -3.0e38;

#ifndef SOFTMAX
fn load4(base: u32) -> vec4<f32> {
  return vec4<f32>(qkv[base], qkv[base + 1u], qkv[base + 2u], qkv[base + 3u]);
}
#endif

#ifdef SCORES
@compute @workgroup_size(64)
fn scores(@builtin(global_invocation_id) gid: vec3<u32>) {
  let T = dims.T;
  let j0 = gid.x * 4u;
  let i0 = gid.y * 8u;
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
    var lim = T;
    if (dims.chunk > 0u) { lim = min(T, (i / dims.chunk + 1u) * dims.chunk); }
    for (var c = 0u; c < 4u; c++) {
      let j = j0 + c;
      if (j >= T) { break; }
      let ok = j < lim && keymask[b * T + j] > 0.5;
      S[(z * T + i) * T + j] = select(MASKED, acc[r][c] * p.scale, ok);
    }
  }
}
#endif

#ifdef SOFTMAX
@compute @workgroup_size(64)
fn softmax(@builtin(global_invocation_id) gid: vec3<u32>) {
  let T = dims.T;
  let row = gid.x;
  if (row >= dims.B * p.H * T) { return; }
  let base = row * T;
  var mx = MASKED;
  for (var j = 0u; j < T; j++) { mx = max(mx, S[base + j]); }
  var sum = 0.0;
  for (var j = 0u; j < T; j++) {
    let s = S[base + j];
    let e = select(0.0, exp(s - mx), s > -1.0e38);
    S[base + j] = e;
    sum += e;
  }
  let inv = select(0.0, 1.0 / sum, sum > 0.0);
  for (var j = 0u; j < T; j++) { S[base + j] *= inv; }
}
#endif

#ifdef PV
@compute @workgroup_size(64)
fn pv(@builtin(global_invocation_id) gid: vec3<u32>) {
  let T = dims.T;
  let dq = gid.x % DH4;
  let i0 = (gid.x / DH4) * 8u;
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
