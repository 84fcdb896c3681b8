/**
 * Concurrent syntheses on one WebGPU pipeline, end to end: N streaming requests started together, with the LLM's
 * decode steps batched (LlmSteps, the default) and without (`batchDecode: false`), one pipeline per mode in one
 * process (both built before either runs).
 *   npx tsx bench/concurrent.ts [--size tiny|full] [--streams 2,4] [--seconds 2] [--dtype f32|f16] [--rounds 2]
 * Each request forces 25 tokens per second of audio (stop ids masked) with its own seed, as bench/e2e.ts does; the
 * synthetic speaker has a 1 s prompt. Per round and mode: the wall time until every stream has ended, the mean time
 * to first audio, the aggregate real-time factor (wall / total audio) and the LLM's mean batch. Modes alternate
 * within a round (batched first in odd rounds); medians over rounds are appended to bench/results/concurrent.json.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { GpuContext } from '../src/gpu/context.js';
import { adapterLabel } from '../src/gpu/device.js';
import { requestNodeDevice } from '../src/gpu/node-device.js';
import { loadModelFolder } from '../src/pipeline/node-model-files.js';
import { syntheticSpeaker } from '../src/pipeline/speaker.js';
import type { CosyVoicePipeline } from '../src/pipeline/tts.js';
import { createWebGpuPipeline } from '../src/pipeline/webgpu.js';
import { RESULTS_DIR } from './goals.js';
import { median } from './stats.js';
import { randomModelFolder } from './random-folders.js';

const { values: a } = parseArgs({
  options: {
    size: { type: 'string', default: 'tiny' },
    streams: { type: 'string', default: '2,4' },
    seconds: { type: 'string', default: '2' },
    dtype: { type: 'string', default: 'f32' },
    rounds: { type: 'string', default: '2' },
  },
});
const size = a.size as 'tiny' | 'full';
const model = randomModelFolder(`/tmp/cosyvoice3-${size}`, size);
const tokens = Math.round(25 * Number(a.seconds));
const dtype = a.dtype as 'f32' | 'f16';

const files = await loadModelFolder(model);
const speaker = syntheticSpeaker(files);
const handle = await requestNodeDevice();
const modes = { batched: true, 'one a step': false } as const;
const pipes: Record<string, CosyVoicePipeline> = {};
for (const [name, batchDecode] of Object.entries(modes)) {
  pipes[name] = await createWebGpuPipeline(new GpuContext(handle), files, { dtype, batchDecode, maxFrames: 2 * (tokens + speaker.promptTokens.length) + 50 });
}

async function run(pipe: CosyVoicePipeline, n: number) {
  const counts = pipe.models.llm.stepCounts!;
  const c0 = { ...counts };
  const t0 = performance.now();
  const stats = await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const gen = pipe.stream(`Request number ${i}, spoken at once with the others.`, speaker, { seed: i, forceTokens: tokens });
      let r = await gen.next();
      while (!r.done) r = await gen.next();
      return r.value;
    }),
  );
  const wallMs = performance.now() - t0;
  const decodeSteps = counts.steps - c0.steps - (counts.prefills - c0.prefills);
  const audio = stats.reduce((s, x) => s + x.audioSeconds, 0);
  return { wallMs, ttfaMs: stats.reduce((s, x) => s + x.ttfaMs, 0) / n, rtf: wallMs / 1000 / audio, meanBatch: (counts.decodeRows - c0.decodeRows) / decodeSteps };
}

// Warm-up: one stream per mode.
for (const p of Object.values(pipes)) await run(p, 1);
const out: Record<string, unknown>[] = [];
for (const n of a.streams!.split(',').map(Number)) {
  const rows: Record<string, Awaited<ReturnType<typeof run>>[]> = { batched: [], 'one a step': [] };
  for (let round = 0; round < Number(a.rounds); round++) {
    const order = round % 2 === 0 ? Object.keys(modes) : Object.keys(modes).reverse();
    for (const name of order) rows[name].push(await run(pipes[name], n));
  }
  for (const [name, rs] of Object.entries(rows)) {
    const m = (f: (r: (typeof rs)[number]) => number) => median(rs.map(f));
    const row = { date: new Date().toISOString(), adapter: adapterLabel(handle.info), size, dtype, streams: n, seconds: Number(a.seconds), mode: name, rounds: rs.length, wallMs: m((r) => r.wallMs), ttfaMs: m((r) => r.ttfaMs), rtf: m((r) => r.rtf), meanBatch: m((r) => r.meanBatch) };
    console.log(`${n} streams × ${a.seconds} s (${size}, ${dtype}), ${name}: wall ${(row.wallMs / 1000).toFixed(2)} s, mean TTFA ${(row.ttfaMs / 1000).toFixed(2)} s, aggregate RTF ${row.rtf.toFixed(3)}, LLM mean batch ${row.meanBatch.toFixed(2)}`);
    out.push(row);
  }
}
mkdirSync(RESULTS_DIR, { recursive: true });
const file = join(RESULTS_DIR, 'concurrent.json');
const prev = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as unknown[]) : [];
writeFileSync(file, JSON.stringify([...prev, ...out], null, 2) + '\n');
Object.values(pipes).forEach((p) => p.dispose());
