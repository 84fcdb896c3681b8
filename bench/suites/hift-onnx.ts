/**
 * onnxruntime-node side of the HiFT benchmark: the converter's hift.onnx (src/convert/hift.ts: the whole
 * CausalHiFTGenerator.inference — f64 F0 predictor, NSF source, STFT, trunk, iSTFT — as standard ONNX ops) built
 * from the same random state dict, written to a temp folder, timed per `run` (median of `reps` after a warm-up).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { toFloat32 } from '../../loader/dtype.js';
import type { TensorStore } from '../../loader/types.js';
import type { HiftConfig as ConvertHiftConfig } from '../../src/convert/config.js';
import { buildHift } from '../../src/convert/hift.js';
import { Weights } from '../../src/convert/weights.js';
import { writeModel } from '../../src/onnx/writer.js';
import type { HiftConfig } from '../../src/models/hift/config.js';

function convertConfig(c: HiftConfig, f0LookRight: number): ConvertHiftConfig {
  return {
    inChannels: c.inChannels, baseChannels: c.baseChannels, nbHarmonics: c.harmonics - 1, sampleRate: c.samplingRate,
    nsfAlpha: c.nsfAlpha, nsfSigma: c.nsfSigma, voicedThreshold: c.voicedThreshold, upsampleRates: [...c.upsampleRates],
    upsampleKernelSizes: [...c.upsampleKernels], nFft: c.nFft, hop: c.hop, resblockKernelSizes: [...c.resblockKernels],
    resblockDilations: c.resblockDilations.map((d) => [...d]), sourceResblockKernelSizes: [...c.sourceResblockKernels],
    sourceResblockDilations: c.sourceResblockDilations.map((d) => [...d]), lreluSlope: c.lreluSlope,
    audioLimit: c.audioLimit, convPreLookRight: c.convPreLookRight, f0CondChannels: c.f0CondChannels, f0LookRight,
  };
}

/** Median ms of one ORT `run` of hift.onnx on `frames` mel frames (finalize=true). */
export async function ortHiftBench(store: TensorStore, cfg: HiftConfig, frames: number, ep: 'cpu' | 'webgpu', reps: number,
  mel: Float32Array, noise: Float32Array): Promise<number> {
  const w = new Weights('hift.pt', [...store].map(([k, t]) => [k, { dims: t.dims, data: toFloat32(t) }] as [string, { dims: number[]; data: Float32Array }]));
  w.foldWeightNorm();
  const dir = mkdtempSync(join(tmpdir(), 'hift-ort-'));
  try {
    const path = join(dir, 'hift.onnx');
    writeModel(buildHift(w, convertConfig(cfg, 3), 'fp32'), path);
    const sess = await ort.InferenceSession.create(path, { executionProviders: [ep] });
    const L = cfg.samplesPerFrame * frames;
    const feeds = {
      speech_feat: new ort.Tensor('float32', mel, [1, cfg.inChannels, frames]),
      sine_noise: new ort.Tensor('float32', noise.subarray(0, L * cfg.harmonics), [1, L, cfg.harmonics]),
      finalize: new ort.Tensor('bool', Uint8Array.of(1), [1]),
    };
    await sess.run(feeds);
    const ts: number[] = [];
    for (let r = 0; r < reps; r++) {
      const t = performance.now();
      await sess.run(feeds);
      ts.push(performance.now() - t);
    }
    await sess.release();
    return ts.sort((a, b) => a - b)[Math.floor(ts.length / 2)];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
