/**
 * What the pipeline needs from each model, and nothing more. The WebGPU models (src/models/*) and the ORT
 * reference (src/ort) are adapted to these ports, so one streaming implementation drives any engine.
 * Mel layout everywhere in the pipeline: [80, T] row-major (bins × frames), as upstream's [1, 80, T].
 */
import type { HiftStream } from '../models/hift/stream.js';
import type { LlmStepCounts } from '../models/qwen2/steps.js';
import type { BistreamInput, Sampler } from '../sampling/index.js';

export interface LlmInput {
  /** Text ids of the LLM's text part: prompt text (or instruct text) ++ target text. */
  textIds: Int32Array;
  /** Number of target-text ids at the end of `textIds` (drives min/max length). */
  targetTextTokens: number;
  /** Prompt speech tokens fed after task_id (empty in cross-lingual and instruct modes). */
  promptSpeechTokens: Int32Array;
}

export interface LlmRunOptions {
  sampler: Sampler;
  /** Generate exactly this many tokens (benchmarks): stop ids are masked until then. */
  forceTokens?: number;
  signal?: AbortSignal;
}

/** Text-in streaming's inputs (src/sampling/bistream.ts): prompt text with <|endofprompt|>, prompt speech, the text's ids as they arrive. */
export type LlmBistreamInput = BistreamInput;

export interface LlmPort {
  /** Speech token vocabulary size S (stop ids are ≥ S). */
  readonly speechTokenSize: number;
  /** Rows of the text embedding table (ids must be below). */
  readonly textVocabSize: number;
  /** Prefill, then one decode step per yielded token; stop tokens are not yielded. */
  generate(input: LlmInput, opts: LlmRunOptions): AsyncGenerator<number, void>;
  /** Upstream's inference_bistream: speech tokens while the text is still arriving (no forceTokens). */
  bistream?(input: LlmBistreamInput, opts: LlmRunOptions): AsyncGenerator<number, void>;
  /** Steps the LLM ran and the decode rows in them, where it batches concurrent sequences (src/models/qwen2/steps.ts). */
  readonly stepCounts?: LlmStepCounts;
}

export interface FlowCall {
  /** Generated speech tokens so far (the flow prepends the prompt tokens itself). */
  tokens: Int32Array;
  promptTokens: Int32Array;
  /** Prompt mel [2P, 80] row-major (frames × bins), upstream's prompt_feat. */
  promptMel: Float32Array;
  embedding: Float32Array;
  /** Static-chunk attention mask (streaming chunks); false for the final and the offline call. */
  streaming: boolean;
  /** false: the last pre_lookahead tokens are look-ahead context only. */
  finalize: boolean;
}

export interface FlowPort {
  readonly tokenMelRatio: number;
  readonly preLookaheadLen: number;
  readonly melBins: number;
  /** Mel of the generated part: [80, frames] row-major. */
  inference(call: FlowCall): Promise<{ mel: Float32Array; frames: number }>;
  /**
   * Solves the speaker prompt alone as a streaming call would, where the flow keeps what such a call computed (the
   * DiT prefix caches: src/models/cpu/dit-cache.ts, src/models/flow/prefix-cache.ts); resolves false, doing
   * nothing, where it would not.
   */
  prepare?(speaker: Pick<FlowCall, 'promptTokens' | 'promptMel' | 'embedding'>): Promise<boolean>;
}

/** 1 GiB for a DiT prefix cache: at full size ~290 frames (5.8 s of prompt and speech) through all 10 steps. */
export const DEFAULT_FLOW_CACHE_BYTES = 1 << 30;

/**
 * FlowPort.prepare for a flow that keeps what a streaming call solved (`keeps`): solves the prompt alone as such a
 * call (no speech tokens, chunk mask on, the look-ahead cut), where its frames before the cut fill a whole `chunk`.
 */
export async function preparePromptAlone(port: FlowPort, speaker: Pick<FlowCall, 'promptTokens' | 'promptMel' | 'embedding'>, keeps: boolean, chunk: number): Promise<boolean> {
  if (!keeps || chunk < 1 || port.tokenMelRatio * (speaker.promptTokens.length - port.preLookaheadLen) < chunk) return false;
  await port.inference({ ...speaker, tokens: new Int32Array(0), streaming: true, finalize: false });
  return true;
}

export interface HiftPort {
  readonly sampleRate: number;
  /** Samples per mel frame (480). */
  readonly hopSamples: number;
  /** Waveform of the whole mel [80, frames]; finalize=false returns 480·(frames − 8) samples. */
  inference(mel: Float32Array, frames: number, finalize: boolean): Promise<Float32Array>;
  /**
   * One utterance's stream, which runs each chunk on a window of its new frames and gives the same samples as
   * `inference` on the whole mel so far (src/models/hift/stream.ts); undefined (or absent): streaming re-runs.
   */
  openStream?(): HiftStream | undefined;
}
