/**
 * The tuner: for each decision a model's plan took from defaults (TunePoints, src/gpu/tuning.ts), build the op
 * with every candidate on the model's own buffers, check each candidate's output against the default's, time
 * the ones that agree (GPU timestamps around `reps` back-to-back copies in one pass, as a plan runs them; the best
 * of `rounds`), and keep the fastest in the table. The buffers an op writes are saved first and restored after every trial, so in-place ops (residual
 * epilogues) see the same inputs each time and the model's state is left as it was.
 */
import type { GpuContext } from '../gpu/context.js';
import type { DispatchRecord } from '../gpu/dispatch.js';
import type { GpuTensor } from '../gpu/tensor.js';
import { TuningTable, type TunePoint, type TuneTrial } from '../gpu/tuning.js';
import { maxRelDiff, onePassUs } from './measure.js';

export interface TuneOptions {
  /** Copies of the op in each timed pass (default 10). */
  reps?: number;
  /** Rounds over all candidates, the best time kept (default 2: a slow spell of a card lands on every form). */
  rounds?: number;
  /** Largest maxRelDiff from the default's output a candidate may have (default 1e-3). */
  tolerance?: number;
  /** Only the first n candidates of each decision, the default among them (a quick pass; each new one compiles a pipeline). */
  maxCandidates?: number;
  log?: (line: string) => void;
}

/** One tuned decision: the default's and the winner's GPU µs. */
export interface TuneReport {
  key: string;
  tag: string;
  defaultName: string;
  defaultUs: number | null;
  bestName: string;
  bestUs: number;
  tried: TuneTrial[];
}

/** Runs `build` with the context collecting the tunable decisions it takes; returns its value and them. */
export async function collectTunePoints<T>(ctx: GpuContext, build: () => T | Promise<T>): Promise<{ value: T; points: TunePoint[] }> {
  const outer = ctx.tunePoints;
  const points: TunePoint[] = [];
  ctx.tunePoints = points;
  try {
    return { value: await build(), points };
  } finally {
    ctx.tunePoints = outer;
  }
}

/** Copies of `ts`' bytes, and a function that writes them back. */
function snapshot(ctx: GpuContext, ts: readonly GpuTensor[]): { restore: () => void; dispose: () => void } {
  const copies = ts.map((t) => ctx.createBuffer(t.byteLength, 0x04 | 0x08, 'tune.save'));
  const copy = (toSaved: boolean) => {
    ctx.run([], (enc) =>
      ts.forEach((t, i) => {
        const n = Math.ceil(t.byteLength / 4) * 4;
        if (toSaved) enc.copyBufferToBuffer(t.buffer, t.offset, copies[i], 0, n);
        else enc.copyBufferToBuffer(copies[i], 0, t.buffer, t.offset, n);
      }),
    );
  };
  copy(true);
  return { restore: () => copy(false), dispose: () => copies.forEach((b) => b.destroy()) };
}

/**
 * Tunes every distinct decision of `points` (the first point of each key stands for the rest) into `table`.
 * Decisions already in the table are measured again.
 */
export async function tunePoints(ctx: GpuContext, points: readonly TunePoint[], table: TuningTable, o: TuneOptions = {}): Promise<TuneReport[]> {
  const reps = o.reps ?? 10, rounds = o.rounds ?? 2, tol = o.tolerance ?? 1e-3;
  const seen = new Set<string>();
  const reports: TuneReport[] = [];
  const saved = { points: ctx.tunePoints, tuning: ctx.tuning };
  ctx.tunePoints = null; // builds below force their choice; nothing to collect or look up
  ctx.tuning = null;
  try {
    for (const p of points) {
      const key = TuningTable.key(p.family, p.shape);
      if (seen.has(key)) continue;
      seen.add(key);
      const r = await tuneOne(ctx, { ...p, candidates: p.candidates.slice(0, o.maxCandidates ?? Infinity) }, key, reps, rounds, tol);
      if (!r) {
        o.log?.(`${key} (${p.tag}): no candidate ran`);
        continue;
      }
      table.set(p.family, p.shape, { choice: p.candidates.find((c) => c.name === r.bestName)!.choice, us: r.bestUs, tried: r.tried });
      reports.push(r);
      const gain = r.defaultUs ? ` (default ${r.defaultName} ${r.defaultUs.toFixed(1)} µs, ${(r.defaultUs / r.bestUs).toFixed(2)}×)` : '';
      o.log?.(`${key} (${p.tag}): ${r.bestName} ${r.bestUs.toFixed(1)} µs${gain}`);
    }
  } finally {
    ctx.tunePoints = saved.points;
    ctx.tuning = saved.tuning;
  }
  return reports;
}

async function tuneOne(ctx: GpuContext, p: TunePoint, key: string, reps: number, rounds: number, tol: number): Promise<TuneReport | null> {
  const snap = snapshot(ctx, p.writes);
  const trials: (TuneTrial & { recs?: DispatchRecord[] })[] = [];
  let ref: Float32Array | undefined;
  try {
    for (const c of p.candidates) {
      const t: TuneTrial & { recs?: DispatchRecord[] } = { name: c.name, us: null };
      trials.push(t);
      try {
        t.recs = p.build(c.choice);
        snap.restore();
        ctx.run(t.recs);
        const got = await ctx.readF32(p.out);
        ref ??= got;
        const err = maxRelDiff(got, ref);
        if (err > tol) {
          t.note = `output differs from ${trials.find((x) => x.recs && !x.note)?.name ?? 'the reference'} by ${err.toExponential(1)}`;
          t.recs = undefined;
        }
      } catch (e) {
        t.note = (e as Error).message.slice(0, 200);
        t.recs = undefined;
      }
    }
    for (let round = 0; round < rounds; round++) {
      for (const t of trials) {
        if (!t.recs) continue;
        const us = await onePassUs(ctx, t.recs, reps);
        t.us = t.us === null ? us : Math.min(t.us, us);
      }
    }
  } finally {
    snap.restore();
    await ctx.finish();
    snap.dispose();
  }
  const ok = trials.filter((t) => t.us !== null);
  if (!ok.length) return null;
  const best = ok.reduce((a, b) => (b.us! < a.us! ? b : a));
  const tried = trials.map(({ name, us, note }) => (note ? { name, us, note } : { name, us }));
  return { key, tag: p.tag, defaultName: trials[0].name, defaultUs: trials[0].us, bestName: best.name, bestUs: best.us!, tried };
}
