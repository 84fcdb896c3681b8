/**
 * Streaming HiFT at full size: upstream's re-run on the whole mel so far against HiftStream's window
 * (src/models/hift/stream.ts), over the pipeline's chunk schedule for `--seconds` of speech after a 150-token prompt.
 *   npx tsx bench/hift-stream.ts [root=/tmp/cosyvoice3-full] [--seconds 10] [--engine webgpu|cpu] [--runs 1]
 * One untimed pass of both modes compiles the kernels; then per run, both modes in turn (re-run first), each chunk
 * timed to its samples. The mel is seeded random values in a log-mel range. Checks that both modes give the same samples (bits) and appends one row per mode to
 * bench/results/hift-stream.json. For A/B rows, compare the modes of one run: this VM's speed drifts.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadPt, readHyperYaml } from '../loader/node.js';
import { GpuContext } from '../src/gpu/context.js';
import { adapterLabel } from '../src/gpu/device.js';
import { requestNodeDevice } from '../src/gpu/node-device.js';
import { hiftConfigFromYaml } from '../src/models/hift/config.js';
import { createHift } from '../src/models/hift/forward.js';
import { HiftStream, type HiftStages } from '../src/models/hift/stream.js';
import { loadHiftWeights } from '../src/models/hift/weights.js';
import { loadModelFolder } from '../src/pipeline/node-model-files.js';
import { SineNoiseTable } from '../src/pipeline/noise.js';
import { WasmEngine } from '../src/pipeline/wasm-engine.js';
import { planStreamChunks } from '../src/sampling/index.js';
import { RESULTS_DIR } from './goals.js';
import { randomModelFolder } from './random-folders.js';

const a = parseArgs({ allowPositionals: true, options: { seconds: { type: 'string', default: '10' }, engine: { type: 'string', default: 'webgpu' }, runs: { type: 'string', default: '1' } } });
const root = a.positionals[0] ?? '/tmp/cosyvoice3-full';
const model = randomModelFolder(root);
const seconds = Number(a.values.seconds);
const engine = a.values.engine;
const P = 150;

// The pipeline's mel pushes: each chunk's new frames (look-ahead frames are not part of the HiFT mel).
const tokens = 25 * seconds;
const chunks = planStreamChunks(tokens, { promptTokens: P });
const pushes: { frames: number; finalize: boolean }[] = [];
let melEnd = 0;
for (const c of chunks) {
  const end = c.finalize ? 2 * c.tokenEnd : 2 * (c.tokenOffset + c.hop);
  pushes.push({ frames: end - melEnd, finalize: c.finalize });
  melEnd = end;
}
const T = melEnd;
const bins = 80;
let seed = 12345;
const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
const mel = Float32Array.from({ length: bins * T }, () => -6 + 5 * rand());
const framesOf = (from: number, to: number) => {
  const n = to - from, out = new Float32Array(bins * n);
  for (let b = 0; b < bins; b++) out.set(mel.subarray(b * T + from, b * T + to), b * n);
  return out;
};

interface Vocoder {
  label: string;
  rerun(mel: Float32Array, frames: number, finalize: boolean): Promise<Float32Array>;
  stages: HiftStages;
}

async function vocoder(): Promise<Vocoder> {
  const yaml = await readHyperYaml(join(model, 'cosyvoice3.yaml'));
  const cfg = hiftConfigFromYaml(yaml);
  const table = new SineNoiseTable(cfg.harmonics);
  if (engine === 'cpu') {
    const e = await WasmEngine.create(await loadModelFolder(model));
    return { label: 'cpu (WasmEngine)', rerun: async (m, n, f) => (await e.hift(m, n, table.get(480 * n), f)).speech, stages: e.hiftStages((n) => table.get(n)) };
  }
  const handle = await requestNodeDevice();
  const ctx = new GpuContext(handle);
  const h = createHift(ctx, cfg, loadHiftWeights(await loadPt(join(model, 'hift.pt')), cfg), { maxFrames: T, noise: table.get(cfg.samplesPerFrame * T).slice() });
  return { label: adapterLabel(handle.info), rerun: async (m, n, f) => (await h.inference(m, n, f)).speech, stages: h };
}

const v = await vocoder();
console.log(`${v.label}: ${seconds} s, ${T} frames, pushes ${pushes.map((p) => p.frames).join(' ')}`);
const rows: unknown[] = [];
for (let run = -1; run < Number(a.values.runs); run++) {
  const outs: Float32Array[][] = [];
  for (const mode of ['rerun', 'window'] as const) {
    const stream = new HiftStream(v.stages);
    const ms: number[] = [], processed: number[] = [], out: Float32Array[] = [];
    let at = 0, emitted = 0;
    for (const p of pushes) {
      const t0 = performance.now();
      let pcm: Float32Array;
      if (mode === 'window') {
        pcm = await stream.push(framesOf(at, at + p.frames), p.frames, p.finalize);
        processed.push(stream.lastWindowFrames);
      } else {
        const all = await v.rerun(framesOf(0, at + p.frames), at + p.frames, p.finalize);
        pcm = all.slice(emitted);
        emitted = all.length;
        processed.push(at + p.frames);
      }
      ms.push(performance.now() - t0);
      out.push(pcm);
      at += p.frames;
    }
    outs.push(out);
    const total = ms.reduce((s, x) => s + x, 0);
    const row = { date: new Date().toISOString(), adapter: v.label, engine, seconds, mode, run, frames_processed: processed, chunk_ms: ms.map(Math.round), total_ms: Math.round(total) };
    if (run < 0) continue; // the warm-up pass
    console.log(JSON.stringify(row));
    rows.push(row);
  }
  const same = outs[0].every((c, i) => c.length === outs[1][i].length && c.every((x, j) => Object.is(x, outs[1][i][j])));
  console.log(`run ${run}: window samples ${same ? 'equal' : 'DIFFER from'} the re-run's`);
  if (!same) process.exitCode = 1;
}
mkdirSync(RESULTS_DIR, { recursive: true });
const file = join(RESULTS_DIR, 'hift-stream.json');
const old = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { rows: unknown[] }) : { rows: [] };
writeFileSync(file, JSON.stringify({ rows: [...old.rows, ...rows] }, null, 1));
process.exit();
