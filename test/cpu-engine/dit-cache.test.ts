/**
 * The CPU DiT's streaming prefix cache (src/models/cpu/dit-cache.ts): a call served partly from the cache returns
 * the bits of the same call with no cache, on the official tiny flow weights, on 1 and 2 threads; the cache is used
 * only where it may be (chunk mask on, no padding, leading rows equal bit for bit, whole chunks), and streaming
 * synthesis through createWasmPipeline gives the same PCM with and without it.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { CpuFlow } from '../../src/models/cpu/flow.js';
import type { EstimatorInputs } from '../../src/ort/engine.js';
import type { ModelFiles } from '../../src/pipeline/model-files.js';
import { syntheticSpeaker } from '../../src/pipeline/speaker.js';
import type { EngineFlowPort } from '../../src/pipeline/engine-ports.js';
import { createWasmPipeline } from '../../src/pipeline/wasm.js';
import type { WasmEngine } from '../../src/pipeline/wasm-engine.js';
import { argmaxSampler } from '../../src/sampling/index.js';
import { firstBitDiff } from '../helpers/compare.js';
import { tinyModelFiles } from '../helpers/fixtures.js';
import { SeededRng } from '../helpers/rng.js';
import { collect } from '../helpers/stream.js';

let files: ModelFiles;
beforeAll(() => {
  files = tinyModelFiles();
});

const MAX_T = 320;

/**
 * The CFG batch of the solve for the first T frames of fixed per-frame tables (so a longer call's leading rows
 * equal a shorter one's, as in streaming): item 0 conditioned, item 1 with zero mu, cond and spks.
 */
function inputs(T: number, t: number, opts: { streaming?: boolean; change?: number; mask?: number } = {}): EstimatorInputs {
  const C = 80;
  const frames = (seed: number) => {
    const table = new SeededRng(seed).f32(C * MAX_T);
    const out = new Float32Array(2 * C * T);
    for (let c = 0; c < C; c++) out.set(table.subarray(c * MAX_T, c * MAX_T + T), c * T);
    return out;
  };
  const x = frames(1);
  x.copyWithin(C * T, 0, C * T);
  const mu = frames(2).fill(0, C * T);
  const cond = frames(3).fill(0, C * T);
  if (opts.change !== undefined) mu[5 * T + opts.change] += 0.25;
  const mask = new Float32Array(2 * T).fill(1);
  if (opts.mask !== undefined) mask[opts.mask] = 0;
  const spks = new Float32Array(2 * C);
  spks.set(new SeededRng(4).f32(C));
  return { x, mu, cond, mask, spks, t: Float32Array.of(t, t), batch: 2, frames: T, streaming: opts.streaming ?? true };
}

/** Index and values of the first differing bit pattern, or null. */
function firstDiff(a: Float32Array, b: Float32Array): string | null {
  const i = firstBitDiff(a, b);
  return i < 0 ? null : a.length !== b.length ? `lengths ${a.length} vs ${b.length}` : `[${i}] ${a[i]} vs ${b[i]}`;
}

describe('CPU DiT prefix cache: the same bits as computing every frame', () => {
  for (const threads of [1, 2]) {
    it(`streaming calls at one t, growing, cut, served whole, and the calls it must not serve (${threads} thread(s))`, async () => {
      const on = await CpuFlow.create(files, { threads, cacheBytes: 256 << 20 });
      const off = await CpuFlow.create(files, { threads });
      const chunk = on.cfg.staticChunk;
      expect(chunk).toBe(50);
      const t = 0.3;
      // [call, frames served from the cache]
      const calls: [EstimatorInputs, number][] = [
        [inputs(130, t), 0], // caches frames 0 … 99
        [inputs(230, t), 100], // computes 100 … 229, caches up to 199
        [inputs(200, t), 200], // every frame from the cache
        [inputs(260, t, { change: 120 }), 100], // rows from 120 differ: chunk 2 on is recomputed
        [inputs(260, t, { change: 30 }), 0], // a row in chunk 0 differs: nothing is reused
        [inputs(310, t, { change: 30 }), 250], // … and the prefix now holds that call's rows
        [inputs(300, 0.7), 0], // another t: its own prefix
        [inputs(300, 0.7), 300],
        [inputs(300, t, { streaming: false }), 0], // full attention: every frame sees every other
        [inputs(300, t, { mask: 310 }), 0], // a padded frame (item 1, frame 10)
        [inputs(310, t), 0], // differs from the held rows at frame 30
      ];
      for (const [i, [a, served]] of calls.entries()) {
        const before = on.frameCounts.cached;
        const got = on.estimator(a);
        const want = off.estimator(a);
        expect(firstDiff(got, want), `call ${i} (T ${a.frames})`).toBeNull();
        expect(on.frameCounts.cached - before, `call ${i}: frames served`).toBe(served);
      }
      expect(on.cacheHeld).toBeGreaterThan(0);
      on.clearCache();
      expect(on.cacheHeld).toBe(0);
      on.dispose();
      off.dispose();
    }, 120_000);
  }

  it('a budget of two chunks caches two chunks, and still gives the same bits', async () => {
    const probe = await CpuFlow.create(files, { threads: 1, cacheBytes: 1 << 30 });
    probe.estimator(inputs(60, 0.5));
    const perFrame = probe.cacheHeld / 50; // one t, 50 frames cached (a fresh prefix reserves exactly what it stores)
    probe.dispose();
    const on = await CpuFlow.create(files, { threads: 1, cacheBytes: Math.ceil(perFrame * 10 * 100) });
    const off = await CpuFlow.create(files, { threads: 1 });
    for (const [T, served] of [[260, 0], [300, 100]] as const) {
      const before = on.frameCounts.cached;
      expect(firstDiff(on.estimator(inputs(T, 0.5)), off.estimator(inputs(T, 0.5)))).toBeNull();
      expect(on.frameCounts.cached - before).toBe(served);
    }
    on.dispose();
    off.dispose();
  }, 60_000);
});

describe('streaming synthesis on the CPU fallback with the DiT prefix cache', () => {
  it('the same PCM bits as without it; prepareSpeaker and a second text with the same speaker reuse the prompt', async () => {
    const speaker = syntheticSpeaker(files, 3, 60); // 120 prompt frames: 100 of them in whole chunks before the look-ahead
    const opts = { sampler: argmaxSampler, forceTokens: 130 };
    const off = await createWasmPipeline(files, { flowCacheBytes: 0 });
    const on = await createWasmPipeline(files);
    const engine = (on.models.flow as EngineFlowPort).e as WasmEngine;
    expect(await off.prepareSpeaker(speaker)).toBe(false);
    expect(await on.prepareSpeaker(speaker)).toBe(true);
    expect(engine.flowCache.held).toBeGreaterThan(0);
    expect(await on.prepareSpeaker(syntheticSpeaker(files, 3, 27))).toBe(false); // 48 frames: no whole chunk
    const served: number[] = [];
    for (const text of ['one two three', 'four five six seven']) {
      const before = engine.flowCache.cached;
      const want = await collect(off.stream(text, speaker, opts));
      const got = await collect(on.stream(text, speaker, opts));
      served.push(engine.flowCache.cached - before);
      expect(got.map((c) => c.length)).toEqual(want.map((c) => c.length));
      expect(want.length).toBeGreaterThan(2);
      got.forEach((c, i) => expect(firstDiff(c, want[i]), `${text}: chunk ${i}`).toBeNull());
    }
    console.log(`[dit cache] frames served from the cache: ${served.join(', ')} (×10 steps); held ${(engine.flowCache.held / 2 ** 20).toFixed(1)} MiB`);
    // Each text's first chunk reuses the prompt's two whole chunks at each of the 10 steps (prepared, then kept),
    // and its second chunk the first chunk's frames.
    for (const n of served) expect(n).toBeGreaterThanOrEqual(10 * 100 + 10 * 150);
    // With the chunk mask kept on the last chunk (finalChunkMask), the cache serves that chunk too: same bits.
    const masked = { ...opts, finalChunkMask: true };
    const before = engine.flowCache.cached;
    const want = await collect(off.stream('eight nine', speaker, masked));
    const got = await collect(on.stream('eight nine', speaker, masked));
    got.forEach((c, i) => expect(firstDiff(c, want[i]), `final chunk mask: chunk ${i}`).toBeNull());
    expect(got.length).toBe(want.length);
    expect(engine.flowCache.cached - before).toBeGreaterThan(served[1]);
    off.dispose();
    on.dispose();
  }, 300_000);
});
