/**
 * The public contract of the text-to-speech pipeline, shared by the Node runtime, the Worker and the page.
 * Audio is mono float32 PCM at `sampleRate` (24 kHz for CosyVoice3), in [-0.99, 0.99].
 */

/** What the prompt (reference) speaker contributes: see spec §2.3–2.4. */
export interface SpeakerPrompt {
  /** Prompt speech tokens (speech tokenizer v3 ids, 25 Hz). */
  promptTokens: Int32Array;
  /** CAMPPlus speaker embedding, length 192 for the real model (read from the model's spk_embed_dim). */
  embedding: Float32Array;
  /** Prompt mel, [T, 80] row-major (frames × bins), T = 2 · promptTokens.length for upstream prompts. */
  promptMel: Float32Array;
  /** Transcript of the prompt audio (zero-shot mode). */
  promptText?: string;
}

export const SYNTHESIS_MODES = ['zero-shot', 'cross-lingual', 'instruct'] as const;
export type SynthesisMode = (typeof SYNTHESIS_MODES)[number];

export interface SynthesisOptions {
  mode?: SynthesisMode;
  /** Instruction text for `instruct` mode. */
  instruct?: string;
  /** Seed of the sampling generator (PyTorch-compatible stream). */
  seed?: number;
  /** Benchmarks: generate exactly this many speech tokens (EOS ignored until then, forced after). */
  forceTokens?: number;
  /** Cancels the synthesis; the generator then ends after releasing its sequence. */
  signal?: AbortSignal;
  /**
   * Speech rate (default 1): each segment's mel is resampled to int(T / speed) frames before the vocoder, as
   * upstream's speed argument does. Offline synthesis only (upstream asserts the same); src/pipeline/speed.ts.
   */
  speed?: number;
}

export interface SynthesisStats {
  /** Milliseconds from the call to the first PCM sample being available. */
  ttfaMs: number;
  totalMs: number;
  audioSeconds: number;
  /** totalMs / 1000 / audioSeconds: below 1 is faster than real time. */
  rtf: number;
  tokens: number;
  llmMs: number;
  flowMs: number;
  hiftMs: number;
}

export interface LoadProgress {
  file: string;
  loaded: number;
  total: number;
}

export interface TextToSpeech {
  readonly sampleRate: number;
  /** Streaming synthesis: yields PCM chunks as they are ready; returns the statistics. */
  stream(text: string, speaker: SpeakerPrompt, opts?: SynthesisOptions): AsyncGenerator<Float32Array, SynthesisStats>;
  /** Text-in streaming: speech while the text is still arriving (CosyVoicePipeline.streamText). */
  streamText?(text: AsyncIterable<string> | Iterable<string>, speaker: SpeakerPrompt, opts?: SynthesisOptions & { streaming?: boolean }): AsyncGenerator<Float32Array, SynthesisStats>;
  /**
   * Voice conversion (upstream's inference_vc): speech from a source's speech tokens in the speaker's voice
   * (CosyVoicePipeline.streamTokens); streaming chunks unless `streaming` is false.
   */
  streamTokens?(tokens: Int32Array, speaker: SpeakerPrompt, opts?: SynthesisOptions & { streaming?: boolean }): AsyncGenerator<Float32Array, SynthesisStats>;
  /** Offline synthesis, one chunk per text segment (CosyVoicePipeline.segments). */
  segments?(text: string, speaker: SpeakerPrompt, opts?: SynthesisOptions): AsyncGenerator<Float32Array, SynthesisStats>;
  /** Offline synthesis: the same samples as the concatenated stream. */
  synthesize(text: string, speaker: SpeakerPrompt, opts?: SynthesisOptions): Promise<{ pcm: Float32Array; stats: SynthesisStats }>;
  /** Work on the speaker's prompt done ahead of any text, where the engine keeps it (CosyVoicePipeline.prepareSpeaker). */
  prepareSpeaker?(speaker: SpeakerPrompt): Promise<boolean>;
  dispose(): void;
}
