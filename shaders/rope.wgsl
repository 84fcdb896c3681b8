// Rotary position embedding, Qwen2 / HF "rotate_half" (non-interleaved, half-split) form.
//
//   y[m, h, i]       = x[m, h, i]·cos(p, i) − x[m, h, i + D/2]·sin(p, i)
//   y[m, h, i + D/2] = x[m, h, i + D/2]·cos(p, i) + x[m, h, i]·sin(p, i)        for i in [0, D/2), p = start + m
//
// i.e. y = x·cos + rotate_half(x)·sin with rotate_half(x) = [−x[D/2:], x[:D/2]] and cos/sin vectors that repeat
// their first half. x, y [M, H, D] f32 (may alias: each thread reads its two elements before writing them).
// table [maxPos, D] f32: row p = [cos(p·inv_freq_0..D/2−1), sin(p·inv_freq_0..D/2−1)], built on the CPU in
// float64 from f32 angles (kernels/rope.ts ropeTable) so that large angles keep f32 accuracy; GPU cos/sin of
// angles in the thousands of radians are not accurate enough on every driver.
// One thread owns one (m, h, i) pair. Flat grid split over x/y (rowStride). The model path fuses this into
// kv_cache.wgsl (q/k rotation + paged K/V append); this entry is the standalone form.

struct Params {
  M: u32,
  H: u32,
  D: u32,
  start: u32,
  rowStride: u32,
  _p0: u32,
  _p1: u32,
  _p2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> table: array<f32>;
@group(0) @binding(2) var<storage, read_write> x: array<f32>;

@compute @workgroup_size(64)
fn rope(@builtin(global_invocation_id) gid: vec3<u32>) {
  let half = p.D / 2u;
  let t = gid.y * p.rowStride + gid.x;
  if (t >= p.M * p.H * half) { return; }
  let i = t % half;
  let mh = t / half;
  let m = mh / p.H;
  let base = mh * p.D;
  let tb = (p.start + m) * p.D;
  let c = table[tb + i];
  let s = table[tb + half + i];
  let a = x[base + i];
  let b = x[base + half + i];
  x[base + i] = a * c - b * s;
  x[base + half + i] = b * c + a * s;
}
