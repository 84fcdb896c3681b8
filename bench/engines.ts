/**
 * The engines side by side at full size through the verify Engine contract (src/ort/engine.ts), stage by stage,
 * on the same random-weight model and machine: our CPU fallback (`wasm`: TypeScript models, WebAssembly SIMD
 * matrix products on this machine's cores; `wasm-1t`: one thread; `wasm-q8`: int8 weights for the LLM and the
 * DiT, a scale per 32 values); onnxruntime-web's WebAssembly backend over
 * the converted graphs in this process (`ort-web`: one thread, like `wasm-1t`; `ort-web-2t`: two); ONNX Runtime's
 * native cpu EP (`ort-cpu`, its default threads; `ort-cpu-1t`: one intra-op thread): native AVX code, not a
 * WebAssembly rival, shown for scale; and our WebGPU engine (`webgpu`) on this machine's adapter.
 *
 *   npx tsx bench/engines.ts [dir=/tmp/cosyvoice3-full] [--engines wasm,ort-web,ort-cpu] [--reps 3]
 *
 * Stages: LLM prefill of 128 rows, then decode steps at context 129… (median of 16); the DiT estimator (CFG batch
 * 2, T = 200 frames); HiFT on 50 mel frames (1 s of audio). Each is the median of --reps calls after one warm-up.
 * The folder comes from bench/make-full-folder.ts (written there when missing: ~7 GB, never inside the repo);
 * onnxruntime-web gets a second conversion with every initializer inline (its Node build mounts no external data);
 * `ort-cpu-int8` runs ORT's cpu EP on a third, `convert --dtype int8` (every Linear int8 per output channel through
 * DequantizeLinear), and `ort-web-int8` onnxruntime-web (2 threads) on that conversion with its initializers inline:
 * the like-for-like rivals of `wasm-q8`.
 * Each engine runs in a process of its own. Results: bench/results/engines.json (a run replaces its engine's row;
 * every row keeps its date) and a markdown table.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Engine } from '../src/ort/engine.js';
import { OrtEngine } from '../src/ort/ort-engine.js';
import { loadModelFolder } from '../src/pipeline/node-model-files.js';
import { WasmEngine } from '../src/pipeline/wasm-engine.js';
import { WebGpuEngine } from '../src/pipeline/webgpu-engine.js';
import { RESULTS_DIR } from './goals.js';
import { median } from './stats.js';
import { convertedFolder, randomModelFolder } from './random-folders.js';

const a = parseArgs({ allowPositionals: true, options: { engines: { type: 'string', default: 'wasm,ort-web,ort-cpu' }, reps: { type: 'string', default: '3' } } });
const root = a.positionals[0] ?? '/tmp/cosyvoice3-full';
const reps = Number(a.values.reps);
const engines = a.values.engines!.split(',');
const model = randomModelFolder(root);
const converted = await convertedFolder(model, join(root, 'converted'));
const inline = join(root, 'converted-inline'), int8 = join(root, 'converted-int8'), int8Inline = join(root, 'converted-int8-inline');
if (engines.some((e) => e.startsWith('ort-web'))) await convertedFolder(model, inline, { externalThreshold: 1.9 * 2 ** 30 });
if (engines.includes('ort-cpu-int8')) await convertedFolder(model, int8, { dtype: 'int8' });
if (engines.includes('ort-web-int8')) await convertedFolder(model, int8Inline, { dtype: 'int8', externalThreshold: 1.9 * 2 ** 30 });

type Stage = 'llm' | 'flow' | 'hift';

/** An engine for `stage`: ONNX Runtime opens only that model's graphs (onnxruntime-web may fail on one alone). */
async function open(name: string, stage: Stage): Promise<Engine> {
  if (name === 'wasm') return WasmEngine.create(await loadModelFolder(converted));
  if (name === 'wasm-1t') return WasmEngine.create(await loadModelFolder(converted), { threads: 1 });
  if (name === 'wasm-q8') return WasmEngine.create(await loadModelFolder(converted), { dtype: 'q8' });
  if (name === 'webgpu') return WebGpuEngine.create(converted);
  const only = [stage];
  if (name === 'ort-cpu') return OrtEngine.create(converted, { only });
  if (name === 'ort-cpu-1t') return OrtEngine.create(converted, { intraOpNumThreads: 1, only });
  if (name === 'ort-cpu-int8') return OrtEngine.create(int8, { only });
  if (name === 'ort-web-int8') return OrtEngine.create(int8Inline, { runtime: 'web', intraOpNumThreads: 2, only });
  if (name === 'ort-web') return OrtEngine.create(inline, { runtime: 'web', intraOpNumThreads: 1, only });
  if (name === 'ort-web-2t') return OrtEngine.create(inline, { runtime: 'web', intraOpNumThreads: 2, only });
  throw new Error(`unknown engine ${name}: use wasm, wasm-1t, wasm-q8, webgpu, ort-web, ort-web-2t, ort-cpu, ort-cpu-1t, ort-cpu-int8 or ort-web-int8`);
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

/** A stage's numbers, or why it has none (e.g. onnxruntime-web cannot hold the f32 LLM in its 4 GiB heap). */
type Cell = Record<string, number> | { error: string };

async function llmStage(e: Engine): Promise<Record<string, number>> {
  const H = e.config.llm.hidden;
  // A 128-row prefill (median over fresh sessions), then 16 decode steps after it.
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
  return { prefill128_ms: prefill, decode_ms: median(steps.slice(1)) };
}

async function flowStage(e: Engine): Promise<Record<string, number>> {
  const c = e.config.flow.dit, B = 2, T = 200;
  const inp = {
    x: rnd(B * c.melDim * T, 3), mask: new Float32Array(B * T).fill(1), mu: rnd(B * c.muDim * T, 4), t: Float32Array.of(0.5, 0.5),
    spks: rnd(B * c.spkDim, 5), cond: rnd(B * c.melDim * T, 6), batch: B, frames: T, streaming: false,
  };
  return { estimator_ms: await med(reps, () => e.flowEstimator(inp)) };
}

async function hiftStage(e: Engine): Promise<Record<string, number>> {
  // 50 mel frames = 1 s at 24 kHz.
  const F = 50, H = e.config.hift.nbHarmonics + 1;
  const mel = rnd(e.config.hift.inChannels * F, 7).map((v) => v * 2 - 4);
  const noise = rnd(480 * F * H, 8).map((v) => (v + 1) / 2);
  return { hift_1s_ms: await med(reps, () => e.hift(mel, F, noise, true)) };
}

// The LLM last: onnxruntime-web's heap does not shrink, and after its failed f32 LLM session the DiT's no longer fits.
const STAGES: [Stage, (e: Engine) => Promise<Record<string, number>>][] = [['flow', flowStage], ['hift', hiftStage], ['llm', llmStage]];

/** peak_rss_mb: the process's peak resident memory over the load and every stage (getrusage maxRSS). */
interface Row { engine: string; load_ms: number; peak_rss_mb?: number; llm: Cell; flow: Cell; hift: Cell }

async function measure(name: string): Promise<Row> {
  const row: Row = { engine: name, load_ms: 0, llm: { error: '' }, flow: { error: '' }, hift: { error: '' } };
  const whole = name.startsWith('wasm') || name === 'webgpu';
  let shared: Engine | undefined;
  for (const [stage, run] of STAGES) {
    let e: Engine | undefined;
    try {
      if (!shared) {
        // The whole-model engines load once; ONNX Runtime loads each stage's graphs on their own.
        const t0 = performance.now();
        e = await open(name, stage);
        row.load_ms += performance.now() - t0;
        if (whole) shared = e;
      } else e = shared;
      row[stage] = await run(e);
    } catch (err) {
      row[stage] = { error: (err as Error).message.split('\n')[0].slice(0, 160) };
    } finally {
      if (e && !whole) await e.dispose();
    }
  }
  await shared?.dispose();
  row.peak_rss_mb = Math.round(process.resourceUsage().maxRSS / 1024);
  return row;
}

const OUT = join(RESULTS_DIR, 'engines.json');
const cpu = `${cpus()[0]?.model ?? 'unknown CPU'} × ${cpus().length}`;

/** The committed rows, each with the date of its run; a new run replaces its engine's row. */
function readRows(): (Row & { date: string })[] {
  return existsSync(OUT) ? (JSON.parse(readFileSync(OUT, 'utf8')) as { rows: (Row & { date: string })[] }).rows : [];
}

if (engines.length > 1) {
  // One process per engine: onnxruntime-web fixes its thread count at its first session and its heap never
  // shrinks, and no engine should inherit another's memory.
  for (const name of engines) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), root, '--engines', name, '--reps', String(reps)], { stdio: 'inherit' });
    if (r.status !== 0) console.error(`engine ${name}: exit ${r.status}`);
  }
} else {
  const row = { ...(await measure(engines[0])), date: new Date().toISOString() };
  console.error(JSON.stringify(row));
  const rows = [...readRows().filter((r) => r.engine !== row.engine), row];
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(OUT, JSON.stringify({ machine: cpu, reps, rows, table: table(rows) }, null, 1));
}
console.log(table(readRows()).join('\n'));
process.exit(0);

function table(rows: Row[]): string[] {
  const f = (x: number) => x.toFixed(x < 100 ? 1 : 0);
  const cell = (c: Cell, k: string) => ('error' in c ? `fails: ${c.error}` : f(c[k] as number));
  return [
    `Engines at full size, random weights, f32, through the Engine contract, one process each; machine: ${cpu}`,
    '',
    '| engine | load ms | peak RSS MB | LLM prefill 128 ms | LLM decode ms/token @129 | DiT estimator B=2 T=200 ms | HiFT ms per s of audio |',
    '|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.engine} | ${f(r.load_ms)} | ${r.peak_rss_mb ?? '–'} | ${cell(r.llm, 'prefill128_ms')} | ${cell(r.llm, 'decode_ms')} | ${cell(r.flow, 'estimator_ms')} | ${cell(r.hift, 'hift_1s_ms')} |`),
  ];
}
