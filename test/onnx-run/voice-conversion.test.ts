/**
 * Voice conversion (upstream's inference_vc: frontend_vc + vc_job): a source WAV's speech tokens, made by the
 * folder's speech tokenizer on the CPU ONNX interpreter, spoken by the flow and HiFT in a speaker's voice.
 *  - PromptModels.sourceTokens: every code of the source (not cut to a prompt mel as a speaker's are), equal to
 *    ONNX Runtime's (cpu EP) on the same graph and features; a source over 30 s or below 16 kHz is refused by name;
 *  - `synth --source-wav` writes the samples of streamTokens on those tokens (offline and streamed), and refuses
 *    --text with it, leaving no WAV.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { whisperLogMel } from '../../src/audio/features16k.js';
import { resample } from '../../src/audio/resample.js';
import { readWav, writeWav } from '../../src/audio/index.js';
import { TINY_DIMS, writeRandomFolder } from '../../src/convert/random-folder.js';
import { writeRandomPromptModels } from '../../src/convert/random-prompt-models.js';
import { loadModelFolder } from '../../src/pipeline/node-model-files.js';
import { speakerExpectationsOf, speakerFromFile } from '../../src/pipeline/speaker.js';
import type { CosyVoicePipeline } from '../../src/pipeline/tts.js';
import { createWasmPipeline } from '../../src/pipeline/wasm.js';
import type { PromptModels } from '../../src/speaker/prompt-models.js';
import { loadPromptModels } from '../../src/speaker/prompt-models-node.js';
import type { SpeakerPrompt } from '../../src/pipeline/types.js';
import { runCli } from '../helpers/cli.js';
import { SeededRng } from '../helpers/rng.js';

let dir: string;
let folder: string;
let models: PromptModels;
let tts: CosyVoicePipeline;
let speaker: SpeakerPrompt;
const paths = { source: '', prompt: '' };
let source: Uint8Array;

/** A gliding tone plus noise at `sr` (the features vary over time). */
function toneWav(seconds: number, sr: number, seed: number, f0: number): Uint8Array {
  const rng = new SeededRng(seed);
  const n = Math.round(seconds * sr);
  const pcm = new Float32Array(n);
  let ph = 0;
  for (let i = 0; i < n; i++) {
    ph += (2 * Math.PI * (f0 + 300 * (i / n))) / sr;
    pcm[i] = 0.4 * Math.sin(ph) + 0.05 * (rng.next() * 2 - 1);
  }
  return writeWav(pcm, sr);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cv-vc-'));
  folder = join(dir, 'model');
  writeRandomFolder(folder, TINY_DIMS);
  writeRandomPromptModels(folder);
  source = toneWav(1.7, 24000, 5, 220);
  paths.source = join(dir, 'source.wav');
  paths.prompt = join(dir, 'prompt.wav');
  writeFileSync(paths.source, source);
  writeFileSync(paths.prompt, toneWav(2.1, 16000, 6, 140));
  models = await loadPromptModels(folder, { threads: 1 });
  const files = await loadModelFolder(folder);
  speaker = speakerFromFile(await models.speaker(new Uint8Array(readFileSync(paths.prompt)), undefined, speakerExpectationsOf(files.config)));
  tts = await createWasmPipeline(files, { threads: 1 });
});
afterAll(() => {
  models?.dispose();
  tts?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

const collect = async (g: AsyncGenerator<Float32Array, unknown>): Promise<Float32Array> => {
  const parts: Float32Array[] = [];
  for (let r = await g.next(); !r.done; r = await g.next()) parts.push(r.value);
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
  return out;
};

describe('voice conversion', () => {
  it('sourceTokens: every code of the source, equal to ORT on the same graph and features; long and low-rate sources refused by name', async () => {
    const tokens = await models.sourceTokens(source);
    const w = readWav(source);
    const mel = whisperLogMel(resample(w.samples, w.sampleRate, 16000));
    const s = await ort.InferenceSession.create(join(folder, 'speech_tokenizer_v3.onnx'), { executionProviders: ['cpu'], logSeverityLevel: 3 });
    const out = await s.run({ feats: new ort.Tensor('float32', mel.data, [1, 128, mel.shape[1]]), feats_length: new ort.Tensor('int32', Int32Array.of(mel.shape[1]), [1]) });
    await s.release();
    const want = Array.from(out[s.outputNames[0]].data as ArrayLike<number>);
    // 1.7 s: 170 log-mel frames, a code per 4 (25 Hz).
    expect(want.length).toBeGreaterThanOrEqual(40);
    expect(Array.from(tokens)).toEqual(want);
    await expect(models.sourceTokens(writeWav(new Float32Array(16000 * 31), 16000), 'long.wav')).rejects.toThrow(/long\.wav: 31\.00 s; the speech tokenizer takes at most 30 s/);
    await expect(models.sourceTokens(writeWav(new Float32Array(8000), 8000))).rejects.toThrow(/source WAV: sample rate 8000 Hz is below the 16000 Hz minimum/);
  });

  it('`synth --source-wav` writes streamTokens\' samples of the source\'s tokens, offline and streamed; --text with it is refused', async () => {
    const tokens = await models.sourceTokens(source);
    for (const stream of [false, true]) {
      const out = join(dir, `vc-${stream}.wav`);
      const r = await runCli(['synth', '--source-wav', paths.source, '--prompt-wav', paths.prompt, '--out', out, '--model', folder, '--engine', 'wasm', '--threads', '1', ...(stream ? ['--stream'] : [])]);
      expect(r.code, r.err).toBe(0);
      expect(r.out).toMatch(new RegExp(`voice conversion: ${tokens.length} speech tokens`));
      const got = readWav(new Uint8Array(readFileSync(out))).samples;
      const want = readWav(writeWav(await collect(tts.streamTokens(tokens, speaker, { streaming: stream })), 24000)).samples;
      expect(got.length, `stream ${stream}: samples`).toBe(tokens.length * 960);
      const i = got.findIndex((v, j) => v !== want[j]);
      expect(i, `stream ${stream}: first differing sample [${i}] ${got[i]} vs ${want[i]}`).toBe(-1);
    }
    const no = join(dir, 'no.wav');
    const r = await runCli(['synth', '--source-wav', paths.source, '--text', 'hello', '--out', no]);
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/--source-wav \(voice conversion\) speaks the source's speech: no --text/);
    expect(existsSync(no)).toBe(false);
  });
});
