/** The tiny official fixtures through `verify` on the WASM engine, for some test kinds (the folder is loaded as is). */
import { expect } from 'vitest';
import { loadModelFolder } from '../../src/pipeline/node-model-files.js';
import { readManifest } from '../../src/ort/fixture.js';
import { verifyFixtures } from '../../src/ort/verify.js';
import { WasmEngine } from '../../src/pipeline/wasm-engine.js';
import { TINY_DIR, requireFixtures } from '../helpers/fixtures.js';

export async function verifyKinds(only?: string[]): Promise<string[]> {
  requireFixtures();
  const engine = await WasmEngine.create(await loadModelFolder(TINY_DIR));
  const lines: string[] = [];
  const r = await verifyFixtures(engine, TINY_DIR, { only, print: (l) => lines.push(l) });
  await engine.dispose();
  console.log(lines.join('\n'));
  const manifest = readManifest(TINY_DIR);
  const expected = Object.entries(manifest.tests)
    .filter(([k]) => !only || only.includes(k))
    .reduce((a, [, t]) => a + t.test_data_sets.reduce((b, s) => b + s.outputs.length, 0), 0);
  const failures = lines.filter((l) => l.includes(' FAIL'));
  expect(failures, failures.join('\n')).toEqual([]);
  expect(r.passed).toBe(expected);
  return lines;
}
