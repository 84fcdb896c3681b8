/**
 * Upstream's speed argument (src/pipeline/speed.ts): the offline mel resampled to int(T / speed) frames before HiFT.
 * - resampleMel against a float64 reference of F.interpolate(linear, align_corners=False) at the exact source
 *   position, and against the WebGPU kernel (shaders/interpolate.wgsl), on seeded mels;
 * - through the WebGPU pipeline on the tiny checkpoints: 480·int(2N / speed) samples, the same bits as HiFT on the
 *   resampled flow mel; streaming with speed ≠ 1 and bad speeds are SpeedErrors; the CLI's --speed.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { interpolate } from '../../kernels/interpolate.js';
import { readWav } from '../../src/audio/index.js';
import { GpuContext } from '../../src/gpu/context.js';
import { resampleMel, SpeedError } from '../../src/pipeline/speed.js';
import type { SpeakerPrompt } from '../../src/pipeline/types.js';
import { createWebGpuPipeline } from '../../src/pipeline/webgpu.js';
import { runCli } from '../helpers/cli.js';
import { expectClose, expectSameBits } from '../helpers/compare.js';
import { readFixtureSet, tinyModelFiles } from '../helpers/fixtures.js';
import { testContext } from '../helpers/gpu.js';
import { SeededRng } from '../helpers/rng.js';
import { collect } from '../helpers/stream.js';

const dir = mkdtempSync(join(tmpdir(), 'cv-speed-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** F.interpolate(linear, align_corners=False) in float64 at the exact source position. */
function reference(x: Float32Array, C: number, tin: number, tout: number): Float64Array {
  const out = new Float64Array(C * tout);
  for (let c = 0; c < C; c++) {
    for (let t = 0; t < tout; t++) {
      const u = Math.max(((t + 0.5) * tin) / tout - 0.5, 0);
      const i = Math.min(Math.floor(u), tin - 1);
      const l = u - i;
      out[c * tout + t] = (1 - l) * x[c * tin + i] + l * x[c * tin + Math.min(i + 1, tin - 1)];
    }
  }
  return out;
}

describe('speed: the mel resampled before HiFT', () => {
  it('halving 4 frames averages neighbours; 1 is the same array', () => {
    const x = Float32Array.from([1, 3, 10, 20]);
    expect(Array.from(resampleMel(x, 1, 4, 2).mel)).toEqual([2, 15]);
    expect(resampleMel(x, 1, 4, 1).mel).toBe(x);
  });

  it.each([1.1, 0.8, 1.5, 2, 0.5, 1.37])('speed %f on [80, 173] and [80, 1500] against float64 and the WebGPU kernel', async (speed) => {
    const ctx = await testContext();
    for (const T of [173, 1500]) {
      const x = new SeededRng(T * 10 + Math.round(speed * 100)).f32(80 * T, -11, 3);
      const { mel, frames } = resampleMel(x, 80, T, speed);
      expect(frames).toBe(Math.trunc(T / speed));
      // f32 blend of values within [-11, 3]: a few ulps of 11.
      expectClose(mel, reference(x, 80, T, frames), { atol: 4e-6, label: `host speed ${speed} T ${T}` });
      const out = ctx.tensor('f32', [80, frames]);
      ctx.run([interpolate(ctx, 'linear', ctx.upload(x, 'f32', [80, T]), out)]);
      expectClose(mel, await ctx.readF32(out), { atol: 4e-6, label: `host vs kernel speed ${speed} T ${T}` });
    }
  });

  it('bad speeds are SpeedErrors', () => {
    const x = new Float32Array(80 * 10);
    for (const s of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) expect(() => resampleMel(x, 80, 10, s)).toThrow(SpeedError);
    expect(() => resampleMel(x, 80, 10, 11)).toThrow(/leaves no mel frame/);
  });

  it('the WebGPU pipeline: int(2N / speed) frames of speech, the bits of HiFT on the resampled flow mel; not when streaming', { timeout: 300_000 }, async () => {
    const fx = readFixtureSet('token2wav_offline', 0);
    const [token, promptToken, promptFeat, embedding] = fx.inputs;
    const speaker: SpeakerPrompt = { promptTokens: Int32Array.from(promptToken.data, Number), promptMel: Float32Array.from(promptFeat.data), embedding: Float32Array.from(embedding.data) };
    const tokens = Int32Array.from(token.data, Number);
    const pipe = await createWebGpuPipeline(new GpuContext((await testContext()).handle), tinyModelFiles(), { maxFrames: 200 });
    try {
      const speed = 1.25;
      const [pcm] = await collect(pipe.streamTokens(tokens, speaker, { streaming: false, speed }));
      const N = tokens.length;
      expect(pcm.length).toBe(480 * Math.trunc((2 * N) / speed));
      const { flow, hift } = pipe.models;
      const m = await flow.inference({ tokens, ...speaker, streaming: false, finalize: true });
      const scaled = resampleMel(m.mel, flow.melBins, m.frames, speed);
      expectSameBits(pcm, await hift.inference(scaled.mel, scaled.frames, true), 'speed 1.25 PCM vs HiFT(resampled mel)');
      await expect(collect(pipe.streamTokens(tokens, speaker, { streaming: true, speed }))).rejects.toThrow(SpeedError);
      await expect(pipe.synthesize('Hello.', speaker, { speed: 0 })).rejects.toThrow(SpeedError);
    } finally {
      pipe.dispose();
    }
  });

  it('synth --speed 2 writes half the samples; with --stream it is a usage error', { timeout: 300_000 }, async () => {
    const out = join(dir, 'fast.wav');
    const r = await runCli(['synth', '--text', 'Hello there.', '--out', out, '--tokens', '20', '--speed', '2']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(readWav(new Uint8Array(readFileSync(out))).samples.length).toBe(480 * 20);
    const bad = await runCli(['synth', '--text', 'x', '--out', join(dir, 'bad.wav'), '--speed', '2', '--stream']);
    expect(bad.err).toMatch(/--speed works offline only/);
  });
});
