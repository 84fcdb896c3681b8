/**
 * Timing and comparison of dispatch lists, shared by the tuner and the sweep scripts (bench/sweep-*.ts).
 */
import type { GpuContext } from '../gpu/context.js';
import type { DispatchRecord } from '../gpu/dispatch.js';
import { profileDispatches, timePass } from '../gpu/timing.js';

export function median(a: readonly number[]): number {
  const s = [...a].sort((x, y) => x - y);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/** max_i |a_i − b_i| / (1 + |b_i|): how far a form's output is from the reference form's (same sums, other order). NaN counts as infinitely far. */
export function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let err = 0;
  for (let i = 0; i < a.length; i++) {
    const e = Math.abs(a[i] - b[i]) / (1 + Math.abs(b[i]));
    if (!(e <= err)) err = Number.isNaN(e) ? Infinity : e;
  }
  return err;
}

/**
 * GPU µs of a dispatch list as the median of the last half of `reps` back-to-back runs in one submit (each
 * dispatch in its own timestamped pass). One submit keeps the GPU busy: on the H200 separate submits with
 * readbacks between them let the card idle, and a sweep's times swung up to ~3.5× with its state. Without
 * `timestamp-query`: wall time of the `reps` runs in one submit, divided by reps.
 */
export async function gpuBurstUs(ctx: GpuContext, recs: readonly DispatchRecord[], reps = 10): Promise<number> {
  if (!ctx.hasTimestamps) {
    ctx.run(recs);
    await ctx.finish();
    const t0 = performance.now();
    ctx.run(Array.from({ length: reps }, () => recs).flat());
    await ctx.finish();
    return ((performance.now() - t0) * 1000) / reps;
  }
  await profileDispatches(ctx, recs);
  const all = (await profileDispatches(ctx, Array.from({ length: reps }, () => recs).flat()))!;
  const t: number[] = [];
  for (let i = 0; i < reps; i++) t.push(all.slice(i * recs.length, (i + 1) * recs.length).reduce((s, r) => s + r.ms, 0));
  return median(t.slice(reps >> 1)) * 1000;
}

/**
 * GPU µs of one run of a dispatch list as a model's plan pays it: `reps` copies back to back in one compute pass
 * (one timestamp pair), divided by reps, the median of 3 such passes after a warm-up. A plan runs in one pass, so
 * this counts each dispatch's barrier but no pass of its own: a two-dispatch form is not charged a second pass's
 * floor against a one-dispatch form. Without `timestamp-query`: wall time, as gpuBurstUs.
 */
export async function onePassUs(ctx: GpuContext, recs: readonly DispatchRecord[], reps = 10): Promise<number> {
  if (!ctx.hasTimestamps) return gpuBurstUs(ctx, recs, reps);
  const many = Array.from({ length: reps }, () => recs).flat();
  await timePass(ctx, recs);
  const t: number[] = [];
  for (let i = 0; i < 3; i++) t.push((await timePass(ctx, many))!);
  return (median(t) * 1000) / reps;
}
