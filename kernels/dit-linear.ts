/**
 * DiT linear layers with fused epilogues (shaders/dit_linear.wgsl): y = epi(x · Wᵀ + bias).
 * W: nn.Linear weight [N, K], f32 or f16 (packed two per word, see GpuTensor). Rows: `rows` when given (the small
 * AdaLN/time tables), else the live dims.M.
 */
import type { GpuContext } from '../src/gpu/context.js';
import { ceilDiv, packParams } from '../src/gpu/dispatch.js';
import { ShapeMismatchError } from '../src/gpu/errors.js';
import { expectShape, type GpuTensor } from '../src/gpu/tensor.js';
import { dyn, sharedUniform, type DynRecord } from './flow-dims.js';
import { rowBucket, tunedChoice, type TuneChoice } from '../src/gpu/tuning.js';
import { rtCandidates, rtDefines, rtFromChoice, rtTile, type RtTile } from './matmul.js';

export interface DitLinearArgs {
  dims: GPUBuffer;
  /** [Mmax, K] f32 */
  x: GpuTensor;
  /** [N, K] f32 | f16 */
  w: GpuTensor;
  /** [N] f32 */
  bias: GpuTensor;
  /** [Mmax, N] f32; read too when `gate` is set (in-place gated residual). */
  y: GpuTensor;
  act?: 'silu' | 'gelu_tanh';
  /** y += gate[b, n] · branch, gate[b, n] = mod[base + b·stride + n]. */
  gate?: { mod: GpuTensor; base: number; stride: number };
  /** [Mmax] f32 0/1: zero the branch on rows with 0 (needs gate). */
  rowmask?: GpuTensor;
  /** Fused q|k|v projection: interleaved rotary on q/k channels < rotDim (table [Tmax, rotDim/2, 2]). */
  rope?: { table: GpuTensor; rotDim: number };
  /** Static row count (otherwise dims.M). */
  rows?: number;
  /**
   * Entry point; default: `sgblock32` (≥ 32 rows) or `sgblock` on llvmpipe with 8-lane subgroups, `regblock` on other CPU adapters
   * (SwiftShader), on GPUs `gemm_rt` (register tiles, shaders/gemm_core.wgsl) from RT_MIN_ROWS rows with K % 8 == 0,
   * else `main` (4×4 shared-memory tiles).
   */
  impl?: DitLinearImpl;
  /** gemm_rt tile fields (kernels/matmul.ts rtTile picks the rest), for sweeps. */
  tile?: Partial<RtTile>;
}

export type DitLinearImpl = 'tiled' | 'gemm_rt' | 'regblock' | 'sgblock' | 'sgblock32';

/** Rows from which GPUs take gemm_rt (the AdaLN and time tables have 2: a 32-row tile would idle). */
const RT_MIN_ROWS = 64;

/**
 * The entry ditLinear picks for this adapter, width and row count when the caller names none. On llvmpipe 32
 * rows a subgroup beat 8 once there are rows to fill them (lavapipe, M = 400, best of 4 rounds, f32 weights:
 * N×K 3072×1024 123 → 86 ms, 1024×1024 48 → 33, 2048×1024 75 → 57, 1024×2048 95 → 71); the time MLP and the
 * AdaLN projections (2 rows) keep 8.
 */
export function defaultDitLinearImpl(ctx: GpuContext, N: number, rows = 32, K = 8): DitLinearImpl {
  if (!ctx.isCpuAdapter) return rows >= RT_MIN_ROWS && K % 8 === 0 ? 'gemm_rt' : 'tiled';
  if (N % 4 !== 0) return 'tiled';
  return ctx.hasWideSubgroups ? sgblockFor(rows) : 'regblock';
}

/** The llvmpipe subgroup entry for `rows` rows: 32 rows a subgroup where there are that many. */
export function sgblockFor(rows: number): 'sgblock' | 'sgblock32' {
  return rows >= 32 ? 'sgblock32' : 'sgblock';
}

export function ditLinear(ctx: GpuContext, a: DitLinearArgs, tag = ''): DynRecord {
  if (a.w.shape.length !== 2) throw new ShapeMismatchError(`ditLinear ${tag}: weight must be [N, K], got [${a.w.shape}]`);
  const [N, K] = a.w.shape;
  if (K % 4 !== 0) throw new ShapeMismatchError(`ditLinear ${tag}: K=${K} must be a multiple of 4`);
  if (a.w.dtype !== 'f32' && a.w.dtype !== 'f16') throw new ShapeMismatchError(`ditLinear ${tag}: weight dtype ${a.w.dtype}`);
  expectShape(`ditLinear ${tag} x`, a.x, [-1, K], ['f32']);
  const Mmax = a.x.shape[0];
  expectShape(`ditLinear ${tag} y`, a.y, [Mmax, N], ['f32']);
  expectShape(`ditLinear ${tag} bias`, a.bias, [N], ['f32']);
  if (a.rows !== undefined && a.rows > Mmax) throw new ShapeMismatchError(`ditLinear ${tag}: rows ${a.rows} > ${Mmax}`);
  if (a.rowmask && !a.gate) throw new ShapeMismatchError(`ditLinear ${tag}: rowmask needs gate`);
  if (a.rowmask) expectShape(`ditLinear ${tag} rowmask`, a.rowmask, [Mmax], ['f32']);
  if (a.rope && (a.gate || a.act || N % 12 !== 0 || a.rope.rotDim % 4 !== 0 || a.rope.rotDim > N / 3)) {
    throw new ShapeMismatchError(`ditLinear ${tag}: rope needs a plain q|k|v projection (N=${N} a multiple of 12, rotDim ${a.rope.rotDim} a multiple of 4 and ≤ N/3)`);
  }
  if (a.rope) expectShape(`ditLinear ${tag} rope table`, a.rope.table, [-1, a.rope.rotDim / 2, 2], ['f32']);
  if (a.gate && a.act) throw new ShapeMismatchError(`ditLinear ${tag}: gate and act are exclusive`);
  const impl = a.impl ?? defaultDitLinearImpl(ctx, N, a.rows ?? Mmax, K);
  if (impl !== 'tiled' && impl !== 'gemm_rt' && N % 4 !== 0) throw new ShapeMismatchError(`ditLinear ${tag}: ${impl} needs N % 4 == 0, N=${N}`);
  if (impl === 'gemm_rt' && K % 8 !== 0) throw new ShapeMismatchError(`ditLinear ${tag}: gemm_rt needs K % 8 == 0, K=${K}`);
  // Tunable: gemm_rt's tile where the caller names none, or the 4×4 `tiled` entry instead.
  if (impl === 'gemm_rt' && a.tile === undefined) {
    const rows = a.rows ?? Mmax;
    const shape = [rowBucket(rows), N, K, a.w.dtype, `${a.act ? 'a' : ''}${a.gate ? 'g' : ''}${a.rope ? 'r' : ''}` || 'p'];
    const forced = (c: TuneChoice): DitLinearArgs => (c.impl === 'tiled' ? { ...a, impl: 'tiled' } : { ...a, impl: 'gemm_rt', tile: rtFromChoice(c) });
    const choice = tunedChoice(ctx, 'dit_linear', shape, () => ({
      // The 4×4 `tiled` entry right after the default: the first alternative a quick pass (maxCandidates) tries.
      candidates: (([def, ...rest]) => [def, { name: 'tiled', choice: { impl: 'tiled' } }, ...rest])(rtCandidates(ctx, rows, N, false, `ditLinear ${tag}`)),
      build: (c) => [ditLinear(ctx, forced(c), tag)],
      writes: [a.y],
      out: a.y,
      tag,
    }));
    if (choice) return ditLinear(ctx, forced(choice), tag);
  }
  const rt = impl === 'gemm_rt' ? rtTile(ctx, a.rows ?? Mmax, N, false, a.tile ?? {}, `ditLinear ${tag}`) : undefined;
  const sg = impl === 'sgblock' || impl === 'sgblock32';
  if (sg) ctx.requireWideSubgroups(`ditLinear ${impl}`);
  const defines = {
    F16W: a.w.dtype === 'f16',
    ACT_SILU: a.act === 'silu',
    ACT_GELU: a.act === 'gelu_tanh',
    GATE: !!a.gate,
    ROWMASK: !!a.rowmask,
    ROPE: !!a.rope,
    SG: sg,
    ...(rt && { GEMM_RT: true, ...rtDefines(rt) }),
  };
  const params = sharedUniform(ctx, packParams([a.rows ?? 0, N, K, a.gate?.base ?? 0, a.gate?.stride ?? 0, a.rope?.rotDim ?? 0, a.rope ? N / 3 : 0]));
  const grid = (rows: number): [number, number, number] =>
    rt ? [ceilDiv(N, rt.BN), ceilDiv(rows, rt.BM), 1]
      : impl === 'tiled' ? [ceilDiv(N, 64), ceilDiv(rows, 64), 1] : [ceilDiv(N, 256), ceilDiv(rows, impl === 'sgblock32' ? 32 : 8), 1];
  const rec = ctx.record(
    { shader: 'dit_linear', entry: impl === 'tiled' ? 'main' : impl, defines },
    [a.dims, params, a.x, a.w, a.y, a.bias, a.gate?.mod ?? null, a.rowmask ?? null, a.rope?.table ?? null],
    grid(a.rows ?? Mmax),
    tag,
  );
  const rows = a.rows;
  return dyn(rec, (T, B) => grid(rows ?? T * B));
}

/** FLOPs of one call at M rows (for benchmarks). */
export function ditLinearFlops(M: number, N: number, K: number): number {
  return 2 * M * N * K;
}
