/**
 * The CPU HiFT (src/models/cpu/hift.ts): its conv-through-GEMM helper and DSP pieces against the float64
 * references of test/hift/reference.ts, the streaming contract, and verify on the tiny official fixtures.
 */
import { describe, expect, it } from 'vitest';
import { foldUpsampleWeight, packSnakeAlpha } from '../../kernels/conv1d.js';
import { CpuKernels } from '../../kernels/cpu-linear.js';
import { stftTables } from '../../kernels/stft.js';
import { CHUNK_FLOATS, CpuConvs, convOutLength, type ConvGeometry } from '../../src/models/cpu/conv.js';
import { CpuHift } from '../../src/models/cpu/hift.js';
import { Istft, sinSquared, snake, stftTimeMajor } from '../../src/models/cpu/hift-dsp.js';
import { loadModelFolder } from '../../src/pipeline/node-model-files.js';
import { expectClose } from '../helpers/compare.js';
import { requireFixtures, TINY_DIR } from '../helpers/fixtures.js';
import { SeededRng } from '../helpers/rng.js';
import { conv1dRef, istftRef, snakeRef, stftRef } from '../hift/reference.js';
import { verifyKinds } from './helpers.js';

/** [R, C] ↔ [C, R] */
function transpose(a: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = a[r * cols + c];
  return out;
}

describe('CpuConvs: conv1d as im2col × GEMM on time-major activations', () => {
  it.each<[string, number, number, number, number, ConvGeometry]>([
    ['causal k3', 5, 7, 3, 40, { padLeft: 2 }],
    ['dilated k7 d3', 8, 6, 7, 50, { dilation: 3, padLeft: 18 }],
    ['right look-ahead k5 (zeros past the end)', 80, 16, 5, 30, {}],
    ['strided downsampler k30 s15', 18, 12, 30, 301, { stride: 15, padLeft: 14 }],
    ['k1 over 18 channels (row padded to 20)', 18, 9, 1, 33, {}],
    // 33 channels × 8 taps = 264-float im2col rows: two and a half chunks of rows.
    ['long output over several im2col chunks', 33, 8, 8, Math.ceil((2.5 * CHUNK_FLOATS) / 264), { dilation: 2, padLeft: 14 }],
  ])('%s', async (_, cin, cout, k, lin, g) => {
    const rng = new SeededRng(cin * 131 + k);
    const x = rng.f32(lin * cin), w = rng.normalF32(cout * cin * k, 1 / Math.sqrt(cin * k)), bias = rng.f32(cout);
    const convs = new CpuConvs(await CpuKernels.create());
    const cw = convs.weight(w, bias, cout, cin, k, 'c');
    const lout = Math.min(lin, convOutLength(lin, k, g));
    const out = new Float32Array(lout * cout + 1).fill(7);
    convs.run(cw, x, lin, out, lout, g);
    const ref = conv1dRef({ x: transpose(x, lin, cin), cin, lin, w, bias, cout, k, lout, ...g });
    expectClose(out.subarray(0, lout * cout), transpose(ref, cout, lout), { atol: 2e-6 * Math.sqrt(cin * k), rtol: 1e-5 });
    expect(out[lout * cout]).toBe(7);
  });

  it('a folded (polyphase) upsampler writes the upsampled [u·L, C] directly', async () => {
    const rng = new SeededRng(3);
    const cin = 12, cout = 8, k = 11, u = 5, lin = 21;
    const x = rng.f32(lin * cin), w = rng.normalF32(cout * cin * k, 0.1), bias = rng.f32(cout);
    const f = foldUpsampleWeight(w, cout, cin, k, u);
    const convs = new CpuConvs(await CpuKernels.create());
    const cw = convs.weight(f.w, new Float32Array(u * cout).map((_, n) => bias[n % cout]), f.cout, cin, f.k, 'up');
    const out = convs.run(cw, x, lin, new Float32Array(lin * u * cout), lin, { padLeft: f.k - 1 });
    const ref = conv1dRef({ x: transpose(x, lin, cin), cin, lin, w, bias, cout, k, lout: u * lin, up: u, padLeft: k - 1 });
    expectClose(out, transpose(ref, cout, u * lin), { atol: 1e-5, rtol: 1e-5 });
  });
});

describe('CPU HiFT DSP', () => {
  it('sinSquared (range-reduced polynomial) stays within 3e-9 of Math.sin² up to |y| = 1e6', () => {
    const rng = new SeededRng(4);
    for (let i = 0; i < 20000; i++) {
      const y = rng.uniform(-1, 1) * 10 ** rng.int(9 - 2);
      expect(Math.abs(sinSquared(y) - Math.sin(y) ** 2)).toBeLessThan(3e-9);
    }
    expect(sinSquared(0)).toBe(0);
    expect(sinSquared(Math.PI / 2)).toBe(1);
    expect(sinSquared(Infinity)).toBeNaN();
  });

  it('Snake (time-major, per-channel α) matches x + sin²(αx)/(α+1e-9)', () => {
    const rng = new SeededRng(6);
    const L = 37, C = 12;
    const x = rng.f32(L * C, -20, 20), alpha = rng.f32(C, 0.05, 3);
    const got = snake(x, packSnakeAlpha(alpha), L, C, new Float32Array(L * C));
    const want = Float64Array.from(x, (v, i) => snakeRef(v, alpha[i % C]));
    expectClose(got, want, { atol: 1e-6, rtol: 1e-6 });
  });

  it('STFT (time-major) matches torch.stft semantics', () => {
    const s = new SeededRng(1).f32(960);
    const frames = 960 / 4 + 1;
    const out = stftTimeMajor(s, s.length, stftTables(16), 16, 4, frames, new Float32Array(frames * 18));
    expectClose(out, transpose(stftRef(s, 16, 4, frames), 18, frames), { atol: 1e-5, rtol: 1e-5 });
  });

  it('iSTFT head (time-major) matches torch.istft semantics, clip and clamp', () => {
    const F = 121;
    const y = new SeededRng(2).f32(F * 18, -3, 5); // exp(5) > clip: the clip is exercised
    const want = istftRef(transpose(y, F, 18), F, 16, 4, 100, 0.99);
    const got = new Istft(16, 4, stftTables(16)).run(y, F, 4 * (F - 1) - 8, 100, 0.99, new Float32Array(4 * (F - 1)));
    expectClose(got.subarray(0, want.length - 8), want.subarray(0, want.length - 8), { atol: 2e-6, rtol: 1e-5 });
  });
});

describe('wasm engine: HiFT on the tiny official fixtures', () => {
  it('hift_inference sets pass verify', async () => {
    await verifyKinds(['hift_inference']);
  });

  it('streaming (finalize=false) on T frames gives the first 480·(T−8) samples of the final call', async () => {
    requireFixtures();
    const hift = await CpuHift.create(await loadModelFolder(TINY_DIR));
    const rng = new SeededRng(9);
    const T = 30, melCh = 80;
    const mel = rng.f32(melCh * T, -6, 1), noise = rng.f32(480 * T * 9, 0, 1);
    const full = await hift.inference(mel, T, noise, true);
    expect(full.speech.length).toBe(480 * T);
    for (const t of [12, 20]) {
      const part = new Float32Array(melCh * t);
      for (let c = 0; c < melCh; c++) part.set(mel.subarray(c * T, c * T + t), c * t);
      const r = await hift.inference(part, t, noise, false);
      expect(r.speech.length).toBe(480 * (t - 8));
      expect(r.f0.length).toBe(t - 3);
      expectClose(r.f0, full.f0.subarray(0, t - 3), { atol: 0, rtol: 0, label: `f0 T=${t}` });
      expectClose(r.source, full.source.subarray(0, 480 * (t - 3)), { atol: 0, rtol: 0, label: `source T=${t}` });
      expectClose(r.speech, full.speech.subarray(0, 480 * (t - 8)), { atol: 0, rtol: 0, label: `speech T=${t}` });
    }
    await expect(hift.inference(mel.subarray(0, melCh * 8), 8, noise, false)).rejects.toThrow(/no audio/);
  });
});
