// What the three DiT attention forms (dit_attention.wgsl, dit_flash.wgsl, dit_attn_gemm.wgsl) share; included,
// not a kernel family of its own: the per-call lengths, the attention uniform and the static chunk mask's limit.
#include "flow_dims"

struct Params {
  H: u32,
  C: u32,
  splits: u32, // dit_flash FL_SPLIT: key splits a row block is walked in (else 0)
  scale: f32,
}

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<uniform> p: Params;

// Keys query i may see: all T, or with the static chunk mask (dims.chunk > 0) those up to the end of i's chunk.
fn key_limit(i: u32) -> u32 {
  if (dims.chunk == 0u) { return dims.T; }
  return min(dims.T, (i / dims.chunk + 1u) * dims.chunk);
}
