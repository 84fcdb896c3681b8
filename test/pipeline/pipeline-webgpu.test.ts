/**
 * The WebGPU pipeline end to end on the tiny official checkpoints: the public streaming API reproduces
 * token2wav_offline and both token2wav_streaming chunks, and text → LLM → flow → HiFT runs through stream() and
 * synthesize() with consistent lengths.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { ModelFiles } from '../../src/pipeline/model-files.js';
import type { CosyVoicePipeline } from '../../src/pipeline/tts.js';
import type { SpeakerPrompt } from '../../src/pipeline/types.js';
import { createWebGpuPipeline } from '../../src/pipeline/webgpu.js';
import { argmaxSampler } from '../../src/sampling/index.js';
import { GpuContext } from '../../src/gpu/context.js';
import { expectClose } from '../helpers/compare.js';
import { collect } from '../helpers/stream.js';
import { readFixtureSet, streamingRequest, tinyModelFiles } from '../helpers/fixtures.js';
import { testContext } from '../helpers/gpu.js';
import { requestNodeDevice } from '../../src/gpu/node-device.js';

let files: ModelFiles;
const i32 = (d: ArrayLike<number>) => Int32Array.from(d as ArrayLike<number>, Number);

beforeAll(() => {
  files = tinyModelFiles();
});

async function pipeline(sine?: Float32Array): Promise<CosyVoicePipeline> {
  const shared = await testContext();
  // A context of its own (same device) so dispose() frees only this pipeline's buffers.
  return createWebGpuPipeline(new GpuContext(shared.handle), files, { maxFrames: 200, sineNoise: sine });
}

describe('WebGPU pipeline on the tiny official checkpoints', () => {
  it('token2wav_offline through streamTokens(streaming=false): rel-L2 ≤ 1e-3', async () => {
    const fx = readFixtureSet('token2wav_offline', 0);
    const [token, promptToken, promptFeat, embedding, , , sine] = fx.inputs;
    const speaker: SpeakerPrompt = { promptTokens: i32(promptToken.data), promptMel: Float32Array.from(promptFeat.data), embedding: Float32Array.from(embedding.data) };
    const pipe = await pipeline(Float32Array.from(sine.data));
    const pcm = (await collect(pipe.streamTokens(i32(token.data), speaker, { streaming: false })))[0];
    expectClose(pcm, fx.outputs[1].data, { relL2: 1e-3, label: 'token2wav_offline tts_speech (webgpu)' });
    pipe.dispose();
  });

  it('precompile (the default) compiles everything at load; lazy compiling gives the same PCM', async () => {
    const fx = readFixtureSet('token2wav_streaming', 1);
    const named = (name: string) => fx.inputs.find((t) => t.name === name)!;
    const speaker: SpeakerPrompt = {
      promptTokens: i32(named('prompt_token').data),
      promptMel: Float32Array.from(named('prompt_feat').data),
      embedding: Float32Array.from(named('embedding').data),
    };
    const [token, sine] = [named('token'), named('sine_noise')];
    const run = async (precompile: boolean) => {
      // A device of its own: the pipeline cache is per device, and earlier tests compiled most variants already.
      const ctx = new GpuContext(await requestNodeDevice());
      const pipe = await createWebGpuPipeline(ctx, files, { maxFrames: 200, sineNoise: Float32Array.from(sine.data), precompile });
      const atLoad = ctx.counters.pipelinesCreated;
      const pcm = await collect(pipe.streamTokens(i32(token.data), speaker, { streaming: true }));
      const during = ctx.counters.pipelinesCreated - atLoad;
      pipe.dispose();
      ctx.device.destroy(); // Dawn keeps a device's compiled pipelines until it is destroyed
      return { pcm, atLoad, during };
    };
    const eager = await run(true), lazy = await run(false);
    console.log(`[precompile] pipelines at load / during the first synthesis: precompile ${eager.atLoad} / ${eager.during}, lazy ${lazy.atLoad} / ${lazy.during}`);
    expect(eager.during).toBe(0);
    expect(lazy.during).toBeGreaterThan(0);
    expect(eager.pcm.length).toBe(lazy.pcm.length);
    eager.pcm.forEach((c, i) => expectClose(c, lazy.pcm[i], { atol: 0, label: `chunk ${i}: precompiled vs lazy` }));
  });

  it('token2wav_streaming: both chunks through the public streaming API', async () => {
    const req = streamingRequest();
    const pipe = await pipeline(req.sine);
    const chunks = await collect(pipe.streamTokens(req.tokens, req.speaker, { streaming: true, finalChunkMask: true }));
    expect(chunks.map((c) => c.length)).toEqual([20160, 8640]);
    // Chunk 1 is rendered from our own chunk-0 mel; see pipeline-ort.test.ts for why its bound is 2e-3.
    chunks.forEach((c, i) => expectClose(c, req.chunks[i], { relL2: i === 0 ? 1e-3 : 2e-3, label: `token2wav_streaming/${i} (webgpu)` }));
    pipe.dispose();
  });

  it('text → speech: stream() chunks equal synthesize({stream: true}); 960 samples per token; TTFA and RTF reported', async () => {
    const pipe = await pipeline();
    const speaker: SpeakerPrompt = {
      promptTokens: i32(readFixtureSet('token2wav_offline', 0).inputs[1].data),
      promptMel: Float32Array.from(readFixtureSet('token2wav_offline', 0).inputs[2].data),
      embedding: Float32Array.from(readFixtureSet('token2wav_offline', 0).inputs[3].data),
      promptText: 'hi',
    };
    const gen = pipe.stream('Hello there, this is a test.', speaker, { sampler: argmaxSampler, forceTokens: 40 });
    const chunks: Float32Array[] = [];
    let r = await gen.next();
    for (; !r.done; r = await gen.next()) chunks.push(r.value);
    const stats = r.value;
    console.log(`[pipeline] tiny webgpu stream: ${JSON.stringify(stats)}`);
    const total = chunks.reduce((n, c) => n + c.length, 0);
    expect(stats.tokens).toBe(40);
    expect(total).toBe(960 * 40);
    expect(chunks.length).toBeGreaterThan(1);
    expect(stats.ttfaMs).toBeGreaterThan(0);
    expect(stats.rtf).toBeGreaterThan(0);
    const again = await pipe.synthesize('Hello there, this is a test.', speaker, { sampler: argmaxSampler, forceTokens: 40, stream: true });
    expectClose(again.pcm, Float32Array.from(chunks.flatMap((c) => [...c])), { atol: 0, label: 'stream vs synthesize(stream)' });
    const offline = await pipe.synthesize('Hello there, this is a test.', speaker, { sampler: argmaxSampler, forceTokens: 40 });
    expect(offline.pcm.length).toBe(960 * 40);
    expect(offline.pcm.every((v) => Math.abs(v) <= 0.990001)).toBe(true);
    pipe.dispose();
  });
});
