/**
 * 16 kHz prompt front ends (speech-tokenizer log-mel, CAMPPlus Kaldi fbank) against float64 references written
 * here from the formulas with a direct DFT, plus the shape rules and input limits.
 */
import { describe, expect, it } from 'vitest';
import { SeededRng } from '../helpers/rng.js';
import { AudioInputError, kaldiFbank, melFilterbank, whisperLogMel } from '../../src/audio/index.js';

function dftPower(frame: Float64Array, bins: number): Float64Array {
  const N = frame.length;
  const out = new Float64Array(bins);
  for (let k = 0; k < bins; k++) {
    let sr = 0, si = 0;
    for (let n = 0; n < N; n++) {
      const a = (2 * Math.PI * ((k * n) % N)) / N;
      sr += frame[n] * Math.cos(a);
      si -= frame[n] * Math.sin(a);
    }
    out[k] = sr * sr + si * si;
  }
  return out;
}

function signal(n: number, seed: number): Float32Array {
  const rng = new SeededRng(seed);
  return Float32Array.from({ length: n }, (_, i) => 0.3 * Math.sin((2 * Math.PI * 300 * i) / 16000) + 0.05 * rng.normal());
}

describe('whisperLogMel (speech tokenizer input)', () => {
  it('matches a direct-DFT float64 reference; T = ⌊N/160⌋', () => {
    const x = signal(4000 + 37, 1);
    const got = whisperLogMel(x);
    const T = Math.floor(x.length / 160);
    expect(got.shape).toEqual([128, T]);
    const fb = melFilterbank({ nFft: 400, numMels: 128, sampleRate: 16000, hopSize: 160, winSize: 400, fmin: 0, fmax: null });
    const N = x.length;
    const at = (i: number) => x[i < 0 ? -i : i >= N ? 2 * (N - 1) - i : i];
    const logs = new Float64Array(128 * T);
    for (let t = 0; t < T; t++) {
      const fr = Float64Array.from({ length: 400 }, (_, n) => at(t * 160 + n - 200) * (0.5 - 0.5 * Math.cos((2 * Math.PI * n) / 400)));
      const p = dftPower(fr, 201);
      for (let m = 0; m < 128; m++) {
        let s = 0;
        for (let k = 0; k < 201; k++) s += fb[m * 201 + k] * p[k];
        logs[m * T + t] = Math.log10(Math.max(s, 1e-10));
      }
    }
    const mx = Math.max(...logs);
    let maxAbs = 0;
    for (let i = 0; i < logs.length; i++) maxAbs = Math.max(maxAbs, Math.abs(got.data[i] - (Math.max(logs[i], mx - 8) + 4) / 4));
    console.log(`whisper log-mel [128, ${T}] vs f64 reference: max abs ${maxAbs.toExponential(2)}`);
    expect(maxAbs).toBeLessThan(1e-6);
  });

  it('refuses more than 30 s and too-short input', () => {
    expect(() => whisperLogMel(new Float32Array(16000 * 30 + 1))).toThrow(/at most 30 s/);
    expect(() => whisperLogMel(new Float32Array(100))).toThrow(AudioInputError);
  });
});

describe('kaldiFbank (CAMPPlus input)', () => {
  it('matches a direct-DFT float64 reference of the Kaldi recipe; T = 1 + ⌊(N − 400)/160⌋; mean removed', () => {
    const x = signal(4000 + 99, 2);
    const got = kaldiFbank(x, false);
    const T = 1 + Math.floor((x.length - 400) / 160);
    expect(got.shape).toEqual([T, 80]);
    const mel = (f: number) => 1127 * Math.log(1 + f / 700);
    const lo = mel(20), hi = mel(8000), d = (hi - lo) / 81;
    let maxAbs = 0;
    for (let t = 0; t < T; t++) {
      const raw = Array.from(x.subarray(t * 160, t * 160 + 400), Number);
      const mu = raw.reduce((a, b) => a + b, 0) / 400;
      const c = raw.map((v) => v - mu);
      const fr = new Float64Array(512);
      for (let n = 0; n < 400; n++) {
        const pre = c[n] - 0.97 * (n > 0 ? c[n - 1] : c[0]);
        fr[n] = pre * Math.pow(0.5 - 0.5 * Math.cos((2 * Math.PI * n) / 399), 0.85);
      }
      const p = dftPower(fr, 257);
      for (let b = 0; b < 80; b++) {
        let s = 0;
        for (let k = 0; k < 256; k++) {
          const m = mel(k * 31.25);
          s += Math.max(0, Math.min((m - (lo + b * d)) / d, (lo + (b + 2) * d - m) / d)) * p[k];
        }
        maxAbs = Math.max(maxAbs, Math.abs(got.data[t * 80 + b] - Math.log(Math.max(s, 1.1920928955078125e-7))));
      }
    }
    console.log(`kaldi fbank [${T}, 80] vs f64 reference: max abs ${maxAbs.toExponential(2)}`);
    expect(maxAbs).toBeLessThan(1e-5);
    const centred = kaldiFbank(x);
    for (let b = 0; b < 80; b++) {
      let s = 0;
      for (let t = 0; t < T; t++) s += centred.data[t * 80 + b];
      expect(Math.abs(s / T)).toBeLessThan(1e-5);
    }
    expect(() => kaldiFbank(new Float32Array(399))).toThrow(AudioInputError);
  });
});
