/**
 * The DiT's non-GEMM pieces on the CPU, over time-major rows [M = B·T, C] (row b·T + t):
 * AdaLN modulation, gated residuals, the interleaved rotary and activations. Plain loops in f64 arithmetic
 * stored to f32; the matrix products run in WebAssembly (kernels/cpu-linear.ts, convolutions through conv.ts).
 */

/** mish(v) = v·tanh(softplus(v)); softplus(v) = v above 20, as torch. */
export function mish(v: number): number {
  const sp = v > 20 ? v : Math.log1p(Math.exp(v));
  return v * Math.tanh(sp);
}

export function applyInPlace(x: Float32Array, n: number, f: (v: number) => number): void {
  for (let i = 0; i < n; i++) x[i] = f(x[i]);
}

/**
 * Modulation rows of each batch item: `rows[b]` holds the item's AdaLN chunks (6·C per block: shift, scale, gate
 * for attention, then for the MLP; 2·C for the final norm: scale, shift).
 */
export type ModRows = Float32Array[];

/**
 * y[m, :] = LN(x[m, :])·(1 + scale) + shift with the chunks of item b = ⌊m/T⌋ at rows[b][scaleAt …] and
 * rows[b][shiftAt …]; LN without affine, biased variance, two passes (mean, then Σ(x − mean)²).
 */
export function adaLayerNorm(x: Float32Array, y: Float32Array, M: number, C: number, T: number, rows: ModRows, shiftAt: number, scaleAt: number, eps: number): void {
  for (let m = 0; m < M; m++) {
    const base = m * C;
    let s = 0;
    for (let c = 0; c < C; c++) s += x[base + c];
    const mean = s / C;
    let s2 = 0;
    for (let c = 0; c < C; c++) {
      const d = x[base + c] - mean;
      s2 += d * d;
    }
    const rstd = 1 / Math.sqrt(s2 / C + eps);
    const r = rows[(m / T) | 0];
    for (let c = 0; c < C; c++) y[base + c] = (x[base + c] - mean) * rstd * (1 + r[scaleAt + c]) + r[shiftAt + c];
  }
}

/**
 * h[m, :] += gate · branch[m, :], gate = rows[⌊m/T⌋][gateAt …] (AdaLN-zero); with `rowmask` the branch is zeroed
 * on rows whose mask entry is 0 (the attention output's re-mask).
 */
export function gatedResidual(h: Float32Array, branch: Float32Array, M: number, C: number, T: number, rows: ModRows, gateAt: number, rowmask?: Float32Array): void {
  for (let m = 0; m < M; m++) {
    if (rowmask && !(rowmask[m] > 0.5)) continue;
    const base = m * C;
    const r = rows[(m / T) | 0];
    for (let c = 0; c < C; c++) h[base + c] += r[gateAt + c] * branch[base + c];
  }
}

/**
 * The DiT rotary, interleaved pairs, in place on the columns [col, col + rotDim) of each row (row m at position
 * m mod T): (a, b) → (a·cos φ − b·sin φ, b·cos φ + a·sin φ). table: ditRopeTable, [≥T, rotDim/2] (cos, sin).
 */
export function rotaryInPlace(x: Float32Array, M: number, T: number, ld: number, col: number, rotDim: number, table: Float32Array): void {
  const half = rotDim / 2;
  for (let m = 0; m < M; m++) {
    const base = m * ld + col;
    const tb = (m % T) * half * 2;
    for (let j = 0; j < half; j++) {
      const a = x[base + 2 * j];
      const b = x[base + 2 * j + 1];
      const cs = table[tb + 2 * j];
      const sn = table[tb + 2 * j + 1];
      x[base + 2 * j] = a * cs - b * sn;
      x[base + 2 * j + 1] = b * cs + a * sn;
    }
  }
}
