/**
 * Batched LLM decode (Qwen2Runtime.decodeBatch, what LlmSteps runs for concurrent syntheses) against one sequence a
 * step, on the same warm runtime.
 *   npx tsx bench/batch-decode.ts [root=/tmp/cosyvoice3-full] [--size full|tiny] [--dtype f16|f32] [--steps 8] [--context 200]
 * B sequences (B = 2, 4) are prefilled to `--context` positions with random embedding rows; then, in alternating
 * rounds, `--steps` decode steps of the B sequences one after another (B steps a round) and `--steps` batched steps
 * (1 step a round), each timed to its top-k readback. Reports the median ms per step and per token, and appends
 * rows to bench/results/batch-decode.json. Full size needs the random full folder (written when absent).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { GpuContext } from '../src/gpu/context.js';
import { adapterLabel } from '../src/gpu/device.js';
import { requestNodeDevice } from '../src/gpu/node-device.js';
import { lmFromDir } from '../src/models/llm/from-dir.js';
import type { KvSequence } from '../src/models/qwen2/paged-kv.js';
import { RESULTS_DIR } from './goals.js';
import { median } from './stats.js';
import { randomModelFolder } from './random-folders.js';

const a = parseArgs({
  allowPositionals: true,
  options: { size: { type: 'string', default: 'full' }, dtype: { type: 'string', default: 'f16' }, steps: { type: 'string', default: '8' }, context: { type: 'string', default: '200' } },
});
const size = a.values.size as 'full' | 'tiny';
const root = a.positionals[0] ?? `/tmp/cosyvoice3-${size}`;
const model = randomModelFolder(root, size);
const dtype = a.values.dtype as 'f16' | 'f32';
const steps = Number(a.values.steps);
const context = Number(a.values.context);

const handle = await requestNodeDevice();
const ctx = new GpuContext(handle);
const lm = await lmFromDir(ctx, model, { dtype, maxContext: 1024, kv: { maxSeqs: 4, dtype } });
const d = lm.cfg.hidden;
let seed = 7;
const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
const rows = (n: number) => Float32Array.from({ length: n * d }, () => (rand() - 0.5) * 0.1);

async function timed(f: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await f();
  return performance.now() - t;
}

const out: Record<string, unknown>[] = [];
for (const B of [2, 4]) {
  const seqs: KvSequence[] = [];
  for (let b = 0; b < B; b++) {
    seqs.push(lm.rt.createSequence());
    await lm.rt.prefill(seqs[b], rows(context + b));
  }
  // Warm-up: both plans compiled and run once.
  await lm.rt.decodeBatch(seqs, rows(B));
  for (const s of seqs) await lm.rt.decode(s, rows(1));
  const one: number[] = [], batch: number[] = [];
  for (let i = 0; i < steps; i++) {
    one.push(await timed(async () => {
      for (const s of seqs) await lm.rt.decode(s, rows(1));
    }));
    batch.push(await timed(() => lm.rt.decodeBatch(seqs, rows(B))));
  }
  seqs.forEach((s) => lm.rt.free(s));
  const row = {
    date: new Date().toISOString(),
    adapter: adapterLabel(handle.info),
    size,
    dtype,
    context,
    B,
    steps,
    oneByOneMsPerToken: median(one) / B,
    batchedMsPerStep: median(batch),
    batchedMsPerToken: median(batch) / B,
    speedup: median(one) / median(batch),
    dispatchesPerStep: { single: lm.rt.decodePlan.length, batched: lm.rt.plan(B, false, true).length },
  };
  console.log(`B=${B} (${size}, ${dtype}, context ~${context}): one sequence a step ${row.oneByOneMsPerToken.toFixed(1)} ms/token; batched ${row.batchedMsPerStep.toFixed(1)} ms/step = ${row.batchedMsPerToken.toFixed(1)} ms/token (${row.speedup.toFixed(2)}× the tokens/s); dispatches ${row.dispatchesPerStep.single} vs ${row.dispatchesPerStep.batched} a step`);
  out.push(row);
}

mkdirSync(RESULTS_DIR, { recursive: true });
const file = join(RESULTS_DIR, 'batch-decode.json');
const prev = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as unknown[]) : [];
writeFileSync(file, JSON.stringify([...prev, ...out], null, 2) + '\n');
ctx.dispose();
