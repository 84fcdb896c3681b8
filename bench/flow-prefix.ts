/**
 * The WebGPU flow's streaming prefix cache at full size (src/models/flow/prefix-cache.ts): the first streaming call
 * of a second text after a 6 s prompt (150 prompt tokens, 300 frames; 25 new tokens + 3 look-ahead: T = 350), with
 * the prompt's whole chunks kept by the first text's call (q0 = 250 with a 1 GiB budget) or solved again (0).
 *   npx tsx bench/flow-prefix.ts [root=/tmp/cosyvoice3-full] [--cache-mb 1024] [--calls 2] [--profile]
 * One untimed call of text A fills the cache (and compiles); then `--calls` calls of text B, each timed to its mel
 * readback. Prints the times and the frames served; appends the row to bench/results/flow-prefix.json.
 * --profile: then runs the last call's first solver step again, a timestamped pass per dispatch, and prints the GPU
 * ms per kernel variant (not written to the results).
 * For A/B comparisons run it alternately from two checkouts: this VM's speed drifts by tens of percent.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadPt, readHyperYaml } from '../loader/node.js';
import { GpuContext } from '../src/gpu/context.js';
import { adapterLabel } from '../src/gpu/device.js';
import { requestNodeDevice } from '../src/gpu/node-device.js';
import type { DispatchRecord } from '../src/gpu/dispatch.js';
import { profileDispatches } from '../src/gpu/timing.js';
import { FlowModel, type FlowInferenceCall } from '../src/models/flow/forward.js';
import { RESULTS_DIR } from './goals.js';
import { median } from './stats.js';
import { randomModelFolder } from './random-folders.js';

const a = parseArgs({ allowPositionals: true, options: { 'cache-mb': { type: 'string', default: '1024' }, calls: { type: 'string', default: '2' }, profile: { type: 'boolean', default: false } } });
const root = a.positionals[0] ?? '/tmp/cosyvoice3-full';
const model = randomModelFolder(root);
const cacheMb = Number(a.values['cache-mb']);
const calls = Number(a.values.calls);

const handle = await requestNodeDevice();
const ctx = new GpuContext(handle);
const flow = await FlowModel.load(ctx, { yaml: await readHyperYaml(join(model, 'cosyvoice3.yaml')), store: await loadPt(join(model, 'flow.pt')), maxFrames: 600, prefixCacheBytes: cacheMb * 2 ** 20 });
const vocab = flow.cfg.vocabSize;
const ids = (n: number, seed: number) => Int32Array.from({ length: n }, (_, i) => (i * 7919 + seed * 104729) % vocab);
const P = 150;
const prompt = ids(P, 1);
const promptMel = Float32Array.from({ length: 2 * P * flow.cfg.melBins }, (_, i) => Math.sin(i * 0.37));
const embedding = Float32Array.from({ length: flow.cfg.spkEmbedDim }, (_, i) => Math.cos(i * 0.11));
const call = (seed: number): FlowInferenceCall => ({ tokens: ids(28, seed), promptTokens: prompt, promptMel, embedding, streaming: true, finalize: false });

await flow.inference(call(2)); // text A's first chunk: fills the cache, compiles
const ms: number[] = [];
for (let i = 0; i < calls; i++) {
  const t0 = performance.now();
  await flow.inference(call(3)); // text B's first chunk
  ms.push(performance.now() - t0);
}
const served = flow.prefixServed;
const row = { date: new Date().toISOString(), adapter: adapterLabel(handle.info), cache_mb: cacheMb, T: served.cached + served.computed, served: served.cached, computed: served.computed, ms, median_ms: median(ms) };
console.log(JSON.stringify(row));
mkdirSync(RESULTS_DIR, { recursive: true });
const out = join(RESULTS_DIR, 'flow-prefix.json');
const old = existsSync(out) ? (JSON.parse(readFileSync(out, 'utf8')) as { rows: unknown[] }) : { rows: [] };
writeFileSync(out, JSON.stringify({ rows: [...old.rows, row] }, null, 1));

if (a.values.profile) {
  // The dispatch list of text B's call, captured as the model submits it; its first tenth is about one step.
  let records: readonly DispatchRecord[] = [];
  const run = ctx.run.bind(ctx);
  ctx.run = (r, after) => ((records = r), run(r, after));
  await flow.inference(call(3));
  const step = records.slice(0, Math.ceil(records.length / flow.cfg.nTimesteps));
  const t = (await profileDispatches(ctx, step)) ?? [];
  const by = new Map<string, number>();
  for (const { label, ms } of t) {
    const kernel = label.slice(label.indexOf('/') + 1);
    by.set(kernel, (by.get(kernel) ?? 0) + ms);
  }
  const total = t.reduce((s, d) => s + d.ms, 0);
  console.log(`profile: ${step.length} dispatches (≈ one step of ${records.length}), ${total.toFixed(0)} ms`);
  for (const [k, ms] of [...by].sort((x, y) => y[1] - x[1])) console.log(`  ${ms.toFixed(1).padStart(9)} ms  ${k}`);
}
ctx.dispose();
