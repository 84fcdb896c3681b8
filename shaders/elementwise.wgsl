// Elementwise ops over flat f32 arrays.
//
//   out[i] = a[i] OP b[i]            (entry `binary`, OP from the define: ADD, MUL)
//   out[i] = a[i] · s               (entry `scale`)
//
// Layout: a, b, out are contiguous [n]; one thread owns one element; the 1-D grid may be split over x/y when it
// passes 65535 workgroups (the wrapper computes it), hence the flattening of workgroup ids below.
// Limits: n < 2^32.

struct Params {
  n: u32,
  row_stride: u32, // threads per grid row = groups_x * WG
  scalar: f32,
  _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
#ifdef BINARY
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
#else
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
#endif

const WG: u32 = {{WG}}u;

#ifdef BINARY
@compute @workgroup_size(WG)
fn binary(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.y * p.row_stride + gid.x;
  if (i >= p.n) { return; }
#ifdef ADD
  out[i] = a[i] + b[i];
#endif
#ifdef MUL
  out[i] = a[i] * b[i];
#endif
}
#else
@compute @workgroup_size(WG)
fn scale(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.y * p.row_stride + gid.x;
  if (i >= p.n) { return; }
  out[i] = a[i] * p.scalar;
}
#endif
