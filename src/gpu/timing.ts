/**
 * GPU time per labelled dispatch from `timestamp-query`: each record gets its own pass with timestampWrites
 * (profiling changes the pass count, so never profile and count in the same run). Without the feature, falls
 * back to wall time around onSubmittedWorkDone for the whole list.
 */
import type { GpuContext } from './context.js';
import type { DispatchRecord } from './dispatch.js';

export interface DispatchTiming {
  label: string;
  ms: number;
}

export async function profileDispatches(ctx: GpuContext, records: readonly DispatchRecord[]): Promise<DispatchTiming[] | null> {
  if (!ctx.hasTimestamps || records.length === 0) return null;
  const ms = await timedPasses(ctx, records.map((r) => [r]));
  return records.map((r, i) => ({ label: r.label, ms: ms[i] }));
}

/**
 * GPU ms of `records` run back to back in one compute pass (timestamps at the pass's start and end), as the
 * models run them; null without `timestamp-query`. Used for a marginal cost per dispatch: time the list repeated
 * 1 + R times against once.
 */
export async function timePass(ctx: GpuContext, records: readonly DispatchRecord[]): Promise<number | null> {
  if (!ctx.hasTimestamps || records.length === 0) return null;
  return (await timedPasses(ctx, [records]))[0];
}

/** Encodes one compute pass per list, timestamped at its start and end, runs them in one submit: ms per pass. */
async function timedPasses(ctx: GpuContext, passes: readonly (readonly DispatchRecord[])[]): Promise<number[]> {
  const dev = ctx.device;
  const n = passes.length;
  const qs = dev.createQuerySet({ type: 'timestamp', count: 2 * n });
  const resolve = ctx.createBuffer(16 * n, 0x200 | 0x04 /* QUERY_RESOLVE | COPY_SRC */, 'timestamps');
  const enc = dev.createCommandEncoder();
  passes.forEach((records, i) => {
    const pass = enc.beginComputePass({
      timestampWrites: { querySet: qs, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 },
    });
    for (const r of records) {
      pass.setPipeline(ctx.pipelineOf(r));
      pass.setBindGroup(0, r.bindGroup);
      pass.dispatchWorkgroups(r.workgroups[0], r.workgroups[1], r.workgroups[2]);
    }
    pass.end();
  });
  enc.resolveQuerySet(qs, 0, 2 * n, resolve, 0);
  dev.queue.submit([enc.finish()]);
  const ticks = new BigInt64Array(await ctx.readBytes(resolve, 0, 16 * n));
  qs.destroy();
  resolve.destroy();
  return passes.map((_, i) => Number(ticks[2 * i + 1] - ticks[2 * i]) / 1e6);
}

/** Wall-clock ms of encoding + running `records` once, waiting for completion. */
export async function wallTimeMs(ctx: GpuContext, records: readonly DispatchRecord[]): Promise<number> {
  const t0 = performance.now();
  ctx.run(records);
  await ctx.finish();
  return performance.now() - t0;
}

/** Sums timings by label prefix (the part before the first '/'), largest first. */
export function summariseTimings(t: DispatchTiming[]): { label: string; ms: number; count: number }[] {
  const m = new Map<string, { ms: number; count: number }>();
  for (const { label, ms } of t) {
    const k = label.includes('/') ? label.slice(label.indexOf('/') + 1) : label;
    const e = m.get(k) ?? { ms: 0, count: 0 };
    e.ms += ms;
    e.count++;
    m.set(k, e);
  }
  return [...m.entries()].map(([label, v]) => ({ label, ...v })).sort((a, b) => b.ms - a.ms);
}
