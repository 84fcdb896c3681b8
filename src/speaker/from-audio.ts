/**
 * Builds a speaker prompt from prompt audio plus the outputs of the two prompt models (speech tokens from the
 * speech tokenizer, embedding from CAMPPlus), aligned as upstream's zero-shot frontend does: the 24 kHz flow mel
 * and the tokens are cut to L = min(⌊T_mel / token_mel_ratio⌋, n_tokens) tokens and token_mel_ratio·L frames.
 */
import { alignPromptFeatures, promptMelFromWav } from '../audio/prompt.js';
import type { MelSpectrogram } from '../audio/mel.js';
import { SpeakerFileError, validateSpeaker, type SpeakerExpectations, type SpeakerPrompt } from './speaker-file.js';

export interface SpeakerSources {
  /** Prompt WAV bytes (any PCM/float WAV ≥ 16 kHz), or an already computed 24 kHz flow mel [T, 80]. */
  audio: Uint8Array | MelSpectrogram;
  /** Prompt speech tokens (speech tokenizer output, 25 Hz). */
  speechTokens: ArrayLike<number>;
  /** CAMPPlus embedding. */
  embedding: ArrayLike<number>;
  /** Transcript of the prompt audio (zero-shot). */
  transcript?: string;
}

export function speakerFromSources(src: SpeakerSources, expect: SpeakerExpectations = {}): SpeakerPrompt {
  const mel = src.audio instanceof Uint8Array ? promptMelFromWav(src.audio) : src.audio;
  const ratio = expect.tokenMelRatio ?? 2;
  const al = alignPromptFeatures(mel, src.speechTokens, ratio);
  if (al.tokens.length === 0) {
    throw new SpeakerFileError('promptSpeechTokens', `no prompt tokens after alignment (${src.speechTokens.length} tokens, ${mel.frames} mel frames)`);
  }
  const s: SpeakerPrompt = {
    promptSpeechTokens: al.tokens,
    embedding: Float32Array.from(src.embedding),
    promptMel: al.mel,
    melFrames: al.melFrames,
    numMels: mel.numMels,
    sampleRate: 24000,
    ...(src.transcript !== undefined ? { transcript: src.transcript } : {}),
  };
  validateSpeaker(s, { ...expect, tokenMelRatio: ratio });
  return s;
}
