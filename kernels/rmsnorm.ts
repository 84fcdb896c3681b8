/** RMSNorm, the SwiGLU gate product and the norm/SwiGLU-fused decode GEMV (shaders/rmsnorm.wgsl). */
import { GpuContext } from '../src/gpu/context.js';
import { ceilDiv, grid1d, packParams, type DispatchRecord } from '../src/gpu/dispatch.js';
import { ShapeMismatchError } from '../src/gpu/errors.js';
import { expectShape, type GpuTensor } from '../src/gpu/tensor.js';

const WG = 128;

export interface RmsNormArgs {
  /** [R, C] f32; rows [rowOffset, rowOffset + rows) are normalised */
  x: GpuTensor;
  /** [C] f32 */
  weight: GpuTensor;
  /** [rows, C] f32 */
  y: GpuTensor;
  eps: number;
  /** First row of x to read (default 0). */
  rowOffset?: number;
  /** Rows to normalise (default: all rows of y). */
  rows?: number;
  /**
   * Threads per row (a power of two). Default: 8 on llvmpipe (one subgroup: its tree needs 3 barriers, not 7, and
   * a workgroup of 8 runs as one SIMD pass there; [512,896] 5.1 -> 3.1 ms), 128 elsewhere.
   */
  threads?: number;
}

export function rmsNorm(ctx: GpuContext, a: RmsNormArgs, tag = ''): DispatchRecord {
  const C = a.weight.shape[a.weight.shape.length - 1];
  expectShape('rmsNorm weight', a.weight, [C], ['f32']);
  if (a.x.dtype !== 'f32' || a.y.dtype !== 'f32') throw new ShapeMismatchError('rmsNorm: x and y must be f32');
  if (a.x.numel % C !== 0) throw new ShapeMismatchError(`rmsNorm: x [${a.x.shape}] is not a multiple of cols ${C}`);
  const rows = a.rows ?? a.y.numel / C;
  const r0 = a.rowOffset ?? 0;
  if (a.y.numel < rows * C) throw new ShapeMismatchError(`rmsNorm: y [${a.y.shape}] cannot hold ${rows}×${C}`);
  if (r0 + rows > a.x.numel / C) {
    throw new ShapeMismatchError(`rmsNorm: rows [${r0}, ${r0 + rows}) exceed x [${a.x.shape}]`);
  }
  if (a.x.buffer === a.y.buffer) throw new ShapeMismatchError('rmsNorm: x and y must be different buffers');
  const threads = a.threads ?? (ctx.adapterKind === 'llvmpipe' ? 8 : WG);
  if (!(threads >= 1 && threads <= 256 && (threads & (threads - 1)) === 0)) throw new ShapeMismatchError(`rmsNorm: threads ${threads} must be a power of two ≤ 256`);
  const params = ctx.uniform(packParams([rows, C, r0, { f32: a.eps }, 0]));
  return ctx.record(
    // Whole vec4 rows and a vec4-aligned row offset: four columns a load (lavapipe, [512,896]: see NORM4).
    { shader: 'rmsnorm', entry: 'rmsnorm', defines: { WG: threads, NORM: true, NORM4: C % 4 === 0 } },
    [params, a.x, a.weight, a.y],
    [rows, 1, 1],
    tag,
  );
}

/** a[M, F] = silu(gu[:, :F]) · gu[:, F:] with gu [M, 2F]. */
export function siluMul(ctx: GpuContext, gu: GpuTensor, out: GpuTensor, tag = ''): DispatchRecord {
  const F = out.shape[out.shape.length - 1];
  const M = out.numel / F;
  if (gu.numel !== 2 * M * F) throw new ShapeMismatchError(`siluMul: gu [${gu.shape}] should hold [${M}, ${2 * F}]`);
  const workgroups = grid1d(ceilDiv(M * F, WG));
  const params = ctx.uniform(packParams([M, F, 0, { f32: 0 }, workgroups[0] * WG]));
  return ctx.record(
    { shader: 'rmsnorm', entry: 'silu_mul', defines: { WG, SILU_MUL: true } },
    [params, gu, null, out],
    workgroups,
    tag,
  );
}

export interface NormGemvArgs {
  /** [M, K] f32, or [M, 2K] = [gate | up] with swigluInput */
  x: GpuTensor;
  /** [N, K] f32 or f16 (packed halves, kernels/quant.ts packWeightF16) */
  w: GpuTensor;
  /** [M, N] f32 (M = rows computed) */
  y: GpuTensor;
  /** RMSNorm weight [K]: normalise each x row first (fused prologue). */
  norm?: GpuTensor;
  eps?: number;
  /** x rows are [gate | up]: use silu(gate) · up as the input. */
  swigluInput?: boolean;
  /** [N] f32 */
  bias?: GpuTensor;
  /** [M, N] f32 (must not be y's buffer) */
  residual?: GpuTensor;
  /** Output columns per workgroup (default 64 for one row, else 16). */
  rows?: number;
  /** Input rows per workgroup (default 1 for one row, else 4). */
  mr?: number;
  /**
   * The subgroup-shared `gemm_sg` entry (8 rows per subgroup; shaders/rmsnorm.wgsl). Default: on llvmpipe with
   * subgroups of ≥ 8 lanes when M ≥ 8 (prefill); decode rows stay on `gemv`.
   */
  subgroups?: boolean;
  /** With `subgroups`: rows per subgroup, 8 (`gemm_sg`) or 32 (`gemm_sg32`); default 32 when M ≥ 32. */
  rowsPerSubgroup?: 8 | 32;
  /**
   * The `gemv_sg` entry for a single row (lane owns an output row, x̂ broadcast; shaders/rmsnorm.wgsl). Default:
   * on llvmpipe with subgroups of ≥ 8 lanes when M = 1 (decode) and the weights are f16.
   */
  laneRows?: boolean;
}

/** GEMV / small-M GEMM with an optional fused RMSNorm or SwiGLU prologue (K % 8 == 0). */
export function normGemv(ctx: GpuContext, a: NormGemvArgs, tag = ''): DispatchRecord {
  if (a.w.shape.length !== 2) throw new ShapeMismatchError(`normGemv: weight must be [N, K], got [${a.w.shape}]`);
  const [N, K] = a.w.shape;
  if (a.w.dtype !== 'f32' && a.w.dtype !== 'f16') throw new ShapeMismatchError(`normGemv: weight ${a.w.label} dtype ${a.w.dtype} (f32|f16)`);
  if (K % 8) throw new ShapeMismatchError(`normGemv: K=${K} must be a multiple of 8 (weight ${a.w.label})`);
  if (a.norm && a.swigluInput) throw new ShapeMismatchError('normGemv: norm and swigluInput are exclusive');
  if (a.y.dtype !== 'f32' || a.y.numel % N !== 0) throw new ShapeMismatchError(`normGemv: y [${a.y.shape}] should hold [M, ${N}] f32`);
  const M = a.y.numel / N;
  const xk = a.swigluInput ? 2 * K : K;
  if (a.x.dtype !== 'f32' || a.x.numel !== M * xk) {
    throw new ShapeMismatchError(`normGemv: x [${a.x.shape}] should hold [${M}, ${xk}] f32 (weight ${a.w.label} [${a.w.shape}])`);
  }
  if (a.norm) expectShape('normGemv norm', a.norm, [K], ['f32']);
  if (a.bias) expectShape('normGemv bias', a.bias, [N], ['f32']);
  if (a.residual && (a.residual.numel !== M * N || a.residual.buffer === a.y.buffer)) {
    throw new ShapeMismatchError(`normGemv: residual [${a.residual.shape}] must hold [${M}, ${N}] in another buffer than y`);
  }
  const sg = a.subgroups ?? (ctx.hasWideSubgroups && M >= 8);
  if (sg) ctx.requireWideSubgroups('normGemv gemm_sg');
  // f16 weights only by default: with f32 rows (3.5 KB each) the 8 lanes stream 8 rows at once and the full-size
  // f32 decode got slower (median 517–575 ms vs 354 ms per token with `gemv`), while f16 gains.
  const laneRows = !sg && (a.laneRows ?? (ctx.hasWideSubgroups && M === 1 && a.w.dtype === 'f16'));
  if (laneRows) {
    ctx.requireWideSubgroups('normGemv gemv_sg');
    if (M !== 1) throw new ShapeMismatchError(`normGemv gemv_sg: one input row only, got ${M} (weight ${a.w.label})`);
  }
  const rows = a.rows ?? (M === 1 ? 64 : 16);
  const mr = Math.min(a.mr ?? (M === 1 ? 1 : 4), M);
  const wb: GPUBufferBinding = { buffer: a.w.buffer, offset: a.w.offset, size: N * K * (a.w.dtype === 'f16' ? 2 : 4) };
  const params = ctx.uniform(packParams([N, K, { f32: a.eps ?? 1e-6 }, M]));
  // The entry, its grid and its own defines, chosen once.
  // 32 rows a subgroup once there are 32 (prefill; shaders/rmsnorm.wgsl gemm_sg32).
  const sg32 = sg && (a.rowsPerSubgroup ?? (M >= 32 ? 32 : 8)) === 32;
  const [entry, gx, gy, entryDefines] = sg
    ? [sg32 ? 'gemm_sg32' : 'gemm_sg', ceilDiv(N, 256), ceilDiv(M, sg32 ? 32 : 8), { GEMM_SG: true }]
    : laneRows
      ? ['gemv_sg', ceilDiv(N, 8), 1, { GEMV_SG: true }]
      : ['gemv', ceilDiv(N, rows), ceilDiv(M, mr), { GEMV_ROWS: true, ROWS: rows, MR: mr }];
  const defines = {
    GEMV: true, F16W: a.w.dtype === 'f16', PRENORM: !!a.norm, SWIGLU_X: !!a.swigluInput, BIAS: !!a.bias, RESIDUAL: !!a.residual,
    ...entryDefines,
  };
  if (gx > 65535 || gy > 65535) throw new ShapeMismatchError(`normGemv: grid ${gx}×${gy} exceeds 65535 per dimension`);
  return ctx.record(
    { shader: 'rmsnorm', entry, defines },
    [params, a.x, wb, a.y, a.norm ?? null, a.bias ?? null, a.residual ?? null],
    [gx, gy, 1],
    tag,
  );
}
