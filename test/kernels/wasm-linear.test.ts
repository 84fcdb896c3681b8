/** The WASM fallback of `linear` against the same float64 reference as the GPU kernel. */
import { describe, it } from 'vitest';
import { linearWasmF32 } from '../../kernels/wasm-linear.js';
import { expectClose } from '../helpers/compare.js';
import { linearRef } from '../helpers/reference.js';
import { SeededRng } from '../helpers/rng.js';

describe('linear on WASM (AssemblyScript, f64 accumulation)', () => {
  it.each([
    [1, 1, 1],
    [1, 896, 896],
    [3, 130, 67],
    [70, 64, 160],
  ])('M=%i N=%i K=%i with bias', async (M, N, K) => {
    const rng = new SeededRng(M * 31 + N * 7 + K);
    const x = rng.f32(M * K), w = rng.normalF32(N * K, 1 / Math.sqrt(K)), b = rng.f32(N);
    // f64 accumulation then one f32 rounding: within 1 ulp of the f64 result.
    expectClose(await linearWasmF32(x, w, M, N, K, b), linearRef(x, w, M, N, K, b), { atol: 1e-6, rtol: 2 ** -23, label: `wasm ${M}x${N}x${K}` });
  });
});
