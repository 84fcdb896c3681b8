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
import { gpuBurstUs, maxRelDiff, median } from '../src/tune/measure.js';

// The burst timing and the output distance live with the tuner (src/tune/measure.ts), which times forms the same way.
export { gpuBurstUs, maxRelDiff };

export async function gpuMedianUs(ctx: GpuContext, recs: DispatchRecord[], reps = 5): Promise<number> {
  if (!ctx.hasTimestamps) throw new Error('the adapter has no timestamp-query');
  await profileDispatches(ctx, recs);
  const t: number[] = [];
  for (let i = 0; i < reps; i++) t.push((await profileDispatches(ctx, recs))!.reduce((s, r) => s + r.ms, 0));
  return median(t) * 1000;
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
