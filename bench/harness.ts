/**
 * The one benchmark runner (issue 3 item 6). `npx tsx bench/run.ts --suite <name> [--size tiny|full]
 * [--json <file>] [--reps N] [--no-ort] [--ort-reps N] [--ort-timeout-ms T]`, or `cosyvoice-webgpu bench …`.
 *
 * A suite is a list of cases. Each case builds, once, either dispatch records (timed per run by GPU timestamp
 * queries when the adapter has `timestamp-query`, else by wall time around onSubmittedWorkDone) or an async
 * `run` function (wall time), plus optionally an ORT twin: ONNX model bytes (bench/ort-graphs.ts) and feeds,
 * run by onnxruntime-node in this same process with the `webgpu` and `cpu` execution providers. Every case is
 * warmed up, repeated, and reported as median (min/max kept in the JSON), with GB/s, GFLOP/s and the fraction
 * of a measured bandwidth roofline (a device-to-device copy), and the work counters of one run.
 *
 * Adding a suite (LLM / DiT / HiFT / e2e helpers): write bench/suites/<name>.ts exporting
 *   export const suite: Suite = { name: '<name>', description: '…', async cases(env) { return [ … ] } };
 * and add one line to SUITES below: `<name>: () => import('./suites/<name>.js').then((m) => m.suite),`.
 * Cases get `env.ctx` (the shared GpuContext), `env.size` ('tiny' | 'full') and `env.rng(seed)`; a case's
 * `setup()` allocates and returns a CasePlan, `dispose()` (optional) frees it. Results go to
 * bench/results/<suite>.json (whole-suite runs only; bench/goals.ts then rewrites goals.md) and the --json path:
 * {adapter, suite, size, roofline, cases: [CaseResult]}.
 * ORT's webgpu EP is very slow on lavapipe (seconds per call at full size): it gets `ortReps` runs (default
 * 1 warm-up + 2) and a per-case time budget; a case past it reports what it has (or null) and moves on.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { GpuContext } from '../src/gpu/context.js';
import { diffCounters, type Counters } from '../src/gpu/counters.js';
import { adapterLabel, type AdapterDescription } from '../src/gpu/device.js';
import type { DispatchRecord } from '../src/gpu/dispatch.js';
import type { GpuTensor } from '../src/gpu/tensor.js';
import { requestNodeDevice } from '../src/gpu/node-device.js';
import { TuningTable } from '../src/gpu/tuning.js';
import { collectTunePoints, tunePoints } from '../src/tune/tuner.js';
import { tuneSummary } from './suites/tune-for.js';
import { profileDispatches, timePass, wallTimeMs } from '../src/gpu/timing.js';
import { copyStrided } from '../kernels/copy.js';
import { repeatGraph } from './ort-graphs.js';
import { ortGpuTime } from './ort-profile.js';
import { fmt, median } from './stats.js';
import { RESULTS_DIR, writeGoals } from './goals.js';

export { median };

export const SUITES: Record<string, () => Promise<Suite>> = {
  kernels: () => import('./suites/kernels.js').then((m) => m.suite),
  'model-kernels': () => import('./suites/model-kernels.js').then((m) => m.suite),
};

export type BenchSize = 'tiny' | 'full';

export interface BenchEnv {
  ctx: GpuContext;
  size: BenchSize;
  adapter: AdapterDescription;
  roofline: Roofline;
}

export interface OrtFeed {
  type: 'float32' | 'int64' | 'int32';
  data: Float32Array | BigInt64Array | Int32Array;
  dims: number[];
}

export interface CasePlan {
  /** Our side as dispatch records (preferred: GPU-timed per dispatch) … */
  records?: DispatchRecord[];
  /** … or as a function (wall-timed), e.g. a whole model step with readback. */
  run?: () => Promise<void>;
  /** Bytes the op must move at least (reads + writes) and its FLOPs, for GB/s, GFLOP/s and the roofline. */
  bytes?: number;
  flops?: number;
  /**
   * The same op for onnxruntime-node: model bytes + feeds (null ORT columns when absent). `minChain`: the least R
   * for --ort-chain on this case, where the feeds are so large that the host copies' jitter in one run would
   * swamp R = 10 copies of the op.
   * `noChain`: why --ort-chain must skip this case (say, most of its graph does not depend on the chained input,
   * so ORT would merge those nodes across the copies and time only the rest).
   */
  ort?: { model: Uint8Array; feeds: Record<string, OrtFeed>; note?: string; minChain?: number; noChain?: string };
  /** Our result after `records` run once, for tests that check a case computes what its ORT graph computes. */
  output?: GpuTensor;
  /** Other tensors the case's dispatches write, for such tests (e.g. the KV pool a fused append fills). */
  taps?: Record<string, GpuTensor>;
  /** Per-case repetition override (slow cases at full size). */
  reps?: number;
  dispose?: () => void;
}

export interface BenchCase {
  name: string;
  /** Human-readable shape, PyTorch order, e.g. "x[1,896] W[4864,896] f16". */
  shape: string;
  setup: (env: BenchEnv) => Promise<CasePlan> | CasePlan;
}

export interface Suite {
  name: string;
  description: string;
  cases: (env: BenchEnv) => Promise<BenchCase[]> | BenchCase[];
}

export interface CaseResult {
  suite: string;
  name: string;
  shape: string;
  adapter: string;
  ours_ms: number | null;
  ours_min_ms: number | null;
  ours_max_ms: number | null;
  ours_timing: 'gpu-timestamp' | 'wall';
  ours_wall_ms: number | null;
  ort_webgpu_ms: number | null;
  ort_cpu_ms: number | null;
  ort_note?: string;
  ratio_vs_ort_webgpu: number | null;
  /**
   * With --ort-chain R: ORT WebGPU's marginal ms per op, (t(1 + R chained copies) − t(1)) / R, which cancels its
   * per-run overhead and the host↔device copies of the feeds; null when the graph cannot chain or when the R
   * copies added less than one single run's spread (the note says which).
   */
  ort_webgpu_per_op_ms?: number | null;
  /** With --ort-chain R: our marginal ms per op, the case's dispatches 1 + R times in one pass against once. */
  ours_per_op_ms?: number | null;
  /**
   * With --ort-profile: ORT WebGPU's GPU time per run from its own profiler (every kernel's timestamps, summed;
   * bench/ort-profile.ts), the kernels it dispatched per run, and ours_ms / that (ours GPU-timestamped).
   */
  ort_webgpu_gpu_ms?: number | null;
  ort_webgpu_kernels?: number;
  ratio_gpu_vs_ort_webgpu?: number | null;
  counters: Partial<Counters>;
  gbps: number | null;
  gflops: number | null;
  roofline_frac: number | null;
  /**
   * With --tune: the decisions of this case's kernels tuned on this adapter before it was timed (src/tune/), each
   * with the default's and the chosen candidate's GPU µs; the case then ran with the chosen ones.
   */
  tuned?: { key: string; default: string; default_us: number | null; chosen: string; chosen_us: number }[];
  error?: string;
}

export interface RunOptions {
  suite: string;
  size: BenchSize;
  reps?: number;
  warmup?: number;
  ort?: boolean;
  ortReps?: number;
  ortTimeoutMs?: number;
  /** Also time each chainable ORT graph repeated 1 + R times (see ort_webgpu_per_op_ms). */
  ortChain?: number;
  /** Also read ORT WebGPU's per-kernel GPU times from its profiler (see ort_webgpu_gpu_ms). */
  ortProfile?: boolean;
  json?: string;
  /** Only cases whose name contains this. */
  filter?: string;
  /** Tune each case's kernel choices on this adapter (src/tune/tuner.ts) before timing it. */
  tune?: boolean;
  /**
   * false: write only `json`, not bench/results/<suite>.json (tests). A --filter run never writes that file: it
   * holds the whole suite, which goals.md judges.
   */
  resultsFile?: boolean;
  log?: (line: string) => void;
}



async function timeOurs(ctx: GpuContext, plan: CasePlan, reps: number, warmup: number) {
  const records = plan.records;
  if (records) {
    for (let i = 0; i < warmup; i++) await wallTimeMs(ctx, records);
    // Counters of one plain run (profiling uses one pass per dispatch, so it is kept out of the count).
    const before = { ...ctx.counters };
    const wall = [await wallTimeMs(ctx, records)];
    const counters = diffCounters(before, ctx.counters);
    const gpu: number[] = [];
    for (let i = 0; i < reps; i++) {
      const t = await profileDispatches(ctx, records);
      if (!t) break;
      gpu.push(t.reduce((s, x) => s + x.ms, 0));
    }
    while (wall.length < (gpu.length ? 3 : reps)) wall.push(await wallTimeMs(ctx, records));
    return { times: gpu.length ? gpu : wall, timing: gpu.length ? ('gpu-timestamp' as const) : ('wall' as const), wall: median(wall), counters };
  }
  if (!plan.run) throw new Error('case plan has neither records nor run');
  for (let i = 0; i < warmup; i++) await plan.run();
  const before = { ...ctx.counters };
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await plan.run();
    times.push(performance.now() - t0);
  }
  const counters = diffCounters(before, ctx.counters);
  for (const k of Object.keys(counters) as (keyof Counters)[]) counters[k] = Math.round(counters[k] / reps);
  return { times, timing: 'wall' as const, wall: median(times), counters };
}

export interface Roofline {
  /** Device-to-device copy bandwidth, counting read + write bytes. */
  copyGBps: number;
  method: string;
  /** GPU time of one empty dispatch (1 workgroup that returns at once); 0 means below timestamp resolution. */
  noopMs: number;
  /** Wall time of submitting that dispatch and waiting for it (onSubmittedWorkDone). */
  noopWallMs: number;
  encoderCopyGBps: number;
  shaderCopyGBps: number | null;
}

/**
 * Bandwidth roof: the better of a copyBufferToBuffer (wall time of 4 back-to-back copies) and our copy shader
 * (GPU timestamps), both counting read + write bytes. Plus the no-op dispatch baseline.
 */
export async function measureRoofline(ctx: GpuContext, size: BenchSize): Promise<Roofline> {
  const bytes = (size === 'tiny' ? 16 : 64) * 2 ** 20;
  const a = ctx.tensor('f32', [bytes / 4], 'roof.a'), b = ctx.tensor('f32', [bytes / 4], 'roof.b');
  const encTimes: number[] = [];
  for (let i = 0; i < 4; i++) {
    const t0 = performance.now();
    ctx.run([], (enc) => {
      for (let j = 0; j < 4; j++) enc.copyBufferToBuffer(a.buffer, 0, b.buffer, 0, bytes);
    });
    await ctx.finish();
    encTimes.push(performance.now() - t0);
  }
  const encoderCopyGBps = (8 * bytes) / (median(encTimes.slice(1)) * 1e6);
  let shaderCopyGBps: number | null = null;
  const cp = copyStrided(ctx, { src: a, dst: b, shape: [bytes / 4], srcStrides: [1], dstStrides: [1] }, 'roof');
  const noop = copyStrided(ctx, { src: a, dst: b, shape: [0], srcStrides: [1], dstStrides: [1] }, 'noop');
  const sc: number[] = [], nt: number[] = [];
  for (let i = 0; i < 4; i++) {
    const t = await profileDispatches(ctx, [cp]);
    if (!t) break;
    sc.push(t[0].ms);
  }
  for (let i = 0; i < 6 && sc.length; i++) nt.push((await profileDispatches(ctx, [noop]))![0].ms);
  if (sc.length) shaderCopyGBps = (2 * bytes) / (median(sc.slice(1)) * 1e6);
  const nw: number[] = [];
  for (let i = 0; i < 6; i++) nw.push(await wallTimeMs(ctx, [noop]));
  const noopWallMs = median(nw.slice(1));
  const noopMs = nt.length ? median(nt.slice(1)) : noopWallMs;
  a.buffer.destroy();
  b.buffer.destroy();
  const best = Math.max(encoderCopyGBps, shaderCopyGBps ?? 0);
  return { copyGBps: best, method: best === encoderCopyGBps ? 'copyBufferToBuffer, wall' : 'copy shader, timestamps', noopMs, noopWallMs, encoderCopyGBps, shaderCopyGBps };
}

type OrtModule = typeof import('onnxruntime-node');
let ortModule: Promise<OrtModule | null> | undefined;
function loadOrt(): Promise<OrtModule | null> {
  ortModule ??= import('onnxruntime-node')
    .then((m) => ((m as unknown as { default?: OrtModule }).default ?? m) as OrtModule)
    .catch(() => null);
  return ortModule;
}

/** A case's feeds as ORT tensors. */
/** A case's feeds as onnxruntime-node tensors. */
export function ortTensors(ort: OrtModule, feeds: Record<string, OrtFeed>) {
  return Object.fromEntries(Object.entries(feeds).map(([k, f]) => [k, new ort.Tensor(f.type, f.data, f.dims)]));
}

/**
 * Median wall ms of `reps` session.run calls after one warm-up, including ORT's own upload/readback of the
 * CPU feeds (that is what an ORT user pays). Stops early (returning what it has) past `budgetMs`.
 */
export async function ortTime(ep: 'webgpu' | 'cpu', o: NonNullable<CasePlan['ort']>, reps: number, budgetMs: number): Promise<{ ms: number | null; times?: number[]; note?: string }> {
  const ort = await loadOrt();
  if (!ort) return { ms: null, note: 'onnxruntime-node not installed' };
  let sess: Awaited<ReturnType<OrtModule['InferenceSession']['create']>> | undefined;
  let fallbackNote: string | undefined;
  try {
    // WebGPU first without CPU fallback, so a node the EP lacks is reported instead of silently timed on the CPU.
    const base = { executionProviders: [ep], graphOptimizationLevel: 'all' as const };
    if (ep === 'webgpu') {
      try {
        sess = await ort.InferenceSession.create(o.model, { ...base, extra: { session: { disable_cpu_ep_fallback: '1' } } });
      } catch {
        sess = await ort.InferenceSession.create(o.model, base);
        fallbackNote = 'webgpu: some nodes fell back to the CPU EP';
      }
    } else {
      sess = await ort.InferenceSession.create(o.model, base);
    }
    const feeds = ortTensors(ort, o.feeds);
    const t0 = performance.now();
    await sess.run(feeds);
    const warm = performance.now() - t0;
    const times: number[] = [];
    let spent = warm;
    for (let i = 0; i < reps; i++) {
      if (spent > budgetMs) break;
      const t = performance.now();
      await sess.run(feeds);
      times.push(performance.now() - t);
      spent += times[times.length - 1];
    }
    if (!times.length) return { ms: null, note: `${ep}: warm-up took ${warm.toFixed(0)} ms, past the ${budgetMs} ms budget` };
    const notes = [fallbackNote, times.length < reps ? `${ep}: ${times.length}/${reps} runs within budget` : undefined].filter(Boolean);
    return { ms: median(times), times, note: notes.length ? notes.join('; ') : undefined };
  } catch (e) {
    return { ms: null, note: `${ep}: ${String((e as Error).message ?? e).split('\n')[0].slice(0, 160)}` };
  } finally {
    await sess?.release();
  }
}


export function markdownTable(adapter: string, rows: CaseResult[]): string {
  const chained = rows.some((r) => r.ort_webgpu_per_op_ms !== undefined);
  const profiled = rows.some((r) => r.ort_webgpu_gpu_ms !== undefined);
  const us = (v: number | null | undefined) => fmt(v == null ? null : v * 1000);
  const perOp = (r: CaseResult) =>
    (chained ? ` ${us(r.ours_per_op_ms)} | ${us(r.ort_webgpu_per_op_ms)} |` : '') +
    (profiled ? ` ${us(r.ort_webgpu_gpu_ms)} | ${r.ort_webgpu_kernels ?? '—'} | ${fmt(r.ratio_gpu_vs_ort_webgpu ?? null)} |` : '');
  const head = `| case | shape | ours µs | timing | ours wall µs | GB/s | GFLOP/s | roofline | ORT webgpu µs | ours/ORT |${chained ? ' ours µs per op (chained) | ORT webgpu µs per op (chained) |' : ''}${profiled ? ' ORT webgpu GPU µs (its profiler) | ORT kernels | ours/ORT GPU |' : ''} ORT cpu µs |`;
  const lines = rows.map((r) =>
    `| ${r.name} | ${r.shape} | ${fmt(r.ours_ms === null ? null : r.ours_ms * 1000)} | ${r.ours_timing === 'gpu-timestamp' ? 'gpu' : 'wall'} | ${fmt(r.ours_wall_ms === null ? null : r.ours_wall_ms * 1000)} | ${fmt(r.gbps)} | ${fmt(r.gflops)} | ${r.roofline_frac === null ? '—' : (100 * r.roofline_frac).toFixed(1) + '%'} | ${fmt(r.ort_webgpu_ms === null ? null : r.ort_webgpu_ms * 1000)}${r.ort_note?.includes('fell back') ? ' (cpu fallback)' : ''} | ${fmt(r.ratio_vs_ort_webgpu)} |${perOp(r)} ${fmt(r.ort_cpu_ms === null ? null : r.ort_cpu_ms * 1000)} |${r.error ? ` error: ${r.error}` : ''}`,
  );
  return [`adapter: ${adapter}`, '', head, '|' + '---|'.repeat(11 + (chained ? 2 : 0) + (profiled ? 3 : 0)), ...lines].join('\n');
}

/**
 * --tune: sets the case up with the context collecting its kernels' tunable decisions, tunes them on the case's
 * buffers, then sets it up again with the table (the first plan is freed).
 */
async function tunedSetup(ctx: GpuContext, c: BenchCase, env: BenchEnv, r: CaseResult, log: (s: string) => void): Promise<CasePlan> {
  const { value: first, points } = await collectTunePoints(ctx, () => c.setup(env));
  if (!points.length) return first;
  const table = TuningTable.forContext(ctx);
  const reports = await tunePoints(ctx, points, table, { log: (l) => log(`[tune] ${c.name}: ${l}`) });
  r.tuned = tuneSummary(reports);
  first.dispose?.();
  ctx.tuning = table;
  try {
    return await c.setup(env);
  } finally {
    ctx.tuning = null;
  }
}

export async function runSuite(opts: RunOptions): Promise<{ adapter: AdapterDescription; cases: CaseResult[] }> {
  const log = opts.log ?? ((s: string) => console.log(s));
  const load = SUITES[opts.suite];
  if (!load) throw new Error(`unknown suite "${opts.suite}" (known: ${Object.keys(SUITES).join(', ')})`);
  const suite = await load();
  const handle = await requestNodeDevice();
  const ctx = new GpuContext(handle);
  const adapter = adapterLabel(handle.info);
  log(`[bench] suite ${suite.name} (${opts.size}) on ${adapter}; timestamps: ${ctx.hasTimestamps ? 'yes' : 'no (wall time)'}`);
  const roofline = await measureRoofline(ctx, opts.size);
  log(`[bench] roofline: copy ${roofline.copyGBps.toFixed(2)} GB/s (${roofline.method}; copy shader ${roofline.shaderCopyGBps?.toFixed(2) ?? '—'} GB/s), no-op dispatch ${(roofline.noopMs * 1000).toFixed(1)} µs GPU / ${(roofline.noopWallMs * 1000).toFixed(1)} µs wall`);
  const env: BenchEnv = { ctx, size: opts.size, adapter: handle.info, roofline };
  const reps = opts.reps ?? (opts.size === 'tiny' ? 5 : 10);
  const warmup = opts.warmup ?? 2;
  const results: CaseResult[] = [];
  for (const c of await suite.cases(env)) {
    if (opts.filter && !c.name.includes(opts.filter)) continue;
    const r: CaseResult = {
      suite: suite.name, name: c.name, shape: c.shape, adapter, ours_ms: null, ours_min_ms: null, ours_max_ms: null,
      ours_timing: 'wall', ours_wall_ms: null, ort_webgpu_ms: null, ort_cpu_ms: null, ratio_vs_ort_webgpu: null,
      counters: {}, gbps: null, gflops: null, roofline_frac: null,
    };
    let plan: CasePlan | undefined;
    try {
      plan = opts.tune ? await tunedSetup(ctx, c, env, r, log) : await c.setup(env);
      const t = await timeOurs(ctx, plan, plan.reps ?? reps, plan.reps ? Math.min(warmup, 1) : warmup);
      const ms = median(t.times);
      Object.assign(r, {
        ours_ms: ms, ours_min_ms: Math.min(...t.times), ours_max_ms: Math.max(...t.times), ours_timing: t.timing,
        ours_wall_ms: t.wall, counters: t.counters,
      });
      if (plan.bytes) r.gbps = plan.bytes / (ms * 1e6);
      if (plan.flops) r.gflops = plan.flops / (ms * 1e6);
      if (plan.bytes) r.roofline_frac = plan.bytes / (roofline.copyGBps * 1e6) / ms;
      if (plan.ort && opts.ort !== false) {
        const budget = opts.ortTimeoutMs ?? (opts.size === 'tiny' ? 5_000 : 20_000);
        const g = await ortTime('webgpu', plan.ort, opts.ortReps ?? 2, budget);
        const cpu = await ortTime('cpu', plan.ort, Math.max(opts.ortReps ?? 2, 5), budget);
        r.ort_webgpu_ms = g.ms;
        r.ort_cpu_ms = cpu.ms;
        const chain = opts.ortChain && !plan.ort.noChain ? opts.ortChain : 0;
        if (chain && plan.records) {
          // Our side of the same like-for-like: the case's dispatches repeated 1 + R times in one pass.
          const once: number[] = [], rep: number[] = [];
          const many = Array.from({ length: 1 + chain }, () => plan!.records!).flat();
          for (let i = 0; i < 3; i++) {
            const a = await timePass(ctx, plan.records), b = await timePass(ctx, many);
            if (a !== null && b !== null) (once.push(a), rep.push(b));
          }
          if (once.length) r.ours_per_op_ms = Math.max(0, (median(rep) - median(once)) / chain);
        }
        let chainNote = opts.ortChain && plan.ort.noChain ? `not chained: ${plan.ort.noChain}` : undefined;
        if (chain && g.ms !== null) {
          const R = Math.max(chain, plan.ort.minChain ?? 0);
          const chained = repeatGraph(plan.ort.model, 1 + R);
          if (chained) {
            // The chain runs 1 + R copies a run: give it that many single runs' worth on top of the case budget
            // (lavapipe's DiT attention: 51 copies of 0.55 s do not fit 20 s).
            const reps = opts.ortReps ?? 2;
            const gc = await ortTime('webgpu', { ...plan.ort, model: chained }, reps, budget + (1 + R) * g.ms * (reps + 1));
            if (gc.ms === null) chainNote = `chain R=${R}: no time (${gc.note ?? 'no run finished'})`;
            else {
              // R extra copies must add more than one run's own spread, or the difference is noise: say so
              // rather than print a per-op cost of ~0.
              const spread = g.times && g.times.length > 1 ? Math.max(...g.times) - Math.min(...g.times) : 0;
              const added = gc.ms - g.ms;
              r.ort_webgpu_per_op_ms = added > spread ? added / R : null;
              chainNote = `chain R=${R}: +${added.toFixed(2)} ms over one run (its spread ${spread.toFixed(2)} ms)${added > spread ? '' : ', below the spread: no per-op estimate'}`;
            }
          }
        }
        let profileNote: string | undefined;
        if (opts.ortProfile && g.ms !== null) {
          const ort = await loadOrt();
          const p = await ortGpuTime(ort!, plan.ort.model, ortTensors(ort!, plan.ort.feeds), opts.ortReps ?? 2, budget);
          r.ort_webgpu_gpu_ms = p.ms;
          if (p.kernels !== undefined) r.ort_webgpu_kernels = p.kernels;
          if (p.ms !== null && r.ours_ms !== null && r.ours_timing === 'gpu-timestamp') r.ratio_gpu_vs_ort_webgpu = r.ours_ms / p.ms;
          profileNote = g.note?.includes('fell back') && p.ms !== null ? 'profile: GPU kernels only (some nodes ran on the CPU EP)' : p.note;
        }
        const notes = [plan.ort.note, g.note, cpu.note, chainNote, profileNote].filter(Boolean);
        if (notes.length) r.ort_note = notes.join('; ');
        if (g.ms !== null && r.ours_ms !== null) r.ratio_vs_ort_webgpu = r.ours_ms / g.ms;
      }
    } catch (e) {
      r.error = String((e as Error).message ?? e).split('\n')[0].slice(0, 200);
    } finally {
      plan?.dispose?.();
    }
    const perOpLog = r.ort_webgpu_per_op_ms != null ? ` (${fmt(r.ort_webgpu_per_op_ms * 1000)} µs per op chained; ours ${fmt(r.ours_per_op_ms == null ? null : r.ours_per_op_ms * 1000)})` : '';
    const gpuLog = r.ort_webgpu_gpu_ms != null ? ` (GPU ${fmt(r.ort_webgpu_gpu_ms * 1000)} µs in ${r.ort_webgpu_kernels} kernels)` : '';
    log(`[bench] ${r.name} ${r.shape}: ours ${fmt(r.ours_ms === null ? null : r.ours_ms * 1000)} µs (${r.ours_timing}), ORT webgpu ${fmt(r.ort_webgpu_ms === null ? null : r.ort_webgpu_ms * 1000)} µs${gpuLog}${perOpLog}, ORT cpu ${fmt(r.ort_cpu_ms === null ? null : r.ort_cpu_ms * 1000)} µs${r.error ? ` ERROR ${r.error}` : ''}`);
    results.push(r);
  }
  const out = { adapter: handle.info, adapter_label: adapter, suite: suite.name, size: opts.size, date: new Date().toISOString(), roofline, cases: results };
  const text = JSON.stringify(out, null, 1);
  if (opts.resultsFile !== false && !opts.filter) {
    mkdirSync(RESULTS_DIR, { recursive: true });
    writeFileSync(join(RESULTS_DIR, `${suite.name}.json`), text);
    writeGoals();
  }
  if (opts.json) {
    mkdirSync(dirname(opts.json), { recursive: true });
    writeFileSync(opts.json, text);
  }
  log('');
  log(markdownTable(adapter, results));
  ctx.dispose();
  return { adapter: handle.info, cases: results };
}

export const BENCH_USAGE = `usage: bench --suite <${'name'}> [--size tiny|full] [--json <file>] [--reps N] [--warmup N]
             [--filter <substring>] [--no-ort] [--ort-reps N] [--ort-timeout-ms T] [--ort-chain R] [--ort-profile] [--tune]
suites: ${Object.keys(SUITES).join(', ')}`;

/** Parses the runner's flags (shared by bench/run.ts and the CLI's `bench` command). */
export function parseBenchArgs(argv: string[]): RunOptions {
  const o: RunOptions = { suite: '', size: 'tiny' };
  const num = (k: string, v: string | undefined) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new Error(`${k} needs a number, got ${v}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[i + 1];
    switch (a) {
      case '--suite': o.suite = v; i++; break;
      case '--size':
        if (v !== 'tiny' && v !== 'full') throw new Error(`--size must be tiny or full, got ${v}`);
        o.size = v; i++; break;
      case '--json': o.json = v; i++; break;
      case '--reps': o.reps = num(a, v); i++; break;
      case '--warmup': o.warmup = num(a, v); i++; break;
      case '--filter': o.filter = v; i++; break;
      case '--no-ort': o.ort = false; break;
      case '--ort-reps': o.ortReps = num(a, v); i++; break;
      case '--ort-timeout-ms': o.ortTimeoutMs = num(a, v); i++; break;
      case '--ort-chain': o.ortChain = num(a, v); i++; break;
      case '--ort-profile': o.ortProfile = true; break;
      case '--tune': o.tune = true; break;
      default: throw new Error(`unknown argument ${a}`);
    }
  }
  if (!o.suite) throw new Error('--suite is required');
  if (!SUITES[o.suite]) throw new Error(`unknown suite "${o.suite}" (known: ${Object.keys(SUITES).join(', ')})`);
  return o;
}
