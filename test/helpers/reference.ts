/** Float64 CPU references shared by kernel tests. */

/** y[M, N] = x[M, K] · W[N, K]ᵀ + bias[N] + residual[M, N], in float64. */
export function linearRef(
  x: ArrayLike<number>,
  w: ArrayLike<number>,
  M: number,
  N: number,
  K: number,
  bias?: ArrayLike<number>,
  residual?: ArrayLike<number>,
): Float64Array {
  const y = new Float64Array(M * N);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let acc = 0;
      for (let k = 0; k < K; k++) acc += x[m * K + k] * w[n * K + k];
      if (bias) acc += bias[n];
      if (residual) acc += residual[m * N + n];
      y[m * N + n] = acc;
    }
  }
  return y;
}
