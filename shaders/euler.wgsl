// One Euler step of the CFM solver with classifier-free guidance (CausalConditionalCFM.solve_euler):
//
//   x[c, t] ← x[c, t] + dt · (wc · v[t, c] − wu · v[T + t, c]),   wc = 1 + cfg_rate, wu = cfg_rate
//
// x: the Euler state [mel, T] (channel-first, as upstream); v: the estimator output rows [B·T, Cout] with the
// conditional half first. The products are rounded in the same order as the reference (wc·v_c, wu·v_u, their
// difference, dt·dphi, then the add). dt is a per-step uniform (the cosine grid differences, exact in f32).
// With the prefix cache, v holds rows of frames [q0, q0 + T) and x is [mel, full]. One thread per live element
// of x. Grid: ceil(mel·T / 256).
#include "flow_dims"

struct Params {
  C: u32,
  dt: f32,
  wc: f32,
  wu: f32,
}

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<uniform> p: Params;
@group(0) @binding(2) var<storage, read> v: array<f32>;
@group(0) @binding(3) var<storage, read_write> x: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let g = flat_gid(wid, lid);
  let T = dims.T;
  if (g >= p.C * T) { return; }
  let c = g / T;
  let t = g % T;
  let vc = p.wc * v[t * p.C + c];
  let vu = p.wu * v[(T + t) * p.C + c];
  let xi = c * dims.full + dims.q0 + t;
  x[xi] = x[xi] + p.dt * (vc - vu);
}
