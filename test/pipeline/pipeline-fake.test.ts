/**
 * The pipeline's plumbing (modes, streaming schedule, mel accumulation, sample offsets, silent-token filter,
 * errors) over fake CPU models that obey upstream's causality contract: the flow's frame t depends on tokens up
 * to t/2 only, and a non-final HiFT call on T frames returns the first 480·(T−8) samples of the final output.
 */
import { describe, expect, it } from 'vitest';
import { argmaxSampler } from '../../src/sampling/index.js';
import type { FlowCall, FlowPort, HiftPort, LlmInput, LlmPort } from '../../src/pipeline/ports.js';
import { CosyVoicePipeline, EmptyTextError, SpeakerMismatchError, type PipelineModels } from '../../src/pipeline/tts.js';
import type { SpeakerPrompt } from '../../src/pipeline/types.js';
import { SyntheticTextFrontend } from '../../src/pipeline/text-frontends.js';

const BINS = 4;

function fakeModels(tokens: number[], seen: LlmInput[] = [], flowCalls: FlowCall[] = []): PipelineModels {
  const llm: LlmPort = {
    speechTokenSize: 100,
    textVocabSize: 200,
    async *generate(input) {
      seen.push(input);
      for (const t of tokens) yield t;
    },
  };
  const flow: FlowPort = {
    tokenMelRatio: 2,
    preLookaheadLen: 3,
    melBins: BINS,
    async inference(call) {
      flowCalls.push(call);
      const n = call.finalize ? call.tokens.length : call.tokens.length - 3;
      const frames = 2 * n;
      const mel = new Float32Array(BINS * frames);
      for (let b = 0; b < BINS; b++) for (let f = 0; f < frames; f++) mel[b * frames + f] = call.tokens[f >> 1] * 0.01 + b;
      return { mel, frames };
    },
  };
  const hift: HiftPort = {
    sampleRate: 24000,
    hopSamples: 480,
    async inference(mel, frames, finalize) {
      const n = 480 * (finalize ? frames : frames - 8);
      const out = new Float32Array(Math.max(0, n));
      for (let i = 0; i < out.length; i++) out[i] = mel[Math.floor(i / 480)] + i * 1e-6;
      return out;
    },
  };
  return { llm, flow, hift, speakerEmbedDim: 3, text: new SyntheticTextFrontend(200) };
}

const speaker = (P: number): SpeakerPrompt => ({
  promptTokens: Int32Array.from({ length: P }, (_, i) => i % 100),
  embedding: new Float32Array(3),
  promptMel: new Float32Array(2 * P * BINS),
  promptText: 'ab',
});

describe('pipeline over fake models', () => {
  it.each([0, 13, 25, 87])('stream chunks concatenate to the offline waveform (P=%i prompt tokens)', async (P) => {
    const toks = Array.from({ length: 130 }, (_, i) => 30 + (i * 7) % 60);
    const pipe = new CosyVoicePipeline(fakeModels(toks));
    const chunks: Float32Array[] = [];
    const gen = pipe.stream('hello', speaker(P), { sampler: argmaxSampler });
    let r = await gen.next();
    while (!r.done) {
      chunks.push(r.value);
      r = await gen.next();
    }
    const streamed = Float32Array.from(chunks.flatMap((c) => [...c]));
    const offline = (await pipe.synthesize('hello', speaker(P), { sampler: argmaxSampler })).pcm;
    expect(streamed.length).toBe(960 * 130);
    expect(offline.length).toBe(960 * 130);
    expect(streamed).toEqual(offline);
    expect(chunks.length).toBeGreaterThan(2);
    // First chunk: 28 + pad tokens → 480·(2·(25+pad) − 8) samples (spec §6 latency table).
    const pad = (25 - (P % 25)) % 25;
    expect(chunks[0].length).toBe(480 * (2 * (25 + pad) - 8));
    expect(r.value.tokens).toBe(130);
    expect(r.value.ttfaMs).toBeGreaterThanOrEqual(0);
  });

  it('zero-shot feeds prompt text and prompt speech; cross-lingual and instruct do not feed prompt speech', async () => {
    const seen: LlmInput[] = [];
    const pipe = new CosyVoicePipeline(fakeModels([40, 41, 42, 43, 44], seen));
    await pipe.synthesize('xyz', speaker(4), { sampler: argmaxSampler });
    await pipe.synthesize('xyz', speaker(4), { sampler: argmaxSampler, mode: 'cross-lingual' });
    await pipe.synthesize('xyz', speaker(4), { sampler: argmaxSampler, mode: 'instruct', instruct: 'q' });
    expect(seen[0].textIds.length).toBe(5);
    expect(seen[0].targetTextTokens).toBe(3);
    expect(seen[0].promptSpeechTokens.length).toBe(4);
    expect(seen[1].textIds.length).toBe(3);
    expect(seen[1].promptSpeechTokens.length).toBe(0);
    expect(seen[2].textIds.length).toBe(4);
    expect(seen[2].promptSpeechTokens.length).toBe(0);
  });

  it('drops silent tokens after 5 in a row before the flow', async () => {
    const calls: FlowCall[] = [];
    const pipe = new CosyVoicePipeline(fakeModels([50, 1, 1, 2, 28, 29, 55, 1, 60, 1], [], calls));
    const { pcm, stats } = await pipe.synthesize('a', speaker(0), { sampler: argmaxSampler });
    expect([...calls[0].tokens]).toEqual([50, 1, 1, 2, 28, 29, 60, 1]);
    expect(stats.tokens).toBe(10);
    expect(pcm.length).toBe(960 * 8);
  });

  it('streamTokens (voice conversion) gives every token to the flow: upstream filters silent runs in llm_job, not vc_job', async () => {
    const calls: FlowCall[] = [];
    const pipe = new CosyVoicePipeline(fakeModels([], [], calls));
    const tokens = [50, 1, 1, 2, 28, 29, 55, 1, 60, 1];
    const chunks: Float32Array[] = [];
    const gen = pipe.streamTokens(Int32Array.from(tokens), speaker(0), { streaming: false });
    let r = await gen.next();
    for (; !r.done; r = await gen.next()) chunks.push(r.value);
    expect([...calls[0].tokens]).toEqual(tokens);
    expect(chunks.length).toBe(1);
    expect(chunks[0].length).toBe(960 * tokens.length);
    expect(r.value.tokens).toBe(tokens.length);
  });

  it('rejects empty text and mismatched speakers with typed errors', async () => {
    const pipe = new CosyVoicePipeline(fakeModels([1]));
    await expect(pipe.synthesize('  ', speaker(2))).rejects.toThrow(EmptyTextError);
    await expect(pipe.synthesize('a', { ...speaker(2), embedding: new Float32Array(192) })).rejects.toThrow(/expects 3/);
    await expect(pipe.synthesize('a', { ...speaker(2), promptMel: new Float32Array(5) })).rejects.toThrow(SpeakerMismatchError);
    await expect(pipe.synthesize('a', { ...speaker(2), promptTokens: Int32Array.from([5, 700]) })).rejects.toThrow(/700/);
  });
});

describe('pipeline cancellation', () => {
  it('an aborted or abandoned stream closes the LLM generator (its KV sequence is freed)', async () => {
    for (const how of ['signal', 'return'] as const) {
      let closed = false;
      const models = fakeModels([]);
      models.llm.generate = async function* () {
        try {
          for (let i = 0; i < 1000; i++) yield 30 + (i % 50);
        } finally {
          closed = true;
        }
      };
      const ac = new AbortController();
      const gen = new CosyVoicePipeline(models).stream('hello', speaker(0), { sampler: argmaxSampler, signal: ac.signal });
      await gen.next();
      if (how === 'signal') {
        ac.abort();
        for (let r = await gen.next(); !r.done; r = await gen.next());
      } else await gen.return(undefined as never);
      expect(closed, how).toBe(true);
    }
  });
});
