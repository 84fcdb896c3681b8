/**
 * The sampler's top-k + log-sum-exp kernel (kernels/sample.ts topK, shaders/sample.wgsl) against a float64
 * reference, for both forms (radix select and k rounds): every output word checked, and the two forms' words
 * compared with each other.
 */
import { describe, expect, it } from 'vitest';
import { decodeTopK, topK, topKWords, type SampleTopKImpl } from '../../kernels/sample.js';
import { ShapeMismatchError } from '../../src/gpu/errors.js';
import { expectClose } from '../helpers/compare.js';
import { testContext } from '../helpers/gpu.js';
import { SeededRng } from '../helpers/rng.js';

type Gen = (rng: SeededRng, V: number) => Float32Array;
const fill = (n: number, f: (i: number) => number) => Float32Array.from({ length: n }, (_, i) => f(i));
/** Logit-like, with 40 copied values and the 4th largest copied onto the 6th: ties inside the top. */
const copied: Gen = (rng, V) => {
  const x = rng.normalF32(V, 3);
  for (let i = 0; i < 40; i++) x[rng.int(V)] = x[rng.int(V)];
  const sorted = [...Array(V).keys()].sort((a, b) => x[b] - x[a] || a - b);
  x[sorted[Math.min(5, V - 1)]] = x[sorted[Math.min(3, V - 1)]];
  return x;
};
/** 10 clear winners, then 200 copies of 4.0 for the remaining places: a run of ties across the k-th. */
const straddle: Gen = (rng, V) => {
  const x = fill(V, () => rng.uniform(-3, 3));
  for (let i = 0; i < 200; i++) x[rng.int(V)] = 4;
  for (let i = 0; i < 10; i++) x[rng.int(V)] = 5 + i;
  return x;
};
/** A few levels only: long tie runs everywhere. */
const levels: Gen = (rng, V) => fill(V, () => Math.round(rng.normal() * 2) / 2);
/** NaNs among the largest values (and the largest itself), which must be skipped. */
const nans: Gen = (rng, V) => {
  const x = rng.normalF32(V, 3);
  const sorted = [...Array(V).keys()].sort((a, b) => x[b] - x[a] || a - b);
  for (const j of [0, 2, 7, 11]) x[sorted[j]] = NaN;
  for (let i = 0; i < 30; i++) x[rng.int(V)] = NaN;
  return x;
};
/** 5 numbers among NaNs: fewer than k, so the tail is filled. */
const sparse: Gen = (rng, V) => fill(V, (i) => (i % 23 === 4 && i < 5 * 23 ? rng.uniform(-5, 5) : NaN));
/** ±0 (equal, ordered by id; each keeps its own sign bit) straddling the k-th place. */
const zeros: Gen = (rng, V) => fill(V, () => (rng.next() < 0.01 ? 0.5 : [0, -0, -0, 0, -1, -2.5, -1e-20][rng.int(7)]));
/** ±inf, ±max, subnormals, ±0: −inf is a value and may be picked. */
const magnitudes: Gen = (rng, V) =>
  fill(V, () => {
    const special = [3.4028234663852886e38, -3.4028234663852886e38, Infinity, -Infinity, 1e-45, -1e-45, 0, -0];
    if (rng.next() < 0.3) return special[rng.int(special.length)];
    return (rng.next() < 0.5 ? -1 : 1) * 2 ** rng.uniform(-149, 128);
  });
/** Mostly −inf (a masked vocabulary): fewer than k finite logits, then −inf by id. */
const masked: Gen = (rng, V) => fill(V, (i) => (i % 97 === 0 ? rng.normal() : -Infinity));

// V, k, S, data. The decode shape (6761, k = 26, S = 6561), k = 1, k = 64 (the radix maximum), k = V (the wrapper's
// maximum, the rounds form), V = 1, and a row longer than the radix keeps in registers (32·256 columns).
const CASES: [string, number, number, number, Gen][] = [
  ['logits', 6761, 26, 6561, (rng, V) => rng.normalF32(V, 3)],
  ['copied', 6761, 26, 6561, copied],
  ['copied', 300, 26, 100, copied],
  ['copied', 30, 30, 3, copied],
  ['copied', 6761, 1, 6561, copied],
  ['copied', 6761, 64, 6561, copied],
  ['copied', 9000, 26, 8999, copied],
  ['straddle', 6761, 26, 6561, straddle],
  ['levels', 6761, 64, 0, levels],
  ['levels', 100, 100, 50, levels],
  ['NaN', 6761, 26, 6561, nans],
  ['fewer than k', 200, 26, 4, sparse],
  ['signed zeros', 1000, 40, 1, zeros],
  ['magnitudes', 1000, 64, 7, magnitudes],
  ['masked', 1000, 26, 0, masked],
  ['all equal', 6761, 64, 6561, (_, V) => new Float32Array(V).fill(1.5)],
  ['all equal', 100, 7, 99, (_, V) => new Float32Array(V).fill(-2)],
  ['single', 1, 1, 0, (rng, V) => rng.normalF32(V)],
];
const IMPLS: SampleTopKImpl[] = ['radix', 'rounds'];
const LOWEST_BITS = 0xff7fffff;

/** Float64 reference words: (value desc, id asc) with NaN dropped, the tail (lowest f32, 0xffffffff). */
function reference(row: Float32Array, k: number): { bits: number[]; ids: number[]; lse: number } {
  const b32 = new Uint32Array(row.buffer, row.byteOffset, row.length);
  const order = [...row.keys()].filter((c) => !Number.isNaN(row[c]));
  // Comparisons, not differences: inf − inf is NaN. −0 == +0 here, so the id decides between them.
  order.sort((a, b) => (row[a] > row[b] ? -1 : row[a] < row[b] ? 1 : a - b));
  const bits: number[] = [], ids: number[] = [];
  for (let j = 0; j < k; j++) {
    bits.push(j < order.length ? b32[order[j]] : LOWEST_BITS);
    ids.push(j < order.length ? order[j] : 0xffffffff);
  }
  let m = -Infinity;
  for (const v of row) m = Math.max(m, v);
  let s = 0;
  for (const v of row) s += Math.exp(v - m);
  return { bits, ids, lse: m + Math.log(s) };
}

describe('sampler top-k + log-sum-exp against float64', () => {
  const cases = CASES.flatMap(([what, V, k, S, gen]) => IMPLS.filter((m) => m === 'rounds' || k <= 64).map((m) => [what, V, k, S, m, gen] as const));
  it.each(cases)('%s V=%i k=%i S=%i (%s)', async (_what, V, k, S, impl, gen) => {
    const ctx = await testContext();
    const rng = new SeededRng(V * 31 + k);
    // Row 1 of 2 is sampled; row 0 holds larger values that must not leak in.
    const x = new Float32Array(2 * V).fill(1e30);
    x.set(gen(rng, V), V);
    const row = x.subarray(V);
    const tx = ctx.upload(x, 'f32', [2, V]), out = ctx.tensor('u32', [topKWords(k)]);
    ctx.write(out.buffer, 0, new Uint32Array(topKWords(k)).fill(0x12345678));
    ctx.run([topK(ctx, { logits: tx, row: 1, k, s: S, out, impl })]);
    const words = await ctx.readBytes(out.buffer);
    const u = new Uint32Array(words);
    const want = reference(row, k);
    const label = `sample topk ${impl} V=${V} k=${k}`;
    expectClose(u.subarray(k, 2 * k), want.ids, { label: `${label} ids` });
    // Bit patterns: exact, and −0 must come back as −0 (it is x[id], not a computed value).
    expectClose(u.subarray(0, k), want.bits, { label: `${label} value bits` });
    expect(u[2 * k + 1]).toBe(new Uint32Array(row.buffer, row.byteOffset + 4 * S, 1)[0]);
    const r = decodeTopK(words, k);
    // The f32 log-sum-exp of a finite row (a NaN or inf one gives NaN or inf, not checked here).
    if (row.every(Number.isFinite)) expect(Math.abs(r.logSumExp - want.lse)).toBeLessThan(2e-5 * Math.max(1, Math.abs(want.lse)));
    // The other form writes the same words, the log-sum-exp included (one shared routine).
    if (k <= 64) {
      const other = ctx.tensor('u32', [topKWords(k)]);
      ctx.run([topK(ctx, { logits: tx, row: 1, k, s: S, out: other, impl: impl === 'radix' ? 'rounds' : 'radix' })]);
      expect(Array.from(new Uint32Array(await ctx.readBytes(other.buffer)))).toEqual(Array.from(u));
      other.buffer.destroy();
    }
    [tx, out].forEach((t) => t.buffer.destroy());
  });

  it('defaults to radix up to k = 64, rounds above; radix refuses k > 64', async () => {
    const ctx = await testContext();
    const x = ctx.tensor('f32', [1, 100]);
    const o64 = ctx.tensor('u32', [topKWords(64)]), o65 = ctx.tensor('u32', [topKWords(65)]);
    expect(topK(ctx, { logits: x, k: 64, s: 0, out: o64 }).label).toMatch(/sample_topk_PT1/);
    expect(topK(ctx, { logits: x, k: 65, s: 0, out: o65 }).label).toMatch(/sample_topk_rounds/);
    expect(() => topK(ctx, { logits: x, k: 65, s: 0, out: o65, impl: 'radix' })).toThrow(ShapeMismatchError);
    expect(() => topK(ctx, { logits: x, k: 0, s: 0, out: ctx.tensor('u32', [2]) })).toThrow(ShapeMismatchError);
  });
});
