/**
 * The CosyVoice3LM decode-loop rules around sampling (llm/llm.py `inference` + `inference_wrapper`), without the
 * network: the caller runs the LLM step and hands the logits (or top-k candidates) to `next`.
 *
 * - min_len = int(|target text| · min_token_text_ratio), max_len = int(|target text| · max_token_text_ratio),
 *   where |target text| = len(prompt_text ++ text) − len(prompt_text) (only the text to synthesise), ratios 2 / 20.
 * - step i < min_len samples with ignore_eos, which masks index S (sos in CosyVoice3, NOT eos): the minimum
 *   length is therefore not enforced for eos — replicated on purpose.
 * - any sampled id ≥ S (stop_token_ids = S … S+199) stops decoding and is not emitted.
 * - at most max_len steps; no forced eos at the limit.
 * - the repetition window sees only generated tokens (not the prompt speech tokens).
 */
import type { Sampler } from './sampler.js';
import { COSYVOICE3_RAS, sampleToken, type RasOptions } from './ras.js';
import { sampleTokenTopK, type FullLogitsFetch, type TopKCandidates } from './topk.js';
import { SamplingInputError } from './softmax.js';

export interface LengthLimits {
  minLen: number;
  maxLen: number;
}

/** Python `int(n · ratio)` for both limits. */
export function llmLengthLimits(targetTextTokens: number, minRatio = 2, maxRatio = 20): LengthLimits {
  if (!Number.isInteger(targetTextTokens) || targetTextTokens < 0) {
    throw new SamplingInputError(`target text length must be an integer ≥ 0, got ${targetTextTokens}`);
  }
  return { minLen: Math.trunc(targetTextTokens * minRatio), maxLen: Math.trunc(targetTextTokens * maxRatio) };
}

export interface SpeechTokenDecoderOptions {
  /** S = speech_token_size (read from the model: llm_decoder rows − 200, or the yaml). */
  speechTokenSize: number;
  /** Number of target text tokens (excluding the prompt text). */
  targetTextTokens: number;
  minTokenTextRatio?: number;
  maxTokenTextRatio?: number;
  ras?: RasOptions;
}

export type StopReason = 'stop_token' | 'max_len';

export interface DecodeStepResult {
  /** The sampled id (a speech token when `stop` is false, else the stop id, or −1 for max_len). */
  token: number;
  stop: boolean;
  reason?: StopReason;
}

export class SpeechTokenDecoder {
  readonly outTokens: number[] = [];
  readonly limits: LengthLimits;
  private stepIndex = 0;
  private stopReason: StopReason | undefined;
  private readonly ras: RasOptions;

  constructor(
    readonly opts: SpeechTokenDecoderOptions,
    readonly sampler: Sampler,
  ) {
    this.limits = llmLengthLimits(opts.targetTextTokens, opts.minTokenTextRatio ?? 2, opts.maxTokenTextRatio ?? 20);
    this.ras = opts.ras ?? COSYVOICE3_RAS;
  }

  /** Index of the next step (0 = the prefill step). */
  get step(): number {
    return this.stepIndex;
  }

  get done(): boolean {
    return this.stopReason !== undefined || this.stepIndex >= this.limits.maxLen;
  }

  get reason(): StopReason | undefined {
    return this.stopReason ?? (this.stepIndex >= this.limits.maxLen ? 'max_len' : undefined);
  }

  /** Whether the current step masks index S. */
  get ignoreEos(): boolean {
    return this.stepIndex < this.limits.minLen;
  }

  /** Samples from a full logits row (length S+200 for CosyVoice3). */
  next(logits: Float32Array): DecodeStepResult {
    this.checkOpen();
    const id = sampleToken(logits, this.outTokens, this.stepOpts(), this.sampler);
    return this.accept(id);
  }

  /** Samples from top-k candidates, fetching the full row only if RAS redraws. */
  async nextTopK(cand: TopKCandidates, fetchFull: FullLogitsFetch): Promise<DecodeStepResult> {
    this.checkOpen();
    const id = await sampleTokenTopK(cand, this.outTokens, this.stepOpts(), this.sampler, fetchFull);
    return this.accept(id);
  }

  /** Applies an externally chosen id with the same stop/length rules (e.g. a GPU-side sampler). */
  accept(id: number): DecodeStepResult {
    this.checkOpen();
    this.stepIndex++;
    if (id >= this.opts.speechTokenSize) {
      this.stopReason = 'stop_token';
      return { token: id, stop: true, reason: 'stop_token' };
    }
    this.outTokens.push(id);
    if (this.stepIndex >= this.limits.maxLen) return { token: id, stop: false, reason: 'max_len' };
    return { token: id, stop: false };
  }

  private stepOpts() {
    return { speechTokenSize: this.opts.speechTokenSize, ignoreEos: this.ignoreEos, ras: this.ras };
  }

  private checkOpen(): void {
    if (this.done) throw new SamplingInputError(`decoding already finished (${this.reason}) after ${this.stepIndex} steps`);
  }
}
