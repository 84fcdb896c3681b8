/**
 * Speakers for the pipeline: from a speaker file (src/speaker) or, for the synthetic model, a seeded random one.
 */
import type { CosyVoiceConfig } from '../convert/config.js';
import type { SpeakerExpectations, SpeakerPrompt as SpeakerFile } from '../speaker/index.js';
import type { ModelFiles } from './model-files.js';
import type { SpeakerPrompt } from './types.js';

export function speakerFromFile(s: SpeakerFile): SpeakerPrompt {
  return { promptTokens: s.promptSpeechTokens, embedding: s.embedding, promptMel: s.promptMel, promptText: s.transcript };
}

/** The speaker file of a pipeline speaker (speakerFromFile's inverse), its mel [T, numMels] at sampleRate. */
export function speakerToFile(s: SpeakerPrompt, numMels: number, sampleRate = 24000): SpeakerFile {
  if (!(numMels > 0) || s.promptMel.length % numMels) throw new RangeError(`speaker: a prompt mel of ${s.promptMel.length} values is not [T, ${numMels}]`);
  return {
    promptSpeechTokens: s.promptTokens, embedding: s.embedding, promptMel: s.promptMel, melFrames: s.promptMel.length / numMels, numMels, sampleRate,
    ...(s.promptText !== undefined ? { transcript: s.promptText } : {}),
  };
}

/** A seeded random speaker with the model's shapes (25 prompt tokens): NOT a voice, for synthetic runs. */
export function syntheticSpeaker(files: ModelFiles, seed = 1, promptTokens = 25): SpeakerPrompt {
  let s = seed >>> 0 || 1;
  const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
  const S = files.config.llm.speechTokenSize;
  const bins = files.config.flow.outputSize;
  const frames = promptTokens * files.config.tokenMelRatio;
  return {
    promptTokens: Int32Array.from({ length: promptTokens }, () => Math.floor(next() * S)),
    embedding: Float32Array.from({ length: files.config.flow.spkEmbedDim }, () => next() * 2 - 1),
    // Log-mel-like values (upstream prompt mels are log magnitudes, roughly −11 … 2).
    promptMel: Float32Array.from({ length: frames * bins }, () => -6 + 4 * next()),
    promptText: 'synthetic prompt',
  };
}

/** What a speaker file must hold to suit a model: its embedding width, mel bins, speech tokens, mel frames a token. */
export function speakerExpectationsOf(c: CosyVoiceConfig): SpeakerExpectations {
  return { embeddingDim: c.flow.spkEmbedDim, speechTokenSize: c.llm.speechTokenSize, numMels: c.flow.outputSize, tokenMelRatio: c.tokenMelRatio };
}
