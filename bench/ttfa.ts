/**
 * Cold start: from a fresh device, load the pipeline and synthesise once, with every pipeline compiled at load in
 * one batch (`precompile`, the default) or one by one on first use. Reports load ms, the first synthesis's time
 * to first audio, and the pipelines compiled in each phase; results to bench/results/ttfa-<size>.json.
 *
 *   npx tsx bench/ttfa.ts [--size tiny|full] [--reps 2]
 *
 * Each rep alternates the two modes, each on a device of its own (the pipeline cache is per device).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { GpuContext } from '../src/gpu/context.js';
import { adapterLabel } from '../src/gpu/device.js';
import { requestNodeDevice } from '../src/gpu/node-device.js';
import { syntheticModelFiles } from '../src/pipeline/model-files.js';
import { syntheticSpeaker } from '../src/pipeline/speaker.js';
import { createWebGpuPipeline } from '../src/pipeline/webgpu.js';

const { values: a } = parseArgs({ options: { size: { type: 'string', default: 'tiny' }, reps: { type: 'string', default: '2' } } });
const size = a.size === 'full' ? 'full' : 'tiny';
const files = await syntheticModelFiles(size);
const speaker = syntheticSpeaker(files);
const rows: Record<string, unknown>[] = [];
let adapter = '';

async function once(precompile: boolean) {
  const handle = await requestNodeDevice();
  adapter = adapterLabel(handle.info);
  const ctx = new GpuContext(handle);
  const t0 = performance.now();
  const tts = await createWebGpuPipeline(ctx, files, { precompile });
  const loadMs = performance.now() - t0;
  const atLoad = ctx.counters.pipelinesCreated;
  const t1 = performance.now();
  let ttfaMs = 0;
  for await (const _ of tts.stream('Hello there, this is a test.', speaker)) ttfaMs ||= performance.now() - t1;
  const row = { precompile, loadMs: +loadMs.toFixed(1), ttfaMs: +ttfaMs.toFixed(1), loadPlusTtfaMs: +(loadMs + ttfaMs).toFixed(1), pipelinesAtLoad: atLoad, pipelinesDuringSynthesis: ctx.counters.pipelinesCreated - atLoad };
  tts.dispose();
  console.log(`[ttfa] ${JSON.stringify(row)}`);
  rows.push(row);
}

for (let r = 0; r < Number(a.reps); r++) {
  await once(false);
  await once(true);
}
const med = (p: boolean, k: string) => {
  const v = rows.filter((r) => r.precompile === p).map((r) => r[k] as number).sort((x, y) => x - y);
  return v[Math.floor(v.length / 2)];
};
const summary = Object.fromEntries([true, false].map((p) => [p ? 'precompile' : 'lazy', Object.fromEntries(['loadMs', 'ttfaMs', 'loadPlusTtfaMs'].map((k) => [k, med(p, k)]))]));
console.log(`[ttfa] ${size} on ${adapter}: median ${JSON.stringify(summary)}`);
const out = join(dirname(fileURLToPath(import.meta.url)), 'results', `ttfa-${size}.json`);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), size, adapter, note: 'fresh device per row; load = createWebGpuPipeline, ttfa = first PCM chunk of the first synthesis after load', rows, median: summary }, null, 1));
