/**
 * Voices from a prompt WAV (src/speaker/prompt-models.ts) with the prompt models run by the CPU ONNX interpreter:
 *  - the speaker's tokens and embedding equal ONNX Runtime's (cpu EP) on the same graphs and the same 16 kHz
 *    features (tokens exactly, embedding within 1e-4 + 1e-4·|b|), and the prompt mel and tokens are aligned as
 *    upstream's frontend aligns them (L = min(⌊T_mel/2⌋, n_tokens));
 *  - `cosyvoice-webgpu speaker` writes that speaker from a model folder holding the two files (read lazily), and
 *    `synth --prompt-wav --prompt-text` speaks with it (CPU fallback);
 *  - bad input: a folder without the files, a WAV below 16 kHz or over 30 s, a graph with an operator the
 *    interpreter lacks (named at creation, and by `inspect`), --speaker with --prompt-wav.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kaldiFbank, whisperLogMel } from '../../src/audio/features16k.js';
import { promptMelFromWav } from '../../src/audio/prompt.js';
import { resample } from '../../src/audio/resample.js';
import { readWav, writeWav } from '../../src/audio/wav.js';
import { TINY_DIMS, writeRandomFolder } from '../../src/convert/random-folder.js';
import { writeRandomPromptModels } from '../../src/convert/random-prompt-models.js';
import { loadOnnx } from '../../loader/node.js';
import { Graph } from '../../src/onnx/graph.js';
import { writeModel } from '../../src/onnx/writer.js';
import { OnnxSession } from '../../src/onnx-run/session.js';
import { UnsupportedOpError } from '../../src/onnx-run/tensor.js';
import { PromptModels } from '../../src/speaker/prompt-models.js';
import { MissingPromptModelError, loadPromptModels } from '../../src/speaker/prompt-models-node.js';
import { loadSpeakerFile } from '../../src/speaker/speaker-io.js';
import { runCli } from '../helpers/cli.js';
import { SeededRng } from '../helpers/rng.js';

let dir: string;
let folder: string;
let wavPath: string;
let wavBytes: Uint8Array;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cv-voice-'));
  folder = join(dir, 'model');
  writeRandomFolder(folder, TINY_DIMS);
  writeRandomPromptModels(folder);
  // 2.3 s at 22.05 kHz, stereo: a gliding tone plus noise, so the features vary over time.
  const rng = new SeededRng(3);
  const sr = 22050, n = Math.round(2.3 * sr);
  const pcm = new Float32Array(n);
  let ph = 0;
  for (let i = 0; i < n; i++) {
    ph += (2 * Math.PI * (180 + 400 * (i / n))) / sr;
    pcm[i] = 0.4 * Math.sin(ph) + 0.05 * (rng.next() * 2 - 1);
  }
  wavBytes = writeWav(pcm, sr);
  wavPath = join(dir, 'prompt.wav');
  writeFileSync(wavPath, wavBytes);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function ortRun(path: string, feeds: Record<string, ort.Tensor>): Promise<ArrayLike<number>> {
  const s = await ort.InferenceSession.create(path, { executionProviders: ['cpu'], logSeverityLevel: 3 });
  const out = await s.run(feeds);
  await s.release();
  return out[s.outputNames[0]].data as ArrayLike<number>;
}

describe('voice from a prompt WAV', () => {
  it('tokens and embedding equal ORT on the same graphs and features; prompt mel and tokens aligned as upstream', async () => {
    const models = await loadPromptModels(folder, { threads: 2 });
    let s;
    try {
      s = await models.speaker(wavBytes, 'the prompt transcript');
    } finally {
      models.dispose();
    }
    const w = readWav(wavBytes);
    const pcm16k = resample(w.samples, w.sampleRate, 16000);
    const mel = whisperLogMel(pcm16k);
    const fb = kaldiFbank(pcm16k, true);
    const tokens = Array.from(await ortRun(join(folder, 'speech_tokenizer_v3.onnx'), {
      feats: new ort.Tensor('float32', mel.data, [1, 128, mel.shape[1]]),
      feats_length: new ort.Tensor('int32', Int32Array.of(mel.shape[1]), [1]),
    }));
    const emb = await ortRun(join(folder, 'campplus.onnx'), { input: new ort.Tensor('float32', fb.data, [1, fb.shape[0], 80]) });
    const flowMel = promptMelFromWav(wavBytes);
    const L = Math.min(Math.floor(flowMel.frames / 2), tokens.length);
    expect(L).toBeGreaterThan(20);
    expect(Array.from(s.promptSpeechTokens)).toEqual(tokens.slice(0, L));
    expect(s.melFrames).toBe(2 * L);
    expect(Array.from(s.promptMel)).toEqual(Array.from(flowMel.data.subarray(0, 2 * L * 80)));
    expect(s.transcript).toBe('the prompt transcript');
    const bad: string[] = [];
    s.embedding.forEach((v, i) => {
      if (!(Math.abs(v - emb[i]) <= 1e-4 + 1e-4 * Math.abs(emb[i])) && bad.length < 5) bad.push(`[${i}] ours ${v} ORT ${emb[i]}`);
    });
    expect(bad, 'first embedding mismatches').toEqual([]);
  });

  it('`speaker --model` writes it; `synth --prompt-wav` speaks with it on the CPU fallback', async () => {
    const out = join(dir, 'voice.json');
    const r = await runCli(['speaker', '--wav', wavPath, '--text', 'the prompt transcript', '--out', out, '--model', folder, '--threads', '1']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/prompt tokens/);
    const s = loadSpeakerFile(out, { embeddingDim: 192, speechTokenSize: TINY_DIMS.llm.S, numMels: 80, tokenMelRatio: 2 });
    expect(s.transcript).toBe('the prompt transcript');
    const wav = join(dir, 'out.wav');
    const r2 = await runCli(['synth', '--text', 'Hello there.', '--out', wav, '--model', folder, '--engine', 'wasm', '--threads', '1', '--tokens', '12', '--prompt-wav', wavPath, '--prompt-text', 'the prompt transcript']);
    expect(r2.code, r2.err).toBe(0);
    expect(readWav(new Uint8Array(readFileSync(wav))).samples.length).toBe(12 * 960);
    // The synthetic model's stand-ins (no --model) make a speaker of its dims too.
    const r3 = await runCli(['speaker', '--wav', wavPath, '--out', join(dir, 'synthetic.cvspk')]);
    expect(r3.code, r3.err).toBe(0);
    expect(r3.out).toMatch(/not a voice/);
  });

  it('bad input: missing files, low rate, over 30 s, an unsupported operator, --speaker with --prompt-wav', async () => {
    const empty = join(dir, 'empty');
    writeRandomFolder(empty, TINY_DIMS);
    await expect(loadPromptModels(empty)).rejects.toThrow(MissingPromptModelError);
    const models = await loadPromptModels(folder, { threads: 1 });
    try {
      await expect(models.speaker(writeWav(new Float32Array(8000 * 2), 8000))).rejects.toThrow(/below the 16000 Hz minimum/);
      await expect(models.speaker(writeWav(new Float32Array(16000 * 31), 16000))).rejects.toThrow(/at most 30 s/);
    } finally {
      models.dispose();
    }
    const g = new Graph('odd');
    const x = g.input('x', 'float', [4]);
    const y = g.node('DFT', [x], {})[0];
    g.output('y', g.node('MyOp', [y], {}, 1, 'com.example')[0], 'float', [4]);
    const p = join(dir, 'odd.onnx');
    writeModel(g, p);
    const r0 = await runCli(['inspect', p]);
    expect(r0.out).toMatch(/CPU ONNX interpreter: lacks DFT, com\.example\.MyOp/);
    const r1 = await runCli(['inspect', join(folder, 'speech_tokenizer_v3.onnx')]);
    expect(r1.out).toMatch(/CPU ONNX interpreter: runs every operator of this graph/);
    const err = await OnnxSession.create(await loadOnnx(p)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnsupportedOpError);
    expect(String(err)).toMatch(/DFT \(first at node .*\), com\.example\.MyOp/);
    const tok = await loadOnnx(join(folder, 'speech_tokenizer_v3.onnx'));
    await expect(PromptModels.create({ tokenizer: tok, campplus: tok })).rejects.toThrow(/CAMPPlus takes 1 input/);
    const r = await runCli(['synth', '--text', 'x', '--out', join(dir, 'no.wav'), '--speaker', join(dir, 'voice.json'), '--prompt-wav', wavPath]);
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/--speaker and --prompt-wav exclude each other/);
    expect(existsSync(join(dir, 'no.wav'))).toBe(false);
  });
});
