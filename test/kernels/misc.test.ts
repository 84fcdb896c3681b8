import { describe, expect, it } from 'vitest';
import { concat, copy, copyStrided, slice, transpose } from '../../kernels/copy.js';
import { activation, binary } from '../../kernels/elementwise.js';
import { gatherRows } from '../../kernels/gather.js';
import type { Activation } from '../../kernels/matmul.js';
import { packWeightF16, roundToF16 } from '../../kernels/quant.js';
import { softmax } from '../../kernels/softmax.js';
import { ShapeMismatchError } from '../../src/gpu/errors.js';
import { expectClose } from '../helpers/compare.js';
import { testContext } from '../helpers/gpu.js';
import { SeededRng } from '../helpers/rng.js';
import { actRef } from './ref.js';

describe('softmax / log-softmax over rows against float64', () => {
  // 6761 speech-token logits, 14 heads × T attention rows, a length-1 row, odd/ragged widths; widths that are
  // multiples of 4 take the vec4 form (4, 1200, 4864).
  const shapes: [number, number][] = [[1, 6761], [14, 37], [3, 1], [5, 257], [1000, 50], [2, 4864], [7, 4], [128, 1200]];
  // Both entries wherever the adapter allows them: `rows_sg` (llvmpipe default) and the shared-memory `rows`.
  const cases = shapes.flatMap(([r, c]) => [[r, c, false], [r, c, true]] as [number, number, boolean][]);
  it.each(cases)('rows=%i cols=%i subgroups=%s', async (rows, cols, subgroups) => {
    const ctx = await testContext();
    if (subgroups && !ctx.hasWideSubgroups) return; // rows_sg exists only for llvmpipe-style 8-lane subgroups
    const rng = new SeededRng(rows * 131 + cols);
    const x = rng.f32(rows * cols, -20, 20);
    if (cols > 3) x[1] = -Infinity; // a masked logit
    const s = 0.7;
    const tx = ctx.upload(x, 'f32', [rows, cols]);
    const p = ctx.tensor('f32', [rows, cols]), lp = ctx.tensor('f32', [rows, cols]);
    ctx.run([softmax(ctx, { x: tx, out: p, scale: s, subgroups }), softmax(ctx, { x: tx, out: lp, scale: s, log: true, subgroups })]);
    const ref = new Float64Array(rows * cols), lref = new Float64Array(rows * cols);
    for (let r = 0; r < rows; r++) {
      let mx = -Infinity, sum = 0;
      for (let c = 0; c < cols; c++) mx = Math.max(mx, s * x[r * cols + c]);
      for (let c = 0; c < cols; c++) sum += Math.exp(s * x[r * cols + c] - mx);
      for (let c = 0; c < cols; c++) {
        ref[r * cols + c] = Math.exp(s * x[r * cols + c] - mx) / sum;
        lref[r * cols + c] = s * x[r * cols + c] - mx - Math.log(sum);
      }
    }
    // f32 exp/sum: probabilities to ~1e-6 relative; log-probs absolute ~1e-5 (values up to ~30 in size).
    expectClose(await ctx.readF32(p), ref, { atol: 1e-7, rtol: 2e-5, label: `softmax ${rows}x${cols}` });
    const got = await ctx.readF32(lp);
    const finite = (a: ArrayLike<number>) => Float64Array.from(a, (v) => (Number.isFinite(v) ? v : -1e30));
    expectClose(finite(got), finite(lref), { atol: 3e-5, rtol: 1e-6, label: `log_softmax ${rows}x${cols}` });
  });
});

describe('embedding gather', () => {
  it.each([
    [100, 896, 7, 'f32'],
    [100, 896, 7, 'f16'],
    [6761, 512, 1, 'f16'],
    [50, 33, 40, 'f32'],
    [50, 33, 40, 'f16'],
  ] as const)('V=%i D=%i T=%i %s table (with out-of-range ids → zero rows)', async (V, D, T, fmt) => {
    const ctx = await testContext();
    const rng = new SeededRng(V + D + T);
    const table = rng.f32(V * D);
    const ids = Int32Array.from({ length: T }, (_, t) => (t === 2 ? -1 : t === 3 ? V : rng.int(V)));
    const tt = fmt === 'f32' ? ctx.upload(table, 'f32', [V, D]) : packWeightF16(ctx, table, [V, D]);
    const used = fmt === 'f32' ? table : roundToF16(table);
    const out = ctx.tensor('f32', [T, D]);
    ctx.run([gatherRows(ctx, { table: tt, ids: ctx.upload(ids, 'i32', [T]), out })]);
    const ref = new Float64Array(T * D);
    ids.forEach((id, t) => {
      if (id >= 0 && id < V) for (let d = 0; d < D; d++) ref[t * D + d] = used[id * D + d];
    });
    expectClose(await ctx.readF32(out), ref, { label: `gather ${fmt}` }); // exact: a copy
  });
});

describe('copy / slice / concat / transpose', () => {
  it('slice and concat along each dim of a 3-D tensor; 2-D and 3-D transposes; strided copy with offsets', async () => {
    const ctx = await testContext();
    const [A, B, C] = [3, 130, 64]; // HiFT-like [B, C, T] sizes, ragged
    const x = new SeededRng(5).f32(A * B * C);
    const tx = ctx.upload(x, 'f32', [A, B, C]);
    const at = (a: number, b: number, c: number) => x[(a * B + b) * C + c];
    for (const [dim, start, len] of [[0, 1, 2], [1, 7, 100], [2, 3, 33]] as const) {
      const shape = [A, B, C];
      shape[dim] = len;
      const out = ctx.tensor('f32', shape);
      ctx.run([slice(ctx, tx, out, dim, start)]);
      const ref: number[] = [];
      for (let a = 0; a < shape[0]; a++) for (let b = 0; b < shape[1]; b++) for (let c = 0; c < shape[2]; c++) {
        const i = [a, b, c];
        i[dim] += start;
        ref.push(at(i[0], i[1], i[2]));
      }
      expectClose(await ctx.readF32(out), ref, { label: `slice dim ${dim}` });
      // concat([x, slice]) along the same dim
      const cshape = [A, B, C];
      cshape[dim] += len;
      const cat = ctx.tensor('f32', cshape);
      ctx.run(concat(ctx, [tx, out], cat, dim));
      const got = await ctx.readF32(cat);
      const cref: number[] = [];
      for (let a = 0; a < cshape[0]; a++) for (let b = 0; b < cshape[1]; b++) for (let c = 0; c < cshape[2]; c++) {
        const i = [a, b, c];
        if (i[dim] < [A, B, C][dim]) cref.push(at(a, b, c));
        else {
          i[dim] = i[dim] - [A, B, C][dim] + start;
          cref.push(at(i[0], i[1], i[2]));
        }
      }
      expectClose(got, cref, { label: `concat dim ${dim}` });
    }
    const t = ctx.tensor('f32', [C, A, B]);
    ctx.run([transpose(ctx, tx, t, [2, 0, 1])]);
    const tref: number[] = [];
    for (let c = 0; c < C; c++) for (let a = 0; a < A; a++) for (let b = 0; b < B; b++) tref.push(at(a, b, c));
    expectClose(await ctx.readF32(t), tref, { label: 'transpose 3-D' });
    const m = ctx.upload(x.subarray(0, 14 * 37), 'f32', [14, 37]), mt = ctx.tensor('f32', [37, 14]);
    ctx.run([transpose(ctx, m, mt, [1, 0])]);
    expectClose(await ctx.readF32(mt), Array.from({ length: 37 * 14 }, (_, i) => x[(i % 14) * 37 + Math.floor(i / 14)]), { label: 'transpose 2-D' });
    // Element offsets on both sides (sub-views that are not 256-byte aligned): 5 elements from 3 → 11.
    const d = ctx.tensor('f32', [20]);
    ctx.run([copyStrided(ctx, { src: tx, dst: d, shape: [5], srcStrides: [2], dstStrides: [1], srcOffset: 3, dstOffset: 11 })]);
    const dref = new Array(20).fill(0);
    for (let i = 0; i < 5; i++) dref[11 + i] = x[3 + 2 * i];
    expectClose(await ctx.readF32(d), dref, { label: 'strided copy' });
    const one = ctx.tensor('f32', [A * B * C]);
    ctx.run([copy(ctx, tx, one)]);
    expectClose(await ctx.readF32(one), x, { label: 'copy' });
    expect(() => slice(ctx, tx, ctx.tensor('f32', [A, B, 10]), 2, 60)).toThrow(ShapeMismatchError);
    expect(() => copyStrided(ctx, { src: tx, dst: d, shape: [30] })).toThrow(ShapeMismatchError);
  });
});

describe('elementwise activations and broadcast add', () => {
  it('silu / gelu_tanh / mish / leaky_relu over a wide range (incl. ±100)', async () => {
    const ctx = await testContext();
    const x = new SeededRng(9).f32(3001, -12, 12);
    x.set([-100, 100, 0, -0, 30, -30, 1e-8], 0);
    const tx = ctx.upload(x, 'f32', [x.length]);
    for (const act of ['silu', 'gelu_tanh', 'mish', 'leaky_relu'] as Activation[]) {
      const out = ctx.tensor('f32', [x.length]);
      ctx.run([activation(ctx, act, tx, out, 0.2)]);
      // f32 transcendental functions: a few ulp relative plus a tiny absolute floor near 0.
      expectClose(await ctx.readF32(out), Float64Array.from(x, (v) => actRef(act, v, 0.2)), { atol: 1e-6, rtol: 2e-6 * 8, label: act });
    }
  });
  it.each([[7, 896], [1, 1], [300, 64]])('add/mul broadcast of a [D] row over [T=%i, D=%i]', async (T, D) => {
    const ctx = await testContext();
    const rng = new SeededRng(T * D);
    const a = rng.f32(T * D), b = rng.f32(D);
    const ta = ctx.upload(a, 'f32', [T, D]), tb = ctx.upload(b, 'f32', [D]);
    const s = ctx.tensor('f32', [T, D]), m = ctx.tensor('f32', [T, D]);
    ctx.run([binary(ctx, 'add', ta, tb, s), binary(ctx, 'mul', ta, tb, m)]);
    expectClose(await ctx.readF32(s), Float64Array.from(a, (v, i) => v + b[i % D]), { atol: 1e-6, label: 'add bcast' });
    expectClose(await ctx.readF32(m), Float64Array.from(a, (v, i) => Math.fround(v * b[i % D])), { atol: 0, label: 'mul bcast' });
    expect(() => binary(ctx, 'add', ta, ctx.tensor('f32', [D + 1]), s)).toThrow(ShapeMismatchError);
  });
});

describe('chunked embedding gather', () => {
  it('a table split into 3 row chunks (f16 and f32 mixed) gives the whole-table result', async () => {
    const { gatherChunked } = await import('../../kernels/gather.js');
    const ctx = await testContext();
    const [V, D, T] = [103, 40, 25];
    const rng = new SeededRng(77);
    const table = rng.f32(V * D);
    const ids = Int32Array.from({ length: T }, (_, t) => (t === 0 ? V + 5 : t === 1 ? -3 : rng.int(V)));
    const cut = [0, 40, 90, V];
    const chunks = [0, 1, 2].map((i) => {
      const rows = table.subarray(cut[i] * D, cut[i + 1] * D);
      const shape: [number, number] = [cut[i + 1] - cut[i], D];
      return { table: i === 1 ? packWeightF16(ctx, rows, shape) : ctx.upload(rows, 'f32', shape), idOffset: cut[i] };
    });
    const out = ctx.upload(new Float32Array(T * D).fill(7), 'f32', [T, D]); // stale contents must be overwritten
    ctx.run(gatherChunked(ctx, chunks, ctx.upload(ids, 'i32', [T]), out));
    const ref = new Float64Array(T * D);
    ids.forEach((id, t) => {
      if (id < 0 || id >= V) return;
      for (let d = 0; d < D; d++) ref[t * D + d] = id >= 40 && id < 90 ? roundToF16([table[id * D + d]])[0] : table[id * D + d];
    });
    expectClose(await ctx.readF32(out), ref, { label: 'chunked gather' });
  });
});

describe('elementwise: several elements per thread on large inputs', () => {
  it('silu and broadcast add over 1.2M elements (the grid-stride path) match float64', async () => {
    const ctx = await testContext();
    const [T, D] = [1201, 1024];
    const rng = new SeededRng(1201);
    const a = rng.f32(T * D, -6, 6), b = rng.f32(D);
    const ta = ctx.upload(a, 'f32', [T, D]), tb = ctx.upload(b, 'f32', [D]);
    const s = ctx.tensor('f32', [T, D]), y = ctx.tensor('f32', [T, D]);
    ctx.run([binary(ctx, 'add', ta, tb, s), activation(ctx, 'silu', ta, y)]);
    expectClose(await ctx.readF32(s), Float64Array.from(a, (v, i) => v + b[i % D]), { atol: 1e-6, label: 'add bcast 1.2M' });
    expectClose(await ctx.readF32(y), Float64Array.from(a, (v) => actRef('silu', v)), { atol: 1e-6, rtol: 2e-6 * 8, label: 'silu 1.2M' });
  });
});

describe('copy: several elements per thread on large inputs', () => {
  it('transposes a [1024, 1200] matrix (the grid-stride path) exactly', async () => {
    const ctx = await testContext();
    const [R, C] = [1024, 1200];
    const x = new SeededRng(12).f32(R * C);
    const out = ctx.tensor('f32', [C, R]);
    ctx.run([transpose(ctx, ctx.upload(x, 'f32', [R, C]), out, [1, 0])]);
    const got = await ctx.readF32(out);
    const ref = new Float32Array(R * C);
    for (let r = 0; r < R; r++) for (let c = 0; c < C; c++) ref[c * R + r] = x[r * C + c];
    expectClose(got, ref, { label: 'transpose 1024x1200' });
  });
});

describe('vec4 forms of the elementwise and copy kernels', () => {
  it('elementwise: the vec4 form (n, D multiples of 4) and the scalar form agree bit for bit', async () => {
    const ctx = await testContext();
    const rng = new SeededRng(404);
    const x = rng.f32(4001, -12, 12), b = rng.f32(8);
    const scalarIn = ctx.upload(x, 'f32', [x.length]), vecIn = ctx.upload(x.subarray(0, 4000), 'f32', [500, 8]);
    for (const act of ['silu', 'gelu_tanh', 'mish', 'leaky_relu'] as Activation[]) {
      const ys = ctx.tensor('f32', [x.length]), yv = ctx.tensor('f32', [500, 8]);
      const rv = activation(ctx, act, vecIn, yv, 0.2);
      const rs = activation(ctx, act, scalarIn, ys, 0.2);
      expect(rv.label).toMatch(/VEC/);
      expect(rs.label).not.toMatch(/VEC/);
      ctx.run([rv, rs]);
      const [gv, gs] = [await ctx.readF32(yv), await ctx.readF32(ys)];
      expectClose(gv, gs.subarray(0, 4000), { atol: 0, rtol: 0, label: `${act} vec4 vs scalar` });
      expectClose(gs, Float64Array.from(x, (v) => actRef(act, v, 0.2)), { atol: 1e-6, rtol: 2e-6 * 8, label: `${act} scalar` });
    }
    // Broadcast: D = 8 (vec4) against D = 6 over the same 48 elements laid out [6, 8] and [8, 6] (scalar).
    const a = x.subarray(0, 48);
    const ta = ctx.upload(a, 'f32', [6, 8]), ta6 = ctx.upload(a, 'f32', [8, 6]);
    const tb8 = ctx.upload(b, 'f32', [8]), tb6 = ctx.upload(b.subarray(0, 6), 'f32', [6]);
    const s8 = ctx.tensor('f32', [6, 8]), s6 = ctx.tensor('f32', [8, 6]);
    const r8 = binary(ctx, 'mul', ta, tb8, s8), r6 = binary(ctx, 'mul', ta6, tb6, s6);
    expect(r8.label).toMatch(/VEC/);
    expect(r6.label).not.toMatch(/VEC/);
    ctx.run([r8, r6]);
    expectClose(await ctx.readF32(s8), Float64Array.from(a, (v, i) => Math.fround(v * b[i % 8])), { atol: 0, label: 'mul bcast D=8 (vec4)' });
    expectClose(await ctx.readF32(s6), Float64Array.from(a, (v, i) => Math.fround(v * b[i % 6])), { atol: 0, label: 'mul bcast D=6 (scalar)' });
  });

  it('copy: vec4 where the inner dim and every offset and stride allow it, scalar otherwise, same result', async () => {
    const ctx = await testContext();
    const [A, B, C] = [3, 10, 12];
    const x = new SeededRng(505).f32(A * B * C);
    const tx = ctx.upload(x, 'f32', [A, B, C]);
    const at = (a: number, b: number, c: number) => x[(a * B + b) * C + c];
    // [shape, srcStrides, srcOffset, expect vec4]: rows 2..5 of each block; the same starting one element in;
    // an inner length of 6; an odd stride on a length-1 dim (never used, still vec4).
    const cases: [number[], number[], number, boolean][] = [
      [[A, 4, C], [B * C, C, 1], 2 * C, true],
      [[A, 4, C], [B * C, C, 1], 2 * C + 1, false],
      [[A, 4, 6], [B * C, C, 1], 2 * C, false],
      [[1, A, 4, C], [7, B * C, C, 1], 2 * C, true],
    ];
    for (const [shape, srcStrides, srcOffset, vec] of cases) {
      const n = shape.reduce((p, v) => p * v, 1);
      const d = ctx.tensor('f32', [n]);
      const dstStrides = shape.map((_, i) => shape.slice(i + 1).reduce((p, v) => p * v, 1));
      const rec = copyStrided(ctx, { src: tx, dst: d, shape, srcStrides, dstStrides, srcOffset });
      expect(rec.label.includes('VEC')).toBe(vec);
      ctx.run([rec]);
      const ref: number[] = [];
      const [s0, s1, s2] = shape.slice(-3), [t0, t1] = srcStrides.slice(-3);
      for (let i = 0; i < s0; i++) for (let j = 0; j < s1; j++) for (let k = 0; k < s2; k++) {
        const flat = srcOffset + i * t0 + j * t1 + k;
        ref.push(at(Math.floor(flat / (B * C)), Math.floor(flat / C) % B, flat % C));
      }
      expectClose(await ctx.readF32(d), ref, { atol: 0, label: `copy [${shape}] offset ${srcOffset}` });
    }
  });
});
