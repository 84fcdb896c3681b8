// AssemblyScript (imported by gemm.as.ts, whose memory it works in): the DiT's non-GEMM steps on activations that
// stay in the kernels' memory (src/models/cpu/dit.ts), in f64 arithmetic stored to f32, as the TypeScript
// references (src/models/cpu/dit-ops.ts): the gated residual and the rotary in their order, so bit for bit; the
// AdaLN's two row sums in four running sums each (one f64 add chain was the cost: its latency, ~3 ns a value),
// which may move an output by an f32 rounding. Rows are time-major
// [M = B·T, C]; batch item b = ⌊m/T⌋ takes its modulation row at mod + b·modStride floats (its AdaLN chunks:
// shift, scale, gate, …).

/**
 * y[m, :] = LN(x[m, :])·(1 + scale) + shift, scale and shift at modulation offsets scaleAt / shiftAt; LN without
 * affine, biased variance, two passes (mean, then Σ(x − mean)²).
 */
export function adaLayerNorm(x: usize, y: usize, M: i32, C: i32, T: i32, mod: usize, modStride: i32, shiftAt: i32, scaleAt: i32, eps: f64): void {
  for (let m = 0; m < M; m++) {
    const xr = x + ((<usize>m * <usize>C) << 2), yr = y + ((<usize>m * <usize>C) << 2);
    const C4 = C & ~3;
    let a0: f64 = 0, a1: f64 = 0, a2: f64 = 0, a3: f64 = 0;
    for (let c = 0; c < C4; c += 4) {
      const p = xr + (<usize>c << 2);
      a0 += <f64>load<f32>(p);
      a1 += <f64>load<f32>(p + 4);
      a2 += <f64>load<f32>(p + 8);
      a3 += <f64>load<f32>(p + 12);
    }
    for (let c = C4; c < C; c++) a0 += <f64>load<f32>(xr + (<usize>c << 2));
    const mean = ((a0 + a1) + (a2 + a3)) / <f64>C;
    let b0: f64 = 0, b1: f64 = 0, b2: f64 = 0, b3: f64 = 0;
    for (let c = 0; c < C4; c += 4) {
      const p = xr + (<usize>c << 2);
      const d0 = <f64>load<f32>(p) - mean, d1 = <f64>load<f32>(p + 4) - mean;
      const d2 = <f64>load<f32>(p + 8) - mean, d3 = <f64>load<f32>(p + 12) - mean;
      b0 += d0 * d0;
      b1 += d1 * d1;
      b2 += d2 * d2;
      b3 += d3 * d3;
    }
    for (let c = C4; c < C; c++) {
      const d = <f64>load<f32>(xr + (<usize>c << 2)) - mean;
      b0 += d * d;
    }
    const rstd = 1 / Math.sqrt(((b0 + b1) + (b2 + b3)) / <f64>C + eps);
    const r = mod + ((<usize>(m / T) * <usize>modStride) << 2);
    const sc = r + (<usize>scaleAt << 2), sh = r + (<usize>shiftAt << 2);
    for (let c = 0; c < C; c++) {
      const o = <usize>c << 2;
      store<f32>(yr + o, <f32>((<f64>load<f32>(xr + o) - mean) * rstd * (1 + <f64>load<f32>(sc + o)) + <f64>load<f32>(sh + o)));
    }
  }
}

/**
 * h[m, :] += gate · branch[m, :], gate at modulation offset gateAt (AdaLN-zero); with rowmask ≠ 0 the branch is
 * skipped on rows whose mask entry is not > 0.5 (the attention output's re-mask).
 */
export function gatedResidual(h: usize, branch: usize, M: i32, C: i32, T: i32, mod: usize, modStride: i32, gateAt: i32, rowmask: usize): void {
  for (let m = 0; m < M; m++) {
    if (rowmask && !(load<f32>(rowmask + (<usize>m << 2)) > 0.5)) continue;
    const hr = h + ((<usize>m * <usize>C) << 2), br = branch + ((<usize>m * <usize>C) << 2);
    const g = mod + ((<usize>(m / T) * <usize>modStride + <usize>gateAt) << 2);
    for (let c = 0; c < C; c++) {
      const o = <usize>c << 2;
      store<f32>(hr + o, <f32>(<f64>load<f32>(hr + o) + <f64>load<f32>(g + o) * <f64>load<f32>(br + o)));
    }
  }
}

/**
 * The interleaved rotary in place on columns [col, col + rotDim) of rows of ld floats (row m at position m mod T):
 * (a, b) → (a·cos − b·sin, b·cos + a·sin); table [≥T, rotDim/2] (cos, sin) pairs.
 */
export function rotary(x: usize, M: i32, T: i32, ld: i32, col: i32, rotDim: i32, table: usize): void {
  const half = rotDim / 2;
  for (let m = 0; m < M; m++) {
    const row = x + ((<usize>m * <usize>ld + <usize>col) << 2);
    const tb = table + ((<usize>(m % T) * <usize>half * 2) << 2);
    for (let j = 0; j < half; j++) {
      const p = row + (<usize>(2 * j) << 2), q = tb + (<usize>(2 * j) << 2);
      const a = <f64>load<f32>(p), b = <f64>load<f32>(p + 4);
      const cs = <f64>load<f32>(q), sn = <f64>load<f32>(q + 4);
      store<f32>(p, <f32>(a * cs - b * sn));
      store<f32>(p + 4, <f32>(b * cs + a * sn));
    }
  }
}
