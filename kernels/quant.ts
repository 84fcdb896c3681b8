/**
 * Load-time weight packing for kernels/matmul.ts (layouts documented in shaders/matmul.wgsl):
 *   f16  — two halves per u32 word, low half = even k, rows padded to an even length (row stride ceil(K/2) words);
 *   q8   — symmetric int8 per group of G along K: scale = max|w|/127, q = round(w/scale) ∈ [−127, 127];
 *   q4   — symmetric int4 per group: scale = max|w|/7, q = round(w/scale) ∈ [−7, 7], stored as q+8 (a nibble).
 * Quantised weights are one buffer in SoA order (all packed words, then, from a 256-byte aligned offset, all
 * f32 scales [N, K/G]) exposed as two GpuTensor views, so one allocation holds a layer's weight.
 * Host functions (`*Host`) are pure and testable; the GPU helpers upload their result.
 */
import type { GpuContext } from '../src/gpu/context.js';
import { f32ToF16Bits, halfToFloat } from '../loader/dtype.js';
import { ShapeMismatchError } from '../src/gpu/errors.js';
import { GpuTensor } from '../src/gpu/tensor.js';

/** The f16-rounded values of `w` as f32 (what the GPU sees after packWeightF16). */
export function roundToF16(w: ArrayLike<number>): Float32Array {
  return Float32Array.from(w, (v) => halfToFloat(f32ToF16Bits(v)));
}

function checkShape(what: string, w: ArrayLike<number>, shape: readonly [number, number]): void {
  if (shape.length !== 2 || w.length !== shape[0] * shape[1]) {
    throw new ShapeMismatchError(`${what}: ${w.length} values do not form the weight shape [${shape}] ([N, K])`);
  }
}

/** [N, K] f32 → [N, ceil(K/2)] u32 words of packed halves. */
export function packF16Host(w: ArrayLike<number>, shape: readonly [number, number]): Uint32Array {
  checkShape('packF16Host', w, shape);
  const [N, K] = shape;
  const KW = Math.ceil(K / 2);
  const out = new Uint32Array(N * KW);
  for (let n = 0; n < N; n++) {
    for (let j = 0; j < KW; j++) {
      const k = 2 * j;
      const lo = f32ToF16Bits(w[n * K + k]);
      const hi = k + 1 < K ? f32ToF16Bits(w[n * K + k + 1]) : 0;
      out[n * KW + j] = (lo | (hi << 16)) >>> 0;
    }
  }
  return out;
}

/** Uploads an [N, K] f32 weight as a packed f16 tensor (dtype 'f16', shape [N, K]; storage ceil(K/2) words/row). */
export function packWeightF16(ctx: GpuContext, w: ArrayLike<number>, shape: readonly [number, number], label = 'w_f16'): GpuTensor {
  const words = packF16Host(w, shape);
  const buf = ctx.createBuffer(words.byteLength, undefined, label);
  ctx.write(buf, 0, words);
  return new GpuTensor(buf, 'f16', shape, 0, undefined, label);
}

export type QuantKind = 'q8' | 'q4';

export interface HostQuantized {
  kind: QuantKind;
  shape: [number, number];
  group: number;
  /** q8: [N, K/4] words; q4: [N, K/8] words. */
  words: Uint32Array;
  /** [N, K/G] */
  scales: Float32Array;
  /** Dequantised weight, for references and error reports. */
  dequant: Float32Array;
  /** Error of the dequantised weight vs the f32 input: max |Δ| and ‖Δ‖₂/‖w‖₂. */
  maxAbsErr: number;
  relL2Err: number;
}

export function quantizeHost(w: ArrayLike<number>, shape: readonly [number, number], kind: QuantKind, group: number): HostQuantized {
  checkShape('quantizeHost', w, shape);
  const [N, K] = shape;
  if (group % 8 !== 0 || K % group !== 0) {
    throw new ShapeMismatchError(`quantizeHost: group ${group} must be a multiple of 8 dividing K=${K} (weight [${shape}])`);
  }
  const qmax = kind === 'q8' ? 127 : 7;
  const perWord = kind === 'q8' ? 4 : 8;
  const SG = K / group;
  const words = new Uint32Array((N * K) / perWord);
  const scales = new Float32Array(N * SG);
  const dequant = new Float32Array(N * K);
  let maxAbsErr = 0, d2 = 0, r2 = 0;
  for (let n = 0; n < N; n++) {
    for (let g = 0; g < SG; g++) {
      let amax = 0;
      for (let k = g * group; k < (g + 1) * group; k++) amax = Math.max(amax, Math.abs(w[n * K + k]));
      const scale = Math.fround(amax / qmax);
      scales[n * SG + g] = scale;
      for (let k = g * group; k < (g + 1) * group; k++) {
        const v = w[n * K + k];
        const q = scale > 0 ? Math.max(-qmax, Math.min(qmax, Math.round(v / scale))) : 0;
        const e = n * K + k;
        const bits = kind === 'q8' ? q & 0xff : q + 8;
        const shift = kind === 'q8' ? 8 * (e % 4) : 4 * (e % 8);
        words[Math.floor(e / perWord)] |= bits << shift;
        const dq = Math.fround(q * scale);
        dequant[e] = dq;
        const d = Math.abs(dq - v);
        maxAbsErr = Math.max(maxAbsErr, d);
        d2 += d * d;
        r2 += v * v;
      }
    }
  }
  return { kind, shape: [N, K], group, words, scales, dequant, maxAbsErr, relL2Err: r2 > 0 ? Math.sqrt(d2 / r2) : 0 };
}

export interface QuantizedWeight {
  /** dtype q8|q4, shape [N, K]: the packed words (first part of the buffer). */
  packed: GpuTensor;
  /** f32 [N, K/G]: the scales (second part of the same buffer). */
  scales: GpuTensor;
  group: number;
  maxAbsErr: number;
  relL2Err: number;
}

/** Quantises an [N, K] f32 weight on the host and uploads it in SoA order (words, then scales). */
export function quantizeWeight(
  ctx: GpuContext,
  w: ArrayLike<number>,
  shape: readonly [number, number],
  kind: QuantKind,
  group = 32,
  label = `w_${kind}`,
): QuantizedWeight {
  const h = quantizeHost(w, shape, kind, group);
  const scaleOff = Math.ceil(h.words.byteLength / 256) * 256;
  const buf = ctx.createBuffer(scaleOff + h.scales.byteLength, undefined, label);
  ctx.write(buf, 0, h.words);
  ctx.write(buf, scaleOff, h.scales);
  const [N, K] = h.shape;
  return {
    packed: new GpuTensor(buf, kind, [N, K], 0, undefined, label),
    scales: new GpuTensor(buf, 'f32', [N, K / group], scaleOff, undefined, `${label}.scales`),
    group,
    maxAbsErr: h.maxAbsErr,
    relL2Err: h.relL2Err,
  };
}
