/**
 * ORT WebGPU's own GPU time for a graph, from its profiler: with `enableProfiling`, onnxruntime's WebGPU EP writes
 * timestamp queries around every kernel it dispatches and puts each kernel's GPU duration (µs) in the profile as
 * an `Api` event (the `Node` events are host-side launch times). Summed per run, that is the GPU time of ORT's
 * whole kernel sequence, free of the per-run host copies and CPU overhead that make its wall time (and the
 * difference of two wall times, --ort-chain) noisy: the like-for-like of our GPU-timestamped `ours_ms`.
 * Each kernel is timed on its own, as profileDispatches times ours, so both sides carry a per-dispatch floor.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median } from './stats.js';

type OrtModule = typeof import('onnxruntime-node');

export interface OrtGpuTime {
  /** Median over runs of the summed kernel GPU time of one run, ms; null when the profile had none. */
  ms: number | null;
  /** Kernels ORT dispatched per run. */
  kernels?: number;
  times?: number[];
  note?: string;
}

interface TraceEvent {
  cat: string;
  name: string;
  ts: number;
  dur: number;
}

/** Splits the `Api` (GPU kernel) events of `runs` identical runs, in time order, into per-run sums (ms). */
export function kernelTimesPerRun(events: TraceEvent[], runs: number): { perRun: number[]; kernels: number } | null {
  const api = events.filter((e) => e.cat === 'Api').sort((a, b) => a.ts - b.ts);
  if (!api.length || api.length % runs !== 0) return null;
  const kernels = api.length / runs;
  const perRun: number[] = [];
  for (let r = 0; r < runs; r++) perRun.push(api.slice(r * kernels, (r + 1) * kernels).reduce((s, e) => s + e.dur, 0) / 1000);
  return { perRun, kernels };
}

export async function ortGpuTime(
  ort: OrtModule,
  model: Uint8Array,
  feeds: Record<string, unknown>,
  reps: number,
  budgetMs: number,
): Promise<OrtGpuTime> {
  const dir = mkdtempSync(join(tmpdir(), 'ort-profile-'));
  let sess: Awaited<ReturnType<OrtModule['InferenceSession']['create']>> | undefined;
  try {
    sess = await ort.InferenceSession.create(model, {
      executionProviders: ['webgpu'], graphOptimizationLevel: 'all', enableProfiling: true, profileFilePrefix: join(dir, 'ort'),
    });
    // One warm-up run, then up to `reps` within the budget; every run is profiled, the warm-up's sum is dropped.
    let runs = 0;
    const t0 = performance.now();
    do {
      await sess.run(feeds as never);
      runs++;
    } while (runs < reps + 1 && performance.now() - t0 < budgetMs);
    sess.endProfiling();
    const file = readdirSync(dir).find((f) => f.endsWith('.json'));
    if (!file) return { ms: null, note: 'ORT wrote no profile' };
    const split = kernelTimesPerRun(JSON.parse(readFileSync(join(dir, file), 'utf8')) as TraceEvent[], runs);
    if (!split) return { ms: null, note: `ORT profile: no GPU kernel events in equal groups over ${runs} runs (timestamp queries unsupported, or a CPU fallback)` };
    const times = runs > 1 ? split.perRun.slice(1) : split.perRun;
    return { ms: median(times), kernels: split.kernels, times };
  } catch (e) {
    return { ms: null, note: `ORT profile: ${String((e as Error).message ?? e).split('\n')[0].slice(0, 160)}` };
  } finally {
    await sess?.release();
    rmSync(dir, { recursive: true, force: true });
  }
}
