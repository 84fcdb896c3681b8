/**
 * Resident activations of the CPU kernels (CpuKernels.resident / CpuTensor) and the DiT's elementwise steps in
 * WebAssembly (kernels/wasm/lib/dit-ops.as.ts), against the TypeScript references of src/models/cpu/dit-ops.ts:
 * - the gated residual (with and without the row mask) and the rotary equal them bit for bit;
 * - the AdaLN (four running sums per row sum) lies within 2 f32 ulps of them, and of a float64 reference;
 * - linears and the DiT attention on resident tensors give the array calls' bits (f32 and q8 W, 1 and 2 threads),
 *   and so does the attention of the later queries over separate key|value rows (ditAttentionRows);
 * - tensors of another instance, tensors too short, a resident swiglu output and slices out of bounds are refused.
 * B = 2 items, T = 37 rows each (odd), C = 96; the modulation rows hold random shift, scale and gate chunks.
 */
import { describe, expect, it } from 'vitest';
import { CpuKernels, CpuTensor } from '../../kernels/cpu-linear.js';
import { ditRopeTable } from '../../kernels/dit-rotary.js';
import { adaLayerNorm, gatedResidual, rotaryInPlace } from '../../src/models/cpu/dit-ops.js';
import { ShapeMismatchError } from '../../src/gpu/errors.js';
import { SeededRng } from '../helpers/rng.js';

const B = 2, T = 37, C = 96, M = B * T, S = 6 * C;

function put(k: CpuKernels, v: Float32Array, name: string): CpuTensor {
  const t = k.resident(v.length, name);
  t.view().set(v);
  return t;
}

/** Largest |a − b| in f32 ulps of b. */
function ulps(a: Float32Array, b: ArrayLike<number>): { worst: number; at: number } {
  let worst = 0, at = -1;
  for (let i = 0; i < a.length; i++) {
    const u = Math.abs(a[i] - b[i]) / Math.max(2 ** -126, 2 ** (Math.floor(Math.log2(Math.abs(b[i]) || 2 ** -126)) - 23));
    if (u > worst) [worst, at] = [u, i];
  }
  return { worst, at };
}

describe('CPU resident tensors and the DiT elementwise steps in WebAssembly', () => {
  const rng = new SeededRng(2024);
  const x = rng.normalF32(M * C, 2);
  const branch = rng.normalF32(M * C, 1);
  const modRows = [rng.normalF32(S, 0.5), rng.normalF32(S, 0.5)];
  const mask = Float32Array.from({ length: M }, (_, i) => (i % 7 === 3 ? 0 : 1));

  it('gated residual and rotary: the TypeScript references bit for bit', async () => {
    const k = await CpuKernels.create({ threads: 1 });
    const mod = put(k, Float32Array.from([...modRows[0], ...modRows[1]]), 'mod');
    for (const rowmask of [undefined, mask]) {
      const h = x.slice();
      gatedResidual(h, branch, M, C, T, modRows, 2 * C, rowmask);
      const ht = put(k, x, 'h');
      k.gatedResidual(ht, put(k, branch, 'b'), M, C, T, mod, S, 2 * C, rowmask && put(k, rowmask, 'mask'));
      expect(Array.from(ht.view()), rowmask ? 'masked' : 'unmasked').toEqual(Array.from(h));
    }
    const rotDim = 64;
    const table = ditRopeTable(Float32Array.from({ length: rotDim / 2 }, (_, i) => 10000 ** (-(2 * i) / rotDim)), T);
    const q = rng.normalF32(M * 3 * C, 1);
    const ref = q.slice();
    rotaryInPlace(ref, M, T, 3 * C, C, rotDim, table);
    const qt = put(k, q, 'qkv');
    k.rotary(qt, M, T, 3 * C, C, rotDim, put(k, table, 'rope'));
    expect(Array.from(qt.view())).toEqual(Array.from(ref));
  });

  it('AdaLN: within 2 f32 ulps of the TypeScript reference and of float64', async () => {
    const k = await CpuKernels.create({ threads: 1 });
    const mod = put(k, Float32Array.from([...modRows[0], ...modRows[1]]), 'mod');
    const y = new Float32Array(M * C);
    adaLayerNorm(x, y, M, C, T, modRows, 3 * C, 4 * C, 1e-6);
    const yt = k.resident(M * C, 'y');
    k.adaLayerNorm(put(k, x, 'x'), yt, M, C, T, mod, S, 3 * C, 4 * C, 1e-6);
    const got = yt.view();
    const vsTs = ulps(got, y);
    expect(vsTs.worst, `worst at ${vsTs.at}: ${got[vsTs.at]} vs ${y[vsTs.at]}`).toBeLessThanOrEqual(2);
    // float64: mean and biased variance of each row, then the modulation.
    const ref = new Float64Array(M * C);
    for (let m = 0; m < M; m++) {
      const row = Array.from(x.subarray(m * C, (m + 1) * C));
      const mean = row.reduce((a, v) => a + v, 0) / C;
      const rstd = 1 / Math.sqrt(row.reduce((a, v) => a + (v - mean) ** 2, 0) / C + 1e-6);
      const r = modRows[Math.floor(m / T)];
      for (let c = 0; c < C; c++) ref[m * C + c] = (row[c] - mean) * rstd * (1 + r[4 * C + c]) + r[3 * C + c];
    }
    expect(ulps(got, ref).worst).toBeLessThanOrEqual(2);
  });

  for (const threads of [1, 2]) {
    it(`linears and the DiT attention on resident tensors give the array calls' bits (${threads} thread(s))`, async () => {
      const k = await CpuKernels.create({ threads });
      const N = 3 * C, K = C;
      const w = rng.normalF32(N * K, 1 / Math.sqrt(K)), b = rng.f32(N);
      for (const dtype of ['f32', 'q8'] as const) {
        const mat = k.matrix(w, N, K, b, `w ${dtype}`, dtype);
        const want = k.linear(x, M, mat);
        const xt = put(k, x, 'x'), yt = k.resident(M * N + 5, 'y');
        const got = k.linear(xt, M, mat, yt);
        expect(Array.from(got), dtype).toEqual(Array.from(want));
        expect(Array.from(yt.view().subarray(0, M * N)), dtype).toEqual(Array.from(want));
        expect(Array.from(yt.view().subarray(M * N)), 'past the output').toEqual([0, 0, 0, 0, 0]);
        // A resident input with a host output, and a host input with a resident output.
        expect(Array.from(k.linear(xt, M, mat, new Float32Array(M * N)))).toEqual(Array.from(want));
        expect(Array.from(k.linear(x, M, mat, k.resident(M * N, 'y2')))).toEqual(Array.from(want));
      }
      const heads = 2, dh = C / heads;
      const qkv = rng.normalF32(M * 3 * C, 1);
      const want = k.ditAttention(qkv, B, T, heads, dh, mask, 0, new Float32Array(M * C));
      const out = k.resident(M * C, 'att');
      k.ditAttention(put(k, qkv, 'qkv'), B, T, heads, dh, mask, 0, out);
      expect(Array.from(out.view())).toEqual(Array.from(want));
      // The key mask resident too (the DiT keeps it beside its activations).
      const out2 = k.resident(M * C, 'att2');
      k.ditAttention(put(k, qkv, 'qkv2'), B, T, heads, dh, put(k, mask, 'mask'), 0, out2);
      expect(Array.from(out2.view())).toEqual(Array.from(want));
      // The queries q0 … T − 1 over separate keys|values rows (the DiT past a cached prefix) give those rows' bits,
      // with the 10-frame chunk mask and without, from an odd q0 and an even one.
      const ones = put(k, new Float32Array(M).fill(1), 'ones');
      for (const chunk of [0, 10]) {
        const whole = k.ditAttention(qkv, B, T, heads, dh, ones, chunk, new Float32Array(M * C));
        for (const q0 of [1, 20, T - 1]) {
          const Tq = T - q0;
          const q = k.resident(B * Tq * 3 * C, 'q'), kv = k.resident(M * 2 * C, 'kv'), o = k.resident(B * Tq * C, 'o');
          for (let b = 0; b < B; b++) {
            for (let i = 0; i < Tq; i++) q.view().set(qkv.subarray((b * T + q0 + i) * 3 * C, (b * T + q0 + i + 1) * 3 * C), (b * Tq + i) * 3 * C);
            for (let j = 0; j < T; j++) kv.view().set(qkv.subarray((b * T + j) * 3 * C + C, (b * T + j + 1) * 3 * C), (b * T + j) * 2 * C);
          }
          k.ditAttentionRows(q, 3 * C, kv, 2 * C, B, Tq, q0, T, heads, dh, ones, chunk, o);
          for (let b = 0; b < B; b++) {
            const label = `rows from ${q0}, chunk ${chunk}, item ${b}`;
            expect(Array.from(o.view().subarray(b * Tq * C, (b + 1) * Tq * C)), label).toEqual(Array.from(whole.subarray((b * T + q0) * C, (b + 1) * T * C)));
          }
        }
      }
      expect(() => k.ditAttentionRows(ones, 3 * C, ones, 2 * C, B, 5, T - 4, T, heads, dh, ones, 0, ones)).toThrow(ShapeMismatchError);
      k.dispose();
    });
  }

  it('refuses tensors of another instance, tensors too short, a resident swiglu output and slices out of bounds', async () => {
    const k = await CpuKernels.create({ threads: 1 }), other = await CpuKernels.create({ threads: 1 });
    const mat = k.matrix(new Float32Array(8 * 4), 8, 4, undefined, 'w');
    expect(() => k.linear(other.resident(8, 'x'), 2, mat)).toThrow(/x lives in another CpuKernels/);
    expect(() => k.linear(k.resident(7, 'x'), 2, mat)).toThrow(ShapeMismatchError);
    expect(() => k.linear(new Float32Array(8), 2, mat, k.resident(15, 'y'))).toThrow(/y holds 15 values, 16 needed/);
    expect(() => k.linear(new Float32Array(8), 2, mat, k.resident(16, 'y'), 'swiglu')).toThrow(/swiglu output cannot be resident/);
    const t = k.resident(10, 't');
    expect(t.slice(4, 6).offset).toBe(t.offset + 16);
    expect(() => t.slice(5, 6)).toThrow(/values \[5, 11\) outside its 10/);
    expect(() => k.adaLayerNorm(t, t, 1, 12, 1, t, 0, 0, 0, 1e-6)).toThrow(/holds 10 values, 12 needed/);
  });
});

describe('CpuKernels resident space: release and reuse', () => {
  it('released blocks are reused first-fit, merged with their neighbours, and given back at the end', async () => {
    const k = await CpuKernels.create({ threads: 1 });
    const a = k.resident(100, 'a'), b = k.resident(50, 'b'), c = k.resident(100, 'c');
    const end = c.offset + 400;
    k.release(a);
    const d = k.resident(60, 'd'); // fits in a's block
    expect(d.offset).toBe(a.offset);
    expect(Array.from(d.view()).every((v) => v === 0)).toBe(true);
    k.release(b);
    k.release(d); // a's rest, b and d merge into one block before c
    const e = k.resident(150, 'e');
    expect(e.offset).toBe(a.offset);
    k.release(c); // the last block: the resident data shrinks instead
    expect(k.resident(10, 'f').offset).toBe(c.offset);
    expect(end).toBeGreaterThan(c.offset);
    k.release(e);
    expect(() => k.release(e)).toThrow(/e released twice/);
  });
});
