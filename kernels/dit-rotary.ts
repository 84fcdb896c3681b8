/**
 * Host-side rotary table for the DiT (x-transformers RotaryEmbedding as CosyVoice3 uses it; shaders/dit_rotary.wgsl
 * applies it inside the attention kernel). φ(p, j) = fround(p · inv_freq[j]) — the f32 product torch forms — and
 * cos/sin are evaluated in f64 and rounded once, so large positions keep full accuracy.
 */
export function ditRopeTable(invFreq: Float32Array, maxLen: number): Float32Array {
  const half = invFreq.length;
  const out = new Float32Array(maxLen * half * 2);
  for (let pos = 0; pos < maxLen; pos++) {
    for (let j = 0; j < half; j++) {
      const phi = Math.fround(pos * invFreq[j]);
      out[(pos * half + j) * 2] = Math.cos(phi);
      out[(pos * half + j) * 2 + 1] = Math.sin(phi);
    }
  }
  return out;
}
