/**
 * Sweep of the top-k forms on the LLM sampling shapes: GPU µs (timestamps, median of 5 after a warm-up) of the
 * `rounds` entry and of the `radix` entry at each workgroup size the adapter allows, next to a no-op dispatch;
 * then the decode step's sampler (kernels/sample.ts topK: the same selection plus the log-sum-exp) in both forms.
 * Each result is first checked against a JS reference (a wrong kernel prints BAD, not a time). Errors are
 * printed per config and the script always exits 0, so one failing variant does not hide the others.
 * It chose topk's default (kernels/topk.ts) and the sampler's (kernels/sample.ts).
 *   npx tsx bench/sweep-topk.ts
 */
import { requestNodeDevice } from '../src/gpu/node-device.js';
import { GpuContext } from '../src/gpu/context.js';
import { adapterLabel } from '../src/gpu/device.js';
import type { DispatchRecord } from '../src/gpu/dispatch.js';
import { gpuMedianUs } from './sweep-timing.js';
import { copyStrided } from '../kernels/copy.js';
import { topk, workgroupLimit, type TopkImpl } from '../kernels/topk.js';
import { topK, topKWords, type SampleTopKImpl } from '../kernels/sample.js';

/** Logit-like rows: a sum of uniforms (≈ normal, σ ≈ 3), deterministic. */
const logits = (n: number, seed: number) => {
  let s = seed >>> 0 || 1;
  const u = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296 - 0.5);
  return Float32Array.from({ length: n }, () => 3 * (u() + u() + u() + u()) * Math.sqrt(3));
};
/** Reference indices: (value desc, index asc). */
const refIdx = (x: Float32Array, rows: number, cols: number, k: number) => {
  const out: number[] = [];
  for (let r = 0; r < rows; r++) {
    const o = [...Array(cols).keys()].sort((a, b) => x[r * cols + b] - x[r * cols + a] || a - b);
    out.push(...o.slice(0, k));
  }
  return out;
};

const gpuUs = async (ctx: GpuContext, rec: DispatchRecord): Promise<string> => (await gpuMedianUs(ctx, [rec])).toFixed(1);

try {
  const ctx = new GpuContext(await requestNodeDevice());
  const lim = workgroupLimit(ctx);
  console.log(`[sweep-topk] ${adapterLabel(ctx.handle.info)} (${ctx.adapterKind}); max workgroup ${lim}`);
  try {
    const a = ctx.tensor('f32', [4]), b = ctx.tensor('f32', [4]);
    const noop = copyStrided(ctx, { src: a, dst: b, shape: [0], srcStrides: [1], dstStrides: [1] }, 'noop');
    console.log(`no-op dispatch (µs): ${await gpuUs(ctx, noop)}`);
  } catch (e) {
    console.log(`no-op dispatch: ERR ${(e as Error).message.slice(0, 120)}`);
  }
  const cfgs: [string, { impl: TopkImpl; wg?: number }][] = [['rounds', { impl: 'rounds' }]];
  for (const wg of [256, 512, 1024]) if (wg <= lim) cfgs.push([`radix wg${wg}`, { impl: 'radix', wg }]);
  for (const [rows, cols, k] of [[1, 6761, 25], [1, 6761, 64], [4, 6761, 25]]) {
    const x = logits(rows * cols, rows * 7 + k);
    const want = refIdx(x, rows, cols, k);
    const tx = ctx.upload(x, 'f32', [rows, cols]);
    const tv = ctx.tensor('f32', [rows, k]), ti = ctx.tensor('i32', [rows, k]);
    for (const [name, o] of cfgs) {
      let line: string;
      try {
        ctx.write(ti.buffer, 0, new Int32Array(rows * k).fill(-7));
        const rec = topk(ctx, { x: tx, k, values: tv, indices: ti, ...o });
        ctx.run([rec]);
        const got = (await ctx.read(ti)) as Int32Array;
        const bad = want.findIndex((w, i) => got[i] !== w);
        line = bad >= 0 ? `BAD at ${bad}: got ${got[bad]} want ${want[bad]}` : await gpuUs(ctx, rec);
      } catch (e) {
        line = `ERR ${(e as Error).message.slice(0, 160)}`;
      }
      console.log(`topk [${rows},${cols}] k=${k} ${name} (µs): ${line}`);
    }
    [tx, tv, ti].forEach((t) => t.buffer.destroy());
  }
  // The sampler on the decode shape (k = top_k + 1 = 26, S = speech_token_size): ids checked, then timed.
  for (const k of [26, 64]) {
    const V = 6761;
    const x = logits(V, 1000 + k);
    const want = refIdx(x, 1, V, k);
    const tx = ctx.upload(x, 'f32', [1, V]), out = ctx.tensor('u32', [topKWords(k)]);
    for (const impl of ['rounds', 'radix'] as SampleTopKImpl[]) {
      let line: string;
      try {
        ctx.write(out.buffer, 0, new Uint32Array(topKWords(k)).fill(7));
        const rec = topK(ctx, { logits: tx, k, s: 6561, out, impl });
        ctx.run([rec]);
        const got = new Uint32Array(await ctx.readBytes(out.buffer)).subarray(k, 2 * k);
        const bad = want.findIndex((w, i) => got[i] !== w);
        line = bad >= 0 ? `BAD at ${bad}: got ${got[bad]} want ${want[bad]}` : await gpuUs(ctx, rec);
      } catch (e) {
        line = `ERR ${(e as Error).message.slice(0, 160)}`;
      }
      console.log(`sample topK [1,${V}] k=${k} ${impl} (µs): ${line}`);
    }
    [tx, out].forEach((t) => t.buffer.destroy());
  }
} catch (e) {
  console.log(`[sweep-topk] ERR ${(e as Error).stack ?? e}`);
}
process.exit(0);
