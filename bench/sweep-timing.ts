/**
 * What the sweep scripts (bench/sweep-*.ts) share: the GPU time of a dispatch list, in µs, as the median over
 * `reps` runs after one warm-up run (which also compiles the pipelines). Each run times every dispatch in its own
 * timestamped pass (src/gpu/timing.ts profileDispatches) and adds them up, so each dispatch carries one pass's
 * empty-dispatch floor: compare forms within a sweep, and per-op costs with the kernel suites' --ort-chain.
 */
import type { GpuContext } from '../src/gpu/context.js';
import type { DispatchRecord } from '../src/gpu/dispatch.js';
import { profileDispatches } from '../src/gpu/timing.js';
import { median } from './harness.js';

export async function gpuMedianUs(ctx: GpuContext, recs: DispatchRecord[], reps = 5): Promise<number> {
  if (!ctx.hasTimestamps) throw new Error('the adapter has no timestamp-query');
  await profileDispatches(ctx, recs);
  const t: number[] = [];
  for (let i = 0; i < reps; i++) t.push((await profileDispatches(ctx, recs))!.reduce((s, r) => s + r.ms, 0));
  return median(t) * 1000;
}
