/**
 * Conv1d on the CPU as a GEMM through the WASM kernel (kernels/cpu-linear.ts), on time-major activations.
 *
 *   x [Lin, Cin] (row t = all channels at time t)  →  out [Lout, Cout]
 *   out[t, o] = bias[o] + Σ_{j, c} W[o, c, j] · x[t·stride + j·dilation − padLeft, c]     (zero outside [0, Lin))
 *
 * computed as im2col [Lout, Kt·Cin] · W'ᵀ with W' = W permuted once to [Cout, Kt, Cin] and made resident.
 *
 * Why time-major rather than PyTorch's [C, L]: the GEMM's output rows are output times, so y [Lout, Cout] is
 * already the next layer's input (no transpose per conv); an im2col row is Kt contiguous Cin-slices of x (and a
 * single copy of Kt·Cin values when dilation is 1), where channel-major data would need a gather per element;
 * and a polyphase upsampler's output [Lin, u·Cout] (phase-major channels) is the upsampled [u·Lin, Cout] as is.
 *
 * The GEMM takes its SIMD path only when K % 4 == 0, so rows are padded with zero columns to a multiple of 4
 * (e.g. the 18-channel k1 source downsampler). x is copied into the WASM memory once (or read in place when it is a
 * resident tensor, as HiFT's activations are) and the im2col rows are built there (CpuKernels.conv), in chunks of
 * rows so that the im2col buffer stays at 4 MiB, whatever the utterance length. A stride-1, undilated conv over a
 * resident x with zeros before it (CpuTensor.zerosBefore) builds none: its im2col row t is x[t − pad … t − pad + k)
 * as it lies, so the GEMM reads x itself, rows Cin floats apart.
 */
import type { CpuKernels, CpuMatrix, CpuTensor } from '../../../kernels/cpu-linear.js';
import { ShapeMismatchError } from '../../gpu/errors.js';

/**
 * Floats of im2col rows per GEMM call (4 MiB): each call streams the whole W once, so fewer, longer calls read it
 * less often. Full-size HiFT, 1 s of audio, 2 threads, alternating runs: 1 MiB chunks 1099–1183 / 812–1060 /
 * 800–890 ms against 4 MiB 1068–1096 / 779–799 / 775–821 ms.
 */
export const CHUNK_FLOATS = 1 << 20;

export interface ConvGeometry {
  dilation?: number;
  stride?: number;
  padLeft?: number;
}

/** A conv weight resident in a CpuKernels memory. */
export interface CpuConvWeight {
  readonly name: string;
  readonly cout: number;
  readonly cin: number;
  readonly k: number;
  /** im2col row length: k·cin rounded up to a multiple of 4 */
  readonly row: number;
  readonly matrix: CpuMatrix;
}

/** [Cout, Cin, K] → [Cout, row] with row index j·Cin + c (the im2col order), zero-padded to `row`. */
export function permuteConvWeight(w: Float32Array, cout: number, cin: number, k: number, row: number): Float32Array {
  if (w.length !== cout * cin * k) throw new ShapeMismatchError(`conv weight: ${w.length} values are not [${cout}, ${cin}, ${k}]`);
  const out = new Float32Array(cout * row);
  for (let o = 0; o < cout; o++) {
    for (let c = 0; c < cin; c++) {
      for (let j = 0; j < k; j++) out[o * row + j * cin + c] = w[(o * cin + c) * k + j];
    }
  }
  return out;
}

/** Output length of a conv over `lin` inputs (the caller's lout may be shorter: streaming drops a tail). */
export function convOutLength(lin: number, k: number, g: ConvGeometry = {}): number {
  const d = g.dilation ?? 1, s = g.stride ?? 1, p = g.padLeft ?? 0;
  return Math.floor((lin + p - (k - 1) * d - 1) / s) + 1;
}

/** Convolutions over one CpuKernels. */
export class CpuConvs {
  constructor(readonly kernels: CpuKernels) {}

  /** Makes W [Cout, Cin, K] (+ bias [Cout]) resident in im2col order. */
  weight(w: Float32Array, bias: Float32Array | undefined, cout: number, cin: number, k: number, name: string): CpuConvWeight {
    const row = Math.ceil((k * cin) / 4) * 4;
    const matrix = this.kernels.matrix(permuteConvWeight(w, cout, cin, k, row), cout, row, bias, name);
    return { name, cout, cin, k, row, matrix };
  }

  /** out [lout, Cout] = conv(x [lin, Cin]), either an array or resident (read / written in place); `out` must not alias `x`. */
  run<T extends Float32Array | CpuTensor>(c: CpuConvWeight, x: Float32Array | CpuTensor, lin: number, out: T, lout: number, g: ConvGeometry = {}): T {
    const rows = Math.max(2, Math.floor(CHUNK_FLOATS / c.row));
    const geometry = { stride: g.stride ?? 1, dilation: g.dilation ?? 1, padLeft: g.padLeft ?? 0 };
    this.kernels.conv(x, lin, c.cin, c.k, c.matrix, geometry, out, lout, rows);
    return out;
  }
}
