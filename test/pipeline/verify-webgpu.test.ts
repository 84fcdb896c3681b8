/**
 * `verify --engine webgpu`: every manifest tensor of the official tiny fixtures, produced by our WebGPU kernels
 * (LLM teacher-forced / incremental / greedy / RAS, DiT estimator, whole flow solves, HiFT, token2wav offline and
 * streaming), within the verify tolerances (LLM logits rel-L2 ≤ 1e-4 and identical tokens; flow ≤ 1e-4; HiFT
 * waveform ≤ 1e-3, f0 ≤ 1e-5).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convertModel } from '../../src/convert/index.js';
import { readManifest } from '../../src/ort/fixture.js';
import { verifyFixtures } from '../../src/ort/verify.js';
import { WebGpuEngine } from '../../src/pipeline/webgpu-engine.js';
import { TINY_DIR, requireFixtures } from '../helpers/fixtures.js';

let dir: string;
beforeAll(async () => {
  requireFixtures();
  dir = mkdtempSync(join(tmpdir(), 'cv-verify-gpu-'));
  await convertModel(TINY_DIR, join(dir, 'converted'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('verify --engine webgpu on the tiny official fixtures', () => {
  it('every manifest tensor passes', async () => {
    const engine = await WebGpuEngine.create(join(dir, 'converted'));
    const lines: string[] = [];
    const r = await verifyFixtures(engine, TINY_DIR, { print: (l) => lines.push(l) });
    await engine.dispose();
    console.log(lines.join('\n'));
    const manifest = readManifest(TINY_DIR);
    const expected = Object.values(manifest.tests).reduce((a, t) => a + t.test_data_sets.reduce((b, s) => b + s.outputs.length, 0), 0);
    const failures = lines.filter((l) => l.includes(' FAIL'));
    expect(failures, failures.join('\n')).toEqual([]);
    expect(r.passed).toBe(expected);
  });
});
