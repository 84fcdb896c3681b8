/**
 * Engine load at full size (random weights), each run in a fresh process: the model folder read and the engine
 * built, wall time and the process's peak resident memory (getrusage maxRSS). `lazy` is loadModelFolder's default
 * (weights left in their files, each read once into its place: the WebAssembly memory, or one reused staging
 * buffer before a GPU upload); `eager` reads every tensor into host memory first. Runs alternate between the modes.
 * The `browser-*` engines are the Worker's (CosyVoiceEngine over a ModelSource, f32): `lazy` reads the files in
 * place as the Worker does from OPFS, `eager` reads them whole as it does from the Cache API.
 *
 *   npx tsx bench/load-engines.ts [root=/tmp/cosyvoice3-full] [--engines wasm,wasm-q8,webgpu,browser-wasm,browser-webgpu] [--folders converted,model] [--reps 2]
 *
 * `model` is the official layout (.pt checkpoints); webgpu and browser engines load converted folders only. Writes
 * bench/results/load-engines.json (rows replaced per engine, folder and mode) and prints a table. The page cache is
 * warm after the first run: each configuration's first run is discarded.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadModelFolder } from '../src/pipeline/node-model-files.js';
import { WasmEngine } from '../src/pipeline/wasm-engine.js';
import { WebGpuEngine } from '../src/pipeline/webgpu-engine.js';
import { CosyVoiceEngine } from '../src/browser/cosyvoice-engine.js';
import { DirModelSource } from '../src/browser/dir-model-source.js';
import { GpuContext } from '../src/gpu/context.js';
import { requestNodeDevice } from '../src/gpu/node-device.js';
import { RESULTS_DIR } from './goals.js';
import { median } from './stats.js';
import { convertedFolder, randomModelFolder } from './random-folders.js';

const a = parseArgs({
  allowPositionals: true,
  options: {
    engines: { type: 'string', default: 'wasm,wasm-q8,webgpu,browser-wasm,browser-webgpu' },
    folders: { type: 'string', default: 'converted,model' },
    reps: { type: 'string', default: '2' },
    child: { type: 'string' },
  },
});
const root = a.positionals[0] ?? '/tmp/cosyvoice3-full';

interface Sample { folder_ms: number; engine_ms: number; peak_rss_mb: number }

if (a.values.child) {
  // --child engine:folder:mode — one load, its numbers on stdout as JSON.
  const [engine, folder, mode] = a.values.child.split(':');
  const dir = join(root, folder), lazy = mode === 'lazy';
  const t0 = performance.now();
  let t1 = t0; // webgpu: the folder read is inside create
  let e: { dispose(): unknown };
  if (engine === 'webgpu') e = await WebGpuEngine.create(dir, { lazy });
  else if (engine === 'browser-wasm') e = await CosyVoiceEngine.loadWasm(new DirModelSource(dir, lazy), 'f32');
  else if (engine === 'browser-webgpu') e = await CosyVoiceEngine.load(new DirModelSource(dir, lazy), new GpuContext(await requestNodeDevice()), { dtype: 'f32' });
  else {
    const files = await loadModelFolder(dir, undefined, { lazy });
    t1 = performance.now();
    e = await WasmEngine.create(files, { dtype: engine === 'wasm-q8' ? 'q8' : 'f32' });
  }
  const t2 = performance.now();
  const s: Sample = { folder_ms: t1 - t0, engine_ms: t2 - t1, peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024) };
  await e.dispose();
  console.log(JSON.stringify(s));
  process.exit(0);
}

const model = randomModelFolder(root);
const converted = await convertedFolder(model, join(root, 'converted'));

const reps = Number(a.values.reps);
const configs = a.values.engines!.split(',').flatMap((engine) =>
  a.values.folders!.split(',').filter((f) => f !== 'model' || !/webgpu|browser/.test(engine)).map((folder) => ({ engine, folder })),
);
interface Row { engine: string; folder: string; mode: string; total_ms: number; folder_ms: number; engine_ms: number; peak_rss_mb: number; runs_ms: number[]; date: string }
const rows: Row[] = [];
for (const { engine, folder } of configs) {
  const got: Record<string, Sample[]> = { lazy: [], eager: [] };
  // A first, discarded run warms the page cache; then the modes alternate.
  for (let i = 0; i <= reps; i++) {
    for (const mode of i % 2 ? ['eager', 'lazy'] : ['lazy', 'eager']) {
      const r = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), root, '--child', `${engine}:${folder}:${mode}`], { encoding: 'utf8', maxBuffer: 1 << 24 });
      if (r.status !== 0) throw new Error(`${engine} ${folder} ${mode}: exit ${r.status}\n${r.stderr.slice(-2000)}`);
      const s = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Sample;
      console.error(`${engine} ${folder} ${mode}: ${JSON.stringify(s)}${i === 0 ? ' (warm-up, discarded)' : ''}`);
      if (i > 0) got[mode].push(s);
    }
  }
  for (const mode of ['lazy', 'eager']) {
    const ss = got[mode];
    const m = (k: keyof Sample) => Math.round(median(ss.map((s) => s[k])));
    rows.push({
      engine, folder, mode, total_ms: Math.round(median(ss.map((s) => s.folder_ms + s.engine_ms))), folder_ms: m('folder_ms'), engine_ms: m('engine_ms'),
      peak_rss_mb: Math.max(...ss.map((s) => s.peak_rss_mb)), runs_ms: ss.map((s) => Math.round(s.folder_ms + s.engine_ms)), date: new Date().toISOString(),
    });
  }
}

const OUT = join(RESULTS_DIR, 'load-engines.json');
const key = (r: Row) => `${r.engine}|${r.folder}|${r.mode}`;
const old: Row[] = existsSync(OUT) ? JSON.parse(readFileSync(OUT, 'utf8')).rows : [];
const all = [...old.filter((r) => !rows.some((n) => key(n) === key(r))), ...rows];
const table = [
  `Engine load at full size (random weights), fresh process per run, warm page cache, median of ${reps}; machine: ${cpus()[0]?.model ?? 'unknown CPU'} × ${cpus().length}`,
  '',
  '| engine | folder | mode | total ms | folder read ms | engine build ms | peak RSS MB | runs ms |',
  '|---|---|---|---|---|---|---|---|',
  ...all.map((r) => `| ${r.engine} | ${r.folder} | ${r.mode} | ${r.total_ms} | ${/webgpu|browser/.test(r.engine) ? '(in build)' : r.folder_ms} | ${r.engine_ms} | ${r.peak_rss_mb} | ${r.runs_ms.join(', ')} |`),
];
mkdirSync(RESULTS_DIR, { recursive: true });
writeFileSync(OUT, JSON.stringify({ rows: all, table }, null, 1));
console.log(table.join('\n'));
