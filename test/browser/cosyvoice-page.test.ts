/**
 * The tiny CosyVoice3 fixture, converted at build time (scripts/build-web.mjs → dist/web/models/tiny/), played
 * through the demo page in headless Chromium: big files downloaded by Range requests into OPFS and the weights
 * read there in place, synthesis in the Worker (WebGPU on SwiftShader, f32 weights, default speaker, fixed seed
 * and token count giving two streamed chunks), chunks into the AudioWorklet. The PCM the page received is compared with the Node runtime (Dawn) on the same converted
 * folder, loaded by the same code (converted-model.ts + cosyvoice-engine.ts), and a screenshot is saved.
 *
 * Tolerance: rel-L2 ≤ 1e-4 (the bound). SwiftShader's builtin sin/cos are ~2e-4 off inside [-π, π]
 * (measured by sinAccuracy and logged; WebGPU allows 2^-11), which once moved the audio 2.5e-4 from Node; HiFT
 * now uses precise_sin/precise_cos (shaders/precise_trig.wgsl) in Snake and the iSTFT, so no adapter's builtin
 * accuracy enters the bound. The Worker's prepareSpeaker reaches the WebGPU flow's prefix cache (after the play).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CosyVoiceEngine } from '../../src/browser/cosyvoice-engine.js';
import { GpuContext } from '../../src/gpu/context.js';
import { loadShadersFromDisk } from '../../src/gpu/node-shaders.js';
import { testContext } from '../helpers/gpu.js';
import { TuningTable } from '../../src/gpu/tuning.js';
import { ARTIFACTS, buildWeb, DirModelSource, launchChromium, prepareSpeakerInPage, relL2, ROOT, startServer, type Browser, type Server } from './harness.js';

const TINY_DIR = join(ROOT, 'dist/web/models/tiny');
const TEXT = 'Hello there, WebGPU.';
const SEED = 7;
const TOKENS = 30;

/** Largest |sin(x) − Math.sin(x)| of the page's WebGPU over x in [-π, π]. */
async function sinAccuracy(page: Page): Promise<number> {
  return page.evaluate(async () => {
    const n = 4096;
    const xs = new Float32Array(n).map((_, i) => -Math.PI + (2 * Math.PI * i) / (n - 1));
    const gpu = (navigator as any).gpu;
    const d = await (await gpu.requestAdapter()).requestDevice();
    const code = `@group(0) @binding(0) var<storage, read_write> v: array<f32>;
      @compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3u) { if (g.x < arrayLength(&v)) { v[g.x] = sin(v[g.x]); } }`;
    const buf = d.createBuffer({ size: n * 4, usage: 0x80 | 0x04 | 0x08 });
    const rb = d.createBuffer({ size: n * 4, usage: 0x01 | 0x08 });
    d.queue.writeBuffer(buf, 0, xs);
    const p = d.createComputePipeline({ layout: 'auto', compute: { module: d.createShaderModule({ code }), entryPoint: 'main' } });
    const e = d.createCommandEncoder();
    const pass = e.beginComputePass();
    pass.setPipeline(p);
    pass.setBindGroup(0, d.createBindGroup({ layout: p.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: buf } }] }));
    pass.dispatchWorkgroups(n / 64);
    pass.end();
    e.copyBufferToBuffer(buf, 0, rb, 0, n * 4);
    d.queue.submit([e.finish()]);
    await rb.mapAsync(1);
    const out = new Float32Array(rb.getMappedRange().slice(0));
    d.destroy();
    let worst = 0;
    for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(out[i] - Math.sin(xs[i])));
    return worst;
  });
}

describe('tiny CosyVoice3 in headless Chromium', () => {
  let server: Server;
  let browser: Browser;
  let page: Page;
  let nodePcm: Float32Array;
  let nodeChunks: number;

  beforeAll(async () => {
    const out = buildWeb(['--strict']);
    expect(out).toContain('./models/tiny/');
    loadShadersFromDisk();
    const shared = await testContext();
    const ctx = new GpuContext(shared.handle); // the engine's dispose() releases its whole context
    // A tuning table travels as JSON text: another adapter's is refused by name, this adapter's is taken.
    const other = JSON.stringify(new TuningTable('another adapter'));
    await expect(CosyVoiceEngine.load(new DirModelSource(TINY_DIR), new GpuContext(shared.handle), { dtype: 'f32', tuning: other })).rejects.toThrow(/the tuning load option was measured on "another adapter"/);
    const engine = await CosyVoiceEngine.load(new DirModelSource(TINY_DIR), ctx, { dtype: 'f32', tuning: JSON.stringify(TuningTable.forContext(ctx)) });
    const parts: Float32Array[] = [];
    const gen = engine.stream(TEXT, engine.defaultSpeaker, { seed: SEED, forceTokens: TOKENS });
    for (let r = await gen.next(); !r.done; r = await gen.next()) parts.push(r.value);
    engine.dispose();
    nodeChunks = parts.length;
    nodePcm = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
    parts.reduce((o, p) => (nodePcm.set(p, o), o + p.length), 0);

    server = await startServer();
    browser = await launchChromium();
    page = browser.context.pages()[0] ?? (await browser.context.newPage());
    await page.goto(`${server.url}?model=./models/tiny/&text=${encodeURIComponent(TEXT)}&seed=${SEED}&tokens=${TOKENS}&dtype=f32`);
    await page.waitForFunction(() => document.body.dataset.state === 'idle');
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    server?.close();
  });

  it('plays the tiny model through the demo page; PCM matches the Node runtime', async () => {
    await page.click('#play');
    await page.waitForFunction(() => ['played', 'error'].includes(document.body.dataset.state ?? ''), undefined, { timeout: 400_000 });
    const r = await page.evaluate(() => {
      const d = (globalThis as any).cosyvoiceDemo;
      return { state: document.body.dataset.state, status: document.getElementById('status')?.textContent, pcm: d.pcm(), chunks: d.chunks.length, loaded: d.loaded, done: d.done, progress: d.progress, player: d.player };
    });
    if (r.state !== 'played') throw new Error(`demo page ended in ${r.state}: ${r.status}`);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'browser-demo-tiny.png'), fullPage: true });
    writeFileSync(join(ARTIFACTS, 'tiny-pcm-node.f32'), nodePcm);
    writeFileSync(join(ARTIFACTS, 'tiny-pcm-browser.f32'), Float32Array.from(r.pcm));

    const sinErr = await sinAccuracy(page);
    const bound = 1e-4;
    const err = relL2(r.pcm, nodePcm);
    console.log(
      `[browser] tiny CosyVoice3: ${r.pcm.length} samples in ${r.chunks} chunks (Node ${nodeChunks}); rel-L2 vs Node ${err.toExponential(2)} ` +
        `(bound ${bound}; the adapter's builtin sin max error ${sinErr.toExponential(1)} on [-π, π], not used by HiFT); load ${r.loaded.loadMs.toFixed(0)} ms, ` +
        `${r.loaded.cache.bytesDownloaded} bytes, ${r.progress.length} progress events; TTFA ${r.done.stats.ttfaMs.toFixed(0)} ms, RTF ${r.done.stats.rtf.toFixed(2)}`,
    );
    expect(r.loaded.engine).toBe('cosyvoice3');
    expect(r.loaded.shaderF16).toBe(false);
    // The Worker kept the big files in OPFS and the engine read its weights from there in place.
    expect(r.loaded.modelStore).toBe('opfs');
    expect(r.chunks).toBe(nodeChunks);
    expect(r.pcm.length).toBe(nodePcm.length);
    expect(err).toBeLessThanOrEqual(bound);
    expect(r.done.transferred).toBe(r.chunks);
    expect(r.player.played).toBe(nodePcm.length);

    // Every model file reported progress; the .data files came through Range requests.
    const files = new Set(r.progress.map((p: { file: string }) => p.file));
    for (const f of ['cosyvoice.json', 'cosyvoice3.yaml', 'llm.onnx', 'llm.onnx.data', 'flow.onnx.data', 'hift.onnx.data']) expect(files).toContain(f);
    const dataReqs = server.requests.filter((q) => q.path.endsWith('.onnx.data') && q.method === 'GET');
    expect(dataReqs.length).toBeGreaterThan(0);
    expect(dataReqs.every((q) => q.status === 206 && q.range !== null)).toBe(true);

    const text = await page.locator('.panel').innerText();
    expect(text).toMatch(/TTFA\s+[\d.]+ ms/);
    expect(text).toMatch(/RTF\s+[\d.]+/);
    expect(text).toContain(r.loaded.adapterLabel);
    expect(text).toMatch(/shader-f16\s+no/);
  }, 420_000);

  it('client.prepareSpeaker keeps a prompt in the WebGPU flow\'s prefix cache; none without a prompt; a bad speaker is refused by name', async () => {
    const r = await prepareSpeakerInPage(page);
    expect(r).toEqual({ kept: true, none: false, refused: expect.stringMatching(/SpeakerMismatchError: speaker embedding has 3 values, the model expects 192/) });
  }, 120_000);

  it('a reload loads the converted model from OPFS and the Cache API without any model request', async () => {
    const before = server.requests.length;
    await page.reload();
    await page.waitForFunction(() => document.body.dataset.state === 'idle');
    const r = await page.evaluate(async () => {
      const progress: { cached: boolean; stage: string; file: string; loaded: number; total: number }[] = [];
      const loaded = await (globalThis as any).cosyvoiceDemo.client.load('./models/tiny/', (p: (typeof progress)[number]) => progress.push(p), { dtype: 'f32' });
      return { loaded, progress };
    });
    expect(server.requests.slice(before).filter((q) => q.path.startsWith('/models/tiny/'))).toEqual([]);
    expect(r.loaded.engine).toBe('cosyvoice3');
    expect(r.loaded.modelStore).toBe('opfs');
    expect(r.loaded.cache.misses).toBe(0);
    expect(r.loaded.cache.bytesDownloaded).toBe(0);
    expect(r.loaded.cache.bytesFromCache).toBeGreaterThan(2_000_000);
    expect(r.progress.length).toBeGreaterThan(0);
    expect(r.progress.every((p) => p.cached)).toBe(true);
    // The weights were read from OPFS into place, and each graph reported it as it went (stage 'read').
    for (const graph of ['llm.onnx', 'flow.onnx', 'hift.onnx']) {
      const reads = r.progress.filter((p) => p.stage === 'read' && p.file === graph);
      expect(reads.length, graph).toBeGreaterThan(2);
      expect(reads.every((p, i) => p.loaded <= p.total && (i === 0 || p.loaded > reads[i - 1].loaded)), graph).toBe(true);
      // Flow and HiFT read every weight (not the converter's STFT bases, which the runtime computes: 0.4% of
      // hift.onnx's data at tiny size); the LLM leaves its text table in the file.
      const { loaded, total } = reads.at(-1)!;
      if (graph === 'llm.onnx') expect(loaded).toBeGreaterThan(0);
      else expect(loaded / total, `${graph}: ${loaded} of ${total}`).toBeGreaterThan(0.99);
    }
  }, 240_000);

  it('client.tune measures this adapter in the Worker and load takes the table; another adapter\'s table fails the load by name', async () => {
    const r = await page.evaluate(async () => {
      const c = (globalThis as any).cosyvoiceDemo.client;
      // The LLM only: each HiFT tile candidate is a new pipeline, which SwiftShader takes seconds to compile.
      const tuned = await c.tune('./models/tiny/', { quick: true, models: ['llm'], prefillRows: [32], context: 64, dtype: 'f32' });
      const loaded = await c.load('./models/tiny/', undefined, { dtype: 'f32', tuning: tuned.table });
      let refused = '';
      try {
        await c.load('./models/tiny/', undefined, { dtype: 'f32', tuning: JSON.stringify({ ...JSON.parse(tuned.table), adapter: 'another adapter' }) });
      } catch (e) {
        refused = `${(e as Error).name}: ${(e as Error).message}`;
      }
      const again = await c.load('./models/tiny/', undefined, { dtype: 'f32' });
      return { tuned, loaded, refused, again: again.engine };
    });
    console.log(`[browser] tune: ${r.tuned.decisions} decisions (${r.tuned.changed} off the defaults) in ${r.tuned.tuneMs.toFixed(0)} ms on ${r.tuned.adapterLabel}: ${r.tuned.table.slice(0, 400)}`);
    expect(JSON.parse(r.tuned.table).adapter).toBe(r.tuned.adapterLabel);
    expect(r.tuned.adapterLabel).toBe(r.loaded.adapterLabel);
    // SwiftShader runs the CPU-adapter forms; of their decisions only the decode attention's split form is tunable.
    const entries = JSON.parse(r.tuned.table).entries as { key: string; tried: { us: number | null }[] }[];
    expect(entries.length).toBe(r.tuned.decisions);
    for (const e of entries) {
      expect(e.key).toMatch(/^decode_attention:/);
      expect(e.tried.some((t) => t.us !== null)).toBe(true);
    }
    expect(r.refused).toMatch(/TuningFileError: the tuning load option was measured on "another adapter"/);
    expect(r.again).toBe('cosyvoice3');
  }, 400_000);
});
