/**
 * One kv group's causal attention of the CPU LLM (CpuKernels.llmAttention) at decode: R = 7 query rows (the group's
 * heads) over n cached keys, D = 64, as the full-size model runs it 48 times a token (24 layers × 2 groups). Two
 * ways: K and Vᵀ copied into the module for the call (a fill, as the cache worked before it lived in the module),
 * and read in place from resident tensors with Vᵀ rows `cap` apart (the KV cache now).
 *   npx tsx bench/cpu-llm-attention.ts [--contexts 128,1000] [--calls 2000]
 * Prints µs per call for each; appends the rows to bench/results/cpu-llm-attention.json.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CpuKernels } from '../kernels/cpu-linear.js';
import { RESULTS_DIR } from './goals.js';
import { median } from './stats.js';

const a = parseArgs({ options: { contexts: { type: 'string', default: '128,1000' }, calls: { type: 'string', default: '2000' } } });
const calls = Number(a.values.calls);
const R = 7, D = 64;
const k = await CpuKernels.create();
const rows: { context: number; copied_us: number; in_place_us: number; threads: number; date: string }[] = [];
for (const n of a.values.contexts!.split(',').map(Number)) {
  let cap = 64;
  while (cap < n) cap *= 2;
  const n4 = (n + 3) & ~3;
  const qg = Float32Array.from({ length: R * D }, (_, i) => Math.sin(i));
  const keys = Float32Array.from({ length: n * D }, (_, i) => Math.cos(i));
  const vtHost = Float32Array.from({ length: D * cap }, (_, i) => (i % cap < n ? Math.sin(i * 0.3) : 0));
  const kt = k.resident(n * D, 'keys'), vt = k.resident(D * cap, 'vt');
  kt.view().set(keys);
  vt.view().set(vtHost);
  const out = new Float32Array(R * D);
  const fill = (dst: Float32Array) => {
    for (let d = 0; d < D; d++) dst.set(vtHost.subarray(d * cap, d * cap + n4), d * n4);
  };
  const time = (f: () => void) => {
    const t = performance.now();
    for (let i = 0; i < calls; i++) f();
    return ((performance.now() - t) / calls) * 1000;
  };
  const copied: number[] = [], inPlace: number[] = [];
  for (let round = 0; round < 5; round++) {
    copied.push(time(() => k.llmAttention(qg, R, keys, n, D, fill, 7, n - 1, out)));
    inPlace.push(time(() => k.llmAttention(qg, R, kt, n, D, { vt, ld: cap }, 7, n - 1, out)));
  }
  const row = { context: n, copied_us: +median(copied).toFixed(1), in_place_us: +median(inPlace).toFixed(1), threads: k.threadCount, date: new Date().toISOString() };
  console.log(`context ${n}: copied ${row.copied_us} µs, in place ${row.in_place_us} µs per group call (×48 a token: ${((row.copied_us * 48) / 1000).toFixed(2)} vs ${((row.in_place_us * 48) / 1000).toFixed(2)} ms)`);
  rows.push(row);
  k.release(kt);
  k.release(vt);
}
k.dispose();
const OUT = join(RESULTS_DIR, 'cpu-llm-attention.json');
const old = existsSync(OUT) ? (JSON.parse(readFileSync(OUT, 'utf8')).rows as unknown[]) : [];
mkdirSync(RESULTS_DIR, { recursive: true });
writeFileSync(OUT, JSON.stringify({ rows: [...old, ...rows] }, null, 1));
process.exit(0);
