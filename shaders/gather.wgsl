// Embedding gather: out[t, :] = table[ids[t], :]   (table [V, D], ids i32 [T], out f32 [T, D])
//
// Table formats: f32 [V, D], or f16 packed two per u32 (TABLE_F16: [V, ceil(D/2)] words, low half = even
// column, as kernels/quant.ts packs it), decoded with unpack2x16float (no `shader-f16` needed).
// Row id − id_offset of the table is read, so a table too large for one binding (the LLM's 151936×896 text
// embedding) can be split into chunks of rows, one dispatch per chunk. An id outside the chunk writes a zero
// row, or (KEEP, for chunked tables) leaves that output row untouched for another chunk to fill.
// One thread owns one output element, or with VEC4 (D % 4 == 0) four: a vec4 of f32, or two packed words —
// a quarter of the threads, each doing one index division (on lavapipe the per-element thread cost was the
// whole kernel: 570 µs for 64 rows of 896, slower than ORT's Gather). The grid is split over x/y past 65535
// workgroups (p.row_stride).

struct Params {
  T: u32,
  D: u32,
  V: u32,
  row_stride: u32, // threads per grid row
  DW: u32,         // TABLE_F16: words per table row
  id_offset: i32,  // first id this table (chunk) holds
  _pad1: u32,
  _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
#ifdef VEC4
#ifdef TABLE_F16
@group(0) @binding(1) var<storage, read> table: array<vec2<u32>>;
#else
@group(0) @binding(1) var<storage, read> table: array<vec4<f32>>;
#endif
@group(0) @binding(3) var<storage, read_write> out: array<vec4<f32>>;
#else
#ifdef TABLE_F16
@group(0) @binding(1) var<storage, read> table: array<u32>;
#else
@group(0) @binding(1) var<storage, read> table: array<f32>;
#endif
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
#endif
@group(0) @binding(2) var<storage, read> ids: array<i32>;

#ifdef VEC4
// i indexes vec4s of out [T, D/4]; p.D is D/4 here.
@compute @workgroup_size(256)
fn rows(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.y * p.row_stride + gid.x;
  if (i >= p.T * p.D) { return; }
  let t = i / p.D;
  let d = i - t * p.D;
  let id = ids[t] - p.id_offset;
  if (id < 0 || u32(id) >= p.V) {
#ifndef KEEP
    out[i] = vec4<f32>(0.0);
#endif
    return;
  }
#ifdef TABLE_F16
  let w = table[u32(id) * p.D + d];
  out[i] = vec4<f32>(unpack2x16float(w.x), unpack2x16float(w.y));
#else
  out[i] = table[u32(id) * p.D + d];
#endif
}
#else
@compute @workgroup_size(256)
fn rows(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.y * p.row_stride + gid.x;
  if (i >= p.T * p.D) { return; }
  let t = i / p.D;
  let d = i % p.D;
  let id = ids[t] - p.id_offset;
  if (id < 0 || u32(id) >= p.V) {
#ifndef KEEP
    out[i] = 0.0;
#endif
    return;
  }
#ifdef TABLE_F16
  out[i] = unpack2x16float(table[u32(id) * p.DW + (d >> 1u)])[d & 1u];
#else
  out[i] = table[u32(id) * p.D + d];
#endif
}
#endif
