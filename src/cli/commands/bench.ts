/** `cosyvoice-webgpu bench --suite <name> [--size tiny|full] [--json <file>] …`: the benchmark runner (bench/harness.ts). */
import { BENCH_USAGE, parseBenchArgs, runSuite } from '../../../bench/harness.js';

export async function benchCommand(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(BENCH_USAGE);
    return 0;
  }
  let opts;
  try {
    opts = parseBenchArgs(argv);
  } catch (e) {
    console.error(`bench: ${(e as Error).message}\n${BENCH_USAGE}`);
    return 2;
  }
  const { cases } = await runSuite(opts);
  return cases.some((c) => c.error) ? 1 : 0;
}
