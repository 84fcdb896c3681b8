// Strided copy of up to 4-D f32 (or any 32-bit) tensors: the one kernel behind slice, concat, transpose and
// plain copies.
//
//   dst[dst_off + Σ i_d·dst_stride_d] = src[src_off + Σ i_d·src_stride_d]   for every index i of `shape`
//
// Offsets and strides are in elements (so sub-views need no 256-byte aligned binding offsets). Shapes of
// fewer dims are padded with leading 1s by the wrapper. Thread i owns elements i, i + T, … (T threads in the
// grid, ITEMS per thread; row-major order, so consecutive threads write consecutive dst elements when dst is
// contiguous); the grid is split over x/y past 65535 workgroups. src and dst must be different buffers (WebGPU forbids aliasing in one dispatch).

struct Params {
  shape: vec4<u32>,
  src_stride: vec4<u32>,
  dst_stride: vec4<u32>,
  n: u32,
  src_off: u32,
  dst_off: u32,
  row_stride: u32,
  total: u32,
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
// VEC: the wrapper found the innermost dim contiguous on both sides and every offset, stride and that dim's
// length a multiple of 4, and passes them in vec4 units: a thread moves 16 bytes with one index computation.
#ifdef VEC
alias E = vec4<u32>;
#else
alias E = u32;
#endif

@group(0) @binding(1) var<storage, read> src: array<E>;
@group(0) @binding(2) var<storage, read_write> dst: array<E>;

const ITEMS: u32 = {{ITEMS}}u;

@compute @workgroup_size(256)
fn strided(@builtin(global_invocation_id) gid: vec3<u32>) {
  for (var it = 0u; it < ITEMS; it++) {
  let i = gid.y * p.row_stride + gid.x + it * p.total;
  if (i >= p.n) { return; }
  var rem = i;
  let i3 = rem % p.shape.w; rem /= p.shape.w;
  let i2 = rem % p.shape.z; rem /= p.shape.z;
  let i1 = rem % p.shape.y;
  let i0 = rem / p.shape.y;
  let idx = vec4<u32>(i0, i1, i2, i3);
  dst[p.dst_off + dot(idx, p.dst_stride)] = src[p.src_off + dot(idx, p.src_stride)];
  }
}
