/**
 * Element-wise pieces of the CPU Qwen2 layer (the matrix products go through kernels/cpu-linear.ts, SwiGLU in the
 * gate/up product's epilogue): row RMSNorm, half-split RoPE and the residual add. All work in place or into
 * caller-owned buffers (scratch.ts): a decode step allocates nothing here.
 */

/** y[r] = w ⊙ x[r] / √(mean(x[r]²) + eps) for rows [rows, C]; the mean of squares is summed in float64. */
export function rmsNormRows(x: Float32Array, w: Float32Array, rows: number, C: number, eps: number, y: Float32Array): void {
  for (let r = 0; r < rows; r++) {
    const o = r * C;
    let ss = 0;
    for (let c = 0; c < C; c++) ss += x[o + c] * x[o + c];
    const inv = 1 / Math.sqrt(ss / C + eps);
    for (let c = 0; c < C; c++) y[o + c] = w[c] * (x[o + c] * inv);
  }
}

/**
 * Rotates x [rows, heads, D] in place at positions start … start+rows−1 with the kernels/rope.ts `ropeTable`
 * rows ([*, D]: cos of the D/2 angles, then their sin): (a, b) → (a·cos − b·sin, b·cos + a·sin), a in the first
 * half of each head and b in the second (HF rotate_half).
 */
export function ropeRows(x: Float32Array, rows: number, heads: number, D: number, start: number, table: Float32Array): void {
  const half = D / 2;
  for (let r = 0; r < rows; r++) {
    const t = (start + r) * D;
    for (let h = 0; h < heads; h++) {
      const b = (r * heads + h) * D;
      for (let i = 0; i < half; i++) {
        const c = table[t + i], s = table[t + half + i];
        const x1 = x[b + i], x2 = x[b + half + i];
        x[b + i] = x1 * c - x2 * s;
        x[b + half + i] = x2 * c + x1 * s;
      }
    }
  }
}

/** x += d over n values (the residual stream). */
export function addInPlace(x: Float32Array, d: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) x[i] += d[i];
}
