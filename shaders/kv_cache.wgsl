// Paged KV cache write, fused with the q/k rotary embedding (the step after the fused q/k/v projection).
//
// Input qkv [M, (Hq + 2·Hkv)·D] f32: per row [q heads | k heads | v heads], as the fused projection with
// weight cat(q_proj, k_proj, v_proj) [(Hq + 2·Hkv)·D, d_model] (+ bias) writes it. Row m is at absolute
// position pos = step.start + m.
//   q_out[m, h, :] = rope(q[m, h, :], pos)                               [M, Hq, D]
//   pool[page, 0, off, g, :] = rope(k[m, g, :], pos)                     (K)
//   pool[page, 1, off, g, :] = v[m, g, :]                                (V)
// with page = block_table[step.slot, pos / pageSize], off = pos % pageSize.
// pool (one per layer): [numPages, 2, pageSize, Hkv, D] f32, or with F16KV the same elements as packed halves
// (array<u32>, element e in the low half of word e/2 when e is even): a page holds pageSize positions of K then
// V, so a page is one contiguous range (copy-on-write copies it with one buffer copy). The f16 cache halves the
// bytes attention streams per key; values are rounded once, after RoPE, statistics stay f32.
// block_table: [maxSeqs, maxPages] u32, written by the host allocator (src/models/qwen2/paged-kv.ts).
// RoPE as in rope.wgsl (half-split rotate_half, CPU-built cos/sin table [maxPos, D]).
// One thread owns one (m, head slot, i) with i < D/4 and moves dims 2i, 2i+1 and their rotation partners
// D/2 + 2i, D/2 + 2i + 1: two adjacent pairs, so an f16 pool gets whole words (D % 4 == 0).
// Flat grid split over x/y (rowStride). step is a uniform the model rewrites each step (start, slot).

struct Params {
  M: u32,
  Hq: u32,
  Hkv: u32,
  D: u32,
  pageSize: u32,
  maxPages: u32,
  rowStride: u32,
  _p0: u32,
}

#include "llm_step"

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<uniform> step: Step;
@group(0) @binding(2) var<storage, read> qkv: array<f32>;
@group(0) @binding(3) var<storage, read> table: array<f32>;
@group(0) @binding(4) var<storage, read> block_table: array<u32>;
@group(0) @binding(5) var<storage, read_write> q_out: array<f32>;
#ifdef F16KV
@group(0) @binding(6) var<storage, read_write> pool: array<u32>;
#else
@group(0) @binding(6) var<storage, read_write> pool: array<f32>;
#endif

// First element of K (which = 0) or V (which = 1) of kv head g at absolute position pos.
fn pool_row(pos: u32, which: u32, g: u32) -> u32 {
  let page = block_table[step.slot * p.maxPages + pos / p.pageSize];
  return (((page * 2u + which) * p.pageSize + pos % p.pageSize) * p.Hkv + g) * p.D;
}

// pool elements e, e + 1 (e even) ← (a, b).
fn store2(e: u32, a: f32, b: f32) {
#ifdef F16KV
  pool[e >> 1u] = pack2x16float(vec2<f32>(a, b));
#else
  pool[e] = a;
  pool[e + 1u] = b;
#endif
}

@compute @workgroup_size(64)
fn qkv_append(@builtin(global_invocation_id) gid: vec3<u32>) {
  let half = p.D / 2u;
  let quarter = p.D / 4u;
  let heads = p.Hq + 2u * p.Hkv;
  let t = gid.y * p.rowStride + gid.x;
  if (t >= p.M * heads * quarter) { return; }
  let i = 2u * (t % quarter);
  let hs = (t / quarter) % heads;
  let m = t / (quarter * heads);
  let pos = step.start + m;
  let src = m * heads * p.D + hs * p.D;
  let a = vec2<f32>(qkv[src + i], qkv[src + i + 1u]);
  let b = vec2<f32>(qkv[src + half + i], qkv[src + half + i + 1u]);
  if (hs >= p.Hq + p.Hkv) {
    // V: no rotation.
    let dst = pool_row(pos, 1u, hs - p.Hq - p.Hkv);
    store2(dst + i, a.x, a.y);
    store2(dst + half + i, b.x, b.y);
    return;
  }
  let tb = pos * p.D;
  let c = vec2<f32>(table[tb + i], table[tb + i + 1u]);
  let s = vec2<f32>(table[tb + half + i], table[tb + half + i + 1u]);
  let ra = a * c - b * s;
  let rb = b * c + a * s;
  if (hs < p.Hq) {
    let dst = (m * p.Hq + hs) * p.D;
    q_out[dst + i] = ra.x;
    q_out[dst + i + 1u] = ra.y;
    q_out[dst + half + i] = rb.x;
    q_out[dst + half + i + 1u] = rb.y;
  } else {
    let dst = pool_row(pos, 0u, hs - p.Hq);
    store2(dst + i, ra.x, ra.y);
    store2(dst + half + i, rb.x, rb.y);
  }
}
