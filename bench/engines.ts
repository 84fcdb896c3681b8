/**
 * The engines side by side at full size through the verify Engine contract (src/ort/engine.ts), stage by stage,
 * on the same random-weight model and machine: our CPU fallback (`wasm`: TypeScript models, WebAssembly SIMD
 * matrix products, one thread); onnxruntime-web's WebAssembly backend over the converted graphs in this process
 * (`ort-web`: one thread, the like-for-like of ours; `ort-web-2t`: two); ONNX Runtime's native cpu EP (`ort-cpu`,
 * its default threads; `ort-cpu-1t`: one intra-op thread): native AVX code, not a WebAssembly rival, shown for
 * scale; and our WebGPU engine (`webgpu`) on this machine's adapter.
 *
 *   npx tsx bench/engines.ts [dir=/tmp/cosyvoice3-full] [--engines wasm,ort-web,ort-cpu] [--reps 3]
 *
 * Stages: LLM prefill of 128 rows, then decode steps at context 129… (median of 16); the DiT estimator (CFG batch
 * 2, T = 200 frames); HiFT on 50 mel frames (1 s of audio). Each is the median of --reps calls after one warm-up.
 * The folder comes from bench/make-full-folder.ts (written there when missing: ~7 GB, never inside the repo).
 * Results: bench/results/engines.json and a markdown table.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { convertModel } from '../src/convert/index.js';
import { FULL_DIMS, writeRandomFolder } from '../src/convert/random-folder.js';
import type { Engine } from '../src/ort/engine.js';
import { OrtEngine } from '../src/ort/ort-engine.js';
import { loadModelFolder } from '../src/pipeline/node-model-files.js';
import { WasmEngine } from '../src/pipeline/wasm-engine.js';
import { WebGpuEngine } from '../src/pipeline/webgpu-engine.js';
import { RESULTS_DIR } from './goals.js';
import { median } from './stats.js';

const a = parseArgs({ allowPositionals: true, options: { engines: { type: 'string', default: 'wasm,ort-web,ort-cpu' }, reps: { type: 'string', default: '3' } } });
const root = a.positionals[0] ?? '/tmp/cosyvoice3-full';
const reps = Number(a.values.reps);
const model = join(root, 'model'), converted = join(root, 'converted');
if (!existsSync(join(converted, 'cosyvoice.json'))) {
  if (!existsSync(join(model, 'hift.pt'))) writeRandomFolder(model, FULL_DIMS);
  await convertModel(model, converted);
}

async function open(name: string): Promise<Engine> {
  if (name === 'wasm') return WasmEngine.create(await loadModelFolder(converted));
  if (name === 'webgpu') return WebGpuEngine.create(converted);
  if (name === 'ort-cpu') return OrtEngine.create(converted);
  if (name === 'ort-cpu-1t') return OrtEngine.create(converted, { intraOpNumThreads: 1 });
  if (name === 'ort-web') return OrtEngine.create(converted, { runtime: 'web', intraOpNumThreads: 1 });
  if (name === 'ort-web-2t') return OrtEngine.create(converted, { runtime: 'web', intraOpNumThreads: 2 });
  throw new Error(`unknown engine ${name}: use wasm, webgpu, ort-web, ort-web-2t, ort-cpu or ort-cpu-1t`);
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

/** Median of `n` timed calls after one untimed call. */
async function med(n: number, fn: () => Promise<unknown>): Promise<number> {
  await fn();
  const ts: number[] = [];
  for (let i = 0; i < n; i++) ts.push(await timed(fn));
  return median(ts);
}

const rnd = (n: number, seed: number) => {
  let s = seed >>> 0 || 1;
  return Float32Array.from({ length: n }, () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296) * 2 - 1);
};

interface Row { engine: string; load_ms: number; prefill128_ms: number; decode_ms: number; estimator_ms: number; hift_1s_ms: number }

async function measure(name: string): Promise<Row> {
  const t0 = performance.now();
  const e = await open(name);
  const load = performance.now() - t0;
  const c = e.config;
  const H = c.llm.hidden;
  // LLM: a 128-row prefill, then 16 decode steps (medians over fresh sessions for the prefill).
  const prefill = await med(reps, async () => {
    const s = await e.llmSession();
    await s.step(rnd(128 * H, 1), 128);
    s.dispose();
  });
  const s = await e.llmSession();
  await s.step(rnd(128 * H, 1), 128);
  const steps: number[] = [];
  for (let i = 0; i < 17; i++) steps.push(await timed(() => s.step(rnd(H, 2 + i), 1)));
  s.dispose();
  // DiT: CFG batch 2, T = 200.
  const B = 2, T = 200, C = c.flow.dit.melDim;
  const inp = {
    x: rnd(B * C * T, 3), mask: new Float32Array(B * T).fill(1), mu: rnd(B * c.flow.dit.muDim * T, 4), t: Float32Array.of(0.5, 0.5),
    spks: rnd(B * c.flow.dit.spkDim, 5), cond: rnd(B * C * T, 6), batch: B, frames: T, streaming: false,
  };
  const estimator = await med(reps, () => e.flowEstimator(inp));
  // HiFT: 50 mel frames = 1 s at 24 kHz.
  const F = 50, Hn = c.hift.nbHarmonics + 1;
  const mel = rnd(c.hift.inChannels * F, 7).map((v) => v * 2 - 4);
  const noise = rnd(480 * F * Hn, 8).map((v) => (v + 1) / 2);
  const hift = await med(reps, () => e.hift(mel, F, noise, true));
  await e.dispose();
  return { engine: name, load_ms: load, prefill128_ms: prefill, decode_ms: median(steps.slice(1)), estimator_ms: estimator, hift_1s_ms: hift };
}

const rows: Row[] = [];
for (const name of a.values.engines!.split(',')) {
  const r = await measure(name);
  console.error(JSON.stringify(r));
  rows.push(r);
}
const f = (x: number) => x.toFixed(x < 100 ? 1 : 0);
const cpu = `${cpus()[0]?.model ?? 'unknown CPU'} × ${cpus().length}`;
const lines = [
  `Engines at full size, random weights, f32, through the Engine contract; machine: ${cpu}`,
  '',
  '| engine | load ms | LLM prefill 128 ms | LLM decode ms/token @129 | DiT estimator B=2 T=200 ms | HiFT ms per s of audio |',
  '|---|---|---|---|---|---|',
  ...rows.map((r) => `| ${r.engine} | ${f(r.load_ms)} | ${f(r.prefill128_ms)} | ${f(r.decode_ms)} | ${f(r.estimator_ms)} | ${f(r.hift_1s_ms)} |`),
];
console.log(lines.join('\n'));
mkdirSync(RESULTS_DIR, { recursive: true });
writeFileSync(join(RESULTS_DIR, 'engines.json'), JSON.stringify({ date: new Date().toISOString(), machine: cpu, reps, rows, table: lines }, null, 1));
process.exit(0);
