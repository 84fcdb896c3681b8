/**
 * CausalHiFTGenerator.inference against the official fixtures (tiny-cosyvoice3/tests/hift_inference):
 * set 0 finalize=True, set 1 finalize=False. Inputs: mel, rand_ini (inert), the SineGen2 uniform table, the
 * (unused) source-noise table. Outputs: speech, harmonic source, f0 (float64).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { HiftConfig } from '../../src/models/hift/config.js';
import { HiftGenerator } from '../../src/models/hift/forward.js';
import type { HiftWeights } from '../../src/models/hift/weights.js';
import { expectClose } from '../helpers/compare.js';
import { loadTinyHift, readFixtureSet } from '../helpers/fixtures.js';
import { testContext } from '../helpers/gpu.js';

let cfg: HiftConfig;
let weights: HiftWeights;

beforeAll(async () => {
  ({ cfg, weights } = await loadTinyHift());
});

describe('hift_inference fixtures', () => {
  // The adapter's default F0 backend, and the GPU's emulated f64 forced (so that it runs on lavapipe too).
  it.each([
    [0, true, 'default'],
    [1, false, 'default'],
    [0, true, 'gpu'],
    [1, false, 'gpu'],
  ] as const)('set %i (finalize=%s), F0 %s: speech rel-L2 ≤ 1e-3, source, f0 ≤ 1e-5 relative', { timeout: 300_000 }, async (set, finalize, backend) => {
    const ctx = await testContext();
    const fx = readFixtureSet('hift_inference', set);
    const [mel, , sineNoise] = fx.inputs;
    const [speech, source, f0] = fx.outputs;
    const T = mel.dims[2];
    const hift = new HiftGenerator(ctx, cfg, weights, { maxFrames: T, noise: sineNoise.raw as Float32Array, ...(backend === 'gpu' ? { f0Backend: 'gpu' as const } : {}) });
    const out = await hift.inference(mel.raw as Float32Array, T, finalize, { source: true });
    const f0r = expectClose(out.f0, f0.data, { rtol: 1e-5, atol: 0, label: `set ${set} f0` });
    const sr = expectClose(out.source!, source.data, { relL2: 1e-4, label: `set ${set} source` });
    expect(out.speech.length).toBe(speech.data.length);
    const wr = expectClose(out.speech, speech.data, { relL2: 1e-3, label: `set ${set} speech` });
    let maxRel = 0;
    for (let i = 0; i < f0.data.length; i++) maxRel = Math.max(maxRel, Math.abs(out.f0[i] - f0.data[i]) / Math.abs(f0.data[i]));
    // The default F0 backend follows the adapter: the GPU's emulated f64 on GPUs, WASM f64 on CPU adapters
    // (test/hift/f0-gpu.test.ts covers 'gpu' on every adapter). The CPU f64 backends: the WASM module (built by
    // npm run build:wasm) and plain TypeScript, which agree to summation order.
    expect(await hift.f0BackendInUse()).toBe(backend === 'gpu' || !ctx.isCpuAdapter ? 'gpu' : 'wasm');
    const wasm = new HiftGenerator(ctx, cfg, weights, { maxFrames: T, noise: sineNoise.raw as Float32Array, f0Backend: 'wasm' });
    expect(await wasm.f0BackendInUse()).toBe('wasm');
    const f0wasm = await wasm.predictF0(mel.raw as Float32Array, T, finalize);
    const js = new HiftGenerator(ctx, cfg, weights, { maxFrames: T, noise: sineNoise.raw as Float32Array, f0Backend: 'js' });
    expect(await js.f0BackendInUse()).toBe('js');
    const f0js = await js.predictF0(mel.raw as Float32Array, T, finalize);
    expectClose(f0js, f0.data, { rtol: 1e-5, atol: 0, label: `set ${set} f0 (js)` });
    expectClose(f0js, f0wasm, { rtol: 1e-12, atol: 0, label: `set ${set} f0 js vs wasm` });
    // The tight check of the emulated f64 (measured 2.4e-12): the fixture's f0 went through torch (another order).
    expectClose(out.f0, f0js, { rtol: 1e-10, atol: 0, label: `set ${set} f0 ${backend} backend vs js` });
    console.log(`[hift] set ${set}, F0 ${backend}: f0 max rel ${maxRel.toExponential(2)} (max abs ${f0r.maxAbs.toExponential(2)}); source rel-L2 ${sr.relL2.toExponential(2)} max abs ${sr.maxAbs.toExponential(2)}; speech rel-L2 ${wr.relL2.toExponential(2)} max abs ${wr.maxAbs.toExponential(2)}`);
  });
});
