/**
 * The demo page in real headless Chromium (WebGPU on SwiftShader): the test-tone model is downloaded over HTTP
 * (Range reads), synthesized in the Worker on the GPU, streamed into the AudioWorklet; the PCM the page received
 * must match the same engine run in Node (Dawn) to rel-L2 ≤ 1e-4. Then: a reload is served from the model store
 * (OPFS and the Cache API: no model request reaches the server), cancel stops the worker within its ack window, quota and bad-folder
 * errors arrive as typed errors, and a screenshot of the page after playback goes to test-artifacts/.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ToneEngine } from '../../src/browser/test-tone.js';
import type { DoneInfo, LoadedInfo, ProgressInfo } from '../../src/browser/protocol.js';
import { loadShadersFromDisk } from '../../src/gpu/node-shaders.js';
import { testContext } from '../helpers/gpu.js';
import { ARTIFACTS, buildWeb, DirModelSource, launchChromium, relL2, ROOT, startServer, type Browser, type Server } from './harness.js';

const TEXT = 'Hello WebGPU';
const TONE_DIR = join(ROOT, 'dist/web/models/tone');

interface DemoSnapshot {
  state: string;
  status: string;
  pcm: number[];
  chunks: number;
  progress: ProgressInfo[];
  loaded: LoadedInfo | null;
  done: DoneInfo | null;
  error: { name: string; message: string } | null;
  player: { played: number; buffered: number; underruns: number; drained: boolean } | null;
}

async function snapshot(page: Page): Promise<DemoSnapshot> {
  return page.evaluate(() => {
    const d = (globalThis as any).cosyvoiceDemo;
    return {
      state: document.body.dataset.state ?? '',
      status: document.getElementById('status')?.textContent ?? '',
      pcm: d.pcm(),
      chunks: d.chunks.length,
      progress: d.progress,
      loaded: d.loaded,
      done: d.done,
      error: d.error,
      player: d.player,
    };
  });
}

/** Waits until the page reaches one of `states`; an 'error' state fails at once with the page's error. */
async function waitForState(page: Page, states: string[], timeout = 30_000): Promise<DemoSnapshot> {
  await page.waitForFunction((s) => s.includes(document.body.dataset.state ?? '') || document.body.dataset.state === 'error', states, { timeout });
  const snap = await snapshot(page);
  if (snap.state === 'error' && !states.includes('error')) throw new Error(`demo page error: ${snap.status}`);
  return snap;
}

async function nodeReference(text: string): Promise<Float32Array> {
  loadShadersFromDisk();
  const ctx = await testContext();
  const engine = await ToneEngine.load(new DirModelSource(TONE_DIR), ctx);
  try {
    return (await engine.synthesize(text, engine.defaultSpeaker)).pcm;
  } finally {
    engine.dispose();
  }
}

describe('demo page in headless Chromium (test-tone engine)', () => {
  let server: Server;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    buildWeb(['--no-tiny']);
    server = await startServer();
    browser = await launchChromium();
    page = browser.context.pages()[0] ?? (await browser.context.newPage());
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => {
      // The engine probe asks for cosyvoice.json first: its 404 on the tone folder is expected.
      if (m.type() === 'error' && !/\/(cosyvoice|tone)\.json$/.test(m.location().url)) pageErrors.push(`${m.text()} (${m.location().url})`);
    });
    await page.goto(`${server.url}?model=./models/tone/&text=${encodeURIComponent(TEXT)}`);
    const gpu = await page.evaluate(async () => {
      const a = await (navigator as any).gpu?.requestAdapter();
      return a ? `${a.info.vendor}/${a.info.architecture}` : null;
    });
    if (!gpu) throw new Error('headless Chromium has no WebGPU adapter (navigator.gpu.requestAdapter() returned null); is --enable-unsafe-webgpu honoured?');
    console.log(`[browser] Chromium WebGPU adapter: ${gpu}`);
  });

  afterAll(async () => {
    await browser?.close();
    server?.close();
  });

  it('streams a synthesis through Worker → GPU → AudioWorklet, PCM equal to the Node runtime', async () => {
    await waitForState(page, ['idle']);
    await page.click('#play');
    const snap = await waitForState(page, ['played']);
    const ref = await nodeReference(TEXT);
    expect(snap.pcm.length).toBe(ref.length);
    const err = relL2(snap.pcm, ref);
    console.log(`[browser] ${snap.pcm.length} samples in ${snap.chunks} chunks; rel-L2 vs Node ${err.toExponential(2)}; ` +
      `TTFA ${snap.done!.stats.ttfaMs.toFixed(1)} ms, RTF ${snap.done!.stats.rtf.toFixed(4)}; adapter ${snap.loaded!.adapterLabel}`);
    expect(err).toBeLessThanOrEqual(1e-4);
    expect(Math.max(...snap.pcm.map(Math.abs))).toBeGreaterThan(0.05); // not silence

    // Streaming: several chunks, all played by the worklet.
    expect(snap.chunks).toBeGreaterThan(1);
    expect(snap.done!.chunks).toBe(snap.chunks);
    expect(snap.done!.transferred).toBe(snap.chunks); // moved, not copied
    expect(snap.done!.cancelled).toBe(false);
    expect(snap.player!.drained).toBe(true);
    expect(snap.player!.played).toBe(ref.length);

    // Progress fired for both files; the download went over the network with Range reads for the weights.
    expect(snap.progress.length).toBeGreaterThan(0);
    expect(new Set(snap.progress.map((p) => p.file))).toEqual(new Set(['tone.json', 'tone.bin']));
    expect(snap.progress.every((p) => !p.cached)).toBe(true);
    expect(snap.loaded!.cache.misses).toBeGreaterThan(0);
    expect(snap.loaded!.cache.bytesDownloaded).toBeGreaterThan(0);
    const binReqs = server.requests.filter((r) => r.path === '/models/tone/tone.bin' && r.method === 'GET');
    expect(binReqs.length).toBeGreaterThan(0);
    expect(binReqs.every((r) => r.status === 206 && r.range !== null)).toBe(true);

    expect(snap.loaded!.adapterLabel.length).toBeGreaterThan(0);
    expect(snap.loaded!.shaderF16).toBe(false);

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'browser-demo.png'), fullPage: true });
    const text = await page.locator('.panel').innerText();
    expect(text).toMatch(/Load[\s\S]*from cache/);
    expect(text).toMatch(/TTFA\s+[\d.]+ ms/);
    expect(text).toMatch(/RTF\s+[\d.]+/);
    expect(text).toContain(snap.loaded!.adapterLabel);
    expect(text).toMatch(/shader-f16\s+no/);
    expect(pageErrors).toEqual([]);
  });

  it('a reload loads the model from the browser\'s model store (OPFS, Cache API) without any model request', async () => {
    const before = server.requests.length;
    await page.reload();
    await waitForState(page, ['idle']);
    await page.click('#play');
    const snap = await waitForState(page, ['played']);
    const modelReqs = server.requests.slice(before).filter((r) => r.path.startsWith('/models/tone/'));
    expect(modelReqs).toEqual([]);
    expect(snap.loaded!.cache.misses).toBe(0);
    expect(snap.loaded!.cache.bytesDownloaded).toBe(0);
    expect(snap.loaded!.cache.hits).toBeGreaterThan(0);
    expect(snap.progress.length).toBeGreaterThan(0);
    expect(snap.progress.every((p) => p.cached)).toBe(true);
    expect(relL2(snap.pcm, await nodeReference(TEXT))).toBeLessThanOrEqual(1e-4);
  });

  it('cancel stops the worker within its ack window, and the worker stays usable', async () => {
    const r = await page.evaluate(async () => {
      const d = (globalThis as any).cosyvoiceDemo;
      const text = 'a long text that would take a while to speak. '.repeat(8);
      const gen = d.client.stream(text, null, { window: 2 });
      let received = 0;
      const first = await gen.next();
      if (!first.done) received++;
      await new Promise((res) => setTimeout(res, 300)); // the worker is now blocked on acks, 2 chunks ahead
      d.client.cancel(gen.id);
      for (;;) {
        const n = await gen.next();
        if (n.done) break;
        received++;
      }
      const done = await gen.done;
      const again = await d.client.synthesize('ok', null);
      return { received, done, againSamples: again.pcm.length, framesTotal: [...text].length * 5 };
    });
    expect(r.done.cancelled).toBe(true);
    expect(r.done.chunks).toBeLessThanOrEqual(3); // 1 taken + window of 2
    expect(r.received).toBe(r.done.chunks);
    expect(r.done.chunks * 10).toBeLessThan(r.framesTotal / 10);
    expect(r.againSamples).toBe(2 * 5 * 480);

    // The Cancel button mid-utterance: the worklet is cleared and the page says cancelled.
    await page.fill('#text', 'x'.repeat(400));
    await page.click('#play');
    await page.waitForFunction(() => (globalThis as any).cosyvoiceDemo.chunks.length > 0);
    await page.click('#cancel');
    const snap = await waitForState(page, ['cancelled']);
    await page.waitForTimeout(200);
    const player = await page.evaluate(() => (globalThis as any).cosyvoiceDemo.player);
    expect(snap.state).toBe('cancelled');
    expect(player === null || player.buffered === 0).toBe(true);
  });

  it('a folder without a model and a full cache give typed errors, not hangs', async () => {
    const bad = await page.evaluate(async () => {
      const d = (globalThis as any).cosyvoiceDemo;
      try {
        await d.client.load('./models/none/');
        return null;
      } catch (e) {
        return { name: (e as Error).name, message: (e as Error).message };
      }
    });
    expect(bad?.name).toBe('UnsupportedModelError');
    expect(bad?.message).toContain('models/none/');

    // Shrink this origin's quota to 1 kB (Chromium DevTools protocol), then load into a fresh cache.
    const cdp = await browser.context.newCDPSession(page);
    await cdp.send('Storage.overrideQuotaForOrigin' as any, { origin: new URL(server.url).origin, quotaSize: 1024 } as any);
    const quota = await page.evaluate(async () => {
      const d = (globalThis as any).cosyvoiceDemo;
      try {
        await d.client.load('./models/tone/', undefined, { cacheName: `quota-test-${Date.now()}` });
        return null;
      } catch (e) {
        return { name: (e as Error).name, message: (e as Error).message };
      }
    });
    await cdp.send('Storage.overrideQuotaForOrigin' as any, { origin: new URL(server.url).origin } as any);
    expect(quota?.name).toBe('ModelCacheQuotaError');
    expect(quota?.message).toMatch(/tone\.(json|bin)/);
  });

  it('dispose releases the worker; later calls are typed errors', async () => {
    const r = await page.evaluate(async () => {
      const d = (globalThis as any).cosyvoiceDemo;
      const Client = d.client.constructor;
      const c = new Client(new Worker('./worker.js', { type: 'module' }));
      await c.load('./models/tone/');
      const { pcm } = await c.synthesize('ok', null);
      const t0 = performance.now();
      await c.dispose();
      const ms = performance.now() - t0;
      try {
        c.stream('again');
        return { samples: pcm.length, ms, after: null };
      } catch (e) {
        return { samples: pcm.length, ms, after: (e as Error).name };
      }
    });
    expect(r.samples).toBe(2 * 5 * 480);
    expect(r.ms).toBeLessThan(1500); // the worker answered 'disposed' (the fallback timeout is 2 s)
    expect(r.after).toBe('WorkerProtocolError');
  });
});
