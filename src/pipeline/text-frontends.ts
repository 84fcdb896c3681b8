/**
 * Text frontends for the pipeline: how a segment of text becomes the LLM's text ids in each mode.
 *
 * - `TokenizerFrontend`: the real one — Qwen2 byte-level BPE + CosyVoice3 special tokens (src/text), upstream's
 *   prompt layouts (system prefix, mandatory <|endofprompt|>) and split_paragraph.
 * - `SyntheticTextFrontend`: for models without tokenizer files (the built-in synthetic model, the tiny
 *   fixtures): UTF-8 bytes folded into the model's text vocabulary. It exercises the pipeline; it is not Qwen2's
 *   tokenisation and makes no claim to produce speech.
 */
import { buildLlmTextInputs, normalizeAndSplit, TextInputError, type CosyVoiceTokenizer, type InferenceMode } from '../text/index.js';
import type { SynthesisMode } from './types.js';

export interface SegmentRequest {
  segment: string;
  mode: SynthesisMode;
  promptText?: string;
  instruct?: string;
  promptSpeechTokens: Int32Array;
}

export interface SegmentInputs {
  /** prompt/instruct text ids ++ target text ids. */
  textIds: Int32Array;
  targetTextTokens: number;
  /** Given to the LLM only in zero-shot mode. */
  promptSpeechTokens: Int32Array;
}

export interface TextFrontend {
  /** Segments synthesised one after another (upstream split_paragraph); never empty for non-empty text. */
  split(text: string): string[];
  inputs(req: SegmentRequest): SegmentInputs;
}

const MODE: Record<SynthesisMode, InferenceMode> = { 'zero-shot': 'zero_shot', 'cross-lingual': 'cross_lingual', instruct: 'instruct2' };

export class TokenizerFrontend implements TextFrontend {
  constructor(
    readonly tokenizer: CosyVoiceTokenizer,
    /** Limit on prompt text + text tokens (TextTooLongError beyond). */
    readonly maxTextTokens?: number,
  ) {}

  split(text: string): string[] {
    return normalizeAndSplit(text, (s) => this.tokenizer.encode(s));
  }

  inputs(req: SegmentRequest): SegmentInputs {
    const r = buildLlmTextInputs(this.tokenizer, {
      mode: MODE[req.mode],
      text: req.segment,
      promptTranscript: req.promptText,
      instructText: req.instruct,
      promptSpeechTokens: req.promptSpeechTokens,
      maxTextTokens: this.maxTextTokens,
    });
    return {
      textIds: Int32Array.from([...r.promptTextIds, ...r.textIds]),
      targetTextTokens: r.targetTextTokens,
      promptSpeechTokens: Int32Array.from(r.llmPromptSpeechTokens),
    };
  }
}

export class SyntheticTextFrontend implements TextFrontend {
  private readonly utf8 = new TextEncoder();
  constructor(
    readonly textVocab: number,
    readonly maxTextTokens = 4096,
  ) {}

  split(text: string): string[] {
    // Sentence ends, as upstream splits English; keeps each segment's punctuation.
    return (text.match(/[^.!?;:。？！；：]+[.!?;:。？！；：]*/g) ?? [text]).map((s) => s.trim()).filter((s) => /[\p{L}\p{N}]/u.test(s));
  }

  private encode(s: string): number[] {
    return [...this.utf8.encode(s)].map((b) => b % this.textVocab);
  }

  inputs(req: SegmentRequest): SegmentInputs {
    if (!req.segment.trim()) throw new TextInputError('text to synthesise is empty');
    const target = this.encode(req.segment);
    const prefix = req.mode === 'zero-shot' ? this.encode(req.promptText ?? '') : req.mode === 'instruct' ? this.encode(req.instruct ?? '') : [];
    const ids = [...prefix, ...target];
    if (ids.length > this.maxTextTokens) throw new TextInputError(`text has ${ids.length} tokens, the limit is ${this.maxTextTokens}`);
    return {
      textIds: Int32Array.from(ids),
      targetTextTokens: target.length,
      promptSpeechTokens: req.mode === 'zero-shot' ? req.promptSpeechTokens : new Int32Array(0),
    };
  }
}
