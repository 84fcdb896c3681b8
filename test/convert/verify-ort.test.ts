/**
 * Converts the tiny fixture folder and runs every manifest test on onnxruntime-node (cpu EP) through the same
 * runner as `verify --engine ort`. Tolerances (verify.ts toleranceFor): LLM logits/hidden rel-L2 ≤ 1e-4, tokens
 * and cache lengths exact, flow tensors rel-L2 ≤ 1e-4, HiFT/token2wav waveform rel-L2 ≤ 1e-3, f0 rel-L2 ≤ 1e-5.
 * Also checks our flow.onnx against the official flow.decoder.estimator.fp32.onnx on flow_estimator sets 0 and 2.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convertModel } from '../../src/convert/index.js';
import { OrtEngine } from '../../src/ort/ort-engine.js';
import { readManifest, readSet } from '../../src/ort/fixture.js';
import { compare, verifyFixtures } from '../../src/ort/verify.js';
import { TINY_DIR, requireFixtures } from '../helpers/fixtures.js';

let dir: string;
let out: string;

beforeAll(async () => {
  requireFixtures();
  dir = mkdtempSync(join(tmpdir(), 'cv-convert-'));
  out = join(dir, 'converted');
  await convertModel(TINY_DIR, out);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('verify --engine ort on the tiny fixtures', () => {
  // onnxruntime-web's WebAssembly backend (the CPU fallback's baseline in bench/engines.ts) on the same graphs.
  it.each([['onnxruntime-node, cpu EP', 'node'], ['onnxruntime-web, wasm backend', 'web']] as const)('%s: passes every compared tensor of every manifest test', async (_, runtime) => {
    const engine = await OrtEngine.create(out, { runtime });
    expect(engine.name).toBe(runtime === 'web' ? 'ort-web' : 'ort');
    const lines: string[] = [];
    const r = await verifyFixtures(engine, TINY_DIR, { print: (l) => lines.push(l) });
    await engine.dispose();
    const manifest = readManifest(TINY_DIR);
    const expected = Object.values(manifest.tests).reduce((a, t) => a + t.test_data_sets.reduce((b, s) => b + s.outputs.length, 0), 0);
    const failures = lines.filter((l) => l.endsWith('FAIL') || l.includes('FAIL ('));
    expect(failures, failures.join('\n')).toEqual([]);
    expect(r.passed).toBe(expected);
    expect(lines[lines.length - 1]).toBe(`${expected} passed, 0 failed`);
  });

  it('a wrong tolerance or output fails (the runner can fail)', () => {
    expect(compare([1, 2, 3], [1, 2, 3.1], { relL2: 1e-4 }).pass).toBe(false);
    expect(compare([1, 2], [1, 2, 3], { relL2: 1 }).pass).toBe(false);
    expect(compare([NaN], [0], { relL2: 1 }).pass).toBe(false);
    expect(compare([5], [5], { exact: true }).pass).toBe(true);
  });
});

describe('flow.onnx vs the official flow.decoder.estimator.fp32.onnx', () => {
  it('agrees on flow_estimator sets 0 and 2 (non-streaming)', async () => {
    const ours = await ort.InferenceSession.create(join(out, 'flow.onnx'), { executionProviders: ['cpu'], logSeverityLevel: 3 });
    const official = await ort.InferenceSession.create(join(TINY_DIR, 'flow.decoder.estimator.fp32.onnx'), { executionProviders: ['cpu'], logSeverityLevel: 3 });
    const m = readManifest(TINY_DIR);
    for (const set of [0, 2]) {
      const fx = readSet(TINY_DIR, m.tests.flow_estimator.test_data_sets[set]);
      const feeds: Record<string, ort.Tensor> = {};
      for (const [n, t] of fx.inputs) feeds[n] = new ort.Tensor('float32', t.data as Float32Array, t.dims);
      const a = (await ours.run({ ...feeds, streaming: new ort.Tensor('bool', Uint8Array.of(0), [1]) })).estimator_out.data as Float32Array;
      const b = (await official.run(feeds)).estimator_out.data as Float32Array;
      const ref = fx.outputs.get('estimator_out')!.data as Float32Array;
      const vsOfficial = compare(a, b, { relL2: 1e-5 });
      const officialVsRef = compare(b, ref, { relL2: 1e-5 });
      expect(vsOfficial.pass, `set ${set}: ours vs official rel_l2 ${vsOfficial.relL2}`).toBe(true);
      expect(officialVsRef.pass, `set ${set}: official vs fixture rel_l2 ${officialVsRef.relL2}`).toBe(true);
    }
    await ours.release();
    await official.release();
  });
});
