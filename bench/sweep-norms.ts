/**
 * Sweep of the norm kernels' load widths at the model shapes: GPU µs (sweepForms: back-to-back bursts, best of 2
 * rounds) of RMSNorm [512,896] with scalar and vec4 loads (shaders/rmsnorm.wgsl NORM4; 8, 16, 32 threads a row)
 * and of the DiT AdaLN [2·600,1024] in its rowwise (vec4) and workgroup forms, each checked against the first form.
 * Session 10 chose vec4 rows on lavapipe with it (three rounds there: RMSNorm 8 threads scalar 1934 / 1897 / 1952 µs
 * against vec4 1095 / 1064 / 1035; AdaLN rowwise 1.7–3.1 ms against workgroup 31–36 ms).
 *   npx tsx bench/sweep-norms.ts [--rounds N]
 */
import { requestNodeDevice } from '../src/gpu/node-device.js';
import { GpuContext } from '../src/gpu/context.js';
import { packParams } from '../src/gpu/dispatch.js';
import { adaLayerNorm } from '../kernels/adaln.js';
import { atLength, createDims } from '../kernels/flow-dims.js';
import { rnd } from './suites/kernels.js';
import { sweepForms } from './sweep-timing.js';

const arg = process.argv.indexOf('--rounds');
const rounds = arg > 0 ? Number(process.argv[arg + 1]) : 3;
const ctx = new GpuContext(await requestNodeDevice());

{
  const [R, C] = [512, 896];
  const x = ctx.upload(rnd(R * C, 1), 'f32', [R, C]), w = ctx.upload(rnd(C, 2), 'f32', [C]), y = ctx.tensor('f32', [R, C]);
  const params = ctx.uniform(packParams([R, C, 0, { f32: 1e-6 }, 0]));
  // The entry as kernels/rmsnorm.ts records it, with the load width and threads forced.
  const form = (vec4: boolean, threads: number) => () => [ctx.record({ shader: 'rmsnorm', entry: 'rmsnorm', defines: { WG: threads, NORM: true, NORM4: vec4 } }, [params, x, w, y], [R, 1, 1])];
  for (let i = 0; i < rounds; i++) {
    console.log(`rmsnorm [${R},${C}]: ${await sweepForms(ctx, [['scalar 8', form(false, 8)], ['vec4 8', form(true, 8)], ['vec4 16', form(true, 16)], ['vec4 32', form(true, 32)], ['scalar 256', form(false, 256)], ['vec4 256', form(true, 256)]], () => ctx.readF32(y), { rounds: 2 })}`);
  }
}
{
  const [T, B, C] = [600, 2, 1024];
  const dims = createDims(ctx, { T, B, chunk: 0 });
  const x = ctx.upload(rnd(T * B * C, 1), 'f32', [T * B, C]), y = ctx.tensor('f32', [T * B, C]);
  const mod = ctx.upload(rnd(12 * C, 2), 'f32', [12 * C]);
  const a = { dims, x, y, mod, shiftBase: 0, scaleBase: C, modStride: 6 * C, eps: 1e-6 };
  const form = (impl: 'rowwise' | 'workgroup') => () => atLength([adaLayerNorm(ctx, { ...a, impl })], T, B);
  for (let i = 0; i < rounds; i++) {
    console.log(`adaln [${B}·${T},${C}]: ${await sweepForms(ctx, [['rowwise (vec4)', form('rowwise')], ['workgroup', form('workgroup')]], () => ctx.readF32(y), { rounds: 2 })}`);
  }
}
