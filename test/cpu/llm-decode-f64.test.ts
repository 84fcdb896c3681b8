/**
 * The whole official decode loop on the CPU: a float64 reference of the tiny LLM (qwen2-f64.ts) drives
 * SpeechTokenDecoder, reproducing `llm_greedy` (34 tokens + stop) and all 52 tokens of `llm_ras_argmax` (several
 * repetition redraws), through both the full-row and the top-k readback sampling paths.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { readFixtureSet, readManifest } from '../helpers/fixtures.js';
import { SpeechTokenDecoder, argmax, argmaxSampler, logSoftmax, rasShouldRedraw, COSYVOICE3_RAS, nucleusSampling, topKCandidates } from '../../src/sampling/index.js';
import { loadTinyLm, type TinyLm } from './qwen2-f64.js';

const manifest = readManifest();
const S: number = manifest.special_tokens.speech_token_size;
let lm: TinyLm;

function prefill(setName: string): { inputs: Float64Array[]; targetTextTokens: number } {
  const [promptText, text, promptSpeech] = readFixtureSet(setName, 0).inputs;
  const inputs = [
    lm.speechEmbedding(S), // sos
    ...Array.from(promptText.data, (id) => lm.textEmbedding(id)),
    ...Array.from(text.data, (id) => lm.textEmbedding(id)),
    lm.speechEmbedding(S + 2), // task_id
    ...Array.from(promptSpeech.data, (id) => lm.speechEmbedding(id)),
  ];
  return { inputs, targetTextTokens: text.dims[1] };
}

beforeAll(async () => {
  lm = await loadTinyLm();
});

describe('CPU float64 LLM reference + sampling decode loop', () => {
  it('the reference reproduces the teacher-forced logits of the prefill step', () => {
    const { inputs } = prefill('llm_teacher_forced');
    const got = lm.lastLogits(inputs);
    const tf = readFixtureSet('llm_teacher_forced', 0).outputs[2];
    const V = tf.dims[2];
    const row = (tf.raw as Float32Array).subarray((inputs.length - 1) * V, inputs.length * V);
    let num = 0, den = 0;
    for (let i = 0; i < V; i++) {
      num += (got[i] - row[i]) ** 2;
      den += row[i] ** 2;
    }
    console.log(`f64 reference vs teacher-forced prefill logits: rel-L2 ${Math.sqrt(num / den).toExponential(2)}`);
    expect(Math.sqrt(num / den)).toBeLessThan(1e-5);
  });

  it('llm_greedy: 34 tokens then stop token', () => {
    const { inputs, targetTextTokens } = prefill('llm_greedy');
    const dec = new SpeechTokenDecoder({ speechTokenSize: S, targetTextTokens }, argmaxSampler);
    let last;
    do {
      const logp = logSoftmax(lm.lastLogits(inputs));
      if (dec.ignoreEos) logp[S] = -Infinity;
      last = dec.accept(argmax(logp));
      if (!last.stop) inputs.push(lm.speechEmbedding(last.token));
    } while (!last.stop && !dec.done);
    expect(dec.outTokens).toEqual(manifest.llm_generation.greedy_tokens);
    expect(last.token).toBe(manifest.llm_generation.greedy_stop_token);
  });

  it.each(['full row', 'top-k readback'] as const)('llm_ras_argmax: all tokens via the %s path', async (path) => {
    const { inputs, targetTextTokens } = prefill('llm_ras_argmax');
    const expected = Array.from(readFixtureSet('llm_ras_argmax', 0).outputs[0].data);
    const dec = new SpeechTokenDecoder({ speechTokenSize: S, targetTextTokens }, argmaxSampler);
    let redraws = 0;
    let fetches = 0;
    let last;
    do {
      const logits = lm.lastLogits(inputs);
      const logp = logSoftmax(logits);
      if (dec.ignoreEos) logp[S] = -Infinity;
      if (rasShouldRedraw(dec.outTokens, nucleusSampling(logp, COSYVOICE3_RAS, argmaxSampler), COSYVOICE3_RAS)) redraws++;
      last = path === 'full row'
        ? dec.next(logits)
        : await dec.nextTopK(topKCandidates(logits, COSYVOICE3_RAS.topK + 1, S), () => (fetches++, logits));
      if (!last.stop) inputs.push(lm.speechEmbedding(last.token));
    } while (!last.stop && !dec.done);
    console.log(`ras argmax (${path}): ${dec.outTokens.length} tokens, ${redraws} repetition redraws, stop ${last.token} (${last.reason}), full-row fetches ${fetches}`);
    expect(dec.outTokens).toEqual(expected);
    expect(last.stop).toBe(true);
    if (path === 'top-k readback') expect(fetches).toBe(redraws);
  });
});
