/**
 * Causal grouped Conv1d + Mish of the DiT conv position embedding (shaders/conv_pos.wgsl), on time-major rows.
 * w: the Conv1d weight [C, C/groups, KS] transposed to [C, KS, C/groups] (convPosWeightLayout, done once at load);
 * `res` adds the residual after the Mish.
 */
import type { GpuContext } from '../src/gpu/context.js';
import { ceilDiv, packParams } from '../src/gpu/dispatch.js';
import { ShapeMismatchError } from '../src/gpu/errors.js';
import { expectShape, type GpuTensor } from '../src/gpu/tensor.js';
import { dyn, sharedUniform, type DynRecord } from './flow-dims.js';

export interface ConvPosArgs {
  dims: GPUBuffer;
  /** [Mmax, C] */
  x: GpuTensor;
  /** [C, KS, CPG] (convPosWeightLayout of the upstream [C, CPG, KS]) */
  w: GpuTensor;
  /** [C] */
  bias: GpuTensor;
  /** [Mmax, C] (must not alias x or res) */
  y: GpuTensor;
  /** [Mmax, C] */
  res?: GpuTensor;
  /** Subgroup-shared input rows (llvmpipe, subgroups of exactly 8). Default: where that adapter and the shape allow. */
  subgroups?: boolean;
  /**
   * 'regblock' (registers only, `main`) or 'tiled' (shared-memory GEMM tiles, `tiled`; CPG % 16 == 0).
   * Default: 'tiled' on GPUs where the shape allows, 'regblock' on CPU adapters (barriers split their shaders).
   */
  impl?: 'regblock' | 'tiled';
}

export function convPos(ctx: GpuContext, a: ConvPosArgs, tag = ''): DynRecord {
  expectShape(`convPos ${tag} x`, a.x, [-1, -1], ['f32']);
  const [Mmax, C] = a.x.shape;
  expectShape(`convPos ${tag} w`, a.w, [C, -1, -1], ['f32']);
  const [, KS, CPG] = a.w.shape;
  if (C % CPG !== 0 || CPG % 4 !== 0) throw new ShapeMismatchError(`convPos ${tag}: C=${C} / channels per group ${CPG} (must divide C and be a multiple of 4)`);
  expectShape(`convPos ${tag} bias`, a.bias, [C], ['f32']);
  expectShape(`convPos ${tag} y`, a.y, [Mmax, C], ['f32']);
  if (a.res) expectShape(`convPos ${tag} res`, a.res, [Mmax, C], ['f32']);
  const params = sharedUniform(ctx, packParams([C]));
  const impl = a.impl ?? (!ctx.isCpuAdapter && CPG % 16 === 0 && !a.subgroups ? 'tiled' : 'regblock');
  if (impl === 'tiled') {
    if (CPG % 16 !== 0) throw new ShapeMismatchError(`convPos ${tag}: the tiled form needs channels per group (${CPG}) a multiple of 16`);
    if (a.subgroups) throw new ShapeMismatchError(`convPos ${tag}: the tiled form has no subgroup variant`);
    const BN = CPG % 64 === 0 ? 64 : CPG % 32 === 0 ? 32 : 16;
    const rec = ctx.record(
      { shader: 'conv_pos', entry: 'tiled', defines: { CPG, KS, RESIDUAL: !!a.res, TILED: true, BN } },
      [a.dims, params, a.x, a.w, a.bias, a.y, a.res ?? null],
      [C / BN, 1, 1],
      tag,
    );
    return dyn(rec, (T, B) => [C / BN, ceilDiv(T, 64), B]);
  }
  // llvmpipe: lanes share the input rows through subgroupBroadcast (SG in the shader) where a subgroup's 32
  // channels stay inside one group. lavapipe, [2,600,1024] k31 16 groups, both convs: 1149 → 563 ms.
  const sg = a.subgroups ?? (ctx.hasWideSubgroupsOf8 && C % 32 === 0 && CPG % 32 === 0);
  if (sg) ctx.requireWideSubgroupsOf8('convPos SG');
  if (sg && (C % 32 !== 0 || CPG % 32 !== 0)) throw new ShapeMismatchError(`convPos ${tag}: the SG form needs C (${C}) and channels per group (${CPG}) multiples of 32`);
  const rec = ctx.record(
    { shader: 'conv_pos', entry: 'main', defines: { CPG, KS, RESIDUAL: !!a.res, SG: sg } },
    [a.dims, params, a.x, a.w, a.bias, a.y, a.res ?? null],
    [ceilDiv(C, 256), 1, 1],
    tag,
  );
  return dyn(rec, (T, B) => [ceilDiv(C, 256), ceilDiv(T, 8), B]);
}

/** Upstream Conv1d weight [C, CPG, KS] → the kernel's [C, KS, CPG]. */
export function convPosWeightLayout(w: Float32Array, C: number, CPG: number, KS: number): Float32Array {
  const out = new Float32Array(C * KS * CPG);
  for (let o = 0; o < C; o++) for (let i = 0; i < CPG; i++) for (let k = 0; k < KS; k++) out[(o * KS + k) * CPG + i] = w[(o * CPG + i) * KS + k];
  return out;
}
