/**
 * Upstream-exact sampling against the official fixtures. The LLM logits come from `llm_teacher_forced` (every
 * position of prompt + greedy continuation) and `llm_incremental_kv`; the token sequences from `llm_greedy` and
 * `llm_ras_argmax` (multinomial replaced by argmax). The RAS sequence leaves the greedy path at step 13, so its
 * steps 0..13 are checked here from fixture logits (step 13 is a repetition redraw); the full 52-token run is in
 * llm-decode-f64.test.ts (CPU float64 LLM reference).
 */
import { describe, expect, it } from 'vitest';
import { readFixtureSet, readManifest } from '../helpers/fixtures.js';
import { SeededRng } from '../helpers/rng.js';
import { TorchGenerator } from '../../src/rng/index.js';
import {
  COSYVOICE3_RAS,
  InverseCdfSampler,
  SpeechTokenDecoder,
  TorchSampler,
  argmax,
  argmaxSampler,
  logSoftmax,
  nucleusKeep,
  nucleusSampling,
  sampleToken,
  sampleTokenTopK,
  topKCandidates,
  topKStable,
} from '../../src/sampling/index.js';

const manifest = readManifest();
const S: number = manifest.special_tokens.speech_token_size;
const tf = readFixtureSet('llm_teacher_forced', 0);
const [promptText, text, promptSpeech] = tf.inputs;
const logitsT = tf.outputs[2]; // [1, L, S+200]
const V = logitsT.dims[2];
const L0 = 2 + promptText.dims[1] + text.dims[1] + promptSpeech.dims[1];
/** Logits of decode step i on the greedy path (step 0 = prefill's last position). */
const stepLogits = (i: number) => (logitsT.raw as Float32Array).slice((L0 - 1 + i) * V, (L0 + i) * V);
const targetTextTokens = text.dims[1];

describe('llm_greedy / llm_incremental_kv: argmax with the ignore_eos mask and stop rules', () => {
  it('reproduces the 34 greedy tokens and the stop at step 34 from teacher-forced logits', () => {
    const greedy = readFixtureSet('llm_greedy', 0);
    const expected = Array.from(greedy.outputs[0].data);
    const dec = new SpeechTokenDecoder({ speechTokenSize: S, targetTextTokens }, argmaxSampler);
    expect(dec.limits).toEqual({ minLen: manifest.llm_generation.min_len, maxLen: manifest.llm_generation.max_len });
    const d2 = dec;
    let last = { token: -1, stop: false } as ReturnType<typeof dec.accept>;
    let i = 0;
    for (; !d2.done; i++) {
      const logp = logSoftmax(stepLogits(i));
      if (d2.ignoreEos) logp[S] = -Infinity; // upstream masks S (= sos), not eos
      last = d2.accept(argmax(logp));
      if (last.stop) break;
    }
    console.log(`greedy: ${d2.outTokens.length} tokens, stopped at step ${i} by ${last.reason} (id ${last.token})`);
    expect(d2.outTokens).toEqual(expected);
    expect(last).toEqual({ token: manifest.llm_generation.greedy_stop_token, stop: true, reason: 'stop_token' });
    // The fixture's last-step logits are the teacher-forced row of the stop step.
    const lastRow = greedy.outputs[1].raw as Float32Array;
    const row = stepLogits(i);
    let maxAbs = 0;
    for (let k = 0; k < V; k++) maxAbs = Math.max(maxAbs, Math.abs(row[k] - lastRow[k]));
    expect(maxAbs).toBeLessThan(1e-4);
  });

  it('incremental-KV step tokens equal argmax of the masked step log-probs', () => {
    const kv = readFixtureSet('llm_incremental_kv', 0);
    const [stepLogitsKV, stepLogp, stepTokens] = kv.outputs;
    const K = stepLogitsKV.dims[0];
    for (let i = 0; i < K; i++) {
      const logp = logSoftmax((stepLogitsKV.raw as Float32Array).subarray(i * V, (i + 1) * V));
      const ref = (stepLogp.raw as Float32Array).subarray(i * V, (i + 1) * V);
      for (let k = 0; k < V; k++) expect(Math.abs(logp[k] - ref[k])).toBeLessThan(2e-6);
      logp[S] = -Infinity;
      expect(argmax(logp)).toBe(stepTokens.data[i]);
    }
  });
});

describe('llm_ras_argmax: ras_sampling with multinomial → argmax', () => {
  const expected: number[] = manifest.llm_generation.ras_argmax_tokens;
  const greedy: number[] = manifest.llm_generation.greedy_tokens;
  let shared = 0;
  while (expected[shared] === greedy[shared]) shared++;

  it(`reproduces the first ${shared + 1} tokens (shared prefix + the first repetition redraw)`, () => {
    const outFixture = readFixtureSet('llm_ras_argmax', 0).outputs[0];
    expect(Array.from(outFixture.data)).toEqual(expected);
    const dec = new SpeechTokenDecoder({ speechTokenSize: S, targetTextTokens }, argmaxSampler);
    for (let i = 0; i <= shared; i++) {
      const r = dec.next(stepLogits(i));
      expect(r.stop).toBe(false);
    }
    console.log(`ras argmax: steps 0..${shared} → ${dec.outTokens.join(',')}`);
    expect(dec.outTokens).toEqual(expected.slice(0, shared + 1));
    // Step `shared` is where the nucleus pick (the greedy token) repeats and the full-distribution redraw fires.
    const logp = logSoftmax(stepLogits(shared));
    expect(nucleusSampling(logp, COSYVOICE3_RAS, argmaxSampler)).toBe(greedy[shared]);
    expect(dec.outTokens[shared]).not.toBe(greedy[shared]);
  });

  it('the top-k readback variant gives the same tokens and fetches the full row only for the redraw', async () => {
    const dec = new SpeechTokenDecoder({ speechTokenSize: S, targetTextTokens }, argmaxSampler);
    let fetches = 0;
    for (let i = 0; i <= shared; i++) {
      const row = stepLogits(i);
      await dec.nextTopK(topKCandidates(row, COSYVOICE3_RAS.topK + 1, S), () => {
        fetches++;
        return row;
      });
    }
    expect(dec.outTokens).toEqual(expected.slice(0, shared + 1));
    expect(fetches).toBe(1);
  });
});

describe('sampling rules on synthetic inputs', () => {
  it('nucleus keeps the element that crosses top_p and at most top_k', () => {
    expect(nucleusKeep([0.5, 0.2, 0.2, 0.1], COSYVOICE3_RAS)).toBe(3); // 0.5, 0.7 < 0.8 → keep third
    expect(nucleusKeep([0.8, 0.2], COSYVOICE3_RAS)).toBe(1);
    expect(nucleusKeep(new Array(40).fill(0.025), COSYVOICE3_RAS)).toBe(25);
    expect(nucleusKeep([0.3, 0.3], COSYVOICE3_RAS)).toBe(-1); // ran out of candidates
  });

  it('stable descending order: equal probabilities keep increasing id order', () => {
    expect(topKStable([0.1, 0.3, 0.3, 0.2, 0.3], 4)).toEqual({ ids: [1, 2, 4, 3], probs: [0.3, 0.3, 0.3, 0.2] });
  });

  it('ignore_eos masks index S (sos), not S+1 (eos)', () => {
    const logits = new Float32Array(S + 200).fill(-10);
    logits[S] = 10;
    logits[S + 1] = 9;
    const id = sampleToken(logits, [], { speechTokenSize: S, ignoreEos: true }, argmaxSampler);
    expect(id).toBe(S + 1);
  });

  it('decoder stops on any id ≥ S and at max_len', () => {
    const d = new SpeechTokenDecoder({ speechTokenSize: S, targetTextTokens: 1 }, argmaxSampler);
    expect(d.limits).toEqual({ minLen: 2, maxLen: 20 });
    expect(d.accept(S + 150)).toEqual({ token: S + 150, stop: true, reason: 'stop_token' });
    expect(() => d.accept(3)).toThrow(/already finished/);
    const d2 = new SpeechTokenDecoder({ speechTokenSize: S, targetTextTokens: 1 }, argmaxSampler);
    for (let i = 0; i < 19; i++) expect(d2.accept(i % S).stop).toBe(false);
    expect(d2.accept(7)).toEqual({ token: 7, stop: false, reason: 'max_len' });
    expect(d2.done).toBe(true);
  });

  it('repetition redraw uses the full distribution with the repeated id removed', () => {
    const logits = new Float32Array(S + 200).fill(-20);
    logits[5] = 5;
    logits[S + 1] = 4; // eos reachable only through the redraw
    const id = sampleToken(logits, [1, 2, 5], { speechTokenSize: S, ignoreEos: false }, argmaxSampler);
    expect(id).toBe(S + 1);
    expect(sampleToken(logits, [5, ...new Array(10).fill(1)], { speechTokenSize: S, ignoreEos: false }, argmaxSampler)).toBe(5);
  });

  it('full-row and top-k paths agree under random draws (torch multinomial, same RNG consumption)', async () => {
    const rng = new SeededRng(11);
    const ga = new TorchGenerator(99), gb = new TorchGenerator(99);
    const sa = new TorchSampler(ga), sb = new TorchSampler(gb);
    const hist: number[] = [];
    for (let step = 0; step < 200; step++) {
      const logits = Float32Array.from({ length: S + 200 }, () => rng.normal() * 3);
      const opts = { speechTokenSize: S, ignoreEos: step % 3 === 0 };
      const a = sampleToken(logits, hist, opts, sa);
      const b = await sampleTokenTopK(topKCandidates(logits, 26, S), hist, opts, sb, () => logits);
      expect(b).toBe(a);
      hist.push(a % S);
    }
    expect(ga.random()).toBe(gb.random());
  });

  it('top-k path falls back to the full row when the masked index holds nearly all the mass', async () => {
    const logits = new Float32Array(S + 200).fill(-30);
    logits[S] = 20; // sos dominates; masked while ignore_eos
    logits[7] = 0;
    logits[9] = -1;
    let fetched = 0;
    const opts = { speechTokenSize: S, ignoreEos: true };
    const id = await sampleTokenTopK(topKCandidates(logits, 26, S), [], opts, argmaxSampler, () => (fetched++, logits));
    expect(id).toBe(7);
    expect(fetched).toBe(1);
    expect(id).toBe(sampleToken(logits, [], opts, argmaxSampler));
  });

  it('InverseCdfSampler maps uniforms through the kept probabilities', () => {
    const s = new InverseCdfSampler([0.0, 0.55, 0.99]);
    const p = new Float32Array([0.5, 0, 0.5]);
    expect([s.multinomial(p), s.multinomial(p), s.multinomial(p)]).toEqual([0, 2, 2]);
  });
});
