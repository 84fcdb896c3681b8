/**
 * Audio front end: FFT vs a direct DFT, the librosa Slaney filterbank vs hand-derived values and a test-local
 * construction, the flow prompt mel vs a float64 direct-DFT reference of the Matcha formula, WAV round trips,
 * the torchaudio-style sinc resampler, and the prompt token/mel alignment.
 */
import { describe, expect, it } from 'vitest';
import { SeededRng } from '../helpers/rng.js';
import {
  AudioInputError,
  COSYVOICE3_MEL,
  Fft,
  MelExtractor,
  alignPromptFeatures,
  melFilterbank,
  melSpectrogram,
  promptMelFromWav,
  readWav,
  resample,
  writeWav,
} from '../../src/audio/index.js';
import * as wavefileNs from 'wavefile';

function directDft(x: Float64Array): { re: Float64Array; im: Float64Array } {
  const N = x.length;
  const re = new Float64Array(N), im = new Float64Array(N);
  for (let k = 0; k < N; k++) {
    let sr = 0, si = 0;
    for (let n = 0; n < N; n++) {
      const a = (-2 * Math.PI * ((k * n) % N)) / N;
      sr += x[n] * Math.cos(a);
      si += x[n] * Math.sin(a);
    }
    re[k] = sr;
    im[k] = si;
  }
  return { re, im };
}

/** Test-local librosa.filters.mel(htk=False, norm='slaney'), written from the formulas independently. */
function refFilterbank(sr: number, nFft: number, nMels: number): Float64Array[] {
  const toMel = (f: number) => (f < 1000 ? (3 * f) / 200 : 15 + (27 * Math.log(f / 1000)) / Math.log(6.4));
  const toHz = (m: number) => (m < 15 ? (200 * m) / 3 : 1000 * Math.pow(6.4, (m - 15) / 27));
  const top = toMel(sr / 2);
  const pts = Array.from({ length: nMels + 2 }, (_, i) => toHz((top * i) / (nMels + 1)));
  const bins = nFft / 2 + 1;
  return Array.from({ length: nMels }, (_, i) => {
    const row = new Float64Array(bins);
    for (let k = 0; k < bins; k++) {
      const f = (k * sr) / nFft;
      const tri = f <= pts[i + 1] ? (f - pts[i]) / (pts[i + 1] - pts[i]) : (pts[i + 2] - f) / (pts[i + 2] - pts[i + 1]);
      row[k] = Math.max(0, tri) * (2 / (pts[i + 2] - pts[i]));
    }
    return row;
  });
}

/** Float64 reference of Matcha's mel_spectrogram with a direct DFT per frame. */
function refMel(pcm: Float32Array, fb: Float64Array[]): Float64Array {
  const nFft = 1920, hop = 480, pad = 720, bins = 961;
  const N = pcm.length;
  const y = new Float64Array(N + 2 * pad);
  for (let i = 0; i < y.length; i++) {
    let j = i - pad;
    if (j < 0) j = -j;
    if (j >= N) j = 2 * (N - 1) - j;
    y[i] = pcm[j];
  }
  const T = Math.floor(N / hop);
  const cosT = new Float64Array(nFft), sinT = new Float64Array(nFft);
  for (let j = 0; j < nFft; j++) {
    cosT[j] = Math.cos((2 * Math.PI * j) / nFft);
    sinT[j] = Math.sin((2 * Math.PI * j) / nFft);
  }
  const out = new Float64Array(T * 80);
  const frame = new Float64Array(nFft);
  const mag = new Float64Array(bins);
  for (let t = 0; t < T; t++) {
    for (let n = 0; n < nFft; n++) frame[n] = y[t * hop + n] * (0.5 - 0.5 * cosT[n]);
    for (let k = 0; k < bins; k++) {
      let sr = 0, si = 0;
      for (let n = 0, idx = 0; n < nFft; n++, idx = (idx + k) % nFft) {
        sr += frame[n] * cosT[idx];
        si -= frame[n] * sinT[idx];
      }
      mag[k] = Math.sqrt(sr * sr + si * si + 1e-9);
    }
    for (let m = 0; m < 80; m++) {
      let s = 0;
      for (let k = 0; k < bins; k++) s += fb[m][k] * mag[k];
      out[t * 80 + m] = Math.log(Math.max(s, 1e-5));
    }
  }
  return out;
}

describe('FFT', () => {
  it('matches a direct DFT for mixed-radix and prime lengths', () => {
    const rng = new SeededRng(1);
    for (const n of [1, 2, 3, 4, 5, 7, 12, 30, 64, 120, 1920]) {
      const x = Float64Array.from({ length: n }, () => rng.normal());
      const re = new Float64Array(n), im = new Float64Array(n);
      new Fft(n).forward(x, null, re, im);
      const ref = directDft(x);
      let err = 0;
      for (let k = 0; k < n; k++) err = Math.max(err, Math.abs(re[k] - ref.re[k]), Math.abs(im[k] - ref.im[k]));
      expect(err, `n=${n}`).toBeLessThan(1e-9 * Math.sqrt(n) * 10);
    }
  });
});

describe('mel filterbank (librosa Slaney, sr 24000, n_fft 1920, 80 mels, fmax Nyquist)', () => {
  const fb = melFilterbank();
  it('matches the test-local construction to f32 rounding', () => {
    const ref = refFilterbank(24000, 1920, 80);
    let maxRel = 0;
    let zeroDev = 0;
    for (let m = 0; m < 80; m++) for (let k = 0; k < 961; k++) {
      const r = ref[m][k], v = fb[m * 961 + k];
      if (r === 0) zeroDev = Math.max(zeroDev, Math.abs(v));
      else maxRel = Math.max(maxRel, Math.abs(v - r) / Math.abs(r));
    }
    console.log(`filterbank vs test-local construction: max rel ${maxRel.toExponential(2)}, off-support max ${zeroDev}`);
    expect(maxRel).toBeLessThan(3e-7);
    expect(zeroDev).toBeLessThan(1e-9);
  });

  it('has the hand-derived first filter and unit Hz-area for wide filters', () => {
    // mel(12 kHz) = 15 + 27·ln(12)/ln(6.4); 82 points → first peak at (3/200)^-1 · mel/81 Hz.
    const melTop = 15 + (27 * Math.log(12)) / Math.log(6.4);
    const peak = ((200 / 3) * melTop) / 81;
    const enorm = 2 / (2 * peak);
    expect(fb[3]).toBeCloseTo((37.5 / peak) * enorm, 6);
    expect(fb[0]).toBe(0);
    for (const m of [40, 60, 79]) {
      let area = 0;
      for (let k = 0; k < 961; k++) area += fb[m * 961 + k] * 12.5;
      expect(Math.abs(area - 1)).toBeLessThan(0.02);
    }
  });
});

describe('melSpectrogram (flow prompt mel)', () => {
  it('matches the float64 direct-DFT reference of the Matcha formula', () => {
    const rng = new SeededRng(2);
    const N = 24000 / 2 + 123; // 0.5 s plus a ragged tail
    const pcm = Float32Array.from({ length: N }, (_, i) => 0.3 * Math.sin((2 * Math.PI * 220 * i) / 24000) + 0.05 * rng.normal());
    const got = melSpectrogram(pcm);
    expect(got.frames).toBe(Math.floor(N / 480));
    expect(got.numMels).toBe(80);
    const ref = refMel(pcm, refFilterbank(24000, 1920, 80));
    let maxAbs = 0;
    for (let i = 0; i < ref.length; i++) maxAbs = Math.max(maxAbs, Math.abs(got.data[i] - ref[i]));
    console.log(`mel [${got.frames}, 80] vs f64 direct-DFT reference: max abs ${maxAbs.toExponential(2)}`);
    expect(maxAbs).toBeLessThan(1e-5);
  });

  it('silence hits the 1e-5 clamp; too-short input is a typed error', () => {
    const m = melSpectrogram(new Float32Array(2000));
    expect(m.frames).toBe(4);
    expect(m.data.every((v) => Math.abs(v - Math.log(1e-5)) < 1e-6)).toBe(true);
    expect(() => melSpectrogram(new Float32Array(720))).toThrow(AudioInputError);
    expect(() => melSpectrogram(Float32Array.from([...new Array(1000).fill(0), NaN]))).toThrow(/not finite/);
  });

  it('10 s of audio takes well under 2 s', () => {
    const rng = new SeededRng(3);
    const pcm = Float32Array.from({ length: 240000 }, () => rng.normal() * 0.1);
    const ex = new MelExtractor(COSYVOICE3_MEL);
    const t0 = performance.now();
    const m = ex.compute(pcm);
    const ms = performance.now() - t0;
    console.log(`mel of 10 s (${m.frames} frames): ${ms.toFixed(0)} ms`);
    expect(m.frames).toBe(500);
    expect(ms).toBeLessThan(2000);
  });
});

describe('WAV and resampling', () => {
  const ns = wavefileNs as unknown as { WaveFile?: any; default?: { WaveFile: any } };
  const WaveFile = ns.WaveFile ?? ns.default!.WaveFile;

  it('round-trips 16-bit PCM (write ×32767, read ÷32768 as libsndfile) and float32 (exact)', () => {
    const rng = new SeededRng(4);
    const x = Float32Array.from({ length: 1000 }, () => Math.max(-1, Math.min(1, rng.normal() * 0.4)));
    const a = readWav(writeWav(x, 24000, 'pcm16'));
    expect(a.sampleRate).toBe(24000);
    expect(a.bitDepth).toBe('16');
    let err = 0;
    for (let i = 0; i < x.length; i++) err = Math.max(err, Math.abs(a.samples[i] - (x[i] * 32767) / 32768));
    expect(err).toBeLessThanOrEqual(0.5 / 32768 + 1e-9);
    const b = readWav(writeWav(x, 24000, 'float32'));
    expect(Array.from(b.samples)).toEqual(Array.from(x));
    expect(() => writeWav(Float32Array.from([0, NaN]), 24000)).toThrow(/not finite/);
  });

  it('mono-mixes stereo 24-bit PCM with libsndfile scaling', () => {
    const w = new WaveFile();
    w.fromScratch(2, 48000, '24', [[4194304, -8388608], [0, 8388607]]);
    const d = readWav(w.toBuffer());
    expect(d.channels).toBe(2);
    expect(Array.from(d.samples)).toEqual([0.25, Math.fround((-1 + 8388607 / 8388608) / 2)]);
    expect(() => readWav(new Uint8Array([1, 2, 3]))).toThrow(/not a readable WAV/);
  });

  it('sinc resampling keeps a 1 kHz tone and the output length ⌈n·L/o⌉', () => {
    for (const [from, to] of [[48000, 24000], [16000, 24000], [44100, 24000]]) {
      const L = from / 5;
      const x = Float32Array.from({ length: L }, (_, i) => Math.sin((2 * Math.PI * 1000 * i) / from));
      const y = resample(x, from, to);
      expect(y.length).toBe(Math.ceil((to * L) / from));
      let err = 0;
      for (let i = 200; i < y.length - 200; i++) err = Math.max(err, Math.abs(y[i] - Math.sin((2 * Math.PI * 1000 * i) / to)));
      expect(err, `${from}→${to}`).toBeLessThan(2e-3);
    }
  });

  it('promptMelFromWav resamples 48 kHz to 24 kHz and refuses < 16 kHz; alignment cuts to 2 frames per token', () => {
    const x = Float32Array.from({ length: 48000 }, (_, i) => 0.2 * Math.sin((2 * Math.PI * 440 * i) / 48000));
    const m = promptMelFromWav(writeWav(x, 48000, 'float32'));
    expect(m.frames).toBe(50);
    expect(() => promptMelFromWav(writeWav(x.subarray(0, 8000), 8000))).toThrow(/below the 16000 Hz/);
    const al = alignPromptFeatures(m, Array.from({ length: 30 }, (_, i) => i));
    expect(al.melFrames).toBe(50);
    expect(al.tokens.length).toBe(25);
    const al2 = alignPromptFeatures(m, [1, 2, 3]);
    expect(al2.melFrames).toBe(6);
    expect(al2.mel.length).toBe(6 * 80);
  });
});
