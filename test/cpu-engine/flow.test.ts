import { describe, expect, it } from 'vitest';
import { CpuKernels } from '../../kernels/cpu-linear.js';
import { CpuConvPos } from '../../src/models/cpu/dit-conv.js';
import { mish } from '../../src/models/cpu/dit-ops.js';
import { FlowWeightError } from '../../src/models/flow/errors.js';
import { EST, FlowTensorReader } from '../../src/models/flow/weights.js';
import { verifyKinds } from './helpers.js';

function random(n: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('wasm engine: flow pieces against direct loops', () => {
  it('conv-pos (grouped causal conv as im2col GEMMs + Mish + residual) matches the direct convolution', async () => {
    const [B, T, C, cpg, KS] = [2, 9, 8, 4, 5];
    const w = random(C * cpg * KS, 1), bias = random(C, 2), x = random(B * T * C, 3), res = random(B * T * C, 4);
    const conv = new CpuConvPos(await CpuKernels.create(), w, bias, C, cpg, KS, 'test');
    const y = new Float32Array(B * T * C);
    conv.run(x, B, T, y, res);
    const ref = new Float32Array(B * T * C);
    for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) for (let o = 0; o < C; o++) {
      let acc = bias[o];
      const g0 = Math.floor(o / cpg) * cpg;
      for (let i = 0; i < cpg; i++) for (let k = 0; k < KS; k++) {
        const ts = t - (KS - 1) + k;
        if (ts >= 0) acc += w[(o * cpg + i) * KS + k] * x[(b * T + ts) * C + g0 + i];
      }
      ref[(b * T + t) * C + o] = mish(acc) + res[(b * T + t) * C + o];
    }
    expect(maxAbsDiff(y, ref)).toBeLessThan(1e-5);
  });

  /** Direct float64 loops: masked softmax(q·kᵀ/√dh)·v per (b, h, query). */
  function attentionRef(qkv: Float32Array, mask: Float32Array, B: number, T: number, H: number, dh: number, chunk: number): Float32Array {
    const C = H * dh;
    const ref = new Float32Array(B * T * C);
    for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) for (let i = 0; i < T; i++) {
      const lim = chunk > 0 ? Math.min(T, (Math.floor(i / chunk) + 1) * chunk) : T;
      let vis = Array.from({ length: T }, (_, j) => j < lim && mask[b * T + j] > 0.5);
      if (!vis.some(Boolean)) vis = vis.map(() => true);
      const q = (b * T + i) * 3 * C + h * dh;
      const s = vis.map((v, j) => {
        if (!v) return -Infinity;
        let d = 0;
        for (let c = 0; c < dh; c++) d += qkv[q + c] * qkv[(b * T + j) * 3 * C + C + h * dh + c];
        return d / Math.sqrt(dh);
      });
      const mx = Math.max(...s);
      const e = s.map((v) => Math.exp(v - mx));
      const sum = e.reduce((a, v) => a + v, 0);
      for (let c = 0; c < dh; c++) {
        let acc = 0;
        for (let j = 0; j < T; j++) acc += (e[j] / sum) * qkv[(b * T + j) * 3 * C + 2 * C + h * dh + c];
        ref[(b * T + i) * C + h * dh + c] = acc;
      }
    }
    return ref;
  }

  it('attention: chunk mask, key padding, and an all-padded item attending everywhere', async () => {
    const [B, T, H, dh, chunk] = [2, 7, 2, 4, 3];
    const C = H * dh;
    const qkv = random(B * T * 3 * C, 5);
    // Item 0: last two frames padded; item 1: every frame padded (upstream forces such rows to attend to all keys).
    const mask = Float32Array.from({ length: B * T }, (_, m) => (m < T - 2 ? 1 : 0));
    const o = new Float32Array(B * T * C);
    (await CpuKernels.create()).ditAttention(qkv, B, T, H, dh, mask, chunk, o);
    expect(maxAbsDiff(o, attentionRef(qkv, mask, B, T, H, dh, chunk))).toBeLessThan(1e-5);
  });

  it('attention softmax: two visible keys give e^x / (1 + e^x) within 1e-6 relative for x from 0 to −87', async () => {
    // q_i = (2x_i, 0, 0, 0), k_0 = 0, k_1 = e₀: scores 0 and x_i after the 1/√4; v_0 = 0, v_1 = e₀, so o[i, 0] is the
    // second key's probability. Keys 2… are padding. This reads the kernel's exp (a polynomial) almost directly.
    const T = 64, dh = 4, C = dh;
    const xs = Array.from({ length: T }, (_, i) => (-87 * i) / (T - 1));
    const qkv = new Float32Array(T * 3 * C);
    xs.forEach((x, i) => (qkv[i * 3 * C] = 2 * x));
    qkv[1 * 3 * C + C] = 1; // k_1
    qkv[1 * 3 * C + 2 * C] = 1; // v_1
    const mask = Float32Array.from({ length: T }, (_, j) => (j < 2 ? 1 : 0));
    const o = new Float32Array(T * C);
    (await CpuKernels.create({ threads: 1 })).ditAttention(qkv, 1, T, 1, dh, mask, 0, o);
    const worst = Math.max(...xs.map((x, i) => Math.abs(o[i * C] / (Math.exp(Math.fround(x)) / (1 + Math.exp(Math.fround(x)))) - 1)));
    expect(worst).toBeLessThan(1e-6);
  });

  it.each([
    [2, 70, 5, 16, 50],
    [3, 101, 4, 64, 0],
  ])('attention B=%i T=%i heads=%i dh=%i chunk=%i: 1 and 2 threads equal bit for bit and match float64 loops', async (B, T, H, dh, chunk) => {
    const C = H * dh;
    // Scores spread over ±8·scale so that the softmax is not flat; item 0 pads its last 9 frames.
    const qkv = random(B * T * 3 * C, 6).map((v) => v * 3);
    const mask = Float32Array.from({ length: B * T }, (_, m) => (m >= T - 9 && m < T ? 0 : 1));
    const outs: Float32Array[] = [];
    for (const threads of [1, 2]) {
      const k = await CpuKernels.create({ threads });
      outs.push(new Float32Array(B * T * C));
      k.ditAttention(qkv, B, T, H, dh, mask, chunk, outs[outs.length - 1]);
      k.dispose();
    }
    expect(maxAbsDiff(outs[1], outs[0])).toBe(0);
    expect(maxAbsDiff(outs[0], attentionRef(qkv, mask, B, T, H, dh, chunk))).toBeLessThan(2e-5);
  });
});

describe('wasm engine: flow on the tiny official fixtures', () => {
  it('estimator and whole-solve sets pass verify', async () => {
    await verifyKinds(['flow_estimator', 'flow_inference']);
  });
});

describe('FlowTensorReader (the flow loaders of both engines)', () => {
  const rec = (name: string, dims: number[]) => ({ name, dtype: 'float32' as const, dims, bytes: new Uint8Array(4 * dims.reduce((a, b) => a * b, 1)) });
  it('reads estimator names from the estimator store, reports missing and unread names together, refuses a wrong shape', () => {
    const store = new Map([['a', rec('a', [2, 3])], ['stray', rec('stray', [1])]]);
    const est = new Map([[`${EST}w`, rec(`${EST}w`, [4])]]);
    const r = new FlowTensorReader(store, est);
    expect(r.f32('a', [2, 3]).length).toBe(6);
    expect(r.f32(`${EST}w`, [4]).length).toBe(4);
    expect(r.f32('gone', [5]).length).toBe(5);
    expect(() => r.finish()).toThrow(/flow weights missing: gone \[5\]/);
    const r2 = new FlowTensorReader(store, est);
    r2.f32('a', [2, 3]);
    expect(() => r2.finish()).toThrow(new FlowWeightError(`flow weights: unexpected tensors stray, ${EST}w`));
    expect(() => new FlowTensorReader(store).f32('a', [3, 2])).toThrow(/flow weight a: shape \[2,3\], expected \[3,2\]/);
  });
});
