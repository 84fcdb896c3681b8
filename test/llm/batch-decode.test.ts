/**
 * Batched decode (Qwen2Runtime.decodeBatch): one step of B sequences at their own positions and block-table slots
 * gives each sequence the step it gets alone, on the tiny official checkpoint: page size 3 (every sequence crosses
 * pages at different steps), contexts of different lengths, f32 and f16 weights and KV pages. Exact where the
 * projections' row blocking sums in the same order; else within 2e-6 relative (f32) / 2e-3 (f16 pages), with the
 * same top-k ids.
 */
import { describe, expect, it } from 'vitest';
import { lmFromDir } from '../../src/models/llm/from-dir.js';
import type { CosyVoice3Lm, LlmPrompt } from '../../src/models/llm/cosyvoice3-lm.js';
import { KvSequenceError, type KvSequence } from '../../src/models/qwen2/paged-kv.js';
import type { StepResult } from '../../src/models/qwen2/forward.js';
import { diffCounters } from '../../src/gpu/counters.js';
import { expectClose } from '../helpers/compare.js';
import { readFixtureSet, TINY_DIR } from '../helpers/fixtures.js';
import { testContext } from '../helpers/gpu.js';
import { SeededRng } from '../helpers/rng.js';
import { TorchGenerator } from '../../src/rng/index.js';
import { TorchSampler } from '../../src/sampling/index.js';

const set = readFixtureSet('llm_greedy', 0);
const ints = (t: { data: Float64Array }) => Array.from(t.data);
const base: LlmPrompt = { promptText: ints(set.inputs[0]), text: ints(set.inputs[1]), promptSpeech: ints(set.inputs[2]) };
// Four prompts of different lengths (the fixture's, and shorter or longer prompt speech).
const prompts: LlmPrompt[] = [
  base,
  { ...base, promptSpeech: [7, 31] },
  { ...base, promptSpeech: [...Array.from(base.promptSpeech), 64, 2, 90, 11, 5, 5, 8] },
  { ...base, text: [5, 17, 42], promptSpeech: [] },
];
const STEPS = 12;

async function load(dtype: 'f32' | 'f16'): Promise<CosyVoice3Lm> {
  return lmFromDir(await testContext(), TINY_DIR, { maxPrefill: 64, maxContext: 128, dtype, kv: { pageSize: 3, maxSeqs: 4, dtype } });
}

/** Per sequence and step: the top-k and the logits row. */
type Trace = { top: StepResult; logits: Float32Array }[][];

function feedOf(b: number, i: number): number {
  return (37 * b + 11 * i + 3) % 97;
}

async function alone(lm: CosyVoice3Lm, B: number): Promise<Trace> {
  const out: Trace = [];
  for (let b = 0; b < B; b++) {
    const seq = lm.rt.createSequence();
    await lm.rt.prefill(seq, lm.embedPrompt(prompts[b]));
    const steps = [];
    for (let i = 0; i < STEPS; i++) {
      const top = await lm.rt.decode(seq, lm.speechRow(feedOf(b, i)));
      steps.push({ top, logits: await lm.rt.readLogits() });
    }
    out.push(steps);
    lm.rt.free(seq);
  }
  return out;
}

/** The batched trace, and the counters of its decode steps. */
async function batched(lm: CosyVoice3Lm, B: number): Promise<{ trace: Trace; counters: ReturnType<typeof diffCounters> }> {
  const seqs: KvSequence[] = [];
  for (let b = 0; b < B; b++) {
    seqs.push(lm.rt.createSequence());
    await lm.rt.prefill(seqs[b], lm.embedPrompt(prompts[b]));
  }
  const out: Trace = seqs.map(() => []);
  const d = lm.cfg.hidden, V = lm.cfg.speechVocab;
  const before = { ...lm.ctx.counters };
  for (let i = 0; i < STEPS; i++) {
    const rows = new Float32Array(B * d);
    for (let b = 0; b < B; b++) rows.set(lm.speechRow(feedOf(b, i)), b * d);
    const tops = await lm.rt.decodeBatch(seqs, rows);
    const logits = await lm.rt.readLogits();
    expect(logits.length).toBe(B * V);
    tops.forEach((top, b) => out[b].push({ top, logits: logits.slice(b * V, (b + 1) * V) }));
  }
  const counters = diffCounters(before, lm.ctx.counters);
  seqs.forEach((s) => lm.rt.free(s));
  return { trace: out, counters };
}

describe('batched decode: B sequences in one step = each alone', () => {
  it.each([
    ['f32', 2, 2e-6],
    ['f32', 4, 2e-6],
    ['f16', 3, 2e-3],
  ] as const)('%s, B = %i: top-k ids equal, logits within rel-L2 %s', async (dtype, B, tol) => {
    const lm = await load(dtype);
    expect(lm.rt.maxBatch).toBe(4);
    const a = await alone(lm, B);
    const { trace: t, counters: c } = await batched(lm, B);
    let exact = true;
    for (let b = 0; b < B; b++) {
      for (let i = 0; i < STEPS; i++) {
        const [x, y] = [t[b][i], a[b][i]];
        const label = `${dtype} B=${B} sequence ${b} step ${i}`;
        expect(Array.from(x.top.ids), `${label}: top-k ids`).toEqual(Array.from(y.top.ids));
        expectClose(x.logits, y.logits, { relL2: tol, label: `${label}: logits` });
        expectClose(x.top.values, y.top.values, { relL2: tol, label: `${label}: top-k values` });
        exact &&= x.logits.every((v, j) => Object.is(v, y.logits[j]));
      }
    }
    console.log(`[batch-decode] ${dtype} B=${B}: ${exact ? 'bit-identical' : 'within tolerance'}; per batched step: ${c.dispatches / STEPS} dispatches (one sequence's step: ${lm.rt.decodePlan.length})`);
    // One submit and one readback a step for all B sequences (the top-k records), plus the logits this test reads.
    expect(c.readbacks).toBe(STEPS * 2);
    expect(c.submits).toBe(STEPS * 2);
  });

  it('refuses a sequence twice, more than maxBatch, a wrong row count', async () => {
    const lm = await load('f32');
    const d = lm.cfg.hidden;
    const seqs = Array.from({ length: 4 }, () => lm.rt.createSequence());
    for (const s of seqs) await lm.rt.prefill(s, lm.embedPrompt(prompts[0]));
    const rng = new SeededRng(1);
    const rows = (n: number) => Float32Array.from({ length: n * d }, () => rng.uniform(-0.5, 0.5));
    await expect(lm.rt.decodeBatch([seqs[0], seqs[0]], rows(2))).rejects.toThrow(/appears twice/);
    await expect(lm.rt.decodeBatch([...seqs, seqs[0]], rows(5))).rejects.toThrow(/maxBatch/);
    await expect(lm.rt.decodeBatch(seqs.slice(0, 2), rows(3))).rejects.toThrow(KvSequenceError);
    // Nothing moved: every sequence still at its prompt length.
    expect(seqs.map((s) => s.length)).toEqual(seqs.map(() => lm.embedPrompt(prompts[0]).length / d));
    seqs.forEach((s) => lm.rt.free(s));
  });
});

describe('LlmSteps: concurrent generations share batched decode steps', () => {
  /** Each prompt's tokens from `generate` with RAS sampling (its own seeded torch sampler), min/max length set. */
  const gen = (lm: CosyVoice3Lm, b: number) =>
    lm.generateAll(prompts[b % prompts.length], { sampler: new TorchSampler(new TorchGenerator(100 + b)), minLen: 6, maxLen: 10 + 3 * b });

  async function at(batchDecode: boolean, maxSeqs: number, n: number) {
    const lm = await lmFromDir(await testContext(), TINY_DIR, { maxPrefill: 64, maxContext: 128, kv: { pageSize: 3, maxSeqs }, batchDecode });
    const alone: number[][] = [];
    for (let b = 0; b < n; b++) alone.push(await gen(lm, b));
    const c0 = { ...lm.steps.counts };
    const together = await Promise.all(Array.from({ length: n }, (_, b) => gen(lm, b)));
    const c = lm.steps.counts;
    const decodeSteps = c.steps - c0.steps - (c.prefills - c0.prefills);
    const meanBatch = (c.decodeRows - c0.decodeRows) / decodeSteps;
    console.log(`[llm-steps] batch ${batchDecode}, ${n} generations on ${maxSeqs} slots: tokens ${alone.map((t) => t.length).join('/')}; ${decodeSteps} decode steps, mean batch ${meanBatch.toFixed(2)}`);
    together.forEach((t, b) => expect(t, `generation ${b} with the others vs alone`).toEqual(alone[b]));
    expect(lm.rt.kv.liveSequences).toBe(0);
    return meanBatch;
  }

  it('4 generations at once: the tokens each gives alone, decode steps batched', async () => {
    // 30 decode rows, the longest generation 12 steps: 2.5 is every step taking every live sequence.
    expect(await at(true, 4, 4)).toBeGreaterThanOrEqual(2.5);
  });

  it('6 generations on 2 KV slots: the last four wait for a slot, same tokens', async () => {
    expect(await at(true, 2, 6)).toBeGreaterThan(1.5);
  });

  it('batchDecode false: one sequence a step, same tokens', async () => {
    expect(await at(false, 4, 4)).toBe(1);
  });
});
