/**
 * Sweep of the DiT attention forms at the real head shape (16 heads × 64, CFG batch 2) over sequence lengths:
 * GPU µs (sweep-timing.ts gpuBurstUs) of `flash` (rows per thread × key tiles that fit, with and without the
 * subgroup reductions), the key-split flash (FL_SPLIT, S ranges a row block + the combine), `tiled` (one query
 * row per thread) and the 3-pass scores / softmax / P·v form. It chose ditAttention's GPU default.
 *   npx tsx bench/sweep-dit-attention.ts [T ...]
 */
import { requestNodeDevice } from '../src/gpu/node-device.js';
import { GpuContext } from '../src/gpu/context.js';
import { ditAttention, ditAttentionGemm, ditAttentionSplit } from '../kernels/dit-attention.js';
import { atLength, createDims, type DynRecord } from '../kernels/flow-dims.js';
import { rnd } from './suites/kernels.js';
import { gpuBurstUs } from './sweep-timing.js';

const ctx = new GpuContext(await requestNodeDevice());
const lengths = process.argv.slice(2).map(Number);
const B = 2, H = 16, DH = 64, C = H * DH;
for (const T of lengths.length ? lengths : [100, 300, 600, 1000]) {
  const M = B * T;
  const qkv = ctx.upload(rnd(M * 3 * C, T), 'f32', [M, 3 * C]);
  const mask = ctx.upload(new Float32Array(M).fill(1), 'f32', [M]);
  const o = ctx.tensor('f32', [M, C]);
  const dims = createDims(ctx, { T, B, chunk: 0 });
  const scores = ctx.tensor('f32', [B * H * T * T]);
  const part = (S: number) => ctx.tensor('f32', [M, S, H, DH]), ml = (S: number) => ctx.tensor('f32', [M, S, H, 2]);
  const flops = 4 * B * H * T * T * DH;
  const line: string[] = [];
  const forms: [string, () => DynRecord[]][] = [
    ...([[2, 32, true], [2, 16, true], [2, 8, true], [4, 16, true], [4, 8, true], [2, 16, false], [2, 8, false]] as const).map(([rq, kt, sg]): [string, () => DynRecord[]] => [
      `flash rq${rq} kt${kt}${sg ? ' sg' : ''}`, () => [ditAttention(ctx, { dims, qkv, o, keymask: mask, heads: H, impl: 'flash', keyTile: kt, rowsPerThread: rq, subgroups: sg })],
    ]),
    // Keys split over S workgroups a row block, then the combine (both dispatches timed).
    ...([[2, 8], [4, 8], [8, 8], [4, 16]] as const).map(([S, kt]): [string, () => DynRecord[]] => [
      `flash split${S} kt${kt}`, () => ditAttentionSplit(ctx, { dims, qkv, o, keymask: mask, heads: H, splits: S, keyTile: kt, part: part(S), ml: ml(S) }),
    ]),
    ['tiled', () => [ditAttention(ctx, { dims, qkv, o, keymask: mask, heads: H, impl: 'tiled' })]],
    ['3-pass', () => ditAttentionGemm(ctx, { dims, qkv, o, keymask: mask, heads: H, scores })],
  ];
  for (const [name, make] of forms) {
    try {
      const us = await gpuBurstUs(ctx, atLength(make(), T, B));
      line.push(`${name}: ${us.toFixed(1)} µs (${(flops / us / 1e6).toFixed(2)} TFLOP/s)`);
    } catch (e) { line.push(`${name}: ERR ${(e as Error).message.slice(0, 80)}`); }
  }
  console.log(`DiT attention [${B},${T}]×${H}×${DH}: ${line.join(' | ')}`);
  [qkv, mask, o, scores].forEach((x) => x.buffer.destroy());
}
process.exit(0);
