/**
 * One CFG Euler step of the CFM solver (shaders/euler.wgsl): x += dt·(wc·v_cond − wu·v_uncond).
 * x: the Euler state [mel, Tmax] (channel-first, live length dims.T); v: estimator output rows [2·Tmax, mel].
 */
import type { GpuContext } from '../src/gpu/context.js';
import { ceilDiv, packParams } from '../src/gpu/dispatch.js';
import { expectShape, type GpuTensor } from '../src/gpu/tensor.js';
import { dyn, flatGrid, sharedUniform, type DynRecord } from './flow-dims.js';

export interface EulerArgs {
  dims: GPUBuffer;
  /** [2·Tmax, mel] */
  v: GpuTensor;
  /** [mel, Tmax] (only the first mel·T elements are live) */
  x: GpuTensor;
  dt: number;
  /** 1 + cfg_rate */
  wc: number;
  /** cfg_rate */
  wu: number;
}

export function eulerCfg(ctx: GpuContext, a: EulerArgs, tag = ''): DynRecord {
  expectShape(`eulerCfg ${tag} x`, a.x, [-1, -1], ['f32']);
  const [mel, Tmax] = a.x.shape;
  expectShape(`eulerCfg ${tag} v`, a.v, [-1, mel], ['f32']);
  const params = sharedUniform(ctx, packParams([mel, { f32: a.dt }, { f32: a.wc }, { f32: a.wu }]));
  const rec = ctx.record({ shader: 'euler', entry: 'main' }, [a.dims, params, a.v, a.x], flatGrid(ceilDiv(mel * Tmax, 256)), tag);
  return dyn(rec, (T) => flatGrid(ceilDiv(mel * T, 256)));
}
