/**
 * Float64 CPU references for the HiFT kernels (conv1d with its fused prologue/epilogue, Snake, STFT, iSTFT,
 * NSF source merge). Written from the math in the shader headers, independently of the kernels.
 */

export interface ConvRefArgs {
  x: ArrayLike<number>;
  cin: number;
  lin: number;
  /** [Cout, Cin, K] */
  w: ArrayLike<number>;
  bias: ArrayLike<number>;
  cout: number;
  k: number;
  lout: number;
  dilation?: number;
  stride?: number;
  up?: number;
  padLeft?: number;
  leakyIn?: number;
  snakeIn?: ArrayLike<number>;
  snakeOut?: ArrayLike<number>;
  /** [Cout, outCols] */
  residual?: ArrayLike<number>;
  /** initial contents of out (for in-place residual / accumulate) [Cout, outCols] */
  outInit?: ArrayLike<number>;
  resInplace?: boolean;
  accumulate?: boolean;
  divide?: number;
  outShift?: boolean;
}

export function snakeRef(v: number, a: number): number {
  return v + (1 / (a + 1e-9)) * Math.sin(a * v) ** 2;
}

/** Returns out [Cout, lout (+1 with outShift)]. */
export function conv1dRef(a: ConvRefArgs): Float64Array {
  const d = a.dilation ?? 1, s = a.stride ?? 1, up = a.up ?? 1, pl = a.padLeft ?? 0;
  const cols = a.lout + (a.outShift ? 1 : 0);
  const out = a.outInit ? Float64Array.from(a.outInit) : new Float64Array(a.cout * cols);
  const xin = (ci: number, q: number): number => {
    if (q < 0 || q >= a.lin * up) return 0;
    let v = a.x[ci * a.lin + Math.floor(q / up)];
    if (a.leakyIn !== undefined && v < 0) v *= a.leakyIn;
    if (a.snakeIn) v = snakeRef(v, a.snakeIn[ci]);
    return v;
  };
  for (let co = 0; co < a.cout; co++) {
    const conv = new Float64Array(a.lout);
    for (let t = 0; t < a.lout; t++) {
      let acc = a.bias[co];
      for (let ci = 0; ci < a.cin; ci++) for (let j = 0; j < a.k; j++) acc += a.w[(co * a.cin + ci) * a.k + j] * xin(ci, t * s + j * d - pl);
      conv[t] = a.snakeOut ? snakeRef(acc, a.snakeOut[co]) : acc;
    }
    const put = (col: number, v: number) => {
      let r = v + (a.residual ? a.residual[co * cols + col] : 0);
      const i = co * cols + col;
      if (a.resInplace) r += out[i];
      if (a.accumulate) r = out[i] + r;
      if (a.divide !== undefined) r /= a.divide;
      out[i] = r;
    };
    if (a.outShift) {
      put(0, conv[1]);
      for (let t = 0; t < a.lout; t++) put(t + 1, conv[t]);
    } else {
      for (let t = 0; t < a.lout; t++) put(t, conv[t]);
    }
  }
  return out;
}

function hann(n: number): Float64Array {
  return Float64Array.from({ length: n }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / n));
}

/** torch.stft(center, reflect, onesided) → [2·(N/2+1), frames] (re rows then im rows). */
export function stftRef(s: ArrayLike<number>, n: number, hop: number, frames: number): Float64Array {
  const L = s.length, nb = n / 2 + 1, w = hann(n);
  const out = new Float64Array(2 * nb * frames);
  for (let f = 0; f < frames; f++) {
    for (let k = 0; k < nb; k++) {
      let re = 0, im = 0;
      for (let j = 0; j < n; j++) {
        let i = f * hop + j - n / 2;
        if (i < 0) i = -i;
        if (i >= L) i = 2 * (L - 1) - i;
        const v = w[j] * s[i];
        re += v * Math.cos((2 * Math.PI * k * j) / n);
        im -= v * Math.sin((2 * Math.PI * k * j) / n);
      }
      out[k * frames + f] = re;
      out[(nb + k) * frames + f] = im;
    }
  }
  return out;
}

/** HiFT head + torch.istft(center) + clamp: y [N+2, F] → wave [hop·(F−1)]. */
export function istftRef(y: ArrayLike<number>, F: number, n: number, hop: number, clip: number, limit: number): Float64Array {
  const nb = n / 2 + 1, w = hann(n);
  const total = hop * (F - 1) + n;
  const num = new Float64Array(total), env = new Float64Array(total);
  for (let f = 0; f < F; f++) {
    const re = new Float64Array(nb), im = new Float64Array(nb);
    for (let k = 0; k < nb; k++) {
      const mag = Math.min(Math.exp(y[k * F + f]), clip);
      const ph = Math.sin(y[(nb + k) * F + f]);
      re[k] = mag * Math.cos(ph);
      im[k] = mag * Math.sin(ph);
    }
    for (let j = 0; j < n; j++) {
      let v = re[0] + re[nb - 1] * (j % 2 ? -1 : 1);
      for (let k = 1; k < nb - 1; k++) v += 2 * (re[k] * Math.cos((2 * Math.PI * k * j) / n) - im[k] * Math.sin((2 * Math.PI * k * j) / n));
      num[f * hop + j] += w[j] * (v / n);
      env[f * hop + j] += w[j] * w[j];
    }
  }
  const out = new Float64Array(hop * (F - 1));
  for (let i = 0; i < out.length; i++) out[i] = Math.max(-limit, Math.min(limit, num[i + n / 2] / env[i + n / 2]));
  return out;
}
