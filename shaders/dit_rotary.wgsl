// DiT rotary embedding helper (included by the fused q|k|v projection epilogue, dit_linear ROPE; x-transformers RotaryEmbedding, interleaved pairs).
//
// The projected q/k rows are rotated BEFORE the head split and only on channels c < rotDim (= dim_head: head 0
// only). Channel pairs (2j, 2j+1) share the angle φ(p, j) = p · inv_freq[j]:
//   y[2j]   = a[2j]·cos φ − a[2j+1]·sin φ
//   y[2j+1] = a[2j+1]·cos φ + a[2j]·sin φ
// `table` holds (cos φ, sin φ) for positions 0..Tmax−1 and j < rotDim/2, [Tmax, rotDim/2] vec2 rows, computed on
// the host from the f32 angle (kernels/dit-rotary.ts) so no WGSL sin/cos of large arguments is needed.

// a: this channel's value, partner: the value of channel c^1, c: the global channel index (0..C−1).
fn rope_rotate(a: f32, partner: f32, c: u32, pos: u32, rotDim: u32) -> f32 {
  if (c >= rotDim) { return a; }
  let cs = rope_table[pos * (rotDim / 2u) + c / 2u];
  if ((c & 1u) == 0u) {
    return a * cs.x - partner * cs.y;
  }
  return a * cs.x + partner * cs.y;
}
