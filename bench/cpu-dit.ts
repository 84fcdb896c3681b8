/**
 * The CPU fallback's DiT estimator (src/models/cpu/dit.ts) at full size: one call of the CFG batch (B = 2, T = 200
 * frames, as bench/engines.ts) warmed up, then `--calls` calls timed, per weight storage, in this process. For A/B
 * comparisons run it alternately from two checkouts: this VM's speed drifts by tens of percent between processes.
 *   npx tsx bench/cpu-dit.ts [root=/tmp/cosyvoice3-full] [--dtype f32|q8] [--calls 5]
 * Prints the call times and their median; appends the row to bench/results/cpu-dit.json.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { convertModel } from '../src/convert/index.js';
import { FULL_DIMS, writeRandomFolder } from '../src/convert/random-folder.js';
import { loadModelFolder } from '../src/pipeline/node-model-files.js';
import { WasmEngine } from '../src/pipeline/wasm-engine.js';
import { RESULTS_DIR } from './goals.js';
import { median } from './stats.js';

const a = parseArgs({ allowPositionals: true, options: { dtype: { type: 'string', default: 'f32' }, calls: { type: 'string', default: '5' } } });
const root = a.positionals[0] ?? '/tmp/cosyvoice3-full';
const model = join(root, 'model'), converted = join(root, 'converted');
if (!existsSync(join(model, 'hift.pt'))) writeRandomFolder(model, FULL_DIMS);
if (!existsSync(join(converted, 'cosyvoice.json'))) await convertModel(model, converted);
const dtype = a.values.dtype as 'f32' | 'q8';

const e = await WasmEngine.create(await loadModelFolder(converted), { dtype });
const c = e.config.flow.dit, B = 2, T = 200;
const rnd = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.61 + seed));
const inp = {
  x: rnd(B * c.melDim * T, 1), mask: new Float32Array(B * T).fill(1), mu: rnd(B * c.muDim * T, 2), t: Float32Array.of(0.5, 0.5),
  spks: rnd(B * c.spkDim, 3), cond: rnd(B * c.melDim * T, 4), batch: B, frames: T, streaming: false,
};
await e.flowEstimator(inp);
const ms: number[] = [];
for (let i = 0; i < Number(a.values.calls); i++) {
  const t0 = performance.now();
  await e.flowEstimator(inp);
  ms.push(Math.round(performance.now() - t0));
}
await e.dispose();
const row = { dtype, B, T, calls_ms: ms, median_ms: median(ms), date: new Date().toISOString() };
console.log(`DiT estimator ${dtype} B=${B} T=${T}: ${ms.join(', ')} ms (median ${row.median_ms})`);
const OUT = join(RESULTS_DIR, 'cpu-dit.json');
const rows = existsSync(OUT) ? (JSON.parse(readFileSync(OUT, 'utf8')).rows as unknown[]) : [];
mkdirSync(RESULTS_DIR, { recursive: true });
writeFileSync(OUT, JSON.stringify({ rows: [...rows, row] }, null, 1));
process.exit(0);
