import { describe, expect, it } from 'vitest';
import { topk, type TopkImpl } from '../../kernels/topk.js';
import { ShapeMismatchError } from '../../src/gpu/errors.js';
import { expectClose } from '../helpers/compare.js';
import { testContext } from '../helpers/gpu.js';
import { SeededRng } from '../helpers/rng.js';

/** Every form, each checked against the same reference: both entries, and the radix one at its largest workgroup. */
const IMPLS: { name: string; impl: TopkImpl; wg?: number }[] = [
  { name: 'rounds', impl: 'rounds' },
  { name: 'radix', impl: 'radix' },
  { name: 'radix wg1024', impl: 'radix', wg: 1024 },
];

type Gen = (rng: SeededRng, rows: number, cols: number) => Float32Array;
const fill = (n: number, f: (i: number) => number) => Float32Array.from({ length: n }, (_, i) => f(i));
const logits: Gen = (rng, rows, cols) => {
  const x = rng.normalF32(rows * cols, 3);
  x[Math.min(5, cols - 1)] = NaN; // skipped
  return x;
};
/** A few levels only, so runs of exact ties straddle the k-th position and the index decides. */
const levels: Gen = (rng, rows, cols) => fill(rows * cols, () => Math.round(rng.normal() * 2) / 2);
/** 10 clear winners, then 200 copies of 4.0 at random columns for the remaining 15 places: smallest indices win. */
const straddle: Gen = (rng, rows, cols) => {
  const x = fill(rows * cols, () => rng.uniform(-3, 3));
  for (let i = 0; i < 200; i++) x[rng.int(x.length)] = 4;
  for (let i = 0; i < 10; i++) x[rng.int(x.length)] = 5 + i;
  return x;
};
const halfNaN: Gen = (rng, rows, cols) => fill(rows * cols, () => (rng.next() < 0.5 ? NaN : rng.uniform(-1, 1)));
/** Row 0: 5 numbers, row 1: none, row 2: exactly 20 (= k) — fewer than k non-NaN elements leave a tail. */
const sparse: Gen = (rng, rows, cols) =>
  fill(rows * cols, (i) => {
    const [r, c] = [Math.floor(i / cols), i % cols];
    return (r === 0 && c % 10 === 3) || (r === 2 && c >= 30) ? rng.uniform(-5, 5) : NaN;
  });
/** ±0 (equal values, ordered by index) among negatives and a few positives; the zeros straddle the k-th place. */
const zeros: Gen = (rng, rows, cols) => fill(rows * cols, () => (rng.next() < 0.05 ? 0.5 : [0, -0, -0, 0, -1, -2.5, -1e-20][rng.int(7)]));
/** The full f32 range: huge, tiny normal, subnormal, ±inf, ±0. */
const magnitudes: Gen = (rng, rows, cols) =>
  fill(rows * cols, () => {
    const special = [3.4028234663852886e38, -3.4028234663852886e38, Infinity, -Infinity, 1e-45, -1e-45, 1e-40, 1.1754943508222875e-38, 0, -0];
    if (rng.next() < 0.3) return special[rng.int(special.length)];
    return (rng.next() < 0.5 ? -1 : 1) * 2 ** rng.uniform(-149, 128);
  });

// rows, cols, k, data. Includes the sampling shapes (1×6761, k = 25 and 64), length-1 rows, k > cols, many rows,
// and rows longer than the radix entry keeps in registers (32·WG columns), which it re-reads from x.
const CASES: [string, number, number, number, Gen][] = [
  ['logits', 1, 6761, 25, logits],
  ['logits', 1, 6761, 64, logits],
  ['logits', 3, 1000, 1, logits],
  ['logits', 2, 7, 5, logits],
  ['logits', 1000, 50, 5, logits],
  ['logits', 1, 40000, 64, logits],
  ['logits', 1, 1, 1, logits],
  ['logits', 2, 1, 3, logits],
  ['levels', 2, 6761, 64, levels],
  ['levels', 4, 300, 17, levels],
  ['straddle', 1, 6761, 25, straddle],
  ['all equal', 1, 6761, 64, (_, r, c) => new Float32Array(r * c).fill(1.5)],
  ['all equal', 3, 100, 7, (_, r, c) => new Float32Array(r * c).fill(-2)],
  ['all equal', 1, 70000, 5, (_, r, c) => new Float32Array(r * c).fill(7)], // 17 index bits: 3 index passes
  ['half NaN', 2, 500, 30, halfNaN],
  ['fewer than k', 3, 50, 20, sparse],
  ['signed zeros', 2, 257, 40, zeros],
  ['magnitudes', 2, 1000, 64, magnitudes],
];

/** Float64 reference: indices sorted by (value desc, index asc) with NaN dropped; the tail is (−3.4028235e38, −1). */
function reference(x: Float32Array, rows: number, cols: number, k: number): { idx: number[]; bits: number[] } {
  const idx: number[] = [], bits: number[] = [];
  const b32 = new Uint32Array(x.buffer, x.byteOffset, x.length);
  for (let r = 0; r < rows; r++) {
    const v = (c: number) => x[r * cols + c];
    const order = [...Array(cols).keys()].filter((c) => !Number.isNaN(v(c)));
    // Comparisons, not differences: inf − inf is NaN. −0 == +0 here, so the index decides between them.
    order.sort((a, b) => (v(a) > v(b) ? -1 : v(a) < v(b) ? 1 : a - b));
    for (let j = 0; j < k; j++) {
      idx.push(j < order.length ? order[j] : -1);
      bits.push(j < order.length ? b32[r * cols + order[j]] : 0xff7fffff);
    }
  }
  return { idx, bits };
}

describe('top-k over logit rows against a float64 reference', () => {
  const cases = CASES.flatMap(([what, rows, cols, k, gen]) => IMPLS.map((m) => [what, rows, cols, k, m.name, gen, m] as const));
  it.each(cases)('%s rows=%i cols=%i k=%i (%s)', async (_what, rows, cols, k, _name, gen, m) => {
    const ctx = await testContext();
    if (m.wg && m.wg > ctx.device.limits.maxComputeInvocationsPerWorkgroup) return;
    const x = gen(new SeededRng(rows * 7919 + cols * 31 + k), rows, cols);
    const tx = ctx.upload(x, 'f32', [rows, cols]);
    const tv = ctx.tensor('f32', [rows, k]), ti = ctx.tensor('i32', [rows, k]);
    ctx.run([topk(ctx, { x: tx, k, values: tv, indices: ti, impl: m.impl, wg: m.wg })]);
    const vals = await ctx.readF32(tv), idx = (await ctx.read(ti)) as Int32Array;
    const want = reference(x, rows, cols, k);
    const label = `topk ${m.name} ${rows}x${cols} k=${k}`;
    expectClose(idx, want.idx, { label: `${label} indices` });
    // Values compared as bit patterns: exact, and −0 must come back as −0 (it is x[index], not a computed value).
    expectClose(new Uint32Array(vals.buffer, vals.byteOffset, vals.length), want.bits, { label: `${label} value bits` });
    [tx, tv, ti].forEach((t) => t.buffer.destroy());
  });

  it('rejects k outside [1, 64] and a radix workgroup below 256', async () => {
    const ctx = await testContext();
    const x = ctx.tensor('f32', [1, 100]);
    expect(() => topk(ctx, { x, k: 65, values: ctx.tensor('f32', [1, 65]), indices: ctx.tensor('i32', [1, 65]) })).toThrow(ShapeMismatchError);
    const v = ctx.tensor('f32', [1, 4]), i = ctx.tensor('i32', [1, 4]);
    expect(() => topk(ctx, { x, k: 4, values: v, indices: i, impl: 'radix', wg: 128 })).toThrow(ShapeMismatchError);
  });
});
