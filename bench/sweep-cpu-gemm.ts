/**
 * The CPU fallback's GEMM (kernels/cpu-linear.ts over kernels/wasm/gemm.as.ts) at the models' full-size shapes, one
 * thread against two (or --threads a,b,…): milliseconds a call (median of bursts) and G multiply-adds/s, the
 * outputs checked equal across thread counts (each output is computed by one thread with the same code), for each
 * weight storage (--dtype: f32, and q8 = int8 with a scale per 32 values, dequantised in blocks).
 * A burst repeats one W: W fits in the last-level cache here when it is under its size (decode rows of the real
 * model stream every layer's W from memory instead, so bench/engines.ts is the measure of decode).
 *   npx tsx bench/sweep-cpu-gemm.ts [--threads 1,2] [--dtype f32,q8] [--rounds 3]
 * Results: bench/results/cpu-gemm.json and a markdown table.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CpuKernels, type CpuWeightDtype } from '../kernels/cpu-linear.js';
import { RESULTS_DIR } from './goals.js';
import { median } from './stats.js';
import { rnd } from './suites/kernels.js';

const a = parseArgs({ options: { threads: { type: 'string', default: '1,2' }, dtype: { type: 'string', default: 'f32,q8' }, rounds: { type: 'string', default: '3' } } });
const threads = a.values.threads!.split(',').map(Number);
const dtypes = a.values.dtype!.split(',') as CpuWeightDtype[];
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

interface Row { shape: string; dtype: CpuWeightDtype; M: number; N: number; K: number; threads: number; ms: number; gmacs: number }
const rows: Row[] = [];
const kernels = await Promise.all(threads.map((t) => CpuKernels.create({ threads: t })));
for (const [name, M, N, K, dtype] of SHAPES.flatMap((s) => dtypes.map((d) => [...s, d] as const))) {
  const x = Float32Array.from(rnd(M * K, 1)), w = Float32Array.from(rnd(N * K, 2, 1 / Math.sqrt(K)));
  const mats = kernels.map((k) => k.matrix(w, N, K, undefined, name, dtype));
  const burst = Math.max(3, Math.ceil(2e8 / (M * N * K)));
  const times: number[][] = threads.map(() => []);
  let first: Float32Array | undefined;
  for (let r = 0; r < rounds; r++) {
    kernels.forEach((k, i) => {
      const y = k.linear(x, M, mats[i]);
      if (!first) first = y;
      else if (y.some((v, j) => v !== first![j])) throw new Error(`${name} (${dtype}): ${threads[i]} threads differ from ${threads[0]}`);
      const t0 = performance.now();
      for (let b = 0; b < burst; b++) k.linear(x, M, mats[i]);
      times[i].push((performance.now() - t0) / burst);
    });
  }
  threads.forEach((t, i) => {
    const ms = median(times[i]);
    rows.push({ shape: name, dtype, M, N, K, threads: t, ms, gmacs: (M * N * K) / ms / 1e6 });
  });
}
kernels.forEach((k) => k.dispose());

const cpu = `${cpus()[0]?.model ?? 'unknown CPU'} × ${cpus().length}`;
const lines = [
  `CPU fallback GEMM, ${cpu}; median of ${rounds} bursts; threads ${threads.join(' / ')}`,
  '',
  `| shape | W | M×N×K | ${threads.map((t) => `${t} thread ms | GMAC/s`).join(' | ')} |`,
  `|---|---|---|${threads.map(() => '---|---|').join('')}`,
  ...SHAPES.flatMap(([name, M, N, K]) =>
    dtypes.map((d) => {
      const r = rows.filter((x) => x.shape === name && x.dtype === d);
      return `| ${name} | ${d} | ${M}×${N}×${K} | ${r.map((x) => `${x.ms.toFixed(2)} | ${x.gmacs.toFixed(1)}`).join(' | ')} |`;
    }),
  ),
];
console.log(lines.join('\n'));
mkdirSync(RESULTS_DIR, { recursive: true });
writeFileSync(join(RESULTS_DIR, 'cpu-gemm.json'), JSON.stringify({ date: new Date().toISOString(), machine: cpu, rounds, dtypes, rows, table: lines }, null, 1));
