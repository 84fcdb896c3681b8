/**
 * Paged KV cache semantics on the real model (tiny fixture weights): page sizes 1/3/16 crossing page boundaries,
 * interleaved sequences equal to each alone, shared-prefix forks (refcounts, copy-on-write of the partial last
 * page), pool exhaustion (typed error, nothing freed or leaked), and the decode step's counters.
 */
import { lmFromDir } from '../../src/models/llm/from-dir.js';
import { describe, expect, it } from 'vitest';
import { CosyVoice3Lm, type LlmPrompt } from '../../src/models/llm/cosyvoice3-lm.js';
import { KvPoolExhaustedError, type KvSequence } from '../../src/models/qwen2/paged-kv.js';
import { normRunsApart } from '../../src/models/qwen2/forward.js';
import { decodeRunsHeadsSg } from '../../kernels/paged-attention.js';
import { diffCounters } from '../../src/gpu/counters.js';
import { argmaxSampler } from '../../src/sampling/sampler.js';
import { expectClose } from '../helpers/compare.js';
import { readFixtureSet, TINY_DIR } from '../helpers/fixtures.js';
import { testContext } from '../helpers/gpu.js';

const set = readFixtureSet('llm_greedy', 0);
const ints = (t: { data: Float64Array }) => Array.from(t.data);
const P0: LlmPrompt = { promptText: ints(set.inputs[0]), text: ints(set.inputs[1]), promptSpeech: ints(set.inputs[2]) };
// A second utterance with the same prompt text but other target text and prompt speech.
const P1: LlmPrompt = { promptText: P0.promptText, text: [5, 17, 42, 99, 3], promptSpeech: [7, 7, 31, 64, 2, 90, 11] };
const FEED = [86, 96, 55, 59, 46, 13, 21, 79, 58, 83, 43, 97, 98, 59, 72, 36, 93, 36, 93, 59];

async function load(pageSize: number, numPages?: number, maxSeqs = 4, dtype: 'f32' | 'f16' = 'f32'): Promise<CosyVoice3Lm> {
  const ctx = await testContext();
  return lmFromDir(ctx, TINY_DIR, { maxPrefill: 64, maxContext: 128, kv: { pageSize, numPages, maxSeqs, dtype } });
}

/** Prefill then `steps` decode steps feeding FEED; returns the logits of every step. */
async function* stepper(lm: CosyVoice3Lm, seq: KvSequence, p: LlmPrompt, steps: number): AsyncGenerator<Float32Array> {
  await lm.rt.prefill(seq, lm.embedPrompt(p));
  yield await lm.rt.readLogits();
  for (let i = 0; i < steps; i++) {
    await lm.rt.decode(seq, lm.speechRow(FEED[i]));
    yield await lm.rt.readLogits();
  }
}

async function alone(lm: CosyVoice3Lm, p: LlmPrompt, steps: number): Promise<Float32Array[]> {
  const seq = lm.rt.createSequence();
  const out: Float32Array[] = [];
  for await (const l of stepper(lm, seq, p, steps)) out.push(l);
  lm.rt.free(seq);
  return out;
}

describe('paged KV cache', () => {
  it.each([1, 3, 16])('page size %i: two interleaved sequences give exactly what each gives alone', async (pageSize) => {
    const lm = await load(pageSize);
    const steps = 20; // prompt 28 / 20 rows + 20 steps: crosses page boundaries for every page size here
    const a = await alone(lm, P0, steps), b = await alone(lm, P1, steps);
    expect(lm.rt.kv.freePageCount).toBe(lm.rt.kv.opts.numPages);
    const sa = lm.rt.createSequence(), sb = lm.rt.createSequence();
    const ga = stepper(lm, sa, P0, steps), gb = stepper(lm, sb, P1, steps);
    for (let i = 0; i <= steps; i++) {
      expect((await ga.next()).value).toEqual(a[i]);
      expect((await gb.next()).value).toEqual(b[i]);
    }
    // Pages of the two sequences interleave in the pool.
    expect(new Set([...sa.pages, ...sb.pages]).size).toBe(sa.pages.length + sb.pages.length);
    lm.rt.free(sa);
    lm.rt.free(sb);
    expect(lm.rt.kv.freePageCount).toBe(lm.rt.kv.opts.numPages);
  });

  it('two interleaved generators (a server with two users) give the tokens each gives alone', async () => {
    const lm = await load(16);
    const ta = await lm.generateAll(P0, { sampler: argmaxSampler });
    const tb = await lm.generateAll(P1, { sampler: argmaxSampler, maxLen: 40 });
    const ga = lm.generate(P0, { sampler: argmaxSampler }), gb = lm.generate(P1, { sampler: argmaxSampler, maxLen: 40 });
    const ra: number[] = [], rb: number[] = [];
    let da = false, db = false;
    while (!da || !db) {
      if (!da) { const r = await ga.next(); if (r.done) da = true; else ra.push(r.value); }
      if (!db) { const r = await gb.next(); if (r.done) db = true; else rb.push(r.value); }
    }
    expect(ra).toEqual(ta);
    expect(rb).toEqual(tb);
    expect(lm.rt.kv.liveSequences).toBe(0);
  });

  it.each([
    [16, 20, 'f32'],
    [16, 16, 'f32'],
    [3, 10, 'f32'],
    [1, 9, 'f32'],
    [3, 10, 'f16'],
  ] as const)('page size %i: fork at %i shares prefix pages, copy-on-write keeps both sequences exact (%s cache)', async (pageSize, at, dtype) => {
    const lm = await load(pageSize, undefined, 4, dtype);
    const steps = 6;
    const ref = await alone(lm, P0, steps);
    const embeds = lm.embedPrompt(P0);
    const d = lm.cfg.hidden, L = embeds.length / d;
    const kv = lm.rt.kv;
    const a = lm.rt.createSequence();
    await lm.rt.prefill(a, embeds);
    const b = lm.rt.fork(a, at);
    const shared = Math.ceil(at / pageSize);
    expect(b.pages).toEqual(a.pages.slice(0, shared));
    for (const p of b.pages) expect(kv.refcountOf(p)).toBe(2);
    const cowBefore = kv.cowCopies;
    // b recomputes only the suffix of the prompt on top of the shared prefix.
    await lm.rt.prefill(b, embeds.subarray(at * d));
    expectClose(await lm.rt.readLogits(), ref[0], { relL2: 1e-6, label: 'fork prefill logits' });
    expect(kv.cowCopies - cowBefore).toBe(at % pageSize ? 1 : 0);
    for (let i = 0; i < steps; i++) {
      await lm.rt.decode(a, lm.speechRow(FEED[i]));
      expectClose(await lm.rt.readLogits(), ref[i + 1], { relL2: 1e-6, label: `a step ${i}` });
      await lm.rt.decode(b, lm.speechRow(FEED[i]));
      expectClose(await lm.rt.readLogits(), ref[i + 1], { relL2: 1e-6, label: `b step ${i}` });
    }
    expect(a.length).toBe(L + steps);
    // Freeing the source keeps the pages b still uses.
    lm.rt.free(a);
    for (const p of b.pages) expect(kv.refcountOf(p)).toBe(1);
    await lm.rt.decode(b, lm.speechRow(FEED[steps]));
    expectClose(await lm.rt.readLogits(), (await alone(lm, P0, steps + 1))[steps + 1], { relL2: 1e-6, label: 'b after free(a)' });
    lm.rt.free(b);
    expect(kv.freePageCount).toBe(kv.opts.numPages);
  });

  it('a prompt longer than maxPrefill runs in chunks and gives the same logits', async () => {
    const ctx = await testContext();
    const small = await lmFromDir(ctx, TINY_DIR, { maxPrefill: 5, maxContext: 128, kv: { pageSize: 4 } });
    const lm = await load(16);
    const ref = await alone(lm, P0, 3);
    const got = await alone(small, P0, 3);
    got.forEach((g, i) => expectClose(g, ref[i], { relL2: 1e-6, label: `chunked step ${i}` }));
  });

  it('pool exhaustion throws KvPoolExhaustedError and frees or leaks nothing', async () => {
    const pageSize = 16;
    const lm = await load(pageSize, 4); // 64 positions in the whole pool
    const kv = lm.rt.kv;
    const a = lm.rt.createSequence();
    await lm.rt.prefill(a, lm.embedPrompt(P0)); // 28 positions: 2 pages
    const ref = await lm.rt.readLogits();
    const b = lm.rt.createSequence();
    const big = lm.embedPrompt(P0, FEED); // 48 positions: 3 pages, only 2 left
    const pagesA = [...a.pages];
    await expect(lm.rt.prefill(b, big)).rejects.toBeInstanceOf(KvPoolExhaustedError);
    await expect(lm.rt.prefill(b, big)).rejects.toThrow(/needs 3 more page\(s\) but 2 of 4 are free/);
    expect(kv.freePageCount).toBe(2);
    expect(b.pages).toEqual([]);
    expect(b.length).toBe(0);
    expect(a.pages).toEqual(pagesA);
    // a still decodes correctly, b can still take what fits.
    await lm.rt.prefill(b, lm.embedPrompt(P1));
    expect(kv.freePageCount).toBe(0);
    const c = lm.rt.fork(a, 20); // sharing needs no page, but its first write needs a copy
    await expect(lm.rt.decode(c, lm.speechRow(1))).rejects.toBeInstanceOf(KvPoolExhaustedError);
    expect(kv.refcountOf(a.pages[1])).toBe(2);
    lm.rt.free(c);
    expect(kv.refcountOf(a.pages[1])).toBe(1);
    lm.rt.free(b);
    expect(kv.freePageCount).toBe(2);
    const again = lm.rt.createSequence();
    await lm.rt.prefill(again, lm.embedPrompt(P0));
    expect(await lm.rt.readLogits()).toEqual(ref);
    lm.rt.free(again);
    lm.rt.free(a);
    expect(kv.freePageCount).toBe(4);
  });

  it('decode step: one pass, one submit, one readback, no buffer or bind group created (also across page boundaries)', async () => {
    const lm = await load(4);
    const ctx = lm.ctx;
    const seq = lm.rt.createSequence();
    await lm.rt.prefill(seq, lm.embedPrompt(P0));
    await lm.rt.decode(seq, lm.speechRow(FEED[0]));
    const before = { ...ctx.counters };
    const steps = 9; // crosses two page boundaries at page size 4
    for (let i = 1; i <= steps; i++) await lm.rt.decode(seq, lm.speechRow(FEED[i]));
    const d = diffCounters(before, ctx.counters);
    const perStep = lm.rt.decodePlan.length;
    console.log(`[decode counters] per step: ${perStep} dispatches, ${d.passes / steps} pass, ${d.submits / steps} submit, ${d.readbacks / steps} readback, ${d.bytesRead / steps} B read, ${d.bytesWritten / steps} B written; buffers ${d.buffersCreated}, bind groups ${d.bindGroupsCreated}`);
    expect(d).toMatchObject({
      dispatches: steps * perStep,
      passes: steps,
      submits: steps,
      readbacks: steps,
      buffersCreated: 0,
      bindGroupsCreated: 0,
      pipelinesCreated: 0,
    });
    // Own GEMV: 7 per layer, 9 where the decode row's two norms run as their own dispatches (normRunsApart), then
    // norm, head, top-k. The matmul plan: 7 per layer (norms as gemv prologues, SwiGLU in the gate_up epilogue:
    // qkv, rope+append, attention split + combine, o_proj, gate_up, down_proj), then norm, head, top-k. One
    // fewer a layer where decode attention is llvmpipe's single heads_sg dispatch instead of split + combine.
    const own = normRunsApart(ctx, 1, lm.weights.dtype) ? 9 : 7;
    const attnSaved = decodeRunsHeadsSg(ctx, lm.cfg.heads, lm.cfg.kvHeads, lm.cfg.headDim) ? 1 : 0;
    expect(perStep).toBe(((lm.rt.ownGemv ? own : 7) - attnSaved) * lm.cfg.layers + 3);
    lm.rt.free(seq);
  });
});
