/**
 * The CPU fallback's GEMM (kernels/cpu-linear.ts over kernels/wasm/gemm.as.ts) at the models' full-size shapes, one
 * thread against two (or --threads a,b,…): milliseconds a call (median of bursts) and G multiply-adds/s, the
 * outputs checked equal across thread counts (each output is computed by one thread with the same code).
 *   npx tsx bench/sweep-cpu-gemm.ts [--threads 1,2] [--rounds 3]
 * Results: bench/results/cpu-gemm.json and a markdown table.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CpuKernels } from '../kernels/cpu-linear.js';
import { RESULTS_DIR } from './goals.js';
import { median } from './stats.js';
import { rnd } from './suites/kernels.js';

const a = parseArgs({ options: { threads: { type: 'string', default: '1,2' }, rounds: { type: 'string', default: '3' } } });
const threads = a.values.threads!.split(',').map(Number);
const rounds = Number(a.values.rounds);

/** [name, M, N, K]: decode rows and a 128-row prefill of the LLM, the DiT's linears at B=2, T=200, a HiFT conv. */
const SHAPES: [string, number, number, number][] = [
  ['LLM decode qkv', 1, 1152, 896],
  ['LLM decode gate', 1, 4864, 896],
  ['LLM decode down', 1, 896, 4864],
  ['LLM prefill 128 gate', 128, 4864, 896],
  ['LLM prefill 128 down', 128, 896, 4864],
  ['DiT qkv (B=2, T=200)', 400, 3072, 1024],
  ['DiT ff1', 400, 2048, 1024],
  ['HiFT conv 256 ch, k 7 (im2col rows)', 512, 256, 1792],
];

interface Row { shape: string; M: number; N: number; K: number; threads: number; ms: number; gmacs: number }
const rows: Row[] = [];
const kernels = await Promise.all(threads.map((t) => CpuKernels.create({ threads: t })));
for (const [name, M, N, K] of SHAPES) {
  const x = Float32Array.from(rnd(M * K, 1)), w = Float32Array.from(rnd(N * K, 2, 1 / Math.sqrt(K)));
  const mats = kernels.map((k) => k.matrix(w, N, K, undefined, name));
  const burst = Math.max(3, Math.ceil(2e8 / (M * N * K)));
  const times: number[][] = threads.map(() => []);
  let first: Float32Array | undefined;
  for (let r = 0; r < rounds; r++) {
    kernels.forEach((k, i) => {
      const y = k.linear(x, M, mats[i]);
      if (!first) first = y;
      else if (y.some((v, j) => v !== first![j])) throw new Error(`${name}: ${threads[i]} threads differ from ${threads[0]}`);
      const t0 = performance.now();
      for (let b = 0; b < burst; b++) k.linear(x, M, mats[i]);
      times[i].push((performance.now() - t0) / burst);
    });
  }
  threads.forEach((t, i) => {
    const ms = median(times[i]);
    rows.push({ shape: name, M, N, K, threads: t, ms, gmacs: (M * N * K) / ms / 1e6 });
  });
}
kernels.forEach((k) => k.dispose());

const cpu = `${cpus()[0]?.model ?? 'unknown CPU'} × ${cpus().length}`;
const lines = [
  `CPU fallback GEMM, ${cpu}; median of ${rounds} bursts; threads ${threads.join(' / ')}`,
  '',
  `| shape | M×N×K | ${threads.map((t) => `${t} thread ms | GMAC/s`).join(' | ')} |`,
  `|---|---|${threads.map(() => '---|---|').join('')}`,
  ...SHAPES.map(([name, M, N, K]) => {
    const r = rows.filter((x) => x.shape === name);
    return `| ${name} | ${M}×${N}×${K} | ${r.map((x) => `${x.ms.toFixed(2)} | ${x.gmacs.toFixed(1)}`).join(' | ')} |`;
  }),
];
console.log(lines.join('\n'));
mkdirSync(RESULTS_DIR, { recursive: true });
writeFileSync(join(RESULTS_DIR, 'cpu-gemm.json'), JSON.stringify({ date: new Date().toISOString(), machine: cpu, rounds, rows, table: lines }, null, 1));
