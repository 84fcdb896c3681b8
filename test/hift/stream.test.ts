/**
 * HiftStream (src/models/hift/stream.ts): each chunk runs the vocoder on a window of its new frames plus the
 * trunk's reach, and must give the same bits as upstream's re-run on the whole mel so far (HiftGenerator.inference
 * on the prefix, itself checked against the fixture and the offline output in streaming.test.ts).
 *
 * Mel: the fixture's mel tiled to 190 frames plus seeded noise (so f0 moves between voiced and unvoiced); noise
 * table: src/pipeline/noise.ts. Schedules: the pipeline's (50, 100, then the rest, finalizing), and a ragged one
 * with a push that gives no samples, a one-frame push and an early finalize. Each push is compared with the re-run,
 * bit for bit; the window must be shorter than the mel for the later pushes. A stream whose reach is cut to 27
 * frames must differ (so the comparison can fail; 28 frames was found to be the least that gives the same bits
 * here, and the bound is 29).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { HiftConfig } from '../../src/models/hift/config.js';
import { HiftGenerator, HiftInputError } from '../../src/models/hift/forward.js';
import { HiftStream, trunkReachFrames } from '../../src/models/hift/stream.js';
import type { HiftWeights } from '../../src/models/hift/weights.js';
import { SineNoiseTable } from '../../src/pipeline/noise.js';
import { WasmEngine } from '../../src/pipeline/wasm-engine.js';
import { expectSameBits, firstBitDiff } from '../helpers/compare.js';
import { loadTinyHift, readFixtureSet, tinyModelFiles } from '../helpers/fixtures.js';
import { testContext } from '../helpers/gpu.js';
import { SeededRng } from '../helpers/rng.js';

const T = 190;
let cfg: HiftConfig;
let weights: HiftWeights;
let mel: Float32Array;

beforeAll(async () => {
  ({ cfg, weights } = await loadTinyHift());
  const fx = readFixtureSet('hift_inference', 0);
  const src = fx.inputs[0].raw as Float32Array;
  const t0 = fx.inputs[0].dims[2];
  const rng = new SeededRng(7);
  mel = new Float32Array(cfg.inChannels * T);
  for (let c = 0; c < cfg.inChannels; c++) for (let t = 0; t < T; t++) mel[c * T + t] = src[c * t0 + (t % t0)] + 0.5 * rng.normal();
});

/** Frames [a, b) of a [C, T] mel. */
function frames(m: Float32Array, a: number, b: number): Float32Array {
  const C = cfg.inChannels, n = b - a;
  const out = new Float32Array(C * n);
  for (let c = 0; c < C; c++) out.set(m.subarray(c * T + a, c * T + b), c * n);
  return out;
}

type Rerun = (mel: Float32Array, T: number, finalize: boolean) => Promise<Float32Array>;

/** Pushes `sizes` (the last finalizing) and checks each push against the re-run on the prefix; returns the windows. */
async function runSchedule(rerunOn: Rerun, stream: HiftStream, sizes: number[]): Promise<number[]> {
  const windows: number[] = [];
  let at = 0, emitted = 0;
  for (const [i, n] of sizes.entries()) {
    const finalize = i === sizes.length - 1;
    const got = await stream.push(frames(mel, at, at + n), n, finalize);
    at += n;
    const minFrames = finalize ? 1 : 9;
    const rerun = at >= minFrames ? await rerunOn(frames(mel, 0, at), at, finalize) : new Float32Array(0);
    expectSameBits(got, rerun.slice(emitted), `push ${i} (${n} frames, ${at} so far, finalize ${finalize})`);
    emitted = Math.max(emitted, rerun.length);
    expect(stream.samplesEmitted).toBe(emitted);
    windows.push(stream.lastWindowFrames);
  }
  return windows;
}

describe('HiftStream', () => {
  it('the reach bound at CosyVoice3 shapes is 29 frames', () => {
    expect(trunkReachFrames(cfg, weights)).toBe(29);
  });

  it('gives the re-run bits on every push of the pipeline schedule and a ragged one', { timeout: 300_000 }, async () => {
    const ctx = await testContext();
    const noise = new SineNoiseTable(cfg.harmonics).get(cfg.samplesPerFrame * T);
    const hift = new HiftGenerator(ctx, cfg, weights, { maxFrames: T, noise });
    const rerun: Rerun = async (m, n, fin) => (await hift.inference(m, n, fin)).speech;
    const a = await runSchedule(rerun, new HiftStream(hift), [50, 100, 40]);
    // 100 new frames + the 8 held back + 29 of reach, then 40 + 8 + 29.
    expect(a.slice(1)).toEqual([137, 77]);
    const b = await runSchedule(rerun, new HiftStream(hift), [5, 4, 1, 13, 47, 2, 60]);
    expect(b.at(-1)).toBeLessThan(132);
    hift.dispose();
  });

  it('the CPU fallback (WasmEngine.hiftStages over CpuHift) gives its own re-run bits', { timeout: 300_000 }, async () => {
    const engine = await WasmEngine.create(tinyModelFiles(), { threads: 1 });
    try {
      const table = new SineNoiseTable(cfg.harmonics);
      const rerun: Rerun = async (m, n, fin) => (await engine.hift(m, n, table.get(cfg.samplesPerFrame * n), fin)).speech;
      const a = await runSchedule(rerun, new HiftStream(engine.hiftStages((n) => table.get(n))), [50, 100, 40]);
      expect(a.slice(1)).toEqual([137, 77]);
    } finally {
      await engine.dispose();
    }
  });

  it('bad input is a HiftInputError: a mel of the wrong size, a push after finalize, rows or frames the plan cannot take', { timeout: 300_000 }, async () => {
    const ctx = await testContext();
    const noise = new SineNoiseTable(cfg.harmonics).get(cfg.samplesPerFrame * 60);
    const hift = new HiftGenerator(ctx, cfg, weights, { maxFrames: 60, noise });
    const stream = new HiftStream(hift);
    await expect(stream.push(new Float32Array(10), 5, false)).rejects.toThrow(/mel holds 10 values, \[80, 5\] expected/);
    await stream.push(frames(mel, 0, 20), 20, true);
    await expect(stream.push(frames(mel, 20, 21), 1, false)).rejects.toThrow(HiftInputError);
    const m = frames(mel, 0, 20);
    await expect(hift.synthesize(m, 20, true, { first: 0, rows: new Float32Array(19 * (cfg.harmonics + 1)) })).rejects.toThrow(/19 source rows for 20 f0 frames/);
    await expect(hift.synthesize(m, 20, true, { first: 41, rows: new Float32Array(20 * (cfg.harmonics + 1)) })).rejects.toThrow(/exceed the noise table's 60/);
    hift.dispose();
  });

  it('a reach of 27 frames changes the bits (28 is the least that keeps them)', { timeout: 300_000 }, async () => {
    const ctx = await testContext();
    const noise = new SineNoiseTable(cfg.harmonics).get(cfg.samplesPerFrame * T);
    const hift = new HiftGenerator(ctx, cfg, weights, { maxFrames: T, noise });
    const stream = new HiftStream(hift, { reach: 27 });
    await stream.push(frames(mel, 0, 100), 100, false);
    const got = await stream.push(frames(mel, 100, T), T - 100, true);
    const rerun = (await hift.inference(mel, T, true)).speech.slice(cfg.samplesPerFrame * 92);
    expect(got.length).toBe(rerun.length);
    expect(firstBitDiff(got, rerun)).toBeGreaterThanOrEqual(0);
    hift.dispose();
  });
});
