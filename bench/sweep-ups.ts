/**
 * Sweep of the HiFT upsampler forms (LeakyReLU in, nearest ×u, causal K-tap conv, source residual): GPU µs
 * (timestamps, median of 5) of the direct form (`up`: K taps at the output rate) against the polyphase form
 * (`phases`: foldUpsampleWeight's ⌈(K−1)/u⌉ + 1 taps over u·C channels at the input rate), each with conv1d's
 * default entry for this adapter and a few explicit shapes. Input lengths: 50 mel frames (1 s of audio) and 250.
 *   npx tsx bench/sweep-ups.ts [--frames 50,250]
 */
import { requestNodeDevice } from '../src/gpu/node-device.js';
import { GpuContext } from '../src/gpu/context.js';
import { conv1d, foldUpsampleWeight, packConvWeight } from '../kernels/conv1d.js';
import { rnd } from './suites/kernels.js';
import { gpuMedianUs } from './sweep-timing.js';

const arg = process.argv.indexOf('--frames');
const frameList = (arg > 0 ? process.argv[arg + 1] : '50,250').split(',').map(Number);
const ctx = new GpuContext(await requestNodeDevice());
// HiFT stages: Cin → C, ×u, K taps; the input length of stage i is frames · Π u_<i.
const stages = [[512, 256, 8, 16], [256, 128, 5, 11], [128, 64, 3, 7]];
for (const frames of frameList) {
  let L = frames;
  for (const [cin, C, u, k] of stages) {
    const x = ctx.upload(rnd(cin * L, 1), 'f32', [cin, L]);
    const w = rnd(C * cin * k, 2);
    const bias = ctx.upload(rnd(C, 3), 'f32', [C]);
    const res = ctx.upload(rnd(C * L * u, 4), 'f32', [C, L * u]);
    const out = ctx.tensor('f32', [C, L * u]);
    const direct = ctx.upload(packConvWeight(w, C, cin, k), 'f32', [cin * k * C]);
    const f = foldUpsampleWeight(w, C, cin, k, u);
    const poly = ctx.upload(packConvWeight(f.w, f.cout, cin, f.k), 'f32', [cin * f.k * f.cout]);
    const common = { x, bias, out, residual: res, leakyIn: 0.1 };
    const cfgs: [string, object][] = [
      ['up default', { w: direct, cout: C, k, lout: L * u, up: u, padLeft: k - 1 }],
      ['poly default', { w: poly, cout: f.cout, k: f.k, lout: L, phases: u, padLeft: f.k - 1 }],
    ];
    const polyShapes: [string, object][] = ctx.isCpuAdapter
      ? [
          ...[4, 8, 16].map((rt) => [`poly win rt${rt} sg`, { mode: 'win', rt, cob: 4, subgroupWeights: ctx.hasSubgroupsOf8, explicit: rt !== 4 }] as [string, object]),
          ['poly win rt2 cob4', { mode: 'win', rt: 2, cob: 4, subgroupWeights: false, explicit: false }],
          ['poly win rt1 cob4', { mode: 'win', rt: 1, cob: 4, subgroupWeights: false, explicit: false }],
          ['poly tiled 64x64', { mode: 'tiled' }],
          ['poly direct', { mode: 'direct' }],
        ]
      : [['poly tiled 64x64', { mode: 'tiled' }], ['poly ts16x32r2s4', { mode: 'tiled', tile: { co: 16, t: 32, rt: 2 }, split: 4 }], ['poly ts64x16r1s2', { mode: 'tiled', tile: { co: 64, t: 16, rt: 1 }, split: 2 }], ['poly ts32x16r2s4', { mode: 'tiled', tile: { co: 32, t: 16, rt: 2 }, split: 4 }]];
    for (const [name, o] of polyShapes) cfgs.push([name, { ...cfgs[1][1], ...o }]);
    const line: string[] = [];
    for (const [name, o] of cfgs) {
      try {
        const rec = conv1d(ctx, { ...common, ...o } as Parameters<typeof conv1d>[1], name);
        line.push(`${name}: ${(await gpuMedianUs(ctx, [rec])).toFixed(1)}`);
      } catch (e) {
        line.push(`${name}: ERR ${(e as Error).message.slice(0, 80)}`);
      }
    }
    console.log(`ups ${cin}→${C} ×${u} k${k}, ${L} → ${L * u} (µs): ${line.join(' | ')}`);
    L *= u;
  }
}
process.exit(0);
