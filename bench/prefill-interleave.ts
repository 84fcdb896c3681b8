/**
 * What a new request's prompt costs the streams already running (LlmSteps prefillChunk): sequence A decodes step
 * after step; at its third step sequence B arrives with a `--prompt`-row prompt. With the prompt as one step
 * (chunk 256) A waits for all of it; in parts (chunk 32) A steps between the parts.
 *   npx tsx bench/prefill-interleave.ts [root=/tmp/cosyvoice3-full] [--size full|tiny] [--prompt 200] [--chunks 256,32] [--rounds 2]
 * Per chunk size (rounds alternate, after a warm-up round each): A's longest gap between two steps while B's
 * prompt is fed, A's steps in that time, and B's prompt time to its first top-k. Appends rows to
 * bench/results/prefill-interleave.json. Full size needs the random full folder (written when absent).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { GpuContext } from '../src/gpu/context.js';
import { adapterLabel } from '../src/gpu/device.js';
import { requestNodeDevice } from '../src/gpu/node-device.js';
import { lmFromDir } from '../src/models/llm/from-dir.js';
import { LlmSteps } from '../src/models/qwen2/steps.js';
import { RESULTS_DIR } from './goals.js';
import { median } from './stats.js';
import { randomModelFolder } from './random-folders.js';

const a = parseArgs({
  allowPositionals: true,
  options: { size: { type: 'string', default: 'full' }, prompt: { type: 'string', default: '200' }, chunks: { type: 'string', default: '256,32' }, rounds: { type: 'string', default: '2' } },
});
const size = a.values.size as 'full' | 'tiny';
const root = a.positionals[0] ?? `/tmp/cosyvoice3-${size}`;
const model = randomModelFolder(root, size);
const promptRows = Number(a.values.prompt);
const chunks = a.values.chunks!.split(',').map(Number);
const rounds = Number(a.values.rounds);

const handle = await requestNodeDevice();
const ctx = new GpuContext(handle);
const lm = await lmFromDir(ctx, model, { dtype: 'f16', maxContext: 1024, kv: { maxSeqs: 4, dtype: 'f16' } });
const d = lm.cfg.hidden;
let seed = 7;
const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
const rows = (n: number) => Float32Array.from({ length: n * d }, () => (rand() - 0.5) * 0.1);

interface Round { maxGapMs: number; aStepsDuring: number; promptMs: number; aStepMs: number }

async function round(chunk: number): Promise<Round> {
  const steps = new LlmSteps(lm.rt, { prefillChunk: chunk });
  const A = lm.rt.createSequence(), B = lm.rt.createSequence();
  await steps.prefill(A, rows(100), () => undefined);
  const done: number[] = [];
  let bStart = 0, bEnd = 0;
  let bDone: Promise<unknown> | undefined;
  for (let i = 0; !bEnd || done.filter((t) => t > bEnd).length < 2; i++) {
    if (i === 3) {
      bStart = performance.now();
      bDone = steps.prefill(B, rows(promptRows), () => (bEnd = performance.now()));
    }
    await steps.decode(A, rows(1), () => undefined);
    done.push(performance.now());
  }
  await bDone;
  lm.rt.free(A);
  lm.rt.free(B);
  // Gaps between A's steps that overlap B's prompt (the step before it included).
  const gaps: number[] = [];
  for (let i = 1; i < done.length; i++) if (done[i] > bStart && done[i - 1] < bEnd) gaps.push(done[i] - done[i - 1]);
  const before = done.slice(0, 3);
  return {
    maxGapMs: Math.max(...gaps),
    aStepsDuring: done.filter((t) => t > bStart && t <= bEnd).length,
    promptMs: bEnd - bStart,
    aStepMs: (before[2] - before[0]) / 2,
  };
}

const results = new Map<number, Round[]>(chunks.map((c) => [c, []]));
for (const c of chunks) await round(c); // warm-up: every part size's plan compiled
for (let r = 0; r < rounds; r++) for (const c of chunks) results.get(c)!.push(await round(c));

const out = chunks.map((c) => {
  const rs = results.get(c)!;
  const row = {
    date: new Date().toISOString(), adapter: adapterLabel(handle.info), size, dtype: 'f16', promptRows, chunk: c, rounds,
    aStepMs: median(rs.map((x) => x.aStepMs)), maxGapMs: median(rs.map((x) => x.maxGapMs)),
    aStepsDuringPrompt: median(rs.map((x) => x.aStepsDuring)), promptMs: median(rs.map((x) => x.promptMs)),
  };
  console.log(`chunk ${c}: A's step ${row.aStepMs.toFixed(0)} ms alone; while B's ${promptRows}-row prompt is fed (${row.promptMs.toFixed(0)} ms): A's longest gap ${row.maxGapMs.toFixed(0)} ms, ${row.aStepsDuringPrompt} steps of A`);
  return row;
});
mkdirSync(RESULTS_DIR, { recursive: true });
const file = join(RESULTS_DIR, 'prefill-interleave.json');
const prev = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as unknown[]) : [];
writeFileSync(file, JSON.stringify([...prev, ...out], null, 2));
console.log(`appended to ${file}`);
ctx.dispose();
