/**
 * The engine contract `verify` runs against. An engine supplies the neural primitives over a converted folder;
 * `pipeline.ts` builds every test kind (LLM loops, the CFM solver, token2wav offline/streaming) from them, so a
 * new engine (WebGPU, WASM) implements these few methods — or overrides a whole pipeline step if it fuses more.
 *
 * Layouts are PyTorch order, row-major, batch 1 unless stated; all tensors are plain typed arrays.
 */
import type { CosyVoiceConfig } from '../convert/config.js';
import type { HiftStages } from '../models/hift/stream.js';

/** A KV-cached LLM session: one call per prefill/decode step. */
export interface LlmSession {
  /** Current cache length (tokens already consumed). */
  readonly cacheLen: number;
  /** Runs T new input embeddings [T, H]; returns logits [T, S+200] and hidden (after final norm) [T, H]. */
  step(embeds: Float32Array, T: number): Promise<{ logits: Float32Array; hidden: Float32Array }>;
  dispose(): void;
}

export interface EstimatorInputs {
  /** x, mu, cond [B, 80, T]; mask [B, 1, T]; t [B]; spks [B, 80]. */
  x: Float32Array; mask: Float32Array; mu: Float32Array; t: Float32Array; spks: Float32Array; cond: Float32Array;
  batch: number;
  frames: number;
  streaming: boolean;
}

export interface HiftOutputs {
  speech: Float32Array;
  source: Float32Array;
  /** float64 as upstream's F0 predictor (an engine without f64 returns its f32 values widened). */
  f0: Float64Array;
}

export interface Engine {
  readonly name: string;
  readonly config: CosyVoiceConfig;
  /** Rows of Qwen embed_tokens, [ids.length, H]. */
  embedText(ids: number[]): Promise<Float32Array>;
  /** Rows of speech_embedding (also sos/task_id), [ids.length, H]. */
  embedSpeech(ids: number[]): Promise<Float32Array>;
  llmSession(): Promise<LlmSession>;
  /** Token embedding + PreLookahead + repeat: mu [1, 80, frames]; spks [1, 80]. */
  flowEncoder(tokens: number[], embedding: Float32Array, finalize: boolean): Promise<{ mu: Float32Array; frames: number; spks: Float32Array }>;
  /** The DiT estimator: velocity [B, 80, T]. */
  flowEstimator(inp: EstimatorInputs): Promise<Float32Array>;
  /** HiFT from mel [1, 80, T]; `sineNoise` is the fixed uniform table [≥480·T, 9] from sample 0. */
  hift(mel: Float32Array, frames: number, sineNoise: Float32Array, finalize: boolean): Promise<HiftOutputs>;
  dispose(): Promise<void>;
  /**
   * Optional whole-step overrides (same signatures as the pipeline.ts functions minus the engine argument): an
   * engine that runs a whole stage natively (e.g. the CFM loop on the GPU) provides them and verify uses them.
   */
  llmTeacherForced?: OmitEngine<typeof import('./pipeline.js').llmTeacherForced>;
  llmDecode?: OmitEngine<typeof import('./pipeline.js').llmDecode>;
  flowInference?: OmitEngine<typeof import('./pipeline.js').flowInference>;
  token2wav?: OmitEngine<typeof import('./pipeline.js').token2wav>;
  /**
   * True where the flow keeps what a streaming call computed of its leading whole chunks (the CPU fallback's DiT
   * prefix cache), so that solving the speaker prompt alone ahead of a text saves that text's first chunk the work.
   */
  readonly keepsFlowPrefix?: boolean;
  /**
   * HiFT in its two halves (the f0 predictor; the vocoder on a window of frames given its source rows), for a
   * stream that runs each chunk on a window instead of the whole mel (src/models/hift/stream.ts). `sineNoise(n)`
   * gives the fixed table's first n samples. Without it, streaming re-runs `hift` from the utterance start.
   */
  hiftStages?(sineNoise: (samples: number) => Float32Array): HiftStages;
}

/** A pipeline function's type without its leading engine parameter. */
export type OmitEngine<F> = F extends (e: Engine, ...rest: infer A) => infer R ? (...rest: A) => R : never;

/** Factory used by `verify --engine <name>`: builds an engine over a converted folder. */
export type EngineFactory = (convertedDir: string) => Promise<Engine>;

const factories = new Map<string, EngineFactory>();

export function registerEngine(name: string, f: EngineFactory): void {
  factories.set(name, f);
}

export function engineFactory(name: string): EngineFactory | undefined {
  return factories.get(name);
}

export function engineNames(): string[] {
  return [...factories.keys()];
}
