/**
 * The two 16 kHz front ends upstream feeds to its ONNX prompt models (cli/frontend.py), so a later step can
 * compute prompt speech tokens and the speaker embedding from raw audio. Both are computed in float64.
 *
 * whisperLogMel (speech tokenizer input, `whisper.log_mel_spectrogram(speech, n_mels=128)`):
 *   X = torch.stft(x, n_fft 400, hop 160, periodic Hann(400), center=True with reflect padding of 200);
 *   drop the last frame; P = |X|²; M = librosa Slaney mel filterbank (sr 16000, n_fft 400, 128 mels) · P;
 *   L = log10(max(M, 1e-10)); L = max(L, max(L) − 8); out = (L + 4) / 4.  Layout [128, T], T = ⌊N/160⌋.
 *   Upstream refuses prompts longer than 30 s here.
 * kaldiFbank (CAMPPlus input, `torchaudio.compliance.kaldi.fbank(num_mel_bins=80, dither=0,
 *   sample_frequency=16000)` with Kaldi defaults, then minus the per-utterance mean):
 *   frames of 400 samples every 160 (snip_edges: T = 1 + ⌊(N − 400)/160⌋); per frame: subtract the frame mean,
 *   pre-emphasis x[i] −= 0.97·x[i−1] (x[−1] := x[0]), Povey window (symmetric Hann(400))^0.85, zero-pad to 512,
 *   power spectrum, 80 triangular bins on the HTK mel scale 1127·ln(1 + f/700) between 20 Hz and 8 kHz over
 *   FFT bins 0..255 (the Nyquist bin gets weight 0), ln(max(E, FLT_EPSILON)).  Layout [T, 80].
 *   Input is the waveform in [−1, 1] (upstream does not scale to int16 range).
 */
import { Fft } from './fft.js';
import { AudioInputError, melFilterbank, reflectPad } from './mel.js';

const FLT_EPSILON = 1.1920928955078125e-7;

export interface Features {
  data: Float32Array;
  /** Row-major shape. */
  shape: [number, number];
}

let whisperFft: Fft | undefined;
let whisperBank: Float32Array | undefined;

/** Upstream's bound on the speech tokenizer's input (cli/frontend.py asserts it). */
export const TOKENIZER_MAX_SECONDS = 30;

/** Whisper 128-bin log-mel of 16 kHz mono PCM: [128, ⌊N/160⌋] (the speech tokenizer's feats [1, 128, T]). */
export function whisperLogMel(pcm16k: Float32Array | Float64Array, maxSeconds = TOKENIZER_MAX_SECONDS): Features {
  const nFft = 400, hop = 160, nMels = 128, bins = 201;
  if (pcm16k.length / 16000 > maxSeconds) {
    throw new AudioInputError(`prompt audio is ${(pcm16k.length / 16000).toFixed(2)} s; the speech tokenizer takes at most ${maxSeconds} s`);
  }
  if (pcm16k.length <= nFft / 2) throw new AudioInputError(`prompt audio needs more than ${nFft / 2} samples at 16 kHz, got ${pcm16k.length}`);
  whisperFft ??= new Fft(nFft);
  whisperBank ??= melFilterbank({ nFft, numMels: nMels, sampleRate: 16000, hopSize: hop, winSize: nFft, fmin: 0, fmax: null });
  const y = reflectPad(pcm16k, nFft / 2, nFft / 2);
  const T = Math.floor(pcm16k.length / hop); // 1 + ⌊N/160⌋ frames, the last dropped
  const win = new Float64Array(nFft);
  for (let n = 0; n < nFft; n++) win[n] = 0.5 - 0.5 * Math.cos((2 * Math.PI * n) / nFft);
  const fr = new Float64Array(nFft), re = new Float64Array(nFft), im = new Float64Array(nFft);
  const pow = new Float64Array(bins);
  const logs = new Float64Array(nMels * T);
  let maxLog = -Infinity;
  for (let t = 0; t < T; t++) {
    for (let n = 0; n < nFft; n++) fr[n] = y[t * hop + n] * win[n];
    whisperFft.forward(fr, null, re, im);
    for (let k = 0; k < bins; k++) pow[k] = re[k] * re[k] + im[k] * im[k];
    for (let m = 0; m < nMels; m++) {
      let s = 0;
      for (let k = 0; k < bins; k++) s += whisperBank[m * bins + k] * pow[k];
      const l = Math.log10(Math.max(s, 1e-10));
      logs[m * T + t] = l;
      if (l > maxLog) maxLog = l;
    }
  }
  const out = new Float32Array(nMels * T);
  for (let i = 0; i < out.length; i++) out[i] = (Math.max(logs[i], maxLog - 8) + 4) / 4;
  return { data: out, shape: [nMels, T] };
}

/** Kaldi HTK-mel triangular filterbank [numBins, padded/2] as torchaudio.compliance.kaldi.get_mel_banks. */
export function kaldiMelBanks(numBins: number, paddedWindow: number, sampleRate: number, lowFreq: number, highFreq: number): Float64Array {
  const nFftBins = paddedWindow / 2;
  const hi = highFreq <= 0 ? highFreq + sampleRate / 2 : highFreq;
  const mel = (f: number) => 1127 * Math.log(1 + f / 700);
  const lo = mel(lowFreq);
  const delta = (mel(hi) - lo) / (numBins + 1);
  const binWidth = sampleRate / paddedWindow;
  const out = new Float64Array(numBins * nFftBins);
  for (let b = 0; b < numBins; b++) {
    const left = lo + b * delta, center = lo + (b + 1) * delta, right = lo + (b + 2) * delta;
    for (let k = 0; k < nFftBins; k++) {
      const m = mel(binWidth * k);
      const up = (m - left) / (center - left);
      const down = (right - m) / (right - center);
      out[b * nFftBins + k] = Math.max(0, Math.min(up, down));
    }
  }
  return out;
}

let kaldiFftPlan: Fft | undefined;
let kaldiBank: Float64Array | undefined;

/** Kaldi fbank (80 bins) of 16 kHz mono PCM in [−1, 1]: [T, 80]; `subtractMean` as CosyVoice does before CAMPPlus. */
export function kaldiFbank(pcm16k: Float32Array | Float64Array, subtractMean = true): Features {
  const win = 400, shift = 160, padded = 512, nBins = 80, half = padded / 2;
  if (pcm16k.length < win) throw new AudioInputError(`fbank needs at least ${win} samples at 16 kHz, got ${pcm16k.length}`);
  kaldiFftPlan ??= new Fft(padded);
  kaldiBank ??= kaldiMelBanks(nBins, padded, 16000, 20, 0);
  const T = 1 + Math.floor((pcm16k.length - win) / shift);
  const povey = new Float64Array(win);
  for (let n = 0; n < win; n++) povey[n] = Math.pow(0.5 - 0.5 * Math.cos((2 * Math.PI * n) / (win - 1)), 0.85);
  const frame = new Float64Array(padded), re = new Float64Array(padded), im = new Float64Array(padded);
  const x = new Float64Array(win);
  const pow = new Float64Array(half);
  const out = new Float64Array(T * nBins);
  for (let t = 0; t < T; t++) {
    let mean = 0;
    for (let n = 0; n < win; n++) mean += (x[n] = pcm16k[t * shift + n]);
    mean /= win;
    for (let n = 0; n < win; n++) x[n] -= mean;
    for (let n = win - 1; n >= 0; n--) frame[n] = (x[n] - 0.97 * x[Math.max(0, n - 1)]) * povey[n];
    frame.fill(0, win);
    kaldiFftPlan.forward(frame, null, re, im);
    for (let k = 0; k < half; k++) pow[k] = re[k] * re[k] + im[k] * im[k];
    for (let b = 0; b < nBins; b++) {
      let s = 0;
      for (let k = 0; k < half; k++) s += kaldiBank[b * half + k] * pow[k];
      out[t * nBins + b] = Math.log(Math.max(s, FLT_EPSILON));
    }
  }
  if (subtractMean) {
    for (let b = 0; b < nBins; b++) {
      let m = 0;
      for (let t = 0; t < T; t++) m += out[t * nBins + b];
      m /= T;
      for (let t = 0; t < T; t++) out[t * nBins + b] -= m;
    }
  }
  return { data: Float32Array.from(out), shape: [T, nBins] };
}
