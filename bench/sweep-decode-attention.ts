/**
 * Sweep of the LLM's decode attention (one query row, Qwen2 14 q / 2 kv heads × 64, pages of 16; kernels/
 * paged-attention.ts pagedAttentionSplit): GPU µs (sweep-timing.ts gpuBurstUs over --reps back-to-back runs; the split and the
 * combine dispatch added up, each with one pass's empty-dispatch floor, printed first as the no-op dispatch) of
 * every split form × combine form × chunk size, and the one-dispatch `chunked` entry, at each context and pool
 * dtype. Each form's output is checked against the old GPU default (split 'wg' 32 keys + combine 'thread') as
 * maxRelDiff. Errors are printed per form and the script always exits 0. It chose pagedAttentionSplit's defaults.
 *   npx tsx bench/sweep-decode-attention.ts [--contexts 64,256,1024,4096] [--dtypes f32,f16] [--reps 7]
 */
import { requestNodeDevice } from '../src/gpu/node-device.js';
import { GpuContext } from '../src/gpu/context.js';
import { adapterLabel } from '../src/gpu/device.js';
import type { DispatchRecord } from '../src/gpu/dispatch.js';
import { copyStrided } from '../kernels/copy.js';
import { pagedAttention, pagedAttentionSplit, splitsFor, type CombineForm, type SplitForm } from '../kernels/paged-attention.js';
import { packF16Host } from '../kernels/quant.js';
import { rnd } from './suites/kernels.js';
import { gpuBurstUs, maxRelDiff } from './sweep-timing.js';

const opt = (name: string, dflt: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : dflt);
const contexts = opt('--contexts', '64,256,1024,4096').split(',').map(Number);
const dtypes = opt('--dtypes', 'f32,f16').split(',') as ('f32' | 'f16')[];
const reps = Number(opt('--reps', '7'));
const Hq = 14, Hkv = 2, D = 64, page = 16;

// [split form, combine form, keys per split]; the reference first (the GPU default before the wide forms).
type Form = [SplitForm, CombineForm, number];
const REF: Form = ['wg', 'thread', 32];
const chunks: [SplitForm, number[]][] = [['thread', [32]], ['wg', [16, 32, 64]], ['wide', [32, 64, 128]]];
const formName = ([s, c, ch]: Form) => `${s}${ch}/${c}`;
const others = chunks.flatMap(([s, chs]) => (['thread', 'wg'] as const).flatMap((c) => chs.map((ch): Form => [s, c, ch])));
const forms: Form[] = [REF, ...others.filter((f) => formName(f) !== formName(REF))];

const ctx = new GpuContext(await requestNodeDevice());
console.log(`[sweep-decode-attention] ${adapterLabel(ctx.handle.info)} (${ctx.adapterKind}); µs = split + combine GPU time, median of ${reps}; Δ = maxRelDiff against ${formName(forms[0])}`);
try {
  const a = ctx.tensor('f32', [4]), b = ctx.tensor('f32', [4]);
  const noop = copyStrided(ctx, { src: a, dst: b, shape: [0], srcStrides: [1], dstStrides: [1] }, 'noop');
  console.log(`no-op dispatch: ${(await gpuBurstUs(ctx, [noop], reps)).toFixed(1)} µs`);
} catch (e) {
  console.log(`no-op dispatch: ERR ${(e as Error).message.slice(0, 120)}`);
}

const maxCtx = Math.ceil(Math.max(...contexts) / page) * page, pages = maxCtx / page;
const tq = ctx.upload(rnd(Hq * D, 1), 'f32', [1, Hq, D]);
const tbt = ctx.upload(Uint32Array.from({ length: pages }, (_, i) => i), 'u32', [1, pages]);
const out = ctx.tensor('f32', [1, Hq * D]);
const partials = new Map([16, 32, 64, 128].map((ch) => [ch, ctx.tensor('f32', [1, Hq, splitsFor(maxCtx, ch), D + 2])]));
for (const dtype of dtypes) {
  const poolShape = [pages, 2, page, Hkv, D];
  const kv = rnd(pages * 2 * page * Hkv * D, 2);
  const pool = dtype === 'f16' ? ctx.upload(packF16Host(kv, [kv.length / D, D]), 'f16', poolShape) : ctx.upload(kv, 'f32', poolShape);
  for (const n of contexts) {
    // The query sits at position n − 1: it attends to n cached keys.
    const step = ctx.uniform(new Uint32Array([n - 1, 0, 0, 0]));
    const line: string[] = [];
    let ref: Float32Array | undefined;
    const time = async (name: string, make: () => DispatchRecord[]) => {
      try {
        ctx.write(out.buffer, 0, new Float32Array(Hq * D)); // a form that writes nothing must not pass for the last one
        const us = await gpuBurstUs(ctx, make(), reps);
        const got = await ctx.readF32(out);
        ref ??= got;
        line.push(`${name} ${us.toFixed(1)} (Δ ${maxRelDiff(got, ref).toExponential(1)})`);
      } catch (e) {
        line.push(`${name} ERR ${(e as Error).message.slice(0, 100)}`);
      }
    };
    for (const f of forms) {
      const [splitForm, combineForm, chunk] = f;
      await time(formName(f), () => pagedAttentionSplit(ctx, { q: tq, pool, blockTable: tbt, out, step, partials: partials.get(chunk)!, chunk, splitForm, combineForm }));
    }
    await time('chunked', () => [pagedAttention(ctx, { q: tq, pool, blockTable: tbt, out, step, mode: 'chunked' })]);
    console.log(`decode attention ctx ${n} ${dtype} pool (µs): ${line.join(' | ')}`);
  }
}
process.exit(0);
