/** Float64 references for the kernel-library tests (test/kernels). */

export type ActName = 'silu' | 'gelu_tanh' | 'mish' | 'leaky_relu';

export function actRef(name: ActName | undefined, v: number, alpha = 0.01): number {
  switch (name) {
    case undefined:
      return v;
    case 'silu':
      return v / (1 + Math.exp(-v));
    case 'gelu_tanh':
      return 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));
    case 'mish':
      return v * Math.tanh(Math.log1p(Math.exp(v)));
    case 'leaky_relu':
      return v >= 0 ? v : alpha * v;
  }
}

/** x[M, K] · W[rows, K]ᵀ in float64 → [M, rows]. */
export function matmulRef(x: ArrayLike<number>, w: ArrayLike<number>, M: number, rows: number, K: number): Float64Array {
  const y = new Float64Array(M * rows);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < rows; n++) {
      let acc = 0;
      const xo = m * K, wo = n * K;
      for (let k = 0; k < K; k++) acc += x[xo + k] * w[wo + k];
      y[m * rows + n] = acc;
    }
  }
  return y;
}

export interface EpilogueRef {
  bias?: ArrayLike<number>;
  residual?: ArrayLike<number>;
  act?: ActName;
  alpha?: number;
  gateUp?: boolean;
}

/** The full linear of shaders/matmul.wgsl in float64 (W [N, K], or [2F, K] with gateUp). */
export function linearEpilogueRef(x: ArrayLike<number>, w: ArrayLike<number>, M: number, WN: number, K: number, e: EpilogueRef): Float64Array {
  const raw = matmulRef(x, w, M, WN, K);
  const N = e.gateUp ? WN / 2 : WN;
  const act = e.act ?? (e.gateUp ? 'silu' : undefined);
  const y = new Float64Array(M * N);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let v = raw[m * WN + n] + (e.bias ? e.bias[n] : 0);
      v = actRef(act, v, e.alpha);
      if (e.gateUp) v *= raw[m * WN + N + n] + (e.bias ? e.bias[N + n] : 0);
      if (e.residual) v += e.residual[m * N + n];
      y[m * N + n] = v;
    }
  }
  return y;
}

/** rel-L2 distance ‖a − b‖₂ / ‖b‖₂. */
export function relL2(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0, r = 0;
  for (let i = 0; i < a.length; i++) {
    d += (a[i] - b[i]) ** 2;
    r += b[i] ** 2;
  }
  return Math.sqrt(d / (r || 1));
}

/** nearest integer, ties to even (WebAssembly's f32x4.nearest). */
function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * kernels/wasm/gemm.as.ts quantizeRow16 in f32 arithmetic: per group of G, m = max|x|, q = nearest-even(fround(x ·
 * fround(32767 / m))) saturated to ±32767, scale fround(m / 32767); zeros for a group of zeros.
 */
export function quantizeRow16Ref(x: Float32Array, G: number): { q: Int16Array; scales: Float32Array } {
  const q = new Int16Array(x.length), scales = new Float32Array(x.length / G);
  for (let g = 0; g < scales.length; g++) {
    let m = 0;
    for (let i = g * G; i < (g + 1) * G; i++) m = Math.max(m, Math.abs(x[i]));
    const inv = m > 0 ? Math.fround(32767 / m) : 0;
    scales[g] = Math.fround(m / 32767);
    for (let i = g * G; i < (g + 1) * G; i++) q[i] = Math.max(-32767, Math.min(32767, roundHalfEven(Math.fround(x[i] * inv))));
  }
  return { q, scales };
}
