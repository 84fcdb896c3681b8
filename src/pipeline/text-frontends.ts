/**
 * Text frontends for the pipeline: how a segment of text becomes the LLM's text ids in each mode.
 *
 * - `TokenizerFrontend`: the real one — Qwen2 byte-level BPE + CosyVoice3 special tokens (src/text), upstream's
 *   prompt layouts (system prefix, mandatory <|endofprompt|>) and split_paragraph.
 * - `SyntheticTextFrontend`: for models without tokenizer files (the built-in synthetic model, the tiny
 *   fixtures): UTF-8 bytes folded into the model's text vocabulary. It exercises the pipeline; it is not Qwen2's
 *   tokenisation and makes no claim to produce speech.
 */
import { buildBistreamPrompt, buildLlmTextInputs, normalizeAndSplit, TextInputError, type CosyVoiceTokenizer, type InferenceMode } from '../text/index.js';
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

/** Text-in streaming's text side: the prompt part in the chosen mode, and how each arriving piece becomes ids. */
export interface BistreamText {
  promptTextIds: Int32Array;
  endOfPromptId: number;
  /** Given to the LLM only in zero-shot mode. */
  promptSpeechTokens: Int32Array;
  /** One arriving piece of text → ids, tokenized on its own and not normalized (upstream's generator path). */
  encode(piece: string): number[];
}

export interface TextFrontend {
  /** Segments synthesised one after another (upstream split_paragraph); never empty for non-empty text. */
  split(text: string): string[];
  inputs(req: SegmentRequest): SegmentInputs;
  /** Text-in streaming (CosyVoicePipeline.streamText). */
  bistream(req: Omit<SegmentRequest, 'segment'>): BistreamText;
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

  /** The text layer's request for `req`'s mode and prompt (src/text/frontend.ts). */
  private request(req: Omit<SegmentRequest, 'segment'>) {
    return { mode: MODE[req.mode], promptTranscript: req.promptText, instructText: req.instruct, promptSpeechTokens: req.promptSpeechTokens, maxTextTokens: this.maxTextTokens };
  }

  inputs(req: SegmentRequest): SegmentInputs {
    const r = buildLlmTextInputs(this.tokenizer, { ...this.request(req), text: req.segment });
    return {
      textIds: Int32Array.from([...r.promptTextIds, ...r.textIds]),
      targetTextTokens: r.targetTextTokens,
      promptSpeechTokens: Int32Array.from(r.llmPromptSpeechTokens),
    };
  }

  bistream(req: Omit<SegmentRequest, 'segment'>): BistreamText {
    const r = buildBistreamPrompt(this.tokenizer, this.request(req));
    return {
      promptTextIds: Int32Array.from(r.promptTextIds),
      endOfPromptId: this.tokenizer.endOfPromptId,
      promptSpeechTokens: Int32Array.from(r.llmPromptSpeechTokens),
      encode: (piece) => this.tokenizer.encode(piece),
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
  /**
   * The prompt part ends with a stand-in <|endofprompt|>, the last text id (the tiny fixtures' generator uses the
   * same: endofprompt_stand_in_text_id); cross-lingual has no prompt part, as upstream.
   */
  bistream(req: Omit<SegmentRequest, 'segment'>): BistreamText {
    if (req.mode === 'cross-lingual') throw new TextInputError('text-in streaming needs a prompt text: zero-shot or instruct');
    const eop = this.textVocab - 1;
    const prefix = this.encode(req.mode === 'zero-shot' ? (req.promptText ?? '') : (req.instruct ?? ''));
    return {
      promptTextIds: Int32Array.from([...prefix, eop]),
      endOfPromptId: eop,
      promptSpeechTokens: req.mode === 'zero-shot' ? req.promptSpeechTokens : new Int32Array(0),
      encode: (piece) => this.encode(piece),
    };
  }

}
