/**
 * The CPU engine's WASM SIMD GEMM (kernels/cpu-linear.ts) against the float64 reference: the 2×4 register block,
 * its odd-row and N % 4 tails, the scalar path for K % 4 ≠ 0, transient matrices, and its refusals; q8 matrices
 * against the f32 kernel on kernels/quant.ts's dequantised weights (bit for bit) and the f64 reference.
 */
import { describe, expect, it } from 'vitest';
import { CpuKernels, CpuMemoryError, interleavedRows, interleaveRows, Q8_GROUP } from '../../kernels/cpu-linear.js';
import { fillFrom } from '../../loader/fill.js';
import { quantizeHost } from '../../kernels/quant.js';
import { ShapeMismatchError } from '../../src/gpu/errors.js';
import { compareArrays, expectClose } from '../helpers/compare.js';
import { linearRef } from '../helpers/reference.js';
import { actRef, quantizeRow16Ref } from './ref.js';
import { SeededRng } from '../helpers/rng.js';

describe('CpuKernels.linear (WASM SIMD, f32 accumulation)', () => {
  it.each([
    [1, 1, 1],
    [1, 7, 5],
    [2, 4, 4],
    [3, 130, 67],
    [5, 13, 64],
    [70, 64, 160],
    [1, 896, 896],
    [9, 321, 128],
  ])('M=%i N=%i K=%i', async (M, N, K) => {
    const k = await CpuKernels.create();
    const rng = new SeededRng(M * 31 + N * 7 + K);
    const x = rng.f32(M * K), w = rng.normalF32(N * K, 1 / Math.sqrt(K)), b = rng.f32(N);
    const ref = linearRef(x, w, M, N, K, b);
    // f32 sums of K products in 4 lanes: error grows like √K ulps of the partial sums (|x|, |w·√K| ≤ ~1 here).
    const tol = { atol: 2e-6 * Math.sqrt(K), rtol: 1e-5, label: `gemm ${M}x${N}x${K}` };
    expectClose(k.linear(x, M, k.matrix(w, N, K, b, 'w')), ref, tol);
    // No bias, and `out` given: the same products.
    const out = new Float32Array(M * N + 3).fill(7);
    k.linear(x, M, k.matrix(w, N, K, undefined, 'w0'), out);
    expectClose(out.subarray(0, M * N), linearRef(x, w, M, N, K), { ...tol, label: `no bias ${M}x${N}x${K}` });
    expect(out[M * N]).toBe(7);
  });

  it('keeps resident matrices intact across calls and memory growth', async () => {
    const k = await CpuKernels.create();
    const rng = new SeededRng(5);
    const w1 = rng.f32(16 * 32), w2 = rng.f32(8 * 32), x = rng.f32(4 * 32);
    const a = k.matrix(w1, 16, 32, undefined, 'a');
    const y1 = k.linear(x, 4, a);
    const big = rng.f32(2000 * 32);
    k.linear(big, 2000, k.matrix(w2, 8, 32, undefined, 'b')); // 2000 rows in and out grow the memory past the first page
    expect(Array.from(k.linear(x, 4, a))).toEqual(Array.from(y1));
  });

  it('refuses shapes that do not fit, and matrices of another instance', async () => {
    const k = await CpuKernels.create(), other = await CpuKernels.create();
    expect(() => k.matrix(new Float32Array(10), 3, 4, undefined, 'w')).toThrow(ShapeMismatchError);
    expect(() => k.matrix(new Float32Array(12), 3, 4, new Float32Array(2), 'w')).toThrow(/bias has 2 values/);
    const m = k.matrix(new Float32Array(12), 3, 4, undefined, 'w');
    expect(() => k.linear(new Float32Array(7), 2, m)).toThrow(/x has 7 values, expected \[2, 4\]/);
    expect(() => k.linear(new Float32Array(8), 2, m, new Float32Array(5))).toThrow(/out has 5 values/);
    expect(() => other.linear(new Float32Array(4), 1, m)).toThrow(/another CpuKernels/);
    const small = await CpuKernels.create({ maxBytes: 1 << 20 });
    expect(() => small.matrix(new Float32Array(300_000), 1000, 300, undefined, 'big')).toThrow(CpuMemoryError);
    expect(() => small.matrix(new Float32Array(300_000), 1000, 300, undefined, 'big')).toThrow(/weight big \[1000, 300\]/);
  });

  it.each([
    [1, 4864, 896],
    [3, 1001, 512],
    [64, 130, 160],
    [7, 33, 20],
  ])('threads: 2 threads give the single-thread result bit for bit (M=%i N=%i K=%i)', async (M, N, K) => {
    const one = await CpuKernels.create({ threads: 1 }), two = await CpuKernels.create({ threads: 2 });
    expect([one.threadCount, two.threadCount]).toEqual([1, 2]);
    const rng = new SeededRng(M + N + K);
    const x = rng.f32(M * K), w = rng.normalF32(N * K, 1 / Math.sqrt(K)), b = rng.f32(N);
    const y1 = one.linear(x, M, one.matrix(w, N, K, b, 'w'));
    const m2 = two.matrix(w, N, K, b, 'w');
    const y2 = two.linear(x, M, m2);
    expect(Array.from(y2)).toEqual(Array.from(y1));
    expectClose(y2, linearRef(x, w, M, N, K, b), { atol: 2e-6 * Math.sqrt(K), rtol: 1e-5, label: `2 threads ${M}x${N}x${K}` });
    // After dispose the workers are gone and the same instance computes alone, with the same bits.
    two.dispose();
    expect(two.threadCount).toBe(1);
    expect(Array.from(two.linear(x, M, m2))).toEqual(Array.from(y1));
  });

  it('threads: resident matrices packed 16 bytes at a time across page ends stay addressable', async () => {
    // With threads the control block sits below the first matrix, so growth must count it: one [1, 4] matrix at a
    // time walks the end of the used memory over every 16-byte position of several 64 KiB pages.
    const k = await CpuKernels.create({ threads: 2 });
    k.matrix(new Float32Array(15 << 14), 1, 15 << 14, undefined, 'filler'); // 960 KiB: near the initial 1 MiB's end
    const mats = Array.from({ length: 9000 }, (_, i) => k.matrix(Float32Array.of(i, 1, 2, 3), 1, 4, undefined, `m${i}`));
    expect(Array.from(k.linear(Float32Array.of(1, 0, 0, 0), 1, mats[8999]))).toEqual([8999]);
    expect(Array.from(k.linear(Float32Array.of(0, 1, 0, 0), 1, mats[4097]))).toEqual([1]);
    k.dispose();
  });

  it('refuses a thread count that is not a whole number ≥ 1', async () => {
    await expect(CpuKernels.create({ threads: 0 })).rejects.toThrow(/threads must be a whole number ≥ 1, got 0/);
    await expect(CpuKernels.create({ threads: 1.5 })).rejects.toThrow(RangeError);
  });

  it('the GELU-tanh epilogue: the f64 reference within 2 f32 ulps, on 1 and 2 threads alike (large |x| included)', async () => {
    const M = 24, N = 516, K = 128;
    const rng = new SeededRng(77);
    const x = rng.f32(M * K), w = rng.normalF32(N * K, 4 / Math.sqrt(K)), b = rng.f32(N);
    b[0] = 1e4; // far tails: e^(−2u) → ∞ gives −0 … 0 for negative x, x for positive
    b[1] = -1e4;
    const ref = Float64Array.from(linearRef(x, w, M, N, K, b), (v) => actRef('gelu_tanh', Math.fround(v)));
    const ys = [];
    for (const threads of [1, 2]) {
      const k = await CpuKernels.create({ threads });
      ys.push(k.linear(x, M, k.matrix(w, N, K, b, 'ff1'), undefined, 'gelu_tanh'));
      k.dispose();
    }
    expect(Array.from(ys[1])).toEqual(Array.from(ys[0]));
    expectClose(ys[0], ref, { atol: 2e-6 * Math.sqrt(K), rtol: 2.5e-7, label: 'gelu_tanh epilogue' });
    expect(ys[0][1]).toBe(-0);
  });
});

describe('CpuKernels.linear, SwiGLU epilogue (gate and up rows interleaved)', () => {
  it('interleavedRows from fills gives rows a0, b0, a1, b1, …, its reused staging buffer across sizes included', () => {
    for (const [N, K] of [[5, 3], [2, 7], [6, 4], [1, 1]]) {
      const a = Float32Array.from({ length: N * K }, (_, i) => i + 1), b = Float32Array.from({ length: N * K }, (_, i) => -(i + 1));
      const want = new Float32Array(2 * N * K);
      for (let n = 0; n < N; n++) {
        want.set(a.subarray(n * K, (n + 1) * K), 2 * n * K);
        want.set(b.subarray(n * K, (n + 1) * K), (2 * n + 1) * K);
      }
      const dst = new Float32Array(2 * N * K);
      interleavedRows(fillFrom(a), fillFrom(b), N, K)(dst);
      expect(Array.from(dst), `[${N}, ${K}]`).toEqual(Array.from(want));
    }
    expect(() => interleavedRows(fillFrom(new Float32Array(4)), fillFrom(new Float32Array(4)), 2, 2)(new Float32Array(7))).toThrow(/7 values, expected \[4, 2\]/);
  });


  it.each([
    [1, 4864, 896, 'f32'],
    [5, 166, 64, 'f32'],
    [1, 4864, 896, 'q8'],
    [9, 1000, 128, 'q8'],
  ] as const)('M=%i F=%i K=%i %s: SiLU(gate)·up of the f64 products, and 2 threads = 1 thread bit for bit', async (M, F, K, dtype) => {
    const rng = new SeededRng(M + F + K);
    const x = rng.f32(M * K), gate = rng.normalF32(F * K, 2 / Math.sqrt(K)), up = rng.normalF32(F * K, 1 / Math.sqrt(K));
    const w = interleaveRows(gate, up, F, K);
    expect(Array.from(w.subarray(K, 2 * K))).toEqual(Array.from(up.subarray(0, K)));
    // The reference uses the weights the kernel holds: quantizeHost's for q8.
    const held = (a: Float32Array) => (dtype === 'q8' ? quantizeHost(a, [F, K], 'q8', Q8_GROUP).dequant : a);
    const g = linearRef(x, held(gate), M, F, K), u = linearRef(x, held(up), M, F, K);
    const ref = Float64Array.from(g, (v, i) => (Math.fround(v) / (1 + Math.exp(-Math.fround(v)))) * Math.fround(u[i]));
    const ys: Float32Array[] = [];
    for (const threads of [1, 2]) {
      const k = await CpuKernels.create({ threads });
      const out = new Float32Array(M * F + 1).fill(5);
      ys.push(k.linear(x, M, k.matrix(w, 2 * F, K, undefined, 'gate_up', dtype), out, 'swiglu').subarray(0, M * F));
      expect(out[M * F]).toBe(5);
      k.dispose();
    }
    expectClose(ys[1], ys[0], { atol: 0, rtol: 0, label: `swiglu ${dtype}: 2 threads vs 1` });
    expectClose(ys[0], ref, { atol: 4e-6 * Math.sqrt(K), rtol: 2e-5, label: `swiglu ${dtype} ${M}x${F}x${K}` });
  });

  it('refuses an odd N and a short out', async () => {
    const k = await CpuKernels.create({ threads: 1 });
    const m = k.matrix(new Float32Array(3 * 32), 3, 32, undefined, 'odd');
    expect(() => k.linear(new Float32Array(32), 1, m, undefined, 'swiglu')).toThrow(/cpu linear odd: swiglu needs an even N/);
    const e = k.matrix(new Float32Array(4 * 32), 4, 32, undefined, 'even');
    expect(() => k.linear(new Float32Array(64), 2, e, new Float32Array(3), 'swiglu')).toThrow(/out has 3 values, expected \[2, 2\]/);
  });
});

describe('CpuKernels.linear with q8 matrices (int8, a scale per 32 values, dequantised in WebAssembly)', () => {
  // Several rows: the q8 call must equal the f32 call on quantizeHost's dequantised W bit for bit (the quantiser,
  // in WebAssembly, must give quantizeHost's values, and the blocks must dequantise and sum as the f32 kernel).
  // One row (q16Row) takes its input as int16 (quantizeRow16) and sums each group's integer products exactly: the
  // f64 product of both dequantised operands, with the f32 kernel's tolerance, and 1 thread = 2 threads bit for bit.
  it.each([
    [2, 130, 64, 1],
    [3, 1001, 512, 2],
    [70, 64, 160, 1],
    [33, 2052, 128, 2],
    [1, 4864, 896, 1],
    [1, 896, 4864, 2],
    [1, 130, 64, 2],
    [1, 7, 32, 1],
  ])('M=%i N=%i K=%i, %i thread(s): the dequantised weights exactly as f32 would use them (one row: with its int16 form)', async (M, N, K, threads) => {
    const k = await CpuKernels.create({ threads });
    const rng = new SeededRng(M * 13 + N + K * 3);
    const x = rng.f32(M * K), w = rng.normalF32(N * K, 1 / Math.sqrt(K)), b = rng.f32(N);
    const h = quantizeHost(w, [N, K], 'q8', Q8_GROUP);
    const q = k.matrix(w, N, K, b, 'wq', 'q8');
    expect(q.dtype).toBe('q8');
    const y = k.linear(x, M, q);
    if (M > 1) expectClose(y, k.linear(x, M, k.matrix(h.dequant, N, K, b, 'wd')), { atol: 0, rtol: 0, label: `q8 vs f32(dequant) ${M}x${N}x${K}` });
    else {
      // One row runs on its int16 form (quantizeRow16): exact integer sums, so within f32 rounding of the f64
      // product of the two dequantised operands; within the int16 steps (max|x| / 65534 a group) of the f32 x.
      const { q: xq, scales } = quantizeRow16Ref(x, Q8_GROUP);
      const xd = Float32Array.from(xq, (v, i) => v * scales[Math.floor(i / Q8_GROUP)]);
      expectClose(y, linearRef(xd, h.dequant, M, N, K, b), { atol: 2e-6 * Math.sqrt(K), rtol: 1e-5, label: `q8 row vs f64(dequant, int16 x) ${N}x${K}` });
      expect(compareArrays(y, linearRef(x, h.dequant, M, N, K, b)).relL2, 'vs the f32 row').toBeLessThan(1e-4);
      const one = await CpuKernels.create({ threads: 1 });
      expectClose(y, one.linear(x, M, one.matrix(w, N, K, b, 'wq', 'q8')), { atol: 0, rtol: 0, label: `q8 row, ${threads} vs 1 thread` });
    }
    // Against the f64 product with the unquantised W: int8 steps of max|w|/127 per group of 32 (rel-L2 ≈ 0.5%).
    expect(compareArrays(y, linearRef(x, w, M, N, K, b)).relL2).toBeLessThan(1e-2);
    k.dispose();
  });

  it('a q8 product\'s one-row input as int16: the f32 reference bit for bit (ties to even, saturation, zero groups)', async () => {
    const k = await CpuKernels.create({ threads: 1 });
    const rng = new SeededRng(91);
    const x = rng.normalF32(6 * Q8_GROUP, 3);
    x.fill(0, Q8_GROUP, 2 * Q8_GROUP); // a group of zeros
    // Group 2: max 32767 so that x · 1 lands on halves (ties to even); group 3: tiny values; group 4: one outlier.
    x.set([32767, 2.5, -2.5, 3.5, -3.5, 0.5, -0.5, 1.5], 2 * Q8_GROUP);
    for (let i = 3 * Q8_GROUP; i < 4 * Q8_GROUP; i++) x[i] *= 1e-30;
    x[4 * Q8_GROUP + 7] = 1e4;
    const got = k.quantizeRow16(x), want = quantizeRow16Ref(x, Q8_GROUP);
    expect(Array.from(got.scales)).toEqual(Array.from(want.scales));
    const i = got.q.findIndex((v, j) => v !== want.q[j]);
    if (i >= 0) throw new Error(`q differs first at ${i}: ${got.q[i]} vs ${want.q[i]} (x ${x[i]})`);
    expect(Array.from(got.q.subarray(2 * Q8_GROUP, 2 * Q8_GROUP + 8))).toEqual([32767, 2, -2, 4, -4, 0, 0, 2]);
    expect(got.q.subarray(Q8_GROUP, 2 * Q8_GROUP).every((v) => v === 0)).toBe(true);
    expect(() => k.quantizeRow16(new Float32Array(40))).toThrow(/not whole groups of 32/);
  });

  it('rounds halves up and keeps all-zero groups at 0, as quantizeHost does', async () => {
    const k = await CpuKernels.create({ threads: 1 });
    const K = 64, N = 2;
    // Row 0, group 0: max |w| = 127, so scale = 1 and w / scale lands exactly on halves; group 1 is all zeros.
    const w = new Float32Array(N * K);
    w.set([127, 2.5, -2.5, 0.5, -0.5, 126.5, -126.5, 1.49], 0);
    for (let i = K; i < N * K; i++) w[i] = Math.sin(i);
    const h = quantizeHost(w, [N, K], 'q8', Q8_GROUP);
    const eye = new Float32Array(K * K);
    for (let i = 0; i < K; i++) eye[i * K + i] = 1;
    // x = I reads W back: y[i, n] = dequantised W[n, i].
    const y = k.linear(eye, K, k.matrix(w, N, K, undefined, 'halves', 'q8'));
    const got = Float32Array.from({ length: N * K }, (_, e) => y[(e % K) * N + Math.floor(e / K)]);
    expectClose(got, h.dequant, { atol: 0, rtol: 0, label: 'q8 values read back' });
    expect(Array.from(got.subarray(0, 8))).toEqual([127, 3, -2, 1, 0, 127, -126, 1]);
  });

  it('q8 with the GELU epilogue equals the f32 kernel on the dequantised weights, on 1 and 2 threads', async () => {
    const M = 24, N = 516, K = 128;
    const rng = new SeededRng(78);
    const x = rng.f32(M * K), w = rng.normalF32(N * K, 4 / Math.sqrt(K)), b = rng.f32(N);
    const ref = await CpuKernels.create({ threads: 1 });
    const want = ref.linear(x, M, ref.matrix(quantizeHost(w, [N, K], 'q8', Q8_GROUP).dequant, N, K, b, 'ff1'), undefined, 'gelu_tanh');
    for (const threads of [1, 2]) {
      const k = await CpuKernels.create({ threads });
      expectClose(k.linear(x, M, k.matrix(w, N, K, b, 'ff1', 'q8'), undefined, 'gelu_tanh'), want, { atol: 0, rtol: 0, label: `q8 gelu, ${threads} thread(s)` });
      k.dispose();
    }
  });

  it('refuses K that is not a multiple of the group, naming the matrix', async () => {
    const k = await CpuKernels.create({ threads: 1 });
    expect(() => k.matrix(new Float32Array(3 * 40), 3, 40, undefined, 'odd', 'q8')).toThrow(/cpu matrix odd: q8 needs K a multiple of 32, got \[3, 40\]/);
  });
});

describe('CpuKernels.llmAttention (one kv group of the LLM, causal, in WebAssembly)', () => {
  // f64 reference: row r (time row ⌊r/rep⌋ after pos0) attends to keys 0 … pos0 + ⌊r/rep⌋.
  function ref(qg: Float32Array, keys: Float32Array, vals: Float32Array, R: number, n: number, D: number, rep: number, pos0: number): Float64Array {
    const out = new Float64Array(R * D);
    for (let r = 0; r < R; r++) {
      const last = pos0 + Math.floor(r / rep);
      const s = Array.from({ length: last + 1 }, (_, j) => {
        let a = 0;
        for (let d = 0; d < D; d++) a += qg[r * D + d] * keys[j * D + d];
        return a / Math.sqrt(D);
      });
      const mx = Math.max(...s), e = s.map((v) => Math.exp(v - mx)), z = e.reduce((a, b) => a + b, 0);
      for (let j = 0; j <= last; j++) for (let d = 0; d < D; d++) out[r * D + d] += (e[j] / z) * vals[j * D + d];
    }
    return out;
  }

  it.each([
    [7, 1, 1, 0], // decode at the first position: one key
    [7, 1, 130, 129], // decode, n not a multiple of 4
    [7, 5, 41, 36], // a chunk of 5 time rows at the cache's end
    [2, 3, 9, 0], // a prefill from position 0
  ])('rep %i, %i time rows, %i keys, rows from %i: the f64 softmax·V within f32 rounding', async (rep, rows, n, pos0) => {
    const D = 64, R = rep * rows, n4 = (n + 3) & ~3;
    const rng = new SeededRng(n * 7 + rows);
    const qg = rng.f32(R * D), keys = rng.f32(n * D), vals = rng.f32(n * D);
    const k = await CpuKernels.create({ threads: 1 });
    const out = new Float32Array(R * D + 1).fill(9);
    // Vᵀ [D, n4] with garbage in the padding columns: they must not reach the output (P is 0 there).
    k.llmAttention(qg, R, keys, n, D, (dst) => {
      dst.fill(1e30);
      for (let d = 0; d < D; d++) for (let j = 0; j < n; j++) dst[d * n4 + j] = vals[j * D + d];
    }, rep, pos0, out);
    expectClose(out.subarray(0, R * D), ref(qg, keys, vals, R, n, D, rep, pos0), { atol: 2e-6, rtol: 1e-5, label: `llm attention rep ${rep} rows ${rows} n ${n}` });
    expect(out[R * D]).toBe(9);
    // The KV cache's way: keys and Vᵀ resident, Vᵀ rows `ld` > n4 apart, read in place; the same bits.
    const ld = n4 + 12;
    const kt = k.resident(n * D, 'keys'), vt = k.resident(D * ld, 'vt');
    kt.view().set(keys);
    const v = vt.view().fill(1e30);
    for (let d = 0; d < D; d++) for (let j = 0; j < n; j++) v[d * ld + j] = vals[j * D + d];
    const inPlace = k.llmAttention(qg, R, kt, n, D, { vt, ld }, rep, pos0, new Float32Array(R * D));
    expect(Array.from(inPlace)).toEqual(Array.from(out.subarray(0, R * D)));
    expect(() => k.llmAttention(qg, R, kt, n, D, { vt, ld: n4 - 4 }, rep, pos0, new Float32Array(R * D))).toThrow(/cannot hold/);
  });

  it('refuses rows that would see past the keys', async () => {
    const k = await CpuKernels.create({ threads: 1 });
    expect(() => k.llmAttention(new Float32Array(14 * 64), 14, new Float32Array(4 * 64), 4, 64, () => {}, 7, 3, new Float32Array(14 * 64))).toThrow(/see past the 4 keys/);
  });
});
