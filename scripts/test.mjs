// Runs the vitest suite and ends with the plain summary line `N passed, M failed` that CI reads.
// Extra arguments go to vitest (e.g. `npm test -- test/gpu`).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

mkdirSync('test-artifacts', { recursive: true });
const out = join('test-artifacts', 'vitest.json');
const r = spawnSync(
  process.execPath,
  ['node_modules/vitest/vitest.mjs', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${out}`, ...process.argv.slice(2)],
  { stdio: 'inherit' },
);
let passed = 0, failed = 0;
if (existsSync(out)) {
  const j = JSON.parse(readFileSync(out, 'utf8'));
  passed = j.numPassedTests ?? 0;
  failed = j.numFailedTests ?? 0;
  // A file that failed to load (import or syntax error) has no test results of its own: count it once.
  for (const f of j.testResults ?? []) if (f.status === 'failed' && !(f.assertionResults ?? []).length) failed++;
}
if (r.status !== 0 && failed === 0) failed = 1; // a crash or a failed file without tests still fails
console.log(`${passed} passed, ${failed} failed`);
process.exit(r.status ?? 1);
