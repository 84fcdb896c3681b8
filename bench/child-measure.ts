/**
 * Load benchmarks measure each run in a fresh child process so one run's heap never pollutes the next:
 * `measureInChild` times `work` while sampling peak RSS and ArrayBuffer growth over the process baseline every
 * 2 ms (plus getrusage's lifetime max RSS, which catches native threads the JS sampler may miss) and prints one
 * `RESULT {json}` line; `runChild` re-runs this script with `--child <kind> <path>` and parses that line.
 */
import { spawnSync } from 'node:child_process';

export interface MemoryResult {
  ms: number;
  peakRssMB: number;
  peakArrayBuffersMB: number;
}

export async function measureInChild(work: () => Promise<Record<string, number> | void>): Promise<void> {
  const mb = (b: number) => b / 2 ** 20;
  const base = process.memoryUsage();
  let peakRss = base.rss;
  let peakAB = base.arrayBuffers;
  const sample = () => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakAB = Math.max(peakAB, m.arrayBuffers);
  };
  const timer = setInterval(sample, 2);
  const t0 = performance.now();
  const extra = (await work()) ?? {};
  const ms = performance.now() - t0;
  sample();
  clearInterval(timer);
  const maxRss = process.resourceUsage().maxRSS * 1024;
  const r = { ms, peakRssMB: mb(Math.max(peakRss, maxRss) - base.rss), peakArrayBuffersMB: mb(peakAB - base.arrayBuffers), ...extra };
  process.stdout.write(`RESULT ${JSON.stringify(r)}\n`);
}

export function runChild<T extends MemoryResult>(script: string, kind: string, path: string): T {
  const r = spawnSync(process.execPath, ['--import', 'tsx', script, '--child', kind, path], { encoding: 'utf8', maxBuffer: 1 << 24 });
  const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`child ${kind} failed (${r.status}): ${r.stderr}`);
  return JSON.parse(line.slice(7)) as T;
}
