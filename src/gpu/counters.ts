/**
 * Work counters: every benchmark prints them, and model tests assert on them (e.g. "one submit and one readback
 * per decode step, no buffer or bind group created in steady state").
 */
export interface Counters {
  dispatches: number;
  passes: number;
  submits: number;
  readbacks: number;
  buffersCreated: number;
  bindGroupsCreated: number;
  pipelinesCreated: number;
  bytesWritten: number;
  bytesRead: number;
}

export function zeroCounters(): Counters {
  return {
    dispatches: 0,
    passes: 0,
    submits: 0,
    readbacks: 0,
    buffersCreated: 0,
    bindGroupsCreated: 0,
    pipelinesCreated: 0,
    bytesWritten: 0,
    bytesRead: 0,
  };
}

/** b − a, field by field: the work done between two snapshots. */
export function diffCounters(a: Counters, b: Counters): Counters {
  const out = zeroCounters();
  for (const k of Object.keys(out) as (keyof Counters)[]) out[k] = b[k] - a[k];
  return out;
}
