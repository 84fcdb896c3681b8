/**
 * The CPU fallback in a browser without WebGPU: headless Chromium launched with WebGPU off loads the tiny
 * CosyVoice3 folder through the demo page with the default backend ('auto'), which must fall back to the
 * WebAssembly engine, and plays it. The PCM must equal the Node run of the same engine on the same converted
 * folder (same code, same V8 and WebAssembly SIMD arithmetic: bound 1e-6, rel-L2). With `cpudtype=q8` it must
 * equal the Node run with q8 weights, and differ from the f32 run by what quantisation changes. The Worker's
 * prepareSpeaker message reaches the engine's DiT prefix cache (it runs after the plays: the page has loaded).
 * Worker options offline + speed render each segment offline at another speech rate, as the Node engine does;
 * client.streamText sends text pieces as they come (text-in streaming) and gets the Node engine's PCM. Two
 * client.stream calls at once run beside each other in the Worker, each with the Node engine's PCM.
 * client.voiceFromWav makes the speaker Node makes from the folder's prompt models (random stand-ins), and
 * client.convertVoice speaks a source WAV's tokens (voice conversion) as the Node engine does.
 */
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CosyVoiceEngine } from '../../src/browser/cosyvoice-engine.js';
import { loadOnnxFromSource } from '../../src/browser/model-source.js';
import { writeWav } from '../../src/audio/wav.js';
import { PromptModels } from '../../src/speaker/prompt-models.js';
import { decodeSpeaker } from '../../src/speaker/speaker-file.js';
import { buildWeb, DirModelSource, launchChromium, prepareSpeakerInPage, relL2, ROOT, startServer, type Browser, type Server } from './harness.js';

const TINY_DIR = join(ROOT, 'dist/web/models/tiny');
const TEXT = 'Hello there, WebAssembly.';
const SEED = 7;
const TOKENS = 30;

describe('tiny CosyVoice3 in Chromium without WebGPU (CPU fallback)', () => {
  let server: Server;
  let browser: Browser;
  let page: Page;
  let nodePcm: Float32Array;
  let nodeQ8: Float32Array;
  let nodeFast: Float32Array;
  let nodeText: Float32Array;

  /** The same engine in Node, on the same folder (offline: its segments path, at `speed`). */
  async function nodeRun(dtype: 'f32' | 'q8', offline?: { speed: number }): Promise<Float32Array> {
    const engine = await CosyVoiceEngine.loadWasm(new DirModelSource(TINY_DIR), dtype);
    const parts: Float32Array[] = [];
    const opts = { seed: SEED, forceTokens: TOKENS, ...offline };
    const gen = offline ? engine.segments(TEXT, engine.defaultSpeaker, opts) : engine.stream(TEXT, engine.defaultSpeaker, opts);
    for (let r = await gen.next(); !r.done; r = await gen.next()) parts.push(r.value);
    engine.dispose();
    const pcm = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
    parts.reduce((o, p) => (pcm.set(p, o), o + p.length), 0);
    return pcm;
  }

  /** A 60-token prompt (the text-in test's speaker; built the same way in the page). */
  const SPEAKER_TOKENS = 60;
  function promptSpeaker(n: number) {
    return {
      promptTokens: Int32Array.from({ length: n }, (_, i) => (i * 37) % 100),
      promptMel: Float32Array.from({ length: 2 * n * 80 }, (_, i) => -6 + (4 * ((i * 7919) % 1000)) / 1000),
      embedding: Float32Array.from({ length: 192 }, (_, i) => Math.sin(i)),
      promptText: 'a prompt',
    };
  }

  /** Text-in streaming in Node (q8, seed 3: the tiny random LLM ends with eos there instead of a stop id upstream raises on). */
  async function nodeTextRun(): Promise<Float32Array> {
    const engine = await CosyVoiceEngine.loadWasm(new DirModelSource(TINY_DIR), 'q8');
    const parts: Float32Array[] = [];
    for await (const p of engine.streamText(['Hi', ' there'], promptSpeaker(SPEAKER_TOKENS), { seed: 3 })) parts.push(p);
    engine.dispose();
    return Float32Array.from(parts.flatMap((p) => [...p]));
  }

  /** Plays TEXT on the page; the demo's record of the run. */
  async function play(): Promise<{ pcm: Float32Array; chunks: number; loaded: any; done: any }> {
    await page.click('#play');
    await page.waitForFunction(() => ['played', 'error'].includes(document.body.dataset.state ?? ''), undefined, { timeout: 240_000 });
    const r = await page.evaluate(() => {
      const d = (globalThis as any).cosyvoiceDemo;
      return { state: document.body.dataset.state, status: document.getElementById('status')?.textContent, pcm: d.pcm(), chunks: d.chunks.length, loaded: d.loaded, done: d.done };
    });
    if (r.state !== 'played') throw new Error(`demo page ended in ${r.state}: ${r.status}`);
    return r;
  }

  beforeAll(async () => {
    buildWeb(['--strict']);
    nodePcm = await nodeRun('f32');
    nodeQ8 = await nodeRun('q8');
    nodeFast = await nodeRun('q8', { speed: 2 });
    nodeText = await nodeTextRun();
    server = await startServer();
    browser = await launchChromium({ webgpu: false });
    page = browser.context.pages()[0] ?? (await browser.context.newPage());
    await page.goto(`${server.url}?model=./models/tiny/&text=${encodeURIComponent(TEXT)}&seed=${SEED}&tokens=${TOKENS}`);
    await page.waitForFunction(() => document.body.dataset.state === 'idle');
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    server?.close();
  });

  it('the page has no WebGPU adapter, falls back to WebAssembly and plays the same PCM as Node', async () => {
    const gpu = await page.evaluate(async () => {
      const g = (navigator as any).gpu;
      return g ? ((await g.requestAdapter()) ? 'an adapter' : 'navigator.gpu without an adapter') : 'no navigator.gpu';
    });
    expect(gpu, 'this browser must have no WebGPU adapter for the fallback test').not.toBe('an adapter');
    const r = await play();
    const err = relL2(r.pcm, nodePcm);
    console.log(`[browser] CPU fallback (${gpu}; ${r.loaded.threads} threads): ${r.pcm.length} samples in ${r.chunks} chunks; rel-L2 vs Node ${err.toExponential(2)}; load ${r.loaded.loadMs.toFixed(0)} ms; TTFA ${r.done.stats.ttfaMs.toFixed(0)} ms, RTF ${r.done.stats.rtf.toFixed(2)}`);
    expect(r.loaded.backend).toBe('wasm');
    expect(r.loaded.cpuDtype).toBe('f32');
    // The weights were read in place from OPFS, straight into the (shared) WebAssembly memory.
    expect(r.loaded.modelStore).toBe('opfs');
    // scripts/serve.mjs makes the page cross-origin isolated, so the GEMMs run on worker threads too (the PCM
    // does not depend on their number: each output is computed by one thread with the same code).
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    expect(r.loaded.threads).toBe(Math.min(8, await page.evaluate(() => navigator.hardwareConcurrency)));
    expect(r.loaded.adapterLabel).toBe('WebAssembly (CPU)');
    expect(r.loaded.engine).toBe('cosyvoice3');
    expect(r.pcm.length).toBe(nodePcm.length);
    expect(r.pcm.length).toBe(960 * TOKENS);
    expect(err).toBeLessThanOrEqual(1e-6);
    expect(await page.locator('.panel').innerText()).toContain('WebAssembly (CPU)');
  }, 300_000);

  it('cpudtype=q8: int8 weights in the page give the Node q8 run\'s PCM', async () => {
    await page.goto(`${server.url}?model=./models/tiny/&text=${encodeURIComponent(TEXT)}&seed=${SEED}&tokens=${TOKENS}&cpudtype=q8`);
    await page.waitForFunction(() => document.body.dataset.state === 'idle');
    const r = await play();
    const err = relL2(r.pcm, nodeQ8), fromF32 = relL2(nodeQ8, nodePcm);
    console.log(`[browser] CPU fallback, q8 weights: rel-L2 vs Node q8 ${err.toExponential(2)}; Node q8 vs Node f32 ${fromF32.toExponential(2)}`);
    expect(r.loaded.cpuDtype).toBe('q8');
    expect(r.pcm.length).toBe(nodeQ8.length);
    expect(err).toBeLessThanOrEqual(1e-6);
    // Quantisation must show (a page that ignored cpudtype would match the f32 run instead).
    expect(fromF32).toBeGreaterThan(1e-4);
  }, 300_000);

  it('the Worker renders offline at speed 2 (options offline, speed): half the samples, the Node run\'s PCM', async () => {
    const pcm = await page.evaluate(async ([text, seed, tokens]) => {
      const c = (globalThis as any).cosyvoiceDemo.client;
      return (await c.synthesize(text, null, { seed, forceTokens: tokens, offline: true, speed: 2 })).pcm as Float32Array;
    }, [TEXT, SEED, TOKENS] as const);
    expect(pcm.length).toBe(480 * TOKENS);
    expect(nodeFast.length).toBe(480 * TOKENS);
    expect(relL2(pcm, nodeFast)).toBeLessThanOrEqual(1e-6);
  }, 300_000);

  it('two client.stream calls at once run beside each other in the Worker; each gives the Node run\'s PCM', async () => {
    // Deterministic: A may run one chunk ahead (window 1) and its first chunk is not taken until B's first chunk
    // has come, so A waits in the Worker meanwhile. Streams run one after another would never give B's chunk: the
    // test would time out. (Counting arrival orders instead depended on the host's load.)
    const r = await page.evaluate(async ([text, seed, tokens]) => {
      const c = (globalThis as any).cosyvoiceDemo.client;
      const all = async (g: AsyncGenerator<Float32Array>, first: Float32Array[]) => {
        for await (const p of g) first.push(p);
        return Float32Array.from(first.flatMap((p) => [...p]));
      };
      const ga = c.stream(text, null, { seed, forceTokens: tokens, window: 1 });
      const gb = c.stream(text, null, { seed, forceTokens: tokens });
      const b1 = await gb.next();
      const bFirstWhileAHeld = !b1.done;
      const [a, b] = await Promise.all([all(ga, []), all(gb, b1.done ? [] : [b1.value])]);
      return { a, b, bFirstWhileAHeld };
    }, [TEXT, SEED, TOKENS] as const);
    expect(r.bFirstWhileAHeld).toBe(true);
    for (const pcm of [r.a, r.b]) {
      expect(pcm.length).toBe(nodeQ8.length);
      expect(relL2(pcm, nodeQ8)).toBeLessThanOrEqual(1e-6);
    }
  }, 300_000);

  it('the page\'s speed field: ?speed=2 plays the offline speed-2 render (half the samples, the Node run\'s PCM)', async () => {
    await page.goto(`${server.url}?model=./models/tiny/&text=${encodeURIComponent(TEXT)}&seed=${SEED}&tokens=${TOKENS}&cpudtype=q8&speed=2`);
    await page.waitForFunction(() => document.body.dataset.state === 'idle');
    const r = await play();
    expect(r.chunks).toBe(1);
    expect(r.pcm.length).toBe(480 * TOKENS);
    expect(relL2(r.pcm, nodeFast)).toBeLessThanOrEqual(1e-6);
  }, 300_000);

  it('client.streamText sends the text as it arrives; the Worker speaks it as the Node engine does', async () => {
    const pcm = await page.evaluate(async ([n]) => {
      const c = (globalThis as any).cosyvoiceDemo.client;
      const speaker = {
        promptTokens: Int32Array.from({ length: n }, (_, i) => (i * 37) % 100),
        promptMel: Float32Array.from({ length: 2 * n * 80 }, (_, i) => -6 + (4 * ((i * 7919) % 1000)) / 1000),
        embedding: Float32Array.from({ length: 192 }, (_, i) => Math.sin(i)),
        promptText: 'a prompt',
      };
      async function* pieces() {
        for (const p of ['Hi', ' there']) {
          await new Promise((r) => setTimeout(r, 50));
          yield p;
        }
      }
      const parts: Float32Array[] = [];
      for await (const p of c.streamText(pieces(), speaker, { seed: 3 })) parts.push(p);
      return Float32Array.from(parts.flatMap((p) => [...p]));
    }, [SPEAKER_TOKENS] as const);
    expect(nodeText.length).toBe(30720);
    expect(pcm.length).toBe(nodeText.length);
    expect(relL2(pcm, nodeText)).toBeLessThanOrEqual(1e-6);
  }, 300_000);

  it('client.prepareSpeaker solves a prompt in the Worker where the CPU fallback keeps it; none without a prompt; a bad speaker is refused by name', async () => {
    const r = await prepareSpeakerInPage(page);
    expect(r).toEqual({ kept: true, none: false, refused: expect.stringMatching(/SpeakerMismatchError: speaker embedding has 3 values, the model expects 192/) });
  }, 120_000);

  it('client.voiceFromWav runs the folder\'s prompt models in the Worker: the speaker Node makes from the same files; it speaks; a bad WAV is refused by name', async () => {
    const sr = 22050, n = Math.round(1.8 * sr);
    const wav = writeWav(Float32Array.from({ length: n }, (_, i) => 0.4 * Math.sin((2 * Math.PI * (200 + 150 * (i / n)) * i) / sr)), sr);
    const src = new DirModelSource(TINY_DIR);
    const models = await PromptModels.create({ tokenizer: await loadOnnxFromSource(src, 'speech_tokenizer_v3.onnx'), campplus: await loadOnnxFromSource(src, 'campplus.onnx') });
    const node = await models.speaker(wav, 'what the prompt says');
    models.dispose();
    const r = await page.evaluate(async ([bytes]) => {
      const c = (globalThis as any).cosyvoiceDemo.client;
      const s = await c.voiceFromWav(new Uint8Array(bytes), 'what the prompt says');
      let samples = 0;
      for await (const p of c.stream('Hello.', s, { seed: 1, forceTokens: 6 })) samples += p.length;
      let refused = '';
      try {
        await c.voiceFromWav(new Uint8Array([1, 2, 3]));
      } catch (e) {
        refused = `${(e as Error).name}: ${(e as Error).message}`;
      }
      return { tokens: Array.from(s.promptTokens as Int32Array), embedding: Array.from(s.embedding as Float32Array), mel: Array.from(s.promptMel as Float32Array), text: s.promptText, samples, refused };
    }, [Array.from(wav)] as const);
    expect(r.tokens).toEqual(Array.from(node.promptSpeechTokens));
    expect(relL2(r.embedding, node.embedding)).toBeLessThanOrEqual(1e-6);
    expect(r.mel).toEqual(Array.from(node.promptMel));
    expect(r.text).toBe('what the prompt says');
    expect(r.samples).toBe(6 * 960);
    expect(r.refused).toMatch(/WavFormatError/);
  }, 180_000);

  it('client.convertVoice speaks a source WAV\'s tokens in a voice (the Node engine\'s PCM, streamed and offline at speed 2); a bad source is refused by name', async () => {
    const sr = 16000, n = Math.round(2.6 * sr);
    const wav = writeWav(Float32Array.from({ length: n }, (_, i) => 0.35 * Math.sin((2 * Math.PI * (260 - 90 * (i / n)) * i) / sr) + 0.1 * Math.sin(i * 0.9)), sr);
    const src = new DirModelSource(TINY_DIR);
    const models = await PromptModels.create({ tokenizer: await loadOnnxFromSource(src, 'speech_tokenizer_v3.onnx'), campplus: await loadOnnxFromSource(src, 'campplus.onnx') });
    const tokens = await models.sourceTokens(wav);
    models.dispose();
    // The page is on the q8 CPU fallback since the speed test: the same engine in Node.
    const engine = await CosyVoiceEngine.loadWasm(src, 'q8');
    const nodeVc = async (streaming: boolean, speed?: number) => {
      const parts: Float32Array[] = [];
      for await (const p of engine.streamTokens(tokens, promptSpeaker(SPEAKER_TOKENS), { streaming, speed })) parts.push(p);
      return Float32Array.from(parts.flatMap((p) => [...p]));
    };
    const [streamed, fast] = [await nodeVc(true), await nodeVc(false, 2)];
    engine.dispose();
    const r = await page.evaluate(async ([bytes, k]) => {
      const c = (globalThis as any).cosyvoiceDemo.client;
      const speaker = {
        promptTokens: Int32Array.from({ length: k }, (_, i) => (i * 37) % 100),
        promptMel: Float32Array.from({ length: 2 * k * 80 }, (_, i) => -6 + (4 * ((i * 7919) % 1000)) / 1000),
        embedding: Float32Array.from({ length: 192 }, (_, i) => Math.sin(i)),
        promptText: 'a prompt',
      };
      const run = async (opts: object) => {
        const parts: Float32Array[] = [];
        for await (const p of c.convertVoice(new Uint8Array(bytes), speaker, opts)) parts.push(p);
        return { pcm: Float32Array.from(parts.flatMap((p) => [...p])), chunks: parts.length };
      };
      const a = await run({});
      const b = await run({ offline: true, speed: 2 });
      let refused = '';
      try {
        await c.convertVoice(new Uint8Array([1, 2, 3]), speaker).next();
      } catch (e) {
        refused = `${(e as Error).name}: ${(e as Error).message}`;
      }
      return { a: a.pcm, chunks: a.chunks, b: b.pcm, bChunks: b.chunks, refused };
    }, [Array.from(wav), SPEAKER_TOKENS] as const);
    expect(tokens.length).toBeGreaterThan(20);
    expect(r.a.length).toBe(960 * tokens.length);
    expect(r.chunks).toBeGreaterThan(1);
    expect(relL2(r.a, streamed)).toBeLessThanOrEqual(1e-6);
    expect(r.bChunks).toBe(1);
    expect(r.b.length).toBe(fast.length);
    expect(relL2(r.b, fast)).toBeLessThanOrEqual(1e-6);
    expect(r.refused).toMatch(/WavFormatError/);
  }, 240_000);

  it('the page\'s voice panel: "Make voice" from a prompt WAV, "Convert" a source WAV into it (the Node engine\'s PCM), "Save voice" and a voice file', async () => {
    const sr = 16000;
    const prompt = writeWav(Float32Array.from({ length: Math.round(2.2 * sr) }, (_, i) => 0.4 * Math.sin(i * 0.05 + 3e-6 * i * i)), sr);
    const source = writeWav(Float32Array.from({ length: Math.round(1.4 * sr) }, (_, i) => 0.3 * Math.sin(i * 0.11) + 0.2 * Math.sin(i * 0.013)), sr);
    const src = new DirModelSource(TINY_DIR);
    const models = await PromptModels.create({ tokenizer: await loadOnnxFromSource(src, 'speech_tokenizer_v3.onnx'), campplus: await loadOnnxFromSource(src, 'campplus.onnx') });
    const voice = await models.speaker(prompt, 'the prompt');
    const tokens = await models.sourceTokens(source);
    models.dispose();
    const engine = await CosyVoiceEngine.loadWasm(src, 'q8');
    const parts: Float32Array[] = [];
    const speaker = { promptTokens: voice.promptSpeechTokens, promptMel: voice.promptMel, embedding: voice.embedding, promptText: voice.transcript };
    for await (const p of engine.streamTokens(tokens, speaker)) parts.push(p);
    engine.dispose();
    const node = Float32Array.from(parts.flatMap((p) => [...p]));

    await page.goto(`${server.url}?model=./models/tiny/&cpudtype=q8`);
    await page.waitForFunction(() => document.body.dataset.state === 'idle');
    await page.evaluate(() => ((document.getElementById('voice-panel') as HTMLDetailsElement).open = true));
    await page.setInputFiles('#prompt-wav', { name: 'prompt.wav', mimeType: 'audio/wav', buffer: Buffer.from(prompt) });
    await page.fill('#prompt-text', 'the prompt');
    await page.click('#voice');
    await page.waitForFunction(() => ['loaded', 'error'].includes(document.body.dataset.state ?? '') && document.getElementById('status')?.textContent !== 'loaded', undefined, { timeout: 120_000 });
    expect(await page.locator('#voice-status').innerText()).toBe(`voice of prompt.wav: ${voice.promptSpeechTokens.length} prompt tokens`);
    await page.setInputFiles('#source-wav', { name: 'source.wav', mimeType: 'audio/wav', buffer: Buffer.from(source) });
    await page.click('#convert');
    await page.waitForFunction(() => ['played', 'error'].includes(document.body.dataset.state ?? ''), undefined, { timeout: 120_000 });
    const r = await page.evaluate(() => ({ state: document.body.dataset.state, status: document.getElementById('status')?.textContent, pcm: (globalThis as any).cosyvoiceDemo.pcm() as number[] }));
    expect(r.state, r.status ?? '').toBe('played');
    expect(r.pcm.length).toBe(960 * tokens.length);
    // The page's embedding is the Node one within rel-L2 1e-6 (tokens and mel exact): the PCM follows it closely.
    expect(relL2(r.pcm, node)).toBeLessThanOrEqual(1e-4);

    // "Save voice" gives the speaker file Node reads as that voice; a fresh page given the file converts the same.
    await page.click('#save-voice');
    const saved = new Uint8Array(await page.evaluate(() => Array.from((globalThis as any).cosyvoiceDemo.savedVoice as Uint8Array)));
    const file = decodeSpeaker(saved, { numMels: 80, embeddingDim: 192, tokenMelRatio: 2 });
    expect(Array.from(file.promptSpeechTokens)).toEqual(Array.from(voice.promptSpeechTokens));
    expect(Array.from(file.promptMel)).toEqual(Array.from(voice.promptMel));
    expect(relL2(file.embedding, voice.embedding)).toBeLessThanOrEqual(1e-6);
    expect(file.transcript).toBe('the prompt');
    await page.goto(`${server.url}?model=./models/tiny/&cpudtype=q8`);
    await page.waitForFunction(() => document.body.dataset.state === 'idle');
    await page.evaluate(() => ((document.getElementById('voice-panel') as HTMLDetailsElement).open = true));
    await page.setInputFiles('#voice-file', { name: 'voice.cvspk', mimeType: 'application/octet-stream', buffer: Buffer.from(saved) });
    await page.waitForFunction(() => (document.getElementById('voice-status')?.textContent ?? '').startsWith('voice from') || document.body.dataset.state === 'error', undefined, { timeout: 120_000 });
    expect(await page.locator('#voice-status').innerText()).toBe(`voice from voice.cvspk: ${voice.promptSpeechTokens.length} prompt tokens`);
    await page.setInputFiles('#source-wav', { name: 'source.wav', mimeType: 'audio/wav', buffer: Buffer.from(source) });
    await page.click('#convert');
    await page.waitForFunction(() => ['played', 'error'].includes(document.body.dataset.state ?? ''), undefined, { timeout: 120_000 });
    const again = await page.evaluate(() => (globalThis as any).cosyvoiceDemo.pcm() as number[]);
    expect(again.length).toBe(r.pcm.length);
    expect(again.findIndex((v, i) => v !== r.pcm[i]), 'first sample differing from the first conversion').toBe(-1);
  }, 240_000);

  it('"Record" takes a prompt from the microphone (Chromium\'s fake capture device) and "Make voice" makes a voice of it', async () => {
    await page.goto(`${server.url}?model=./models/tiny/&cpudtype=q8`);
    await page.waitForFunction(() => document.body.dataset.state === 'idle');
    await page.evaluate(() => ((document.getElementById('voice-panel') as HTMLDetailsElement).open = true));
    const status = () => page.locator('#voice-status').innerText();
    await page.click('#record');
    await page.waitForFunction(() => document.getElementById('voice-status')?.textContent === 'recording…' || document.body.dataset.state === 'error');
    await page.waitForTimeout(2000);
    await page.click('#record');
    await page.waitForFunction(() => (document.getElementById('voice-status')?.textContent ?? '').startsWith('recorded') || document.body.dataset.state === 'error', undefined, { timeout: 60_000 });
    expect(await status(), await page.locator('#status').innerText()).toMatch(/^recorded [1-3]\.\d s: press Make voice$/);
    const wav = await page.evaluate(() => Array.from((globalThis as any).cosyvoiceDemo.recording as Uint8Array).slice(0, 12));
    expect(new TextDecoder().decode(Uint8Array.from(wav.slice(0, 4)))).toBe('RIFF');
    await page.click('#voice');
    await page.waitForFunction(() => (document.getElementById('voice-status')?.textContent ?? '').startsWith('voice of') || document.body.dataset.state === 'error', undefined, { timeout: 120_000 });
    const m = /^voice of the recording: (\d+) prompt tokens$/.exec(await status());
    expect(m, await page.locator('#status').innerText()).not.toBeNull();
    // ~2 s at 25 tokens a second, cut to the 24 kHz mel's frames.
    expect(Number(m![1])).toBeGreaterThan(25);
  }, 180_000);
});
