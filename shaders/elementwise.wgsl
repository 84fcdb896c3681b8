// Elementwise ops over flat f32 arrays.
//
//   out[i] = a[i] OP b[i]            (entry `binary`, OP from the define: ADD, MUL)
//   out[i] = a[i] OP b[i % D]        (entry `binary` with BCAST: b is one [D] row broadcast over a [n/D, D])
//   out[i] = a[i] · s               (entry `scale`)
//   out[i] = act(a[i])              (entry `unary`, act from ACT_SILU | ACT_GELU | ACT_MISH | ACT_LEAKY with
//                                    slope p.scalar; functions in activation.wgsl)
//
// Layout: a, b, out are contiguous [n]; thread i owns elements i, i + T, i + 2T, … (T = threads in the grid,
// ITEMS elements per thread) so consecutive threads touch consecutive elements on every step, and a large n
// needs ITEMS× fewer workgroups (workgroup start-up is expensive on CPU drivers such as lavapipe). The 1-D grid
// may be split over x/y past 65535 workgroups (the wrapper computes it), hence the flattening below. `out` may be
// the same buffer as `a` only through separate bindings of distinct tensors (WebGPU forbids aliasing a
// read-only and a read-write binding of one buffer range in one dispatch).
// Limits: n < 2^32.

#include "activation"

struct Params {
  n: u32,          // elements of type E (vec4s under VEC)
  row_stride: u32, // threads per grid row = groups_x * WG
  scalar: f32,
  d: u32,          // BCAST row length, in E
  total: u32,      // threads in the whole grid (the stride between a thread's elements)
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
}

// VEC: every array is read as vec4 (the wrapper sets it when n, and a broadcast row's D, are multiples of 4), so
// a thread moves 16 bytes a load: a quarter of the load instructions, which is what lavapipe pays for, and
// 16-byte transactions on GPUs. The per-component math is the scalar one, so results are bit-identical.
#ifdef VEC
alias E = vec4<f32>;
#else
alias E = f32;
#endif

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<E>;
#ifdef BINARY
@group(0) @binding(2) var<storage, read> b: array<E>;
@group(0) @binding(3) var<storage, read_write> out: array<E>;
#else
@group(0) @binding(2) var<storage, read_write> out: array<E>;
#endif

const WG: u32 = {{WG}}u;
const ITEMS: u32 = {{ITEMS}}u;

#ifdef BINARY
@compute @workgroup_size(WG)
fn binary(@builtin(global_invocation_id) gid: vec3<u32>) {
  for (var it = 0u; it < ITEMS; it++) {
    let i = gid.y * p.row_stride + gid.x + it * p.total;
    if (i >= p.n) { return; }
#ifdef BCAST
    let bv = b[i % p.d];
#else
    let bv = b[i];
#endif
#ifdef ADD
    out[i] = a[i] + bv;
#endif
#ifdef MUL
    out[i] = a[i] * bv;
#endif
  }
}
#else
@compute @workgroup_size(WG)
fn scale(@builtin(global_invocation_id) gid: vec3<u32>) {
  for (var it = 0u; it < ITEMS; it++) {
    let i = gid.y * p.row_stride + gid.x + it * p.total;
    if (i >= p.n) { return; }
    out[i] = a[i] * p.scalar;
  }
}

// The activation of the ACT_* define (identity without one, so the scale variant compiles too).
fn act1(v: f32) -> f32 {
  var r = v;
#ifdef ACT_SILU
  r = act_silu(v);
#endif
#ifdef ACT_GELU
  r = act_gelu_tanh(v);
#endif
#ifdef ACT_MISH
  r = act_mish(v);
#endif
#ifdef ACT_LEAKY
  r = act_leaky_relu(v, p.scalar);
#endif
  return r;
}

@compute @workgroup_size(WG)
fn unary(@builtin(global_invocation_id) gid: vec3<u32>) {
  for (var it = 0u; it < ITEMS; it++) {
    let i = gid.y * p.row_stride + gid.x + it * p.total;
    if (i >= p.n) { return; }
    let v = a[i];
#ifdef VEC
    out[i] = vec4<f32>(act1(v.x), act1(v.y), act1(v.z), act1(v.w));
#else
    out[i] = act1(v);
#endif
  }
}
#endif
