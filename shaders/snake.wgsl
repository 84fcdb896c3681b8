// Snake activation (BigVGAN / CosyVoice `Snake`, alpha on a linear scale), elementwise over [C, L]:
//
//   out[c, t] = x[c, t] + inv_a[c] · sin(a[c] · x[c, t])²,    inv_a = 1 / (a + 1e-9) (precomputed in f32)
//
// Layouts: x, out [C, L] (row stride L); alpha [C] of vec2 (a, inv_a).
// Used before a convolution so that the conv's input window loads stay plain reads (recomputing sin for every
// output-channel block inside the conv costs more than this pass).
//
// Two entries:
//   snake   one thread an element, grid (ceil(L/256), C): the channel is the workgroup row. Any shape.
//   snake4  one thread four consecutive elements of the flat [C·L] array as one vec4 (C·L % 4 == 0, L ≥ 4, so
//           a vec4 spans at most two channels), grid over C·L/4 (grid1d). llvmpipe pays a memory access per lane
//           whatever its width, so this does 4 accesses (x, α twice at most, out) per 4 elements instead of 12.

#include "precise_trig"

struct Params {
  n: u32,          // snake: C·L; snake4: C·L/4 (vec4s)
  len: u32,        // L
  row_stride: u32, // snake4: threads a grid row (grid1d)
  _p0: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(2) var<storage, read> alpha: array<vec2<f32>>;

fn snake1(v: f32, a: vec2<f32>) -> f32 {
  return v + a.y * precise_sin_sq(v * a.x);
}

#ifdef VEC4
@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> out: array<vec4<f32>>;

@compute @workgroup_size(256)
fn snake4(@builtin(global_invocation_id) gid: vec3<u32>) {
  let j = gid.y * p.row_stride + gid.x;
  if (j >= p.n) { return; }
  let i0 = 4u * j;
  // Channel of element i0 without a runtime integer division (scalarised per lane on SIMD CPUs): a float
  // estimate, then one correction each way. f32(i0) is off by < i0·2⁻²⁴ ≤ 2⁻²⁴·C·L, i.e. < L/4 elements for
  // C ≤ 65535 and L ≥ 4, so the estimate is off by at most one channel.
  var c0 = u32(f32(i0) / f32(p.len));
  if (c0 * p.len > i0) { c0 -= 1u; }
  if ((c0 + 1u) * p.len <= i0) { c0 += 1u; }
  // Elements of this vec4 still in channel c0 (1…4); the rest are in c0 + 1.
  let edge = (c0 + 1u) * p.len - i0;
  let a0 = alpha[c0];
  var a1 = a0;
  if (edge < 4u) { a1 = alpha[c0 + 1u]; }
  let v = x[j];
  out[j] = vec4<f32>(
    snake1(v.x, a0),
    snake1(v.y, select(a1, a0, edge > 1u)),
    snake1(v.z, select(a1, a0, edge > 2u)),
    snake1(v.w, select(a1, a0, edge > 3u)),
  );
}
#else
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256)
fn snake(@builtin(global_invocation_id) gid: vec3<u32>) {
  let t = gid.x;
  let c = gid.y;
  if (t >= p.len) { return; }
  let i = c * p.len + t;
  out[i] = snake1(x[i], alpha[c]);
}
#endif
