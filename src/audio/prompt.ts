/**
 * Prompt-audio glue from upstream's frontend (cli/frontend.py `_extract_speech_feat`, `frontend_zero_shot`;
 * utils/file_utils.py `load_wav`): WAV → mono → (sinc resample to 24 kHz, source ≥ 16 kHz) → flow prompt mel,
 * and the token/mel alignment that makes the flow see exactly token_mel_ratio mel frames per prompt token.
 */
import { AudioInputError, melSpectrogram, type MelSpectrogram } from './mel.js';
import { readWav } from './wav.js';
import { resample } from './resample.js';

/** Reads a WAV and returns the [T, 80] flow prompt mel (24 kHz). Sources below 16 kHz are refused, as upstream. */
export function promptMelFromWav(bytes: Uint8Array, label = 'prompt WAV', targetRate = 24000, minRate = 16000): MelSpectrogram {
  const wav = readWav(bytes, label);
  let pcm = wav.samples;
  if (wav.sampleRate !== targetRate) {
    if (wav.sampleRate < minRate) {
      throw new AudioInputError(`${label}: sample rate ${wav.sampleRate} Hz is below the ${minRate} Hz minimum`);
    }
    pcm = resample(pcm, wav.sampleRate, targetRate);
  }
  return melSpectrogram(pcm);
}

export interface AlignedPrompt {
  /** [2L, numMels] row-major. */
  mel: Float32Array;
  melFrames: number;
  /** The first L prompt speech tokens. */
  tokens: Int32Array;
}

/**
 * L = min(⌊T_mel / ratio⌋, n_tokens); keeps the first ratio·L mel frames and the first L tokens
 * (frontend.py: `token_len = min(int(speech_feat.shape[1] / 2), speech_token.shape[1])` at 24 kHz).
 */
export function alignPromptFeatures(mel: MelSpectrogram, tokens: ArrayLike<number>, tokenMelRatio = 2): AlignedPrompt {
  const L = Math.min(Math.floor(mel.frames / tokenMelRatio), tokens.length);
  const melFrames = tokenMelRatio * L;
  return {
    mel: mel.data.slice(0, melFrames * mel.numMels),
    melFrames,
    tokens: Int32Array.from({ length: L }, (_, i) => tokens[i]),
  };
}
