/**
 * Sweep of the DiT conv position embedding forms (kernels/conv-pos.ts) at the full DiT shape: GPU µs (timestamps,
 * median of 5) of the two causal grouped convs (k31, 16 groups of 64, Mish, residual on the second) as the flow
 * runs them, in the register form (`regblock`) and the shared-memory GEMM form (`tiled`), each checked against the
 * register form's output.
 *   npx tsx bench/sweep-conv-pos.ts [--frames 600,200]
 */
import { requestNodeDevice } from '../src/gpu/node-device.js';
import { GpuContext } from '../src/gpu/context.js';
import { convPos, convPosWeightLayout } from '../kernels/conv-pos.js';
import { atLength, createDims } from '../kernels/flow-dims.js';
import { rnd } from './suites/kernels.js';
import { gpuMedianUs, maxRelDiff } from './sweep-timing.js';

const arg = process.argv.indexOf('--frames');
const frameList = (arg > 0 ? process.argv[arg + 1] : '600,200').split(',').map(Number);
const ctx = new GpuContext(await requestNodeDevice());
const B = 2, C = 1024, KS = 31, CPG = 64;
for (const T of frameList) {
  const M = B * T;
  const x = ctx.upload(rnd(M * C, 1), 'f32', [M, C]);
  const w = [2, 3].map((s) => ctx.upload(convPosWeightLayout(rnd(C * CPG * KS, s, 1 / Math.sqrt(CPG * KS)), C, CPG, KS), 'f32', [C, KS, CPG]));
  const bias = ctx.upload(rnd(C, 4, 0.1), 'f32', [C]);
  const c1 = ctx.tensor('f32', [M, C]), y = ctx.tensor('f32', [M, C]);
  const dims = createDims(ctx, { T, B, chunk: 0 });
  const line: string[] = [];
  let ref: Float32Array | undefined;
  for (const impl of ['regblock', 'tiled'] as const) {
    const recs = atLength([convPos(ctx, { dims, x, w: w[0], bias, y: c1, impl }, impl), convPos(ctx, { dims, x: c1, w: w[1], bias, y, res: x, impl }, impl)], T, B);
    const us = await gpuMedianUs(ctx, recs);
    const out = await ctx.readF32(y);
    ref ??= out;
    const err = maxRelDiff(out, ref);
    line.push(`${impl}: ${us.toFixed(1)}${err > 1e-4 ? ` MISMATCH ${err.toExponential(1)}` : ''}`);
  }
  const gflop = (2 * 2 * M * C * CPG * KS) / 1e9;
  console.log(`conv pos [${B},${T},${C}] k${KS} ${gflop.toFixed(2)} GFLOP (µs, both convs): ${line.join(' | ')}`);
}
process.exit(0);
