/**
 * The CosyVoice3 flow prompt mel: Matcha-TTS `mel_spectrogram` as configured by cosyvoice3.yaml feat_extractor
 * (n_fft 1920, num_mels 80, sampling_rate 24000, hop 480, win 1920, fmin 0, fmax None → Nyquist 12 kHz,
 * center False).
 *
 *   y   = reflect-pad(pcm, (n_fft − hop)/2 on both sides)                    (torch.nn.functional.pad, reflect)
 *   X_t = Σ_n y[t·hop + n]·w[n]·e^{−2πi·kn/n_fft}, k = 0..n_fft/2            (torch.stft, center=False, onesided)
 *   w   = periodic Hann(win): 0.5 − 0.5·cos(2πn/win)
 *   |X| = sqrt(re² + im² + 1e-9)
 *   mel = ln(max(M · |X|, 1e-5)), M the librosa Slaney-scale, Slaney-normalised filterbank [80, 961] (float32)
 *
 * Output [T, 80] row-major (upstream's `speech_feat` after the transpose), T = ⌊N / hop⌋. Computed in float64
 * (upstream runs in float32: expect differences of ~1e-6 relative, far below the flow's sensitivity).
 */
import { Fft } from './fft.js';

export class AudioInputError extends Error {
  override name = 'AudioInputError';
}

export interface MelConfig {
  nFft: number;
  numMels: number;
  sampleRate: number;
  hopSize: number;
  winSize: number;
  fmin: number;
  /** null = sampleRate / 2 (librosa's fmax=None). */
  fmax: number | null;
}

/** cosyvoice3.yaml feat_extractor. */
export const COSYVOICE3_MEL: Readonly<MelConfig> = Object.freeze({
  nFft: 1920,
  numMels: 80,
  sampleRate: 24000,
  hopSize: 480,
  winSize: 1920,
  fmin: 0,
  fmax: null,
});

/** librosa `hz_to_mel(htk=False)` (Slaney: linear below 1 kHz, logarithmic above). */
export function hzToMelSlaney(hz: number): number {
  const fSp = 200 / 3;
  const minLogHz = 1000;
  const minLogMel = minLogHz / fSp;
  const logstep = Math.log(6.4) / 27;
  return hz >= minLogHz ? minLogMel + Math.log(hz / minLogHz) / logstep : hz / fSp;
}

/** librosa `mel_to_hz(htk=False)`. */
export function melToHzSlaney(mel: number): number {
  const fSp = 200 / 3;
  const minLogHz = 1000;
  const minLogMel = minLogHz / fSp;
  const logstep = Math.log(6.4) / 27;
  return mel >= minLogMel ? minLogHz * Math.exp(logstep * (mel - minLogMel)) : fSp * mel;
}

/**
 * librosa.filters.mel(sr, n_fft, n_mels, fmin, fmax, htk=False, norm='slaney', dtype=float32): [nMels, nFft/2+1]
 * row-major. Weights are formed in float64, stored as float32, then scaled by the Slaney area norm and stored
 * as float32 again (numpy's in-place multiply on the float32 array).
 */
export function melFilterbank(cfg: MelConfig = COSYVOICE3_MEL): Float32Array {
  const nBins = Math.floor(cfg.nFft / 2) + 1;
  const fmax = cfg.fmax ?? cfg.sampleRate / 2;
  const nPts = cfg.numMels + 2;
  const melMin = hzToMelSlaney(cfg.fmin);
  const melMax = hzToMelSlaney(fmax);
  const melF = new Float64Array(nPts);
  for (let i = 0; i < nPts; i++) melF[i] = melToHzSlaney(melMin + ((melMax - melMin) * i) / (nPts - 1));
  const fft = new Float64Array(nBins);
  for (let k = 0; k < nBins; k++) fft[k] = (k * (cfg.sampleRate / 2)) / (nBins - 1);
  const w = new Float32Array(cfg.numMels * nBins);
  for (let i = 0; i < cfg.numMels; i++) {
    const fdiff0 = melF[i + 1] - melF[i];
    const fdiff1 = melF[i + 2] - melF[i + 1];
    const enorm = 2 / (melF[i + 2] - melF[i]);
    for (let k = 0; k < nBins; k++) {
      const lower = -(melF[i] - fft[k]) / fdiff0;
      const upper = (melF[i + 2] - fft[k]) / fdiff1;
      const v = Math.fround(Math.max(0, Math.min(lower, upper)));
      w[i * nBins + k] = v * enorm;
    }
  }
  return w;
}

/** torch.hann_window(win, periodic=True) in float64. */
export function hannPeriodic(win: number): Float64Array {
  const w = new Float64Array(win);
  for (let n = 0; n < win; n++) w[n] = 0.5 - 0.5 * Math.cos((2 * Math.PI * n) / win);
  return w;
}

/** Reflect padding (no edge repeat) as torch.nn.functional.pad(mode='reflect'). */
export function reflectPad(x: Float32Array | Float64Array, left: number, right: number): Float64Array {
  if (left >= x.length || right >= x.length) {
    throw new AudioInputError(`reflect padding (${left}, ${right}) needs more than ${Math.max(left, right)} samples, got ${x.length}`);
  }
  const n = x.length;
  const out = new Float64Array(n + left + right);
  for (let i = 0; i < left; i++) out[i] = x[left - i];
  for (let i = 0; i < n; i++) out[left + i] = x[i];
  for (let i = 0; i < right; i++) out[left + n + i] = x[n - 2 - i];
  return out;
}

export interface MelSpectrogram {
  /** [frames, numMels] row-major. */
  data: Float32Array;
  frames: number;
  numMels: number;
}

/** Reusable extractor (filterbank, window and FFT plan built once). */
export class MelExtractor {
  readonly cfg: MelConfig;
  readonly filterbank: Float32Array;
  private readonly window: Float64Array;
  private readonly fft: Fft;

  constructor(cfg: MelConfig = COSYVOICE3_MEL) {
    if (cfg.winSize !== cfg.nFft) throw new AudioInputError(`win_size ${cfg.winSize} ≠ n_fft ${cfg.nFft} is not supported`);
    if ((cfg.nFft - cfg.hopSize) % 2 !== 0) throw new AudioInputError('(n_fft − hop) must be even');
    this.cfg = cfg;
    this.filterbank = melFilterbank(cfg);
    this.window = hannPeriodic(cfg.winSize);
    this.fft = new Fft(cfg.nFft);
  }

  /** Number of frames for N input samples (⌊N / hop⌋ for the CosyVoice3 geometry). */
  frameCount(samples: number): number {
    const { nFft, hopSize } = this.cfg;
    const padded = samples + (nFft - hopSize);
    return padded < nFft ? 0 : 1 + Math.floor((padded - nFft) / hopSize);
  }

  compute(pcm: Float32Array | Float64Array): MelSpectrogram {
    const { nFft, hopSize, numMels } = this.cfg;
    const pad = (nFft - hopSize) / 2;
    if (pcm.length <= pad) {
      throw new AudioInputError(`prompt audio has ${pcm.length} samples; the mel needs more than ${pad} (reflect pad)`);
    }
    for (let i = 0; i < pcm.length; i++) {
      if (!Number.isFinite(pcm[i])) throw new AudioInputError(`prompt audio sample ${i} is not finite (${pcm[i]})`);
    }
    const y = reflectPad(pcm, pad, pad);
    const frames = this.frameCount(pcm.length);
    const nBins = Math.floor(nFft / 2) + 1;
    const fr = new Float64Array(nFft), re = new Float64Array(nFft), im = new Float64Array(nFft);
    const mag = new Float64Array(nBins);
    const out = new Float32Array(frames * numMels);
    const fb = this.filterbank;
    for (let t = 0; t < frames; t++) {
      const base = t * hopSize;
      for (let n = 0; n < nFft; n++) fr[n] = y[base + n] * this.window[n];
      this.fft.forward(fr, null, re, im);
      for (let k = 0; k < nBins; k++) mag[k] = Math.sqrt(re[k] * re[k] + im[k] * im[k] + 1e-9);
      for (let m = 0; m < numMels; m++) {
        let s = 0;
        const row = m * nBins;
        for (let k = 0; k < nBins; k++) s += fb[row + k] * mag[k];
        out[t * numMels + m] = Math.log(Math.max(s, 1e-5));
      }
    }
    return { data: out, frames, numMels };
  }
}

let defaultExtractor: MelExtractor | undefined;

/** Flow prompt mel of 24 kHz mono PCM in [−1, 1]: [T, 80] with T = ⌊N/480⌋. */
export function melSpectrogram(pcm24k: Float32Array | Float64Array): MelSpectrogram {
  defaultExtractor ??= new MelExtractor();
  return defaultExtractor.compute(pcm24k);
}
