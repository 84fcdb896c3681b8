/**
 * What the sweep scripts (bench/sweep-*.ts) share: the GPU time of a dispatch list, in µs, as the median over
 * `reps` runs after one warm-up run (which also compiles the pipelines). Each run times every dispatch in its own
 * timestamped pass (src/gpu/timing.ts profileDispatches) and adds them up, so each dispatch carries one pass's
 * empty-dispatch floor: compare forms within a sweep, and per-op costs with the kernel suites' --ort-chain. Also
 * the distance between two forms' outputs (maxRelDiff), which every sweep checks.
 */
import type { GpuContext } from '../src/gpu/context.js';
import type { DispatchRecord } from '../src/gpu/dispatch.js';
import { profileDispatches } from '../src/gpu/timing.js';
import { median } from './harness.js';

/** max_i |a_i − b_i| / (1 + |b_i|): how far a form's output is from the reference form's (same sums, other order). */
export function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let err = 0;
  for (let i = 0; i < a.length; i++) err = Math.max(err, Math.abs(a[i] - b[i]) / (1 + Math.abs(b[i])));
  return err;
}

export async function gpuMedianUs(ctx: GpuContext, recs: DispatchRecord[], reps = 5): Promise<number> {
  if (!ctx.hasTimestamps) throw new Error('the adapter has no timestamp-query');
  await profileDispatches(ctx, recs);
  const t: number[] = [];
  for (let i = 0; i < reps; i++) t.push((await profileDispatches(ctx, recs))!.reduce((s, r) => s + r.ms, 0));
  return median(t) * 1000;
}

/**
 * GPU µs of a dispatch list as the median of the last half of `reps` back-to-back runs in one submit (each
 * dispatch in its own timestamped pass, as gpuMedianUs). One submit keeps the GPU busy: on the H200 separate
 * submits with readbacks between them let the card idle, and a sweep's times swung up to ~3.5× with its state.
 */
export async function gpuBurstUs(ctx: GpuContext, recs: DispatchRecord[], reps = 10): Promise<number> {
  if (!ctx.hasTimestamps) throw new Error('the adapter has no timestamp-query');
  await profileDispatches(ctx, recs);
  const all = (await profileDispatches(ctx, Array.from({ length: reps }, () => recs).flat()))!;
  const t: number[] = [];
  for (let i = 0; i < reps; i++) t.push(all.slice(i * recs.length, (i + 1) * recs.length).reduce((s, r) => s + r.ms, 0));
  return median(t.slice(reps >> 1)) * 1000;
}

/**
 * A sweep line: every form (a maker of the dispatch list that writes the output `read` returns) timed with
 * gpuBurstUs over `rounds` rounds through all forms (the best kept, so a slow spell of a card does not land on one
 * form only), each form's output checked against the first form's (MISMATCH past 1e-4, maxRelDiff) in round one,
 * and errors printed per form. `flops` adds TF/s.
 */
export async function sweepForms(
  ctx: GpuContext,
  forms: readonly (readonly [string, () => DispatchRecord[]])[],
  read: () => Promise<Float32Array>,
  o: { rounds?: number; flops?: number } = {},
): Promise<string> {
  const best = new Array<number>(forms.length).fill(Infinity);
  const note: string[] = new Array(forms.length).fill('');
  let ref: Float32Array | undefined;
  for (let round = 0; round < (o.rounds ?? 1); round++) {
    for (let i = 0; i < forms.length; i++) {
      if (note[i].startsWith(' ERR')) continue;
      try {
        best[i] = Math.min(best[i], await gpuBurstUs(ctx, forms[i][1]()));
        if (round > 0) continue;
        const got = await read();
        ref ??= got;
        const err = maxRelDiff(got, ref);
        if (err > 1e-4) note[i] = ` MISMATCH ${err.toExponential(1)}`;
      } catch (e) {
        note[i] = ` ERR ${(e as Error).message.slice(0, 100)}`;
      }
    }
  }
  const rate = (us: number) => (o.flops ? ` (${(o.flops / us / 1e6).toFixed(1)} TF/s)` : '');
  return forms.map(([name], i) => (note[i].startsWith(' ERR') ? `${name}:${note[i]}` : `${name}: ${best[i].toFixed(1)}${rate(best[i])}${note[i]}`)).join(' | ');
}
