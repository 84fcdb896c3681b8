/**
 * Prompts fed in parts (LlmSteps prefillChunk, Qwen2Runtime.prefillPart) on the tiny official checkpoint, f32:
 *  - a new sequence's prompt is fed 8 rows a step while another sequence decodes: that sequence's decode steps
 *    run between the parts (it does not wait for the whole prompt), and the new sequence's last-row logits and
 *    both sequences' decode logits are bit-identical to each run alone with the same parts;
 *  - fed in parts or at once, the logits agree within float32 rounding (rel-L2 1e-5) with the same top ids;
 *  - a part count per prompt of ⌈M / 8⌉ − 1; a chunk outside [1, maxPrefill] is refused, as is a bad
 *    `--prefill-chunk`.
 */
import { describe, expect, it } from 'vitest';
import { lmFromDir } from '../../src/models/llm/from-dir.js';
import type { CosyVoice3Lm, LlmPrompt } from '../../src/models/llm/cosyvoice3-lm.js';
import type { StepResult } from '../../src/models/qwen2/forward.js';
import { LlmSteps } from '../../src/models/qwen2/steps.js';
import { modelOptions } from '../../src/cli/commands/synth.js';
import { readFixtureSet, TINY_DIR } from '../helpers/fixtures.js';
import { testContext } from '../helpers/gpu.js';

const set = readFixtureSet('llm_greedy', 0);
const ints = (t: { data: Float64Array }) => Array.from(t.data);
const base: LlmPrompt = { promptText: ints(set.inputs[0]), text: ints(set.inputs[1]), promptSpeech: ints(set.inputs[2]) };
const longer: LlmPrompt = { ...base, promptSpeech: [...Array.from(base.promptSpeech), 64, 2, 90, 11, 5, 5, 8, 13, 21, 34, 55, 89] };
const CHUNK = 8;
const STEPS = 10;

async function load(prefillChunk?: number): Promise<CosyVoice3Lm> {
  return lmFromDir(await testContext(), TINY_DIR, { maxPrefill: 64, maxContext: 160, kv: { pageSize: 3, maxSeqs: 4 }, prefillChunk });
}

const feed = (i: number) => (13 * i + 5) % 97;
const keep = (r: StepResult, logits: () => Promise<Float32Array>) => logits().then((l) => ({ ids: Array.from(r.ids), logits: l.slice() }));

/** Sequence A decodes STEPS tokens; B's prompt arrives after A's second step (or runs alone). */
async function run(lm: CosyVoice3Lm, which: 'both' | 'A' | 'B'): Promise<{ a: Float32Array[]; b?: { ids: number[]; logits: Float32Array }; events: string[] }> {
  const events: string[] = [];
  const a: Float32Array[] = [];
  let bDone: Promise<{ ids: number[]; logits: Float32Array }> | undefined;
  const startB = () => {
    const seq = lm.rt.createSequence();
    events.push('B start');
    bDone = lm.steps.prefill(seq, lm.embedPrompt(longer), keep).then((r) => (events.push('B prefilled'), r));
  };
  if (which === 'B') startB();
  else {
    const seq = lm.rt.createSequence();
    await lm.steps.prefill(seq, lm.embedPrompt(base), () => undefined);
    for (let i = 0; i < STEPS; i++) {
      if (i === 2 && which === 'both') startB();
      a.push((await lm.steps.decode(seq, lm.speechRow(feed(i)), keep)).logits);
      events.push('A');
    }
  }
  return { a, b: await bDone, events };
}

function sameBits(x: Float32Array, y: Float32Array, what: string): void {
  expect(x.length, what).toBe(y.length);
  const i = x.findIndex((v, j) => !Object.is(v, y[j]));
  if (i >= 0) throw new Error(`${what}: first differing logit [${i}] ${x[i]} vs ${y[i]}`);
}

describe('prefill in parts (prefillChunk)', () => {
  it('the running sequence decodes between the parts of a new prompt; every logit as each alone with the same parts', async () => {
    const lm = await load(CHUNK);
    const M = lm.embedPrompt(longer).length / lm.cfg.hidden;
    expect(M).toBeGreaterThan(3 * CHUNK);
    const both = await run(lm, 'both');
    // Parts before each prompt's last: A's prompt's and B's.
    const Ma = lm.embedPrompt(base).length / lm.cfg.hidden;
    expect(lm.steps.counts.prefillParts).toBe(Math.ceil(Ma / CHUNK) - 1 + Math.ceil(M / CHUNK) - 1);
    // A's decode steps between B's start and its last part: A did not wait for the whole prompt.
    const between = both.events.slice(both.events.indexOf('B start'), both.events.indexOf('B prefilled')).filter((e) => e === 'A').length;
    expect(between, `events: ${both.events.join(', ')}`).toBeGreaterThanOrEqual(2);
    const aloneA = await run(await load(CHUNK), 'A');
    const aloneB = await run(await load(CHUNK), 'B');
    both.a.forEach((l, i) => sameBits(l, aloneA.a[i], `A step ${i}`));
    sameBits(both.b!.logits, aloneB.b!.logits, 'B prompt, last row');
    // At once (one part of M ≤ maxPrefill rows): the same within float32 rounding.
    const whole = await run(await load(), 'B');
    let num = 0, den = 0;
    whole.b!.logits.forEach((v, i) => {
      num += (v - aloneB.b!.logits[i]) ** 2;
      den += v * v;
    });
    expect(Math.sqrt(num / den)).toBeLessThan(1e-5);
    expect(aloneB.b!.ids.slice(0, 5)).toEqual(whole.b!.ids.slice(0, 5));
  }, 120_000);

  it('refuses a chunk outside [1, maxPrefill]; synth/serve --prefill-chunk is checked the same way', async () => {
    const lm = await load();
    for (const c of [0, 65, 2.5]) expect(() => new LlmSteps(lm.rt, { prefillChunk: c })).toThrow(/prefillChunk/);
    expect(modelOptions({ 'prefill-chunk': '32' }).prefillChunk).toBe(32);
    for (const c of ['0', '300', 'x']) expect(() => modelOptions({ 'prefill-chunk': c })).toThrow(/--prefill-chunk/);
  });
});
