/**
 * Sweep of the Snake activation's two entries at HiFT's shapes (shaders/snake.wgsl): one thread an element
 * (`scalar`) against four consecutive elements as one vec4 (`vec4`, the default where C·L % 4 == 0 and L ≥ 4), GPU
 * µs by sweepForms (back-to-back bursts, best of 2 rounds), outputs checked against the scalar form.
 *   npx tsx bench/sweep-snake.ts [--rounds N]
 */
import { requestNodeDevice } from '../src/gpu/node-device.js';
import { GpuContext } from '../src/gpu/context.js';
import { packSnakeAlpha } from '../kernels/conv1d.js';
import { snake } from '../kernels/snake.js';
import { rnd } from './suites/kernels.js';
import { sweepForms } from './sweep-timing.js';

const arg = process.argv.indexOf('--rounds');
const rounds = arg > 0 ? Number(process.argv[arg + 1]) : 3;
const ctx = new GpuContext(await requestNodeDevice());

// The first stage's and the last stage's ResBlock activations at one second of audio (bench/suites/model-kernels.ts).
for (const [C, L] of [[256, 400], [64, 6001]]) {
  const x = ctx.upload(rnd(C * L, 7, 4), 'f32', [C, L]), out = ctx.tensor('f32', [C, L]);
  const alpha = ctx.upload(packSnakeAlpha(Float32Array.from(rnd(C, 9), (v) => 1 + v)), 'f32', [C, 2]);
  const form = (f: 'scalar' | 'vec4') => () => [snake(ctx, { x, alpha, out, form: f })];
  for (let i = 0; i < rounds; i++) {
    console.log(`snake [${C},${L}]: ${await sweepForms(ctx, [['scalar', form('scalar')], ['vec4', form('vec4')]], () => ctx.readF32(out), { rounds: 2 })}`);
  }
}
