/**
 * HiFT's elementwise steps in WebAssembly (kernels/wasm/lib/hift-ops.as.ts through CpuKernels) against their
 * TypeScript references (src/models/cpu/hift-dsp.ts snake, leakyRelu; the residual loops hift.ts ran before), bit
 * for bit, and the convolution on resident tensors against the array call:
 * - Snake over rows of C = 96 (the vector path), 6 and 1 (the scalar tail), in place and not, with α from 1e-3
 *   to 50 and activations up to ±300, so that α·x spans ~10⁴ quarter periods of both parities, and zeros;
 * - LeakyReLU with slopes 0.1 and 0.01 (not f32 values: the product is rounded once from f64), −0 and n odd;
 * - y += a, y += a + b (summed in f64 first), x /= 3;
 * - conv1d with dilation, stride and left padding, resident input and/or output, 1 and 2 threads; stride-1
 *   undilated ones read a resident x in place, its left padding in the zeros before it, with no im2col call;
 * - the refusals (short tensors, a divisor that is not an f32).
 */
import { describe, expect, it } from 'vitest';
import { CpuKernels, CpuTensor } from '../../kernels/cpu-linear.js';
import { packSnakeAlpha } from '../../kernels/conv1d.js';
import { CpuConvs } from '../../src/models/cpu/conv.js';
import { leakyRelu, snake } from '../../src/models/cpu/hift-dsp.js';
import { ShapeMismatchError } from '../../src/gpu/errors.js';
import { SeededRng } from '../helpers/rng.js';
import { firstBitDiff } from '../helpers/compare.js';

const L = 37;

function put(k: CpuKernels, v: Float32Array, name: string): CpuTensor {
  const t = k.resident(v.length, name);
  t.view().set(v);
  return t;
}

function expectBits(got: Float32Array, want: Float32Array, what: string): void {
  const i = firstBitDiff(got, want);
  if (i >= 0) throw new Error(`${what}: first difference at ${i}: ${got[i]} vs ${want[i]} (of ${want.length})`);
}

describe("HiFT's elementwise steps in WebAssembly", () => {
  const rng = new SeededRng(77);

  /** α = packSnakeAlpha's pairs as the resident [2, C] rows. */
  function alphaRows(k: CpuKernels, a: Float32Array): CpuTensor {
    const p = packSnakeAlpha(a), C = a.length;
    return put(k, Float32Array.from({ length: 2 * C }, (_, i) => (i < C ? p[2 * i] : p[2 * (i - C) + 1])), 'alpha');
  }

  it('Snake: the TypeScript reference bit for bit (vector and tail channels, in place and not)', async () => {
    const k = await CpuKernels.create({ threads: 1 });
    for (const C of [96, 6, 1]) {
      const a = Float32Array.from({ length: C }, (_, c) => [1e-3, 0.37, 1, 7.5, 50][c % 5] * (1 + 0.1 * rng.f32(1)[0]));
      const x = Float32Array.from({ length: L * C }, (_, i) => (i % 11 === 0 ? 0 : rng.normalF32(1, i % 3 === 0 ? 300 : 2)[0]));
      const want = snake(x, packSnakeAlpha(a), L, C, new Float32Array(L * C));
      const al = alphaRows(k, a);
      const xt = put(k, x, 'x'), yt = k.resident(L * C, 'y');
      k.snake(xt, yt, L, C, al);
      expectBits(yt.view(), want, `snake C=${C}`);
      expectBits(xt.view(), x, `snake C=${C} left its input`);
      k.snake(xt, xt, L, C, al);
      expectBits(xt.view(), want, `snake C=${C} in place`);
    }
  });

  it('LeakyReLU and the residual sums: the TypeScript loops bit for bit', async () => {
    const k = await CpuKernels.create({ threads: 1 });
    const n = 4 * 25 + 3;
    const x = rng.normalF32(n, 3);
    x[5] = -0;
    x[6] = 0;
    for (const slope of [0.1, 0.01]) {
      const want = leakyRelu(x, n, slope, new Float32Array(n));
      const yt = k.resident(n, 'y');
      k.leakyRelu(put(k, x, 'x'), yt, n, slope);
      expectBits(yt.view(), want, `leakyRelu ${slope}`);
    }
    const a = rng.normalF32(n, 1), b = rng.normalF32(n, 1e-4);
    const y1 = x.slice(), y2 = x.slice(), y3 = x.slice();
    for (let i = 0; i < n; i++) y1[i] += a[i];
    for (let i = 0; i < n; i++) y2[i] += a[i] + b[i];
    for (let i = 0; i < n; i++) y3[i] /= 3;
    const t1 = put(k, x, 't1'), t2 = put(k, x, 't2'), t3 = put(k, x, 't3');
    k.addInto(t1, put(k, a, 'a'), n);
    k.addInto(t2, put(k, a, 'a'), n, put(k, b, 'b'));
    k.divideBy(t3, n, 3);
    expectBits(t1.view(), y1, 'y += a');
    expectBits(t2.view(), y2, 'y += a + b');
    expectBits(t3.view(), y3, 'x /= 3');
  });

  for (const threads of [1, 2]) {
    it(`conv1d on resident tensors gives the array call's bits (${threads} thread(s))`, async () => {
      const k = await CpuKernels.create({ threads });
      const convs = new CpuConvs(k);
      for (const [cin, cout, ks, g] of [
        [64, 96, 7, { dilation: 3, padLeft: 18 }],
        [18, 64, 5, { stride: 3, padLeft: 2 }],
        [96, 128, 3, { padLeft: 2 }],
      ] as const) {
        const lin = 301;
        const w = convs.weight(rng.normalF32(cout * cin * ks, 0.1), rng.f32(cout), cout, cin, ks, `conv ${cin}→${cout}`);
        const lout = Math.floor((lin + g.padLeft - (ks - 1) * ('dilation' in g ? g.dilation : 1) - 1) / ('stride' in g ? g.stride : 1)) + 1;
        const x = rng.normalF32(lin * cin, 1);
        const want = convs.run(w, x, lin, new Float32Array(lout * cout), lout, g);
        const xt = put(k, x, 'x');
        const yt = k.resident(lout * cout + 3, 'y');
        convs.run(w, xt, lin, yt, lout, g);
        expectBits(yt.view().subarray(0, lout * cout), want, `${w.name} resident in and out`);
        expect(Array.from(yt.view().subarray(lout * cout)), 'past the output').toEqual([0, 0, 0]);
        expectBits(convs.run(w, xt, lin, new Float32Array(lout * cout), lout, g), want, `${w.name} resident in`);
        expectBits(convs.run(w, x, lin, k.resident(lout * cout, 'y2'), lout, g).view(), want, `${w.name} resident out`);
      }
    });
  }

  for (const threads of [1, 2]) {
    it(`stride-1 undilated conv1d reads resident x in place with its padding in x's zeros: the im2col call's bits (${threads} thread(s))`, async () => {
      const k = await CpuKernels.create({ threads });
      // Count the im2col calls: the in-place path makes none.
      const e = (k as unknown as { e: { im2col: (...a: number[]) => void } }).e;
      let im2col = 0;
      (k as unknown as { e: unknown }).e = { ...e, im2col: (...a: number[]) => (im2col++, e.im2col(...a)) };
      const convs = new CpuConvs(k);
      const lin = 203, cin = 64, cout = 72;
      for (const [ks, pad] of [[11, 10], [3, 2], [7, 3], [1, 0]] as const) {
        const w = convs.weight(rng.normalF32(cout * cin * ks, 0.1), rng.f32(cout), cout, cin, ks, `k${ks}`);
        const lout = lin + pad - ks + 1;
        const x = rng.normalF32(lin * cin, 1);
        const want = convs.run(w, x, lin, new Float32Array(lout * cout), lout, { padLeft: pad });
        const xt = k.resident(lin * cin, 'x', 10 * cin);
        xt.view().set(x);
        const yt = k.resident(lout * cout, 'y', 8);
        const before = im2col;
        convs.run(w, xt, lin, yt, lout, { padLeft: pad });
        expect(im2col - before, `k${ks}: im2col calls`).toBe(0);
        expectBits(yt.view(), want, `k${ks} pad ${pad} in place`);
        expectBits(convs.run(w, xt, lin, new Float32Array(lout * cout), lout, { padLeft: pad }), want, `k${ks} in place, host out`);
        // Too few zeros before x, or a dilation: im2col rows as before, same bits.
        const short = k.resident(lin * cin, 'x short', 4);
        short.view().set(x);
        const n0 = im2col;
        if (pad) expectBits(convs.run(w, short, lin, new Float32Array(lout * cout), lout, { padLeft: pad }), want, `k${ks} with im2col`);
        if (pad) expect(im2col).toBeGreaterThan(n0);
      }
      expect(im2col).toBeGreaterThan(0);
    });
  }

  it('refuses short tensors and a divisor that is not an f32', async () => {
    const k = await CpuKernels.create({ threads: 1 });
    const x = k.resident(L * 8, 'x');
    expect(() => k.snake(x, x, L, 8, k.resident(15, 'alpha'))).toThrow(ShapeMismatchError);
    expect(() => k.snake(x, k.resident(L * 8 - 1, 'y'), L, 8, k.resident(16, 'alpha'))).toThrow(/y holds 295 values, 296 needed/);
    expect(() => k.addInto(x, k.resident(10, 'a'), L * 8)).toThrow(ShapeMismatchError);
    expect(() => k.divideBy(x, L * 8, 0.1)).toThrow(/not a non-zero f32/);
    const other = await CpuKernels.create({ threads: 1 });
    expect(() => k.leakyRelu(other.resident(4, 'x'), x, 4, 0.1)).toThrow(/another CpuKernels/);
    const convs = new CpuConvs(k);
    const w = convs.weight(new Float32Array(4 * 2 * 3), undefined, 4, 2, 3, 'w');
    expect(() => convs.run(w, k.resident(9, 'x'), 5, k.resident(20, 'y'), 5)).toThrow(/x holds 9 values, \[5, 2\] expected/);
  });
});
