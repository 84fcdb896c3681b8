/**
 * The prompt models (speech tokenizer v3, CAM++) on the CPU ONNX interpreter (src/onnx-run) against ONNX
 * Runtime's native cpu EP and onnxruntime-web's WebAssembly backend (the like-for-like rival in a page), on
 * random-weight graphs of their structure (src/convert/random-prompt-models.ts; `full`: the tokenizer at its
 * released size, 12 × 1280, 0.97 GB; CAM++ near its size) and the features of `--seconds` of audio.
 *
 *   npx tsx bench/prompt-models.ts [--size full|tiny] [--seconds 10] [--runs 3] [--threads 2] [--engines ours,ort,ort-web]
 *
 * Each engine: session creation, the first run (ours copies each weight into its memory then), and the best of the
 * later runs. Results → bench/results/prompt-models.json and a table on stdout.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import ortNode from 'onnxruntime-node';
import { kaldiFbank, whisperLogMel } from '../src/audio/features16k.js';
import { FULL_CAMPPLUS, FULL_TOKENIZER, TINY_CAMPPLUS, TINY_TOKENIZER, writeRandomPromptModels } from '../src/convert/random-prompt-models.js';
import { loadOnnx } from '../loader/node.js';
import { OnnxSession } from '../src/onnx-run/session.js';
import type { Value } from '../src/onnx-run/tensor.js';

const { values: a } = parseArgs({
  options: {
    size: { type: 'string', default: 'full' }, seconds: { type: 'string', default: '10' }, runs: { type: 'string', default: '3' },
    threads: { type: 'string', default: '2' }, engines: { type: 'string', default: 'ours,ort,ort-web' },
  },
});
const full = a.size === 'full';
const seconds = Number(a.seconds), runs = Number(a.runs), threads = Number(a.threads);
const engines = a.engines!.split(',');

// Features of `seconds` of a gliding tone with noise at 16 kHz.
const n = Math.round(seconds * 16000);
const pcm = new Float32Array(n);
let ph = 0, s = 1;
for (let i = 0; i < n; i++) {
  ph += (2 * Math.PI * (150 + 300 * (i / n))) / 16000;
  s ^= s << 13; s ^= s >>> 17; s ^= s << 5;
  pcm[i] = 0.4 * Math.sin(ph) + 0.05 * ((s >>> 0) / 4294967296 - 0.5);
}
const mel = whisperLogMel(pcm);
const fb = kaldiFbank(pcm, true);
const T = mel.shape[1];

const dir = mkdtempSync(join(tmpdir(), 'cv-bench-prompt-'));
writeRandomPromptModels(dir, full ? FULL_TOKENIZER : TINY_TOKENIZER, full ? FULL_CAMPPLUS : TINY_CAMPPLUS);
const graphs = {
  tokenizer: { file: 'speech_tokenizer_v3.onnx', feeds: { feats: { dtype: 'float32', dims: [1, 128, T], data: mel.data }, feats_length: { dtype: 'int32', dims: [1], data: Int32Array.of(T) } } },
  campplus: { file: 'campplus.onnx', feeds: { input: { dtype: 'float32', dims: [1, fb.shape[0], 80], data: fb.data } } },
} as const;

interface Row { model: string; engine: string; createMs: number; firstMs: number; bestMs: number; runsMs: number[] }
const rows: Row[] = [];

async function time<T>(f: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const r = await f();
  return [r, performance.now() - t0];
}

type Feeds = Record<string, { dtype: string; dims: readonly number[]; data: Float32Array | Int32Array }>;

async function ours(file: string, feeds: Feeds): Promise<Omit<Row, 'model' | 'engine'>> {
  const [session, createMs] = await time(async () => OnnxSession.create(await loadOnnx(join(dir, file), { lazy: true }), { threads }));
  const vals: Record<string, Value> = Object.fromEntries(Object.entries(feeds).map(([k, f]) => [k, { dtype: f.dtype as Value['dtype'], dims: f.dims, data: f.data instanceof Int32Array ? Float64Array.from(f.data) : f.data }]));
  const times: number[] = [];
  for (let r = 0; r < runs; r++) times.push((await time(() => session.run(vals)))[1]);
  session.dispose();
  return { createMs, firstMs: times[0], bestMs: Math.min(...times.slice(1).concat(runs === 1 ? times : [])), runsMs: times };
}

async function ort(file: string, feeds: Feeds, web: boolean): Promise<Omit<Row, 'model' | 'engine'>> {
  const mod = web ? ((await import('onnxruntime-web')) as unknown as typeof ortNode & { env: { wasm: { numThreads: number } } }) : ortNode;
  if (web) (mod as unknown as { env: { wasm: { numThreads: number } } }).env.wasm.numThreads = threads;
  const [session, createMs] = await time(() => (web
    ? mod.InferenceSession.create(new Uint8Array(readFileSync(join(dir, file))), { executionProviders: ['wasm'], logSeverityLevel: 3 })
    : mod.InferenceSession.create(join(dir, file), { executionProviders: ['cpu'], intraOpNumThreads: threads, logSeverityLevel: 3 })));
  const f = Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, new mod.Tensor(v.dtype as 'float32', v.data as Float32Array, [...v.dims])]));
  const times: number[] = [];
  for (let r = 0; r < runs; r++) times.push((await time(() => session.run(f)))[1]);
  await session.release();
  return { createMs, firstMs: times[0], bestMs: Math.min(...times.slice(1).concat(runs === 1 ? times : [])), runsMs: times };
}

try {
  for (const [model, g] of Object.entries(graphs)) {
    for (const e of engines) {
      const feeds = g.feeds as unknown as Feeds;
      try {
        const r = e === 'ours' ? await ours(g.file, feeds) : await ort(g.file, feeds, e === 'ort-web');
        rows.push({ model, engine: e, ...r });
        console.log(`${model} ${e}: create ${r.createMs.toFixed(0)} ms, first ${r.firstMs.toFixed(0)} ms, best ${r.bestMs.toFixed(0)} ms`);
      } catch (err) {
        console.log(`${model} ${e}: failed: ${(err as Error).message.slice(0, 200)}`);
      }
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const table = ['| model | engine | create, ms | first run, ms | best later run, ms |', '|---|---|---|---|---|',
  ...rows.map((r) => `| ${r.model} | ${r.engine} | ${r.createMs.toFixed(0)} | ${r.firstMs.toFixed(0)} | ${r.bestMs.toFixed(0)} |`)].join('\n');
console.log(`\n${seconds} s of audio (${T} mel frames), ${threads} threads, ${full ? 'full' : 'tiny'} size, ${cpus()[0]?.model ?? 'cpu'} × ${cpus().length}\n${table}`);
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/prompt-models.json', JSON.stringify({ date: new Date().toISOString(), size: a.size, seconds, melFrames: T, threads, cpu: cpus()[0]?.model, cores: cpus().length, rows }, null, 2));
