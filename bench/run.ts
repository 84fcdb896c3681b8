/**
 * Benchmark entry point: `npx tsx bench/run.ts --suite <name> [--size tiny|full] [--json <file>] …`
 * (flags in bench/harness.ts BENCH_USAGE). Timings are printed and written to bench/results/<suite>.json,
 * never asserted.
 */
import { BENCH_USAGE, parseBenchArgs, runSuite } from './harness.js';

async function main(argv: string[]): Promise<number> {
  let opts;
  try {
    opts = parseBenchArgs(argv);
  } catch (e) {
    console.error(`${(e as Error).message}\n${BENCH_USAGE}`);
    return 2;
  }
  const { cases } = await runSuite(opts);
  return cases.some((c) => c.error) ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2));
