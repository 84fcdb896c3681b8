/**
 * The PyTorch-compatible CPU generator against PyTorch's own streams in ../shared/fixtures/torch-rng:
 * torch.manual_seed(0); torch.rand(1,4096,9) / torch.randn(1,80,15000), torch.manual_seed(1234); torch.randn(7).
 * The contract is bit-exactness (compared as f32 bit patterns); the ulp histogram is printed either way.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES_DIR, readFixtureTensor } from '../helpers/fixtures.js';
import { Mt19937, TorchGenerator, fmaF32, multinomialCdf, multinomialExponential } from '../../src/rng/index.js';

const RNG_DIR = join(FIXTURES_DIR, 'torch-rng');

function ulpReport(label: string, actual: Float32Array, expected: Float32Array) {
  expect(actual.length).toBe(expected.length);
  const a = new Int32Array(actual.buffer, actual.byteOffset, actual.length);
  const e = new Int32Array(expected.buffer, expected.byteOffset, expected.length);
  let mismatches = 0;
  let maxUlp = 0;
  let first = -1;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - e[i]);
    if (d !== 0) {
      mismatches++;
      if (first < 0) first = i;
      maxUlp = Math.max(maxUlp, d);
    }
  }
  console.log(`${label}: ${a.length} values, ${mismatches} differ (max ${maxUlp} ulp)` +
    (first >= 0 ? `, first at ${first}: ${actual[first]} vs ${expected[first]}` : ', bit-exact'));
  return { mismatches, maxUlp };
}

function fixture(name: string): Float32Array {
  const t = readFixtureTensor(join(RNG_DIR, name));
  return t.raw as Float32Array;
}

describe('Mt19937', () => {
  it('matches the reference mt19937 sequence (seed 5489, 10000th output 4123659995)', () => {
    const mt = new Mt19937(5489);
    let v = 0;
    for (let i = 0; i < 10000; i++) v = mt.nextU32();
    expect(v).toBe(4123659995);
  });
});

describe('TorchGenerator vs torch-rng fixtures', () => {
  it('rand seed 0 [1,4096,9] is bit-exact', () => {
    const expected = fixture('rand_seed0_1x4096x9.pb');
    const got = new TorchGenerator(0).rand(expected.length);
    expect(ulpReport('rand seed0 1x4096x9', got, expected).mismatches).toBe(0);
  });

  it('randn seed 0 [1,80,15000] (n ≥ 16 AVX2 path, the flow noise table) is bit-exact and fast', () => {
    const expected = fixture('randn_seed0_1x80x15000.pb');
    const gen = new TorchGenerator(0);
    const t0 = performance.now();
    const got = gen.randn(expected.length);
    const ms = performance.now() - t0;
    console.log(`randn 1.2M values in ${ms.toFixed(1)} ms`);
    expect(ulpReport('randn seed0 1x80x15000', got, expected).mismatches).toBe(0);
  });

  it('randn seed 1234 [7] (n < 16 scalar double path with cached sine) is bit-exact', () => {
    const expected = fixture('randn_seed1234_7.pb');
    const got = new TorchGenerator(1234).randn(7);
    expect(ulpReport('randn seed1234 7', got, expected).mismatches).toBe(0);
  });

  it('randn tail block: n % 16 != 0 redraws the last 16 uniforms (prefix equals the n=16k stream)', () => {
    const a = new TorchGenerator(7).randn(37);
    const b = new TorchGenerator(7).randn(32);
    // The first 21 (= 37 − 16) values come from full blocks computed before the tail is overwritten.
    expect(Array.from(a.subarray(0, 21))).toEqual(Array.from(b.subarray(0, 21)));
    expect(a[36]).not.toBe(b[31]);
  });

  it('manualSeed resets the engine and the cached normal', () => {
    const g = new TorchGenerator(1234);
    const first = g.randn(3);
    g.manualSeed(1234);
    expect(Array.from(g.randn(3))).toEqual(Array.from(first));
  });

  it('the scalar normal_fill variant stays within a few ulp of the AVX2 one', () => {
    const a = new TorchGenerator(0).randn(4096);
    const b = new TorchGenerator(0, { normalKernel: 'scalar' }).randn(4096);
    expect(ulpReport('scalar vs avx2 normal_fill (not a fixture check)', b, a).maxUlp).toBeLessThanOrEqual(8);
  });
});

describe('fmaF32', () => {
  it('is the correctly rounded f32 fused multiply-add on random f32 inputs (vs BigInt-exact reference)', () => {
    const g = new TorchGenerator(3);
    const toRat = (x: number) => {
      // x = m · 2^e exactly, with m an integer.
      const e = Math.floor(Math.log2(Math.abs(x))) - 60;
      return { m: BigInt(Math.round(x / 2 ** e)), e };
    };
    let bad = 0;
    for (let i = 0; i < 20000; i++) {
      const a = Math.fround((g.uniformF32() - 0.5) * 8);
      const b = Math.fround((g.uniformF32() - 0.5) * 8);
      const c = Math.fround((g.uniformF32() - 0.5) * 2 ** (i % 40 - 20));
      if (a === 0 || b === 0 || c === 0) continue;
      const r = fmaF32(a, b, c);
      // Check that no other f32 neighbour is closer to the exact a*b+c (exact via BigInt at a common exponent).
      const A = toRat(a), B = toRat(b), C = toRat(c), R = toRat(r);
      const e = Math.min(A.e + B.e, C.e, R.e) - 2;
      const exact = (A.m * B.m) << BigInt(A.e + B.e - e);
      const sum = exact + (C.m << BigInt(C.e - e));
      const dist = (x: number) => {
        const X = toRat(x);
        const v = X.m << BigInt(X.e - e);
        const d = v - sum;
        return d < 0n ? -d : d;
      };
      const fb = new Float32Array([r]);
      const ib = new Int32Array(fb.buffer);
      ib[0] += 1;
      const up = fb[0];
      ib[0] -= 2;
      const down = fb[0];
      if (dist(up) < dist(r) || dist(down) < dist(r)) bad++;
    }
    expect(bad).toBe(0);
  });
});

describe('multinomial (torch algorithms, no torch fixture)', () => {
  it('both algorithms follow the distribution and are deterministic per seed', () => {
    const p = new Float32Array([0.1, 0.0, 0.6, 0.3]);
    for (const draw of [multinomialExponential, multinomialCdf]) {
      const g = new TorchGenerator(42);
      const counts = [0, 0, 0, 0];
      for (let i = 0; i < 20000; i++) counts[draw(g, p)]++;
      expect(counts[1]).toBe(0);
      expect(Math.abs(counts[2] / 20000 - 0.6)).toBeLessThan(0.02);
      expect(Math.abs(counts[0] / 20000 - 0.1)).toBeLessThan(0.02);
      const g1 = new TorchGenerator(5), g2 = new TorchGenerator(5);
      expect(draw(g1, p)).toBe(draw(g2, p));
    }
  });

  it('rejects negative, NaN and all-zero vectors', () => {
    const g = new TorchGenerator(0);
    expect(() => multinomialExponential(g, new Float32Array([0.5, -1]))).toThrow(/inf, nan or < 0/);
    expect(() => multinomialCdf(g, new Float32Array([0, 0]))).toThrow(/sum of probabilities/);
  });
});
