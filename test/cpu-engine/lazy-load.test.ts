/**
 * The CPU fallback built from a converted folder read lazily (loadModelFolder's default: weights stay in their
 * files and each matrix is read straight into the WebAssembly memory, through stackedRows / interleavedRows for the
 * fused q|k|v and gate/up) against the same folder read eagerly (every tensor in host memory first). The folder is
 * converted with every initializer in external data, so every weight takes the lazy path. Same engines, same
 * inputs: the outputs must be equal bit for bit, f32 and q8; and the lazy f32 engine passes the official fixtures.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convertModel } from '../../src/convert/index.js';
import type { ModelFiles } from '../../src/pipeline/model-files.js';
import { loadModelFolder } from '../../src/pipeline/node-model-files.js';
import { WasmEngine } from '../../src/pipeline/wasm-engine.js';
import { readManifest } from '../../src/ort/fixture.js';
import { verifyFixtures } from '../../src/ort/verify.js';
import { expectClose } from '../helpers/compare.js';
import { TINY_DIR, requireFixtures } from '../helpers/fixtures.js';
import { SeededRng } from '../helpers/rng.js';

let dir: string;
let lazy: ModelFiles, eager: ModelFiles;

beforeAll(async () => {
  requireFixtures();
  dir = mkdtempSync(join(tmpdir(), 'cv-lazy-'));
  await convertModel(TINY_DIR, join(dir, 'conv'), { externalThreshold: 0 });
  [lazy, eager] = [await loadModelFolder(join(dir, 'conv')), await loadModelFolder(join(dir, 'conv'), undefined, { lazy: false })];
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Every output an engine gives for the same seeded inputs: LLM prefill + decode logits, estimator, HiFT. */
async function outputs(e: WasmEngine, files: ModelFiles): Promise<Record<string, Float32Array>> {
  const H = files.config.llm.hidden, c = files.config.flow.dit, rng = new SeededRng(11);
  const s = await e.llmSession();
  const prefill = (await s.step(rng.f32(9 * H), 9)).logits;
  const decode = (await s.step(rng.f32(H), 1)).logits;
  s.dispose();
  const B = 2, T = 60;
  const estimator = await e.flowEstimator({
    x: rng.f32(B * c.melDim * T), mask: new Float32Array(B * T).fill(1), mu: rng.f32(B * c.muDim * T), t: Float32Array.of(0.4, 0.4),
    spks: rng.f32(B * c.spkDim), cond: rng.f32(B * c.melDim * T), batch: B, frames: T, streaming: false,
  });
  const frames = 12;
  const { speech } = await e.hift(rng.f32(80 * frames), frames, rng.f32(480 * frames * 9), true);
  return { prefill, decode, estimator, speech, text: await e.embedText([1, 5, 7]) };
}

describe('wasm engine from a lazily read converted folder', () => {
  it('every matrix record is file-backed (readInto), so the lazy path is the one under test', () => {
    const names = [...lazy.llm.keys(), ...lazy.flow.keys()].filter((n) => /(_proj|to_[qkv]|ff\.\d|linear)\.weight$/.test(n));
    expect(names.length).toBeGreaterThan(20);
    const notLazy = names.filter((n) => !(lazy.llm.get(n) ?? lazy.flow.get(n))!.readInto);
    expect(notLazy).toEqual([]);
    expect([...eager.llm.values()].some((r) => r.readInto)).toBe(false);
  });

  it.each([['f32'], ['q8']] as const)('%s: the same outputs bit for bit as from the eagerly read folder', async (dtype) => {
    const [a, b] = await Promise.all([WasmEngine.create(lazy, { dtype, threads: 2 }), WasmEngine.create(eager, { dtype, threads: 2 })]);
    const [x, y] = [await outputs(a, lazy), await outputs(b, eager)];
    for (const k of Object.keys(x)) expectClose(x[k], y[k], { atol: 0, rtol: 0, label: `${dtype} ${k}, lazy vs eager` });
    await Promise.all([a.dispose(), b.dispose()]);
  });

  it('f32, lazy: the official fixtures pass', async () => {
    const engine = await WasmEngine.create(lazy);
    const lines: string[] = [];
    const r = await verifyFixtures(engine, TINY_DIR, { print: (l) => lines.push(l) });
    await engine.dispose();
    const failures = lines.filter((l) => l.includes(' FAIL'));
    expect(failures, failures.join('\n')).toEqual([]);
    const expected = Object.values(readManifest(TINY_DIR).tests).reduce((a, t) => a + t.test_data_sets.reduce((b, s) => b + s.outputs.length, 0), 0);
    expect(r.passed).toBe(expected);
  });
});
