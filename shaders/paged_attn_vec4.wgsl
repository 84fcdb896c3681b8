// What the paged-attention entries that move q, K/V and o as vec4 share (paged_attention_sg.wgsl, paged_flash.wgsl;
// included, not a kernel family of its own): the step and attention uniforms and the bindings. The pool is vec4 of
// f32, or with F16KV packed halves as vec2<u32> (4 halves a load; layout in kv_cache.wgsl). The including shader
// defines D4 = head dim / 4 first.
#include "llm_step"
#include "paged_attn_params"

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<uniform> step: Step;
@group(0) @binding(2) var<storage, read> q: array<vec4<f32>>;
#ifdef F16KV
@group(0) @binding(3) var<storage, read> pool: array<vec2<u32>>;
#else
@group(0) @binding(3) var<storage, read> pool: array<vec4<f32>>;
#endif
@group(0) @binding(4) var<storage, read> block_table: array<u32>;
@group(0) @binding(5) var<storage, read_write> o: array<vec4<f32>>;

// Pool vec4 e4 (elements 4·e4 .. 4·e4 + 3) as f32.
fn kv4(e4: u32) -> vec4<f32> {
#ifdef F16KV
  let w = pool[e4];
  return vec4<f32>(unpack2x16float(w.x), unpack2x16float(w.y));
#else
  return pool[e4];
#endif
}

// First vec4 of key/value row j (which = 0: K, 1: V) of kv head g.
fn row_base4(j: u32, which: u32, g: u32) -> u32 {
  let page = block_table[step.slot * p.maxPages + j / p.pageSize];
  return (((page * 2u + which) * p.pageSize + j % p.pageSize) * p.Hkv + g) * D4;
}
