/** Float64 CPU references for the LLM kernels and a tiny Qwen2 forward (tests only). */

export function rmsNormRef(x: ArrayLike<number>, w: ArrayLike<number>, rows: number, cols: number, eps: number): Float64Array {
  const y = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    let ss = 0;
    for (let c = 0; c < cols; c++) ss += x[r * cols + c] ** 2;
    const inv = 1 / Math.sqrt(ss / cols + eps);
    for (let c = 0; c < cols; c++) y[r * cols + c] = w[c] * x[r * cols + c] * inv;
  }
  return y;
}

/** Rotates x [M, H, D] (a copy) with the table rows start..start+M−1 (table [*, D]: cos half, sin half). */
export function ropeRef(x: ArrayLike<number>, M: number, H: number, D: number, start: number, table: ArrayLike<number>): Float64Array {
  const y = Float64Array.from(x as ArrayLike<number>);
  const half = D / 2;
  for (let m = 0; m < M; m++) {
    for (let h = 0; h < H; h++) {
      const b = (m * H + h) * D;
      const t = (start + m) * D;
      for (let i = 0; i < half; i++) {
        const c = table[t + i], s = table[t + half + i];
        const a0 = x[b + i], b0 = x[b + half + i];
        y[b + i] = a0 * c - b0 * s;
        y[b + half + i] = b0 * c + a0 * s;
      }
    }
  }
  return y;
}

/**
 * Causal GQA attention. q [M, Hq, D] at positions start..start+M−1; k, v [N, Hkv, D] for positions 0..N−1
 * (N ≥ start + M). Returns [M, Hq·D].
 */
export function attentionRef(
  q: ArrayLike<number>, k: ArrayLike<number>, v: ArrayLike<number>,
  M: number, Hq: number, Hkv: number, D: number, start: number,
): Float64Array {
  const o = new Float64Array(M * Hq * D);
  const rep = Hq / Hkv;
  const scale = 1 / Math.sqrt(D);
  for (let m = 0; m < M; m++) {
    const n = start + m + 1;
    for (let h = 0; h < Hq; h++) {
      const g = Math.floor(h / rep);
      const s = new Float64Array(n);
      let mx = -Infinity;
      for (let j = 0; j < n; j++) {
        let dot = 0;
        for (let d = 0; d < D; d++) dot += q[(m * Hq + h) * D + d] * k[(j * Hkv + g) * D + d];
        s[j] = dot * scale;
        mx = Math.max(mx, s[j]);
      }
      let sum = 0;
      for (let j = 0; j < n; j++) sum += (s[j] = Math.exp(s[j] - mx));
      for (let d = 0; d < D; d++) {
        let acc = 0;
        for (let j = 0; j < n; j++) acc += s[j] * v[(j * Hkv + g) * D + d];
        o[(m * Hq + h) * D + d] = acc / sum;
      }
    }
  }
  return o;
}
