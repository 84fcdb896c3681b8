// Snake activation (BigVGAN / CosyVoice `Snake`, alpha on a linear scale), elementwise over [C, L]:
//
//   out[c, t] = x[c, t] + inv_a[c] · sin(a[c] · x[c, t])²,    inv_a = 1 / (a + 1e-9) (precomputed in f32)
//
// Layouts: x, out [C, L] (row stride L); alpha [C] of vec2 (a, inv_a). One thread owns one element; C ≤ 65535.
// Used before a convolution so that the conv's input window loads stay plain reads (recomputing sin for every
// output-channel block inside the conv costs more than this pass).

#include "precise_trig"

struct Params {
  n: u32,
  len: u32,
  _p0: u32,
  _p1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> alpha: array<vec2<f32>>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256)
fn snake(@builtin(global_invocation_id) gid: vec3<u32>) {
  // Grid (ceil(L/256), C): the channel is the workgroup row, so no per-element division.
  let t = gid.x;
  let c = gid.y;
  if (t >= p.len) { return; }
  let i = c * p.len + t;
  let a = alpha[c];
  let v = x[i];
  let s = precise_sin(v * a.x);
  out[i] = v + a.y * (s * s);
}
