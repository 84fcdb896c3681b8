export { Fft, FftError } from './fft.js';
export {
  AudioInputError,
  COSYVOICE3_MEL,
  MelExtractor,
  hannPeriodic,
  hzToMelSlaney,
  melFilterbank,
  melSpectrogram,
  melToHzSlaney,
  reflectPad,
} from './mel.js';
export type { MelConfig, MelSpectrogram } from './mel.js';
export { pcm16, readWav, streamingWavHeader, writeWav, WavFormatError } from './wav.js';
export type { DecodedWav, WavEncoding } from './wav.js';
export { resample, sincResampleKernel } from './resample.js';
export type { ResampleOptions } from './resample.js';
export { alignPromptFeatures, promptMelFromWav } from './prompt.js';
export { kaldiFbank, kaldiMelBanks, whisperLogMel } from './features16k.js';
export type { Features } from './features16k.js';
export type { AlignedPrompt } from './prompt.js';
