/**
 * --tune in the model suites (llm.ts, flow.ts): runs a model tuner (src/tune/models.ts) into a fresh table, prints
 * its lines, and leaves the table on the context so that the model built next takes its choices (the caller
 * clears ctx.tuning after building). Returns what to record in the suite's results.
 */
import type { GpuContext } from '../../src/gpu/context.js';
import { TuningTable, useTuning } from '../../src/gpu/tuning.js';
import type { TuneReport } from '../../src/tune/tuner.js';

export async function tuneFor(ctx: GpuContext, tune: (table: TuningTable, log: (l: string) => void) => Promise<TuneReport[]>) {
  const table = TuningTable.forContext(ctx);
  const reports = await tune(table, (l) => console.log(`[tune] ${l}`));
  useTuning(ctx, table);
  return tuneSummary(reports);
}

/** What a result file records of tuned decisions: each key with the default's and the chosen candidate's GPU µs. */
export function tuneSummary(reports: readonly TuneReport[]) {
  return reports.map((r) => ({ key: r.key, default: r.defaultName, default_us: r.defaultUs, chosen: r.bestName, chosen_us: r.bestUs }));
}
