/**
 * The README's main job: `synth` on the built-in synthetic model writes a valid 24 kHz WAV and prints TTFA/RTF;
 * bad input gives a clear error and leaves no partial WAV.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { readWav } from '../../src/audio/index.js';
import { saveSpeakerFile } from '../../src/speaker/index.js';

const dir = mkdtempSync(join(tmpdir(), 'cv-synth-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const run = runCli;

describe('cosyvoice-webgpu synth', () => {
  it('synthetic tiny model, streaming: a valid 24 kHz WAV of 960 samples per token, TTFA and RTF printed', async () => {
    const out = join(dir, 'a.wav');
    const r = await run(['synth', '--text', 'Hello there.', '--out', out, '--stream', '--tokens', '30']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/not speech/);
    expect(r.out).toMatch(/TTFA \d+ ms, RTF \d+\.\d+/);
    const wav = readWav(new Uint8Array(readFileSync(out)));
    expect(wav.sampleRate).toBe(24000);
    expect(wav.samples.length).toBe(960 * 30);
    expect(wav.samples.some((v) => v !== 0)).toBe(true);
  });

  it('--kv-dtype f16: the LLM runs over an f16 KV cache and the WAV is written; other values are usage errors', async () => {
    const out = join(dir, 'kv16.wav');
    const r = await run(['synth', '--text', 'Hello there.', '--out', out, '--tokens', '10', '--kv-dtype', 'f16']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(readWav(new Uint8Array(readFileSync(out))).samples.length).toBe(960 * 10);
    const bad = await run(['synth', '--text', 'x', '--out', join(dir, 'kv8.wav'), '--kv-dtype', 'f8']);
    expect(bad.err).toMatch(/--kv-dtype f8: use f32 or f16/);
    expect(existsSync(join(dir, 'kv8.wav'))).toBe(false);
  });

  it('bad input: empty text, missing --out, a speaker of the wrong shape, a folder of another model — no WAV left', async () => {
    const out = join(dir, 'b.wav');
    const empty = await run(['synth', '--text', '   ', '--out', out, '--tokens', '5']);
    expect(empty.code).toBe(1);
    expect(empty.err).toMatch(/EmptyTextError|empty/);
    expect((await run(['synth', '--text', 'x'])).err).toMatch(/--out is required/);
    const spk = join(dir, 'bad.json');
    saveSpeakerFile(spk, {
      promptSpeechTokens: Int32Array.of(1, 2), embedding: new Float32Array(80), promptMel: new Float32Array(4 * 80),
      melFrames: 4, numMels: 80, sampleRate: 24000,
    });
    const badSpk = await run(['synth', '--text', 'Hello.', '--out', out, '--speaker', spk, '--tokens', '5']);
    expect(badSpk.code).toBe(1);
    expect(badSpk.err).toMatch(/embedding/);
    const other = join(dir, 'other');
    writeFileSync(join(dir, 'x'), '');
    const badModel = await run(['synth', '--text', 'Hello.', '--out', out, '--model', other]);
    expect(badModel.code).toBe(1);
    expect(badModel.err).toMatch(/ModelFolderError/);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(dir).filter((f) => f.includes('partial'))).toEqual([]);
  });

  it('--engine wasm runs the CPU fallback and writes the WAV; an unknown engine is a usage error', async () => {
    const out = join(dir, 'cpu.wav');
    const r = await run(['synth', '--text', 'Hello there.', '--out', out, '--tokens', '10', '--engine', 'wasm', '--stream', '--final-chunk-mask', '--threads', '2', '--flow-cache-mb', '64']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/engine: wasm \(CPU fallback.*, 2 thread\(s\), DiT prefix cache 64 MiB\)/);
    expect(r.out).not.toMatch(/adapter:/);
    expect(readWav(new Uint8Array(readFileSync(out))).samples.length).toBe(960 * 10);
    const bad = await run(['synth', '--text', 'x', '--out', join(dir, 'e.wav'), '--engine', 'cuda']);
    expect(bad.err).toMatch(/--engine cuda: use auto, webgpu or wasm/);
    expect((await run(['synth', '--text', 'x', '--out', join(dir, 'e.wav'), '--engine', 'wasm', '--threads', '0'])).err).toMatch(/--threads 0: a whole number ≥ 1/);
    expect((await run(['synth', '--text', 'x', '--out', join(dir, 'e.wav'), '--engine', 'wasm', '--flow-cache-mb', 'lots'])).err).toMatch(/--flow-cache-mb lots: a number ≥ 0/);
    expect(existsSync(join(dir, 'e.wav'))).toBe(false);
  });

  it('--dtype q8 runs the CPU fallback with int8 weights (auto picks it); WebGPU refuses q8 by name', async () => {
    const out = join(dir, 'q8.wav');
    const r = await run(['synth', '--text', 'Hello there.', '--out', out, '--tokens', '6', '--dtype', 'q8', '--threads', '1']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/q8 weights run on the CPU fallback/);
    expect(r.out).toMatch(/engine: wasm \(CPU fallback.*, q8 weights, 1 thread\(s\), DiT prefix cache 1024 MiB\)/);
    expect(r.out).not.toMatch(/adapter:/);
    expect(readWav(new Uint8Array(readFileSync(out))).samples.length).toBe(960 * 6);
    const gpu = await run(['synth', '--text', 'x', '--out', join(dir, 'g.wav'), '--engine', 'webgpu', '--dtype', 'q8']);
    expect(gpu.err).toMatch(/--dtype q8 is the CPU fallback's weight storage \(--engine wasm\)/);
    expect((await run(['synth', '--text', 'x', '--out', join(dir, 'g.wav'), '--dtype', 'int4'])).err).toMatch(/--dtype int4: use f32, f16 or q8/);
    expect(existsSync(join(dir, 'g.wav'))).toBe(false);
  });

  it('without an adapter (no Vulkan driver) `auto` falls back to the CPU and `--engine webgpu` fails with NoAdapterError', () => {
    // A process of its own: Dawn's instance is per process, and this one must see no Vulkan driver at all.
    const env = { ...process.env, VK_ICD_FILENAMES: join(dir, 'no-such-icd.json') };
    const cli = (args: string[]) => {
      try {
        return { code: 0, out: execFileSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { env, encoding: 'utf8', stdio: 'pipe' }) };
      } catch (e) {
        const x = e as { status: number; stdout: string; stderr: string };
        return { code: x.status, out: `${x.stdout}${x.stderr}` };
      }
    };
    const out = join(dir, 'auto.wav');
    const auto = cli(['synth', '--text', 'Hello there.', '--out', out, '--tokens', '5']);
    expect(auto.out).toMatch(/no WebGPU adapter .*running the CPU fallback/);
    expect(auto.code).toBe(0);
    expect(readWav(new Uint8Array(readFileSync(out))).samples.length).toBe(960 * 5);
    const gpu = cli(['synth', '--text', 'Hello there.', '--out', join(dir, 'gpu.wav'), '--tokens', '5', '--engine', 'webgpu']);
    expect(gpu.code).toBe(1);
    expect(gpu.out).toMatch(/NoAdapterError/);
    expect(existsSync(join(dir, 'gpu.wav'))).toBe(false);
  }, 120_000);

  it('--text - reads standard input as it arrives (text-in streaming); random weights stop mid-stream as upstream raises', async () => {
    // A process of its own, so that its standard input is the text. The synthetic model's random head gives a stop
    // id other than eos after the text ends, where upstream raises: a typed error and no WAV (the trained model
    // gives eos; test/llm/bistream.test.ts runs the whole path).
    const out = join(dir, 'stdin.wav');
    let r: { code: number; text: string };
    try {
      r = { code: 0, text: execFileSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'synth', '--text', '-', '--out', out, '--engine', 'wasm'], { input: 'Hi there', encoding: 'utf8', stdio: 'pipe' }) };
    } catch (e) {
      const x = e as { status: number; stdout: string; stderr: string };
      r = { code: x.status, text: `${x.stdout}${x.stderr}` };
    }
    expect(r.code).toBe(1);
    expect(r.text).toMatch(/BistreamError: the LLM gave id \d+ \(≥ 100, not eos\) after the text ended/);
    expect(existsSync(out)).toBe(false);
    const bad = await run(['synth', '--text', '-', '--out', join(dir, 'stdin2.wav'), '--tokens', '5']);
    expect(bad.err).toMatch(/--text - \(text-in streaming\) takes no --tokens or --speed/);
  }, 120_000);
});
