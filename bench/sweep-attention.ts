/**
 * Sweep of the decode attention forms (split + combine, Qwen2 14/2 heads × 64, f32 pool): GPU µs (timestamps,
 * median of 7) of the one-thread-per-split walk, the per-kv-head workgroups with splits of 16/32/64 keys, and the
 * chunked entry, at contexts 64–2000. It chose forward.ts SPLIT_CHUNK.
 *   npx tsx bench/sweep-attention.ts
 */
import { requestNodeDevice } from '../src/gpu/node-device.js';
import { GpuContext } from '../src/gpu/context.js';
import type { DispatchRecord } from '../src/gpu/dispatch.js';
import { pagedAttentionSplit, pagedAttention, splitsFor } from '../kernels/paged-attention.js';
import { rnd } from './suites/kernels.js';
import { gpuMedianUs } from './sweep-timing.js';
const h = await requestNodeDevice();
const ctx = new GpuContext(h);
const Hq = 14, Hkv = 2, D = 64, page = 16, maxCtx = 2048, pages = maxCtx / page;
const tq = ctx.upload(rnd(Hq * D, 1), 'f32', [1, Hq, D]);
const tpool = ctx.upload(rnd(pages * 2 * page * Hkv * D, 2), 'f32', [pages, 2, page, Hkv, D]);
const tbt = ctx.upload(Uint32Array.from({ length: pages }, (_, i) => i), 'u32', [1, pages]);
const out = ctx.tensor('f32', [1, Hq * D]);
const time = async (recs: DispatchRecord[]) => (await gpuMedianUs(ctx, recs, 7)).toFixed(1);
for (const n of [64, 256, 1024, 2000]) {
  const step = ctx.uniform(new Uint32Array([n - 1, 0, 0, 0]));
  const line: string[] = [];
  for (const [name, wg, ch] of [['thread/split 32', false, 32], ['wg 16', true, 16], ['wg 32', true, 32], ['wg 64', true, 64]] as const) {
    const partials = ctx.tensor('f32', [1, Hq, splitsFor(maxCtx, ch), D + 2]);
    line.push(`${name}: ${await time(pagedAttentionSplit(ctx, { q: tq, pool: tpool, blockTable: tbt, out, step, partials, chunk: ch, splitForm: wg ? 'wg' : 'thread', combineForm: 'thread' }))}`);
  }
  line.push(`chunked: ${await time([pagedAttention(ctx, { q: tq, pool: tpool, blockTable: tbt, out, step, mode: 'chunked' })])}`);
  console.log(`decode attention ctx ${n} (µs, split+combine): ${line.join(' | ')}`);
}
process.exit(0);
