// The DiT streaming prefix cache's copies (src/models/flow/prefix-cache.ts): a streaming call whose leading whole
// chunks match the previous call's inputs computes only the frames after them, q0 on. Exact because, under the
// static chunk mask, frames [0, F) depend only on the inputs of frames [0, F) and on t.
//
// Entries (one thread per output element or vec4; grids over the bound dims' rows):
//   kv_merge   (dims of the whole sequence, lead = q0, keep = end of the stored frames)
//              qkv[b, j] (k|v columns) ← cache[b, j] for j < q0 (keys and values kept by an earlier call),
//              qkv[b, j] (all columns) ← qkvN[b, j − q0] for j ≥ q0 (this call's rows), and
//              cache[b, j] ← their k|v for q0 ≤ j < keep.
//              qkvN [B, T − q0, 3C], qkv [B, T, 3C], cache [B, cap, 2C]; vec4s. The q columns of cached rows are not
//              written: their outputs are never read.
//   rows_from  dst[b, i] = src[b, lead + i], i < T − lead: src [B, T, W], dst [B, T − lead, W] (vec4s). Drops the
//              conv-pos window rows, and the attention output rows of cached frames.
//   x_history  (dims of the new rows: q0, full, keep) the Euler state x [mel, full] at solver step k:
//              x[c, j] ← hist[k, c, j] for j < q0 (the cached frames' state at step k),
//              hist[k, c, j] ← x[c, j] for q0 ≤ j < keep. hist [steps + 1, mel, cap].
#include "flow_dims"

struct Params {
  a: u32,
  b: u32,
  c: u32,
  d: u32,
}

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<uniform> p: Params;

#ifdef MERGE
// p: a = C/4 (vec4s of one of q, k, v), b = cap (cache frames per batch item)
@group(0) @binding(2) var<storage, read> qkvN: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> qkv: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> cache: array<vec4<f32>>;

@compute @workgroup_size(256)
fn kv_merge(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let g = flat_gid(wid, lid);
  let w = 3u * p.a;
  if (g >= dims.M * w) { return; }
  let r = g / w;
  let c = g % w;
  let b = r / dims.T;
  let j = r % dims.T;
  let L = dims.lead;
  let kv = (b * p.b + j) * 2u * p.a + c - p.a; // cache slot of column c ≥ C/4 (k|v)
  if (j < L) {
    if (c >= p.a) { qkv[g] = cache[kv]; }
    return;
  }
  let v = qkvN[(b * (dims.T - L) + j - L) * w + c];
  qkv[g] = v;
  if (j < dims.keep && c >= p.a) { cache[kv] = v; }
}
#endif

#ifdef ROWS
// p: a = W/4 (vec4s a row)
@group(0) @binding(2) var<storage, read> src: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> dst: array<vec4<f32>>;

@compute @workgroup_size(256)
fn rows_from(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let g = flat_gid(wid, lid);
  let n = dims.T - dims.lead;
  if (g >= dims.B * n * p.a) { return; }
  let r = g / p.a;
  let b = r / n;
  dst[g] = src[(b * dims.T + dims.lead + r % n) * p.a + g % p.a];
}
#endif

#ifdef XHIST
// p: a = mel, b = cap, c = solver step k
@group(0) @binding(2) var<storage, read_write> x: array<f32>;
@group(0) @binding(3) var<storage, read_write> hist: array<f32>;

@compute @workgroup_size(256)
fn x_history(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let g = flat_gid(wid, lid);
  if (g >= p.a * dims.full) { return; }
  let j = g % dims.full;
  let h = (p.c * p.a + g / dims.full) * p.b + j;
  if (j < dims.q0) {
    x[g] = hist[h];
  } else if (j < dims.keep) {
    hist[h] = x[g];
  }
}
#endif
