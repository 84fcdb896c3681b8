/**
 * `cosyvoice-webgpu tune`: measures the kernel choices of this adapter (src/tune/) for the models `synth` will run
 * and writes them as a tuning table: by default into this adapter's default file, which `synth` then reads by
 * itself (src/tune/file.ts defaultTuningPath), merged with what earlier runs measured there (other dtypes, sizes).
 *
 *   tune [--out tuning.json] [--replace] [--model <dir> | --size tiny|full] [--dtype f32|f16] [--kv-dtype f32|f16]
 *        [--models llm,flow] [--prefill 64,128,256] [--context N] [--frames N] [--max-context N] [--max-frames N]
 *        [--reps N] [--rounds N] [--quick]
 *
 * The tables are keyed by shape: tune with the model, dtypes and limits synth runs with (the defaults match synth's).
 */
import { parseArgs } from 'node:util';
import { GpuContext } from '../../gpu/context.js';
import { adapterLabel } from '../../gpu/device.js';
import { requestNodeDevice } from '../../gpu/node-device.js';
import type { TuningTable } from '../../gpu/tuning.js';
import { syntheticModelFiles, type ModelFiles } from '../../pipeline/model-files.js';
import { loadModelFolder } from '../../pipeline/node-model-files.js';
import { PIPELINE_DEFAULTS } from '../../pipeline/webgpu.js';
import { existsSync } from 'node:fs';
import { defaultTuningPath, readTuningFile, writeTuningFile } from '../../tune/file.js';
import { tuneModelFiles } from '../../tune/models.js';
import type { TuneReport } from '../../tune/tuner.js';
import { progressPrinter } from '../progress.js';
import { UsageError } from './synth.js';

const HELP = `usage: cosyvoice-webgpu tune [--out tuning.json] [options]
  --out <file>        where to write the table (default: this adapter's default file, which synth reads by itself)
  --replace           write only this run's decisions (default: merged into the file's, if it is this adapter's)
  --model <dir>       official or converted model folder (default: the built-in synthetic model at --size)
  --size tiny|full    synthetic model size (default full: the choices depend on the real shapes)
  --dtype f32|f16     weight storage, as synth runs it (default f32)
  --kv-dtype f32|f16  LLM KV cache element type, as synth runs it (default f32)
  --models <list>     any of llm, flow, hift (default all three)
  --prefill <list>    LLM prefill row counts to tune (default 64,128,256: each stands for its power-of-two bucket)
  --context N         LLM context at which the decode step is tuned (default 1024)
  --frames N          DiT frames (prompt + generated) of the estimator call tuned, and HiFT's mel frames (default 600)
  --max-context N     LLM context limit, as synth's (default ${PIPELINE_DEFAULTS.maxContext})
  --max-frames N      flow scratch in frames, as synth's (default ${PIPELINE_DEFAULTS.maxFrames})
  --reps N            runs per timing burst (default 10)
  --rounds N          rounds over the candidates, best kept (default 2)
  --quick             only the default and two alternatives per decision`;

function positive(name: string, v: string | undefined): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name} ${v}: a positive integer`);
  return n;
}

export async function tuneCommand(argv: string[]): Promise<number> {
  const { values: v } = parseArgs({
    args: argv,
    options: {
      out: { type: 'string' }, replace: { type: 'boolean', default: false }, model: { type: 'string' }, size: { type: 'string', default: 'full' }, dtype: { type: 'string', default: 'f32' },
      'kv-dtype': { type: 'string', default: 'f32' }, models: { type: 'string', default: 'llm,flow,hift' }, prefill: { type: 'string', default: '64,128,256' },
      context: { type: 'string', default: '1024' }, frames: { type: 'string', default: '600' }, 'max-context': { type: 'string', default: String(PIPELINE_DEFAULTS.maxContext) },
      'max-frames': { type: 'string', default: String(PIPELINE_DEFAULTS.maxFrames) }, reps: { type: 'string', default: '10' }, rounds: { type: 'string', default: '2' },
      quick: { type: 'boolean', default: false }, help: { type: 'boolean', default: false },
    },
  });
  if (v.help) {
    console.log(HELP);
    return 0;
  }
  if (v.dtype !== 'f32' && v.dtype !== 'f16') throw new UsageError(`--dtype ${v.dtype}: use f32 or f16`);
  const kvDtype = v['kv-dtype'];
  if (kvDtype !== 'f32' && kvDtype !== 'f16') throw new UsageError(`--kv-dtype ${kvDtype}: use f32 or f16`);
  if (v.size !== 'tiny' && v.size !== 'full') throw new UsageError(`--size ${v.size}: use tiny or full`);
  const models = v.models!.split(',');
  if (!models.length || models.some((m) => m !== 'llm' && m !== 'flow' && m !== 'hift')) throw new UsageError(`--models ${v.models}: a list of llm, flow and hift`);
  const prefillRows = v.prefill!.split(',').map((s) => positive('prefill', s));
  const o = { reps: positive('reps', v.reps), rounds: positive('rounds', v.rounds), maxCandidates: v.quick ? 3 : undefined, log: (l: string) => console.log(`  ${l}`) };
  const maxContext = positive('max-context', v['max-context']), maxFrames = positive('max-frames', v['max-frames']);

  const progress = progressPrinter();
  const files: ModelFiles = v.model ? await loadModelFolder(v.model, progress) : syntheticModelFiles(v.size, 0);
  progress.done();
  const ctx = new GpuContext(await requestNodeDevice());
  console.log(`adapter: ${adapterLabel(ctx.handle.info)}; model: ${files.source}; ${v.dtype} weights`);
  const t0 = performance.now();
  let table: TuningTable, reports: TuneReport[];
  try {
    console.log(`LLM: prefill ${prefillRows.join(', ')} rows, decode at context ${v.context}; flow / HiFT: one call at ${Math.min(Number(v.frames), maxFrames)} frames (${models.join(', ')})`);
    ({ table, reports } = await tuneModelFiles(ctx, files, {
      ...o, dtype: v.dtype as 'f32' | 'f16', kvDtype, models: models as ('llm' | 'flow' | 'hift')[], prefillRows,
      context: positive('context', v.context), frames: positive('frames', v.frames), maxContext, maxFrames,
    }));
  } finally {
    ctx.dispose();
  }
  const out = v.out ?? defaultTuningPath(table.adapter);
  const before = !v.replace && existsSync(out) ? readTuningFile(out) : undefined;
  const merged = before && before.adapter === table.adapter ? before.merge(table) : table;
  writeTuningFile(out, merged);
  const changed = reports.filter((r) => r.bestName !== r.defaultName);
  const kept = merged.size - table.size;
  console.log(`wrote ${out}: ${table.size} decisions in ${((performance.now() - t0) / 1000).toFixed(1)} s; ${changed.length} differ from the defaults${kept ? `; ${kept} kept from the file` : ''}${before && merged === table && !v.replace ? ' (the file was another adapter\'s: replaced)' : ''}`);
  if (!table.size) console.log('NOTE: this adapter runs the CPU-adapter forms (lavapipe, SwiftShader), which have no tuned choices: the table is empty');
  return 0;
}
