/**
 * Sweep of the LLM's causal prefill attention over the paged KV cache (shaders/paged_flash.wgsl through
 * kernels/paged-attention.ts pagedAttention 'flash'; Qwen2 14 q / 2 kv heads × 64, page 16): GPU µs (sweep-timing.ts
 * gpuBurstUs) per key tile (8, 16, 32) and rows per thread (2, 4), and of the key-split walk (pagedFlashSplit:
 * S ranges + the combine), with the workgroup-per-(row, head) `chunked` form as the reference output. Causal rows make the last row block walk every key: fewer, larger key tiles
 * shorten that walk, which a card with idle SMs can use (the DiT, whose every block walks all keys, keeps 8).
 *   npx tsx bench/sweep-prefill-flash.ts [--rows 128,512] [--pool f32,f16]
 */
import { requestNodeDevice } from '../src/gpu/node-device.js';
import { GpuContext } from '../src/gpu/context.js';
import type { DispatchRecord } from '../src/gpu/dispatch.js';
import { pagedAttention, pagedFlashSplit } from '../kernels/paged-attention.js';
import { packWeightF16 } from '../kernels/quant.js';
import { rnd } from './suites/kernels.js';
import { sweepForms } from './sweep-timing.js';

const opt = (name: string, dflt: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : dflt);
const rowList = opt('--rows', '128,512').split(',').map(Number);
const pools = opt('--pool', 'f32,f16').split(',');
const ctx = new GpuContext(await requestNodeDevice());
const Hq = 14, Hkv = 2, D = 64, page = 16;
for (const dtype of pools) {
  for (const T of rowList) {
    const pages = Math.ceil(T / page);
    const data = rnd(pages * 2 * page * Hkv * D, 3);
    // f16 pages: the pool's halves packed two a word along D, as the KV cache stores them.
    const pool = dtype === 'f16'
      ? packWeightF16(ctx, data, [pages * 2 * page * Hkv, D]).reshape([pages, 2, page, Hkv, D])
      : ctx.upload(data, 'f32', [pages, 2, page, Hkv, D]);
    const blockTable = ctx.upload(Uint32Array.from({ length: pages }, (_, i) => i), 'u32', [1, pages]);
    const q = ctx.upload(rnd(T * Hq * D, 4), 'f32', [T, Hq, D]);
    const out = ctx.tensor('f32', [T, Hq * D]);
    const step = ctx.uniform(new Uint32Array([0, 0, 0, 0]));
    const base = { q, pool, blockTable, out, step };
    const part = (S: number) => ctx.tensor('f32', [T, S, Hq, D]), ml = (S: number) => ctx.tensor('f32', [T, S, Hq, 2]);
    const forms: [string, () => DispatchRecord[]][] = [
      ['chunked', () => [pagedAttention(ctx, { ...base, mode: 'chunked' })]],
      ...[8, 16, 32].flatMap((kt) => ([2, 4] as const).map((rq): [string, () => DispatchRecord[]] => [
        `flash kt${kt} rq${rq}`, () => [pagedAttention(ctx, { ...base, mode: 'flash', keyTile: kt, rowsPerThread: rq })],
      ])),
      // Keys in S ranges a row block + the combine (both dispatches timed).
      ...([[2, 16], [4, 16], [8, 16], [4, 8]] as const).map(([S, kt]): [string, () => DispatchRecord[]] => [
        `flash kt${kt} split${S}`, () => pagedFlashSplit(ctx, { ...base, keyTile: kt, splits: S, part: part(S), ml: ml(S) }),
      ]),
    ];
    console.log(`prefill attention ${dtype} pool, ${T} rows × ${Hq} heads (µs): ${await sweepForms(ctx, forms, () => ctx.readF32(out))}`);
    [pool, blockTable, q, out].forEach((t) => t.buffer.destroy());
  }
}
process.exit(0);
