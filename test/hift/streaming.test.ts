/**
 * Streaming HiFT (finalize=false) as upstream runs it: every call gets the whole mel so far; the last 3 frames
 * are F0 context, the next 4 conv_pre look-ahead, and the last 480 samples are dropped, so a call on T frames
 * returns 480·(T−8) samples that upstream guarantees equal (bit for bit) the start of the finalize=true output
 * on any longer mel. Here: each prefix call must match the offline output exactly, and the chunks
 * (new samples of each call, then the finalize call) must concatenate to the offline waveform.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { HiftConfig } from '../../src/models/hift/config.js';
import { HiftGenerator, HiftInputError } from '../../src/models/hift/forward.js';
import type { HiftWeights } from '../../src/models/hift/weights.js';
import { expectClose } from '../helpers/compare.js';
import { loadTinyHift, readFixtureSet } from '../helpers/fixtures.js';
import { testContext } from '../helpers/gpu.js';

let cfg: HiftConfig;
let weights: HiftWeights;

beforeAll(async () => {
  ({ cfg, weights } = await loadTinyHift());
});

function prefix(mel: Float32Array, C: number, T: number, n: number): Float32Array {
  const out = new Float32Array(C * n);
  for (let c = 0; c < C; c++) out.set(mel.subarray(c * T, c * T + n), c * n);
  return out;
}

describe('HiFT streaming', () => {
  it('prefix calls equal the offline output and chunks concatenate to it', { timeout: 300_000 }, async () => {
    const ctx = await testContext();
    const fx = readFixtureSet('hift_inference', 0);
    const mel = fx.inputs[0].raw as Float32Array;
    const T = fx.inputs[0].dims[2];
    const C = cfg.inChannels;
    const hift = new HiftGenerator(ctx, cfg, weights, { maxFrames: T, noise: fx.inputs[2].raw as Float32Array });
    const offline = (await hift.inference(mel, T, true)).speech;
    // The offline output itself matches upstream (the fixture), so equality below is equality with upstream.
    expectClose(offline, fx.outputs[0].data, { relL2: 1e-3, label: 'offline speech' });
    const chunks: Float32Array[] = [];
    let emitted = 0;
    for (const n of [9, 13, 20]) {
      const { speech } = await hift.inference(prefix(mel, C, T, n), n, false);
      expect(speech.length).toBe(cfg.samplesPerFrame * (n - 8));
      // Bit-identical prefix, as upstream guarantees (max diff 0.0).
      expectClose(speech, offline.subarray(0, speech.length), { atol: 0, label: `prefix T=${n}` });
      chunks.push(speech.slice(emitted));
      emitted = speech.length;
    }
    const last = (await hift.inference(mel, T, true)).speech;
    chunks.push(last.slice(emitted));
    const joined = new Float32Array(chunks.reduce((a, c) => a + c.length, 0));
    let o = 0;
    for (const c of chunks) (joined.set(c, o), (o += c.length));
    expectClose(joined, offline, { atol: 0, label: 'concatenated chunks' });
  });

  it('rejects a streaming call too short to produce audio', async () => {
    const ctx = await testContext();
    const fx = readFixtureSet('hift_inference', 0);
    const hift = new HiftGenerator(ctx, cfg, weights, { maxFrames: 24, noise: fx.inputs[2].raw as Float32Array });
    await expect(hift.inference(new Float32Array(cfg.inChannels * 8), 8, false)).rejects.toThrow(HiftInputError);
  });
});
