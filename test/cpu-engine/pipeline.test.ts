/**
 * The CPU fallback end to end: every manifest tensor of the official tiny fixtures through `verify` on the WASM
 * engine (LLM, flow, HiFT, token2wav offline and streaming: the verify tolerances), the public streaming API on
 * it (createWasmPipeline) against token2wav_streaming, and text → speech on it against the WebGPU pipeline.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { GpuContext } from '../../src/gpu/context.js';
import type { ModelFiles } from '../../src/pipeline/model-files.js';
import type { SpeakerPrompt } from '../../src/pipeline/types.js';
import { createWasmPipeline } from '../../src/pipeline/wasm.js';
import { createWebGpuPipeline } from '../../src/pipeline/webgpu.js';
import { argmaxSampler } from '../../src/sampling/index.js';
import { expectClose } from '../helpers/compare.js';
import { readFixtureSet, streamingRequest, tinyModelFiles } from '../helpers/fixtures.js';
import { testContext } from '../helpers/gpu.js';
import { collect } from '../helpers/stream.js';
import { verifyKinds } from './helpers.js';

let files: ModelFiles;
const i32 = (d: ArrayLike<number>) => Int32Array.from(d as ArrayLike<number>, Number);

beforeAll(() => {
  files = tinyModelFiles();
});

describe('the CPU fallback (WASM engine) end to end', () => {
  it('verify: every manifest tensor of the tiny fixtures passes', async () => {
    const lines = await verifyKinds();
    expect(lines.at(-1)).toMatch(/^64 passed, 0 failed$/);
  }, 300_000);

  it('token2wav_streaming: both chunks through createWasmPipeline (bounds as on WebGPU: 1e-3, 2e-3)', async () => {
    const req = streamingRequest();
    const pipe = await createWasmPipeline(files, { sineNoise: req.sine });
    const chunks = await collect(pipe.streamTokens(req.tokens, req.speaker, { streaming: true, finalChunkMask: true }));
    expect(chunks.map((c) => c.length)).toEqual([20160, 8640]);
    // Chunk 1 is rendered from our own chunk-0 mel; see test/pipeline/pipeline-ort.test.ts for why its bound is 2e-3.
    chunks.forEach((c, i) => expectClose(c, req.chunks[i], { relL2: i === 0 ? 1e-3 : 2e-3, label: `token2wav_streaming/${i} (wasm)` }));
    pipe.dispose();
  }, 120_000);

  it('text → speech: the same tokens, chunks and PCM as the WebGPU pipeline (upstream RAS with argmax draws)', async () => {
    const fx = readFixtureSet('token2wav_offline', 0);
    const speaker: SpeakerPrompt = {
      promptTokens: i32(fx.inputs[1].data), promptMel: Float32Array.from(fx.inputs[2].data), embedding: Float32Array.from(fx.inputs[3].data), promptText: 'hi',
    };
    // No forced length: both engines run upstream's RAS decode to its own stop (a short text keeps max_len small).
    // (Forced lengths differ by design: the WebGPU port takes the best non-stop candidate, the engine ports sample.)
    const text = 'Hi there.';
    const opts = { sampler: argmaxSampler };
    const cpu = await createWasmPipeline(files);
    const cpuRun = await cpu.synthesize(text, speaker, { ...opts, stream: true });
    const cpuChunks = await collect(cpu.stream(text, speaker, opts));
    cpu.dispose();
    const gpu = await createWebGpuPipeline(new GpuContext((await testContext()).handle), files, { maxFrames: 200 });
    const gpuRun = await gpu.synthesize(text, speaker, { ...opts, stream: true });
    const gpuChunks = await collect(gpu.stream(text, speaker, opts));
    gpu.dispose();
    console.log(`[wasm] tiny text → speech: ${cpuRun.stats.tokens} tokens, ${cpuChunks.length} chunks; WebGPU ${gpuRun.stats.tokens} tokens`);
    expect(cpuRun.stats.tokens).toBe(gpuRun.stats.tokens);
    expect(cpuRun.stats.tokens).toBeGreaterThan(2);
    expect(cpuChunks.map((c) => c.length)).toEqual(gpuChunks.map((c) => c.length));
    expect(cpuChunks.reduce((n, c) => n + c.length, 0)).toBe(960 * cpuRun.stats.tokens);
    // Same tokens (else the lengths above would still agree but the audio would not); HiFT's phase integral
    // amplifies the engines' f32 rounding differences, as between the token2wav chunks above.
    cpuChunks.forEach((c, i) => expectClose(c, gpuChunks[i], { relL2: 2e-3, label: `chunk ${i}: wasm vs webgpu` }));
  }, 120_000);
});
