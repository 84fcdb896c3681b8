/**
 * The CPU fallback in a browser without WebGPU: headless Chromium launched with WebGPU off loads the tiny
 * CosyVoice3 folder through the demo page with the default backend ('auto'), which must fall back to the
 * WebAssembly engine, and plays it. The PCM must equal the Node run of the same engine on the same converted
 * folder (same code, same V8 and WebAssembly SIMD arithmetic: bound 1e-6, rel-L2).
 */
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CosyVoiceEngine } from '../../src/browser/cosyvoice-engine.js';
import { buildWeb, DirModelSource, launchChromium, relL2, ROOT, startServer, type Browser, type Server } from './harness.js';

const TINY_DIR = join(ROOT, 'dist/web/models/tiny');
const TEXT = 'Hello there, WebAssembly.';
const SEED = 7;
const TOKENS = 30;

describe('tiny CosyVoice3 in Chromium without WebGPU (CPU fallback)', () => {
  let server: Server;
  let browser: Browser;
  let page: Page;
  let nodePcm: Float32Array;

  beforeAll(async () => {
    buildWeb(['--strict']);
    const engine = await CosyVoiceEngine.loadWasm(new DirModelSource(TINY_DIR));
    const parts: Float32Array[] = [];
    const gen = engine.stream(TEXT, engine.defaultSpeaker, { seed: SEED, forceTokens: TOKENS });
    for (let r = await gen.next(); !r.done; r = await gen.next()) parts.push(r.value);
    engine.dispose();
    nodePcm = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
    parts.reduce((o, p) => (nodePcm.set(p, o), o + p.length), 0);
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
    await page.click('#play');
    await page.waitForFunction(() => ['played', 'error'].includes(document.body.dataset.state ?? ''), undefined, { timeout: 240_000 });
    const r = await page.evaluate(() => {
      const d = (globalThis as any).cosyvoiceDemo;
      return { state: document.body.dataset.state, status: document.getElementById('status')?.textContent, pcm: d.pcm(), chunks: d.chunks.length, loaded: d.loaded, done: d.done };
    });
    if (r.state !== 'played') throw new Error(`demo page ended in ${r.state}: ${r.status}`);
    const err = relL2(r.pcm, nodePcm);
    console.log(`[browser] CPU fallback (${gpu}; ${r.loaded.threads} threads): ${r.pcm.length} samples in ${r.chunks} chunks; rel-L2 vs Node ${err.toExponential(2)}; load ${r.loaded.loadMs.toFixed(0)} ms; TTFA ${r.done.stats.ttfaMs.toFixed(0)} ms, RTF ${r.done.stats.rtf.toFixed(2)}`);
    expect(r.loaded.backend).toBe('wasm');
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
});
