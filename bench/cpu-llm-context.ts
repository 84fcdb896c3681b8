/**
 * The CPU fallback's LLM (src/models/cpu/llm.ts) at full size against the context length: a prefill of N rows, then
 * 16 decode steps after it (the first discarded), per weight storage. Decode cost grows with the context through
 * the attention over the KV cache; bench/engines.ts measures decode at context 129 only.
 *   npx tsx bench/cpu-llm-context.ts [root=/tmp/cosyvoice3-full] [--contexts 128,1000] [--dtype q8] [--threads N]
 * Results: bench/results/cpu-llm-context.json (rows replaced per dtype and context) and a markdown table.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultCpuThreads, type CpuWeightDtype } from '../kernels/cpu-linear.js';
import { CpuLlm } from '../src/models/cpu/llm.js';
import { loadModelFolder } from '../src/pipeline/node-model-files.js';
import { RESULTS_DIR } from './goals.js';
import { median } from './stats.js';
import { convertedFolder, randomModelFolder } from './random-folders.js';

const a = parseArgs({ allowPositionals: true, options: { contexts: { type: 'string', default: '128,1000' }, dtype: { type: 'string', default: 'q8' }, threads: { type: 'string' } } });
const root = a.positionals[0] ?? '/tmp/cosyvoice3-full';
const model = randomModelFolder(root);
const converted = await convertedFolder(model, join(root, 'converted'));

const files = await loadModelFolder(converted);
const H = files.config.llm.hidden;
const rows = (n: number, seed: number) => Float32Array.from({ length: n * H }, (_, i) => Math.sin(i * 0.37 + seed));
interface Row { dtype: CpuWeightDtype; context: number; prefill_ms: number; decode_ms: number; threads: number; date: string }
const out: Row[] = [];
const threads = a.values.threads ? Number(a.values.threads) : defaultCpuThreads();
for (const dtype of a.values.dtype!.split(',') as CpuWeightDtype[]) {
  const llm = await CpuLlm.create(files, { dtype, threads });
  for (const context of a.values.contexts!.split(',').map(Number)) {
    const s = llm.session();
    const t0 = performance.now();
    await s.step(rows(context, 1), context);
    const prefill = performance.now() - t0;
    const steps: number[] = [];
    for (let i = 0; i < 17; i++) {
      const t = performance.now();
      await s.step(rows(1, i + 2), 1);
      steps.push(performance.now() - t);
    }
    s.dispose();
    const row = { dtype, context, prefill_ms: Math.round(prefill), decode_ms: +median(steps.slice(1)).toFixed(1), threads, date: new Date().toISOString() };
    console.error(JSON.stringify(row));
    out.push(row);
  }
  llm.dispose();
}

const OUT = join(RESULTS_DIR, 'cpu-llm-context.json');
const key = (r: Row) => `${r.dtype}|${r.context}`;
const old: Row[] = existsSync(OUT) ? JSON.parse(readFileSync(OUT, 'utf8')).rows : [];
const all = [...old.filter((r) => !out.some((n) => key(n) === key(r))), ...out].sort((x, y) => key(x).localeCompare(key(y)) || x.context - y.context);
const table = [
  `CPU fallback LLM at full size (random weights) against the context; machine: ${cpus()[0]?.model ?? 'unknown CPU'} × ${cpus().length}`,
  '',
  '| weights | context | prefill ms | decode ms/token (median of 16) | threads |',
  '|---|---|---|---|---|',
  ...all.map((r) => `| ${r.dtype} | ${r.context} | ${r.prefill_ms} | ${r.decode_ms} | ${r.threads} |`),
];
mkdirSync(RESULTS_DIR, { recursive: true });
writeFileSync(OUT, JSON.stringify({ rows: all, table }, null, 1));
console.log(table.join('\n'));
process.exit(0);
