/**
 * The WebGPU flow's streaming prefix cache (src/models/flow/prefix-cache.ts, FlowModel.planPrefix): a streaming
 * call served partly from the cache returns the bits of the same call on a model without the cache, on the official
 * tiny flow weights, with both kernel families (the GPU tiled attention and the CPU adapters' 3-pass attention);
 * the cache serves only frames whose inputs are the kept ones' (whole chunks), and a non-streaming call leaves it.
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadPt, readHyperYaml } from '../../loader/node.js';
import { FlowModel, type FlowInferenceCall } from '../../src/models/flow/forward.js';
import { GpuContext } from '../../src/gpu/context.js';
import { syntheticSpeaker } from '../../src/pipeline/speaker.js';
import { createWebGpuPipeline, type GpuFlowPort } from '../../src/pipeline/webgpu.js';
import { argmaxSampler } from '../../src/sampling/index.js';
import { expectSameBits } from '../helpers/compare.js';
import { TINY_DIR, tinyModelFiles } from '../helpers/fixtures.js';
import { testContext } from '../helpers/gpu.js';
import { SeededRng } from '../helpers/rng.js';
import { collect } from '../helpers/stream.js';

const MAX_FRAMES = 400;

async function load(kernels: 'gpu' | 'cpu', prefixCacheBytes: number): Promise<FlowModel> {
  const ctx = await testContext();
  const yaml = await readHyperYaml(join(TINY_DIR, 'cosyvoice3.yaml'));
  const store = await loadPt(join(TINY_DIR, 'flow.pt'));
  return FlowModel.load(ctx, { yaml, store, maxFrames: MAX_FRAMES, kernels, prefixCacheBytes });
}

const rng = new SeededRng(11);
const speech = Int32Array.from(rng.f32(200), (v) => Math.floor(Math.abs(v) * 1e4) % 100);
const prompt = Int32Array.from(rng.f32(30), (v) => Math.floor(Math.abs(v) * 1e4) % 100);
const promptMel = rng.f32(60 * 80); // [2P, mel], as the tokens' frames
const embedding = rng.f32(192);
const other = rng.f32(192);

/** A streaming call on the first n speech tokens (the last 3 are look-ahead unless final). */
function call(n: number, o: Partial<FlowInferenceCall> = {}): FlowInferenceCall {
  return { tokens: speech.slice(0, n), promptTokens: prompt, promptMel, embedding, streaming: true, finalize: false, ...o };
}

describe('WebGPU flow prefix cache: the same bits as solving every frame', () => {
  for (const kernels of ['gpu', 'cpu'] as const) {
    let plain: FlowModel;
    let cached: FlowModel;
    beforeAll(async () => {
      plain = await load(kernels, 0);
      // 5 MiB: 3 chunks at the tiny size (24 KB a frame: 10 steps · 2 blocks · 2 items · 128 floats + 11 · 80), after
      // the new rows' qkv scratch (2 · 400 · 192 floats, 0.6 MB); 4 MiB would leave 2 chunks.
      cached = await load(kernels, 5 << 20);
    });

    it(`streaming calls growing, changed, another speaker, a full-attention call between (${kernels} kernels)`, async () => {
      // [call, frames expected from the cache]; the prompt is 30 tokens = 60 frames, T = 2·(30 + n − 3).
      const plan: [string, FlowInferenceCall, number][] = [
        ['first chunk', call(28), 0], // T = 110: stores 100
        ['second chunk', call(53), 100], // T = 160: 100 served, stores 150
        ['third chunk', call(78), 150], // T = 210: stores 150 (capacity)
        ['fourth chunk', call(103), 150],
        ['a token of chunk 2 changed', call(103, { tokens: Int32Array.from(speech.slice(0, 103), (v, i) => (i === 25 ? (v + 1) % 100 : v)) }), 100],
        // Frame 100 = token 50 = speech token 20; its mu reads 3 look-ahead tokens, so speech token 23 cuts at 100.
        ['look-ahead token of frame 99 changed', call(103, { tokens: Int32Array.from(speech.slice(0, 103), (v, i) => (i === 22 ? (v + 1) % 100 : v)) }), 50],
        ['back to the first tokens', call(103), 50],
        ['another speaker', call(103, { embedding: other }), 0],
        ['the first speaker again', call(78), 0],
        ['full attention (final, not cached)', call(120, { streaming: false, finalize: true }), 0],
        ['after the full-attention call', call(103), 150],
        ['final call with the chunk mask', call(120, { finalize: true }), 150],
        ['prompt mel frame 55 changed', call(103, { promptMel: promptMel.map((v, i) => (i === 55 * 80 + 3 ? v + 1 : v)) }), 50],
      ];
      for (const [what, c, served] of plan) {
        const want = await plain.inference(c);
        const got = await cached.inference(c);
        expectSameBits(got.mel, want.mel, `${kernels}: ${what}`);
        expect(got.frames, what).toBe(want.frames);
        expect(cached.prefixServed.cached, `${what}: frames served from the cache`).toBe(served);
      }
      expect(cached.prefixFrames.capacity).toBe(150);
    });

    it(`the budget pays for the qkv scratch first (${kernels} kernels)`, async () => {
      expect((await load(kernels, 4 << 20)).prefixFrames.capacity).toBe(100);
      expect((await load(kernels, 600_000)).prefixFrames.capacity).toBe(0); // below the 614,400-byte scratch
    });
  }
});

describe('streaming synthesis on WebGPU with the flow prefix cache', () => {
  it('the same PCM bits as without it; prepareSpeaker and a second text with the same speaker reuse the prompt', async () => {
    const files = tinyModelFiles();
    const handle = (await testContext()).handle;
    const speaker = syntheticSpeaker(files, 3, 60); // 120 prompt frames: 100 of them in whole chunks before the look-ahead
    const opts = { sampler: argmaxSampler, forceTokens: 130 };
    const make = (flowCacheBytes?: number) => createWebGpuPipeline(new GpuContext(handle), files, { maxFrames: 400, flowCacheBytes });
    const off = await make(0);
    const on = await make();
    const flow = (on.models.flow as GpuFlowPort).flow;
    expect(await off.prepareSpeaker(speaker)).toBe(false);
    expect(await on.prepareSpeaker(speaker)).toBe(true);
    expect(flow.prefixFrames.held).toBe(100);
    expect(await on.prepareSpeaker(syntheticSpeaker(files, 3, 27))).toBe(false); // 48 frames: no whole chunk
    for (const [text, mask] of [['one two three', false], ['four five six seven', false], ['eight nine', true]] as const) {
      const o = { ...opts, finalChunkMask: mask };
      const want = await collect(off.stream(text, speaker, o));
      const served: number[] = [];
      const inference = flow.inference.bind(flow);
      flow.inference = async (c, t) => {
        const r = await inference(c, t);
        served.push(c.streaming ? flow.prefixServed.cached : -1);
        return r;
      };
      const got = await collect(on.stream(text, speaker, o));
      flow.inference = inference;
      console.log(`[flow prefix] ${text}${mask ? ' (final chunk masked)' : ''}: frames served per flow call ${served.join(', ')} (-1: full attention)`);
      expect(got.map((c) => c.length)).toEqual(want.map((c) => c.length));
      expect(want.length).toBeGreaterThan(2);
      got.forEach((c, i) => expectSameBits(c, want[i], `${text}: chunk ${i}`));
      // The first chunk takes the prompt's two whole chunks (prepared or kept by the text before), each later
      // streaming chunk everything before its last whole chunk; the full-attention last chunk nothing.
      expect(served[0]).toBe(100);
      expect(served[1]).toBeGreaterThan(100);
      if (mask) expect(served.at(-1)).toBeGreaterThan(served.at(-2)!);
      else expect(served.at(-1)).toBe(-1);
    }
    off.dispose();
    on.dispose();
  }, 300_000);
});
