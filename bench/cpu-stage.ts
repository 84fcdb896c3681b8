/**
 * One stage of the CPU fallback at full size, warmed up, then `--calls` calls timed, per weight storage, in this
 * process:
 * - `dit`: the DiT estimator (src/models/cpu/dit.ts), one call of the CFG batch (B = 2, T = 200 frames, as
 *   bench/engines.ts);
 * - `hift`: the vocoder (src/models/cpu/hift.ts) on 50 mel frames (1 s of audio), finalize.
 * For A/B comparisons run it alternately from two checkouts: this VM's speed drifts by tens of percent between
 * processes.
 *   npx tsx bench/cpu-stage.ts [root=/tmp/cosyvoice3-full] [--stage dit|hift] [--dtype f32|q8] [--calls 5]
 * Prints the call times and their median; appends the row to bench/results/cpu-<stage>.json.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadModelFolder } from '../src/pipeline/node-model-files.js';
import { WasmEngine } from '../src/pipeline/wasm-engine.js';
import { RESULTS_DIR } from './goals.js';
import { median } from './stats.js';
import { convertedFolder, randomModelFolder } from './random-folders.js';

const a = parseArgs({ allowPositionals: true, options: { stage: { type: 'string', default: 'dit' }, dtype: { type: 'string', default: 'f32' }, calls: { type: 'string', default: '5' } } });
const root = a.positionals[0] ?? '/tmp/cosyvoice3-full';
const model = randomModelFolder(root);
const converted = await convertedFolder(model, join(root, 'converted'));
const stage = a.values.stage!;
if (stage !== 'dit' && stage !== 'hift') throw new Error(`--stage must be dit or hift, got ${stage}`);
const dtype = a.values.dtype as 'f32' | 'q8';

const e = await WasmEngine.create(await loadModelFolder(converted), { dtype });
const rnd = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.61 + seed));
let call: () => Promise<unknown>;
let shape: Record<string, number>;
if (stage === 'dit') {
  const c = e.config.flow.dit, B = 2, T = 200;
  const inp = {
    x: rnd(B * c.melDim * T, 1), mask: new Float32Array(B * T).fill(1), mu: rnd(B * c.muDim * T, 2), t: Float32Array.of(0.5, 0.5),
    spks: rnd(B * c.spkDim, 3), cond: rnd(B * c.melDim * T, 4), batch: B, frames: T, streaming: false,
  };
  call = () => e.flowEstimator(inp);
  shape = { B, T };
} else {
  const h = e.config.hift, F = 50;
  // A log-mel around −4 ± 2, and the noise table's uniform [0, 1) values.
  const mel = rnd(h.inChannels * F, 5).map((v) => v * 2 - 4);
  const noise = rnd(480 * F * (h.nbHarmonics + 1), 6).map((v) => (v + 1) / 2);
  call = () => e.hift(mel, F, noise, true);
  shape = { frames: F };
}
await call();
const ms: number[] = [];
for (let i = 0; i < Number(a.values.calls); i++) {
  const t0 = performance.now();
  await call();
  ms.push(Math.round(performance.now() - t0));
}
await e.dispose();
const row = { dtype, ...shape, calls_ms: ms, median_ms: median(ms), date: new Date().toISOString() };
console.log(`${stage} ${dtype} ${JSON.stringify(shape)}: ${ms.join(', ')} ms (median ${row.median_ms})`);
const OUT = join(RESULTS_DIR, `cpu-${stage}.json`);
const rows = existsSync(OUT) ? (JSON.parse(readFileSync(OUT, 'utf8')).rows as unknown[]) : [];
mkdirSync(RESULTS_DIR, { recursive: true });
writeFileSync(OUT, JSON.stringify({ rows: [...rows, row] }, null, 1));
process.exit(0);
