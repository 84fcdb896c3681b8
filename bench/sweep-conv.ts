/**
 * Sweep of conv1d forms on the HiFT ResBlock shapes (Snake in, residual): GPU µs (timestamps, median of 5) of the
 * tiled and direct entries, of the split tiled entry (`ts{co}x{t}r{rt}s{split}`: co × t tile, rt times per thread,
 * Cin split `split` ways in the workgroup; `default` is what conv1d picks on this adapter) and of win over RT × COB
 * and workgroup widths. It chose conv1d's GPU defaults (tiled; the 16×32 rt2 split-4 form where 64×64 tiles leave an H200 idle).
 *   npx tsx bench/sweep-conv.ts
 */
import { requestNodeDevice } from '../src/gpu/node-device.js';
import { GpuContext } from '../src/gpu/context.js';
import { conv1d, packConvWeight, packSnakeAlpha } from '../kernels/conv1d.js';
import { rnd } from './suites/kernels.js';
import { gpuMedianUs } from './sweep-timing.js';
const h = await requestNodeDevice();
const ctx = new GpuContext(h);
for (const [C, L, k, dil] of [[256, 400, 7, 3], [64, 6001, 11, 1], [512, 200, 3, 5], [128, 2400, 11, 3]]) {
  const tx = ctx.upload(rnd(C * L, 1), 'f32', [C, L]);
  const tw = ctx.upload(packConvWeight(rnd(C * C * k, 2), C, C, k), 'f32', [C * C * k]);
  const tb = ctx.upload(rnd(C, 3), 'f32', [C]), ta = ctx.upload(packSnakeAlpha(Float32Array.from(rnd(C, 4), (v) => 1 + v)), 'f32', [C, 2]);
  const out = ctx.tensor('f32', [C, L]);
  const line: string[] = [];
  const cfgs: [string, object][] = [['default', {}], ['tiled', { mode: 'tiled' }], ['direct', { mode: 'direct' }]];
  // Split tiled forms with 64 to 256 threads per workgroup.
  for (const [co, t, rt] of [[64, 32, 4], [32, 64, 4], [32, 32, 4], [32, 32, 2], [32, 16, 2], [16, 64, 4], [16, 32, 2], [16, 16, 2], [16, 16, 1]]) {
    for (const split of [1, 2, 4, 8]) {
      const threads = (t / rt) * (co / 4) * split;
      if (threads >= 64 && threads <= 256) cfgs.push([`ts${co}x${t}r${rt}s${split}`, { mode: 'tiled', tile: { co, t, rt }, split }]);
    }
  }
  // win over RT × COB and widths on CPU adapters; GPUs get one row of it (on an H200 the best win shape was 2.7–3×
  // slower than tiled on these shapes), which keeps a GPU run of the sweep short.
  const wins = ctx.isCpuAdapter ? [1, 2, 4, 8].flatMap((rt) => [1, 2, 4].map((cob) => [rt, cob])) : [[4, 1]];
  for (const [rt, cob] of wins) cfgs.push([`win rt${rt} cob${cob}`, { mode: 'win', rt, cob, subgroupWeights: false, explicit: false }]);
  if (ctx.isCpuAdapter) for (const wgx of [32, 64, 128]) cfgs.push([`win rt2 cob1 wgx${wgx}`, { mode: 'win', rt: 2, cob: 1, wgx, subgroupWeights: false, explicit: false }]);
  for (const [name, o] of cfgs) {
    try {
      const rec = conv1d(ctx, { x: tx, w: tw, bias: tb, out, cout: C, k, lout: L, dilation: dil, padLeft: (k - 1) * dil, snakeIn: ta, residual: tx, ...o } as any);
      line.push(`${name}: ${(await gpuMedianUs(ctx, [rec])).toFixed(1)}`);
    } catch (e) { line.push(`${name}: ERR ${(e as Error).message.slice(0, 80)}`); }
  }
  console.log(`conv [${C},${L}] k${k} d${dil} (µs): ${line.join(' | ')}`);
}
process.exit(0);
