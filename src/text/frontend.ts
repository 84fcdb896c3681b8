/**
 * What text goes into the CosyVoice3 LLM for each inference mode (cli/cosyvoice.py + cli/frontend.py, and the
 * prompt conventions of upstream's example.py), and the length guard.
 *
 * | mode          | prompt_text ids               | text ids                        | LLM prompt speech | flow prompt |
 * | zero-shot     | system + <|endofprompt|> + transcript | tts text segment        | yes               | yes         |
 * | cross-lingual | (none)                        | system + <|endofprompt|> + text | no                | yes         |
 * | instruct2     | instruct text (with <|endofprompt|>) | tts text segment         | no                | yes         |
 *
 * The LLM asserts that `<|endofprompt|>` (id 151646 for the real vocabulary) occurs in prompt_text ++ text.
 * min/max speech length come from the TARGET text ids only (see sampling/llm-decode.ts).
 */
import type { CosyVoiceTokenizer } from './tokenizer.js';
import { ENDOFPROMPT } from './special-tokens.js';

/** The system prompt upstream's examples put in front of every CosyVoice3 prompt. */
export const DEFAULT_SYSTEM_PROMPT = 'You are a helpful assistant.';

export class TextTooLongError extends Error {
  override name = 'TextTooLongError';
  constructor(
    readonly what: string,
    readonly tokens: number,
    readonly limit: number,
  ) {
    super(`${what} is ${tokens} tokens, over the limit of ${limit}; split the text (splitParagraph) or shorten it`);
  }
}

export class TextInputError extends Error {
  override name = 'TextInputError';
}

export type InferenceMode = 'zero_shot' | 'cross_lingual' | 'instruct2';

export interface LlmTextRequest {
  mode: InferenceMode;
  /** The text to speak (one segment). */
  text: string;
  /** zero_shot: transcript of the prompt audio (the system prefix is added unless it already has <|endofprompt|>). */
  promptTranscript?: string;
  /** instruct2: the instruction, e.g. "You are a helpful assistant. 请用广东话表达。<|endofprompt|>". */
  instructText?: string;
  /** Prefix used when the text has no <|endofprompt|> yet (default DEFAULT_SYSTEM_PROMPT). */
  systemPrompt?: string;
  /** Prompt speech tokens (from the speaker); given to the LLM only in zero_shot. */
  promptSpeechTokens?: ArrayLike<number>;
  /** Max tokens of prompt_text ++ text (default: no limit). */
  maxTextTokens?: number;
}

export interface LlmTextInputs {
  promptTextIds: number[];
  textIds: number[];
  /** Empty except in zero_shot. */
  llmPromptSpeechTokens: number[];
  /** Target text length that sets min_len / max_len. */
  targetTextTokens: number;
}

function withSystem(s: string, system: string): string {
  return s.includes(ENDOFPROMPT) ? s : `${system}${ENDOFPROMPT}${s}`;
}

/** Throws TextTooLongError when `ids` exceed `limit`. */
export function checkTextLength(what: string, ids: ArrayLike<number>, limit: number | undefined): void {
  if (limit !== undefined && ids.length > limit) throw new TextTooLongError(what, ids.length, limit);
}

/** The mode's prompt text, the text as the LLM reads it, and the prompt speech it is given (spec §2.1). */
function layout(req: Omit<LlmTextRequest, 'text'>, text: string): { promptText: string; text: string; speech: number[] } {
  const system = req.systemPrompt ?? DEFAULT_SYSTEM_PROMPT;
  switch (req.mode) {
    case 'zero_shot':
      if (req.promptTranscript === undefined) throw new TextInputError('zero_shot needs the prompt transcript');
      return { promptText: withSystem(req.promptTranscript, system), text, speech: Array.from(req.promptSpeechTokens ?? []) };
    case 'cross_lingual':
      return { promptText: '', text: withSystem(text, system), speech: [] };
    case 'instruct2':
      if (!req.instructText) throw new TextInputError('instruct2 needs an instruction text');
      return { promptText: req.instructText.includes(ENDOFPROMPT) ? req.instructText : `${req.instructText}${ENDOFPROMPT}`, text, speech: [] };
    default:
      throw new TextInputError(`unknown inference mode ${(req as { mode: string }).mode}`);
  }
}

export function buildLlmTextInputs(tok: CosyVoiceTokenizer, req: LlmTextRequest): LlmTextInputs {
  if (req.text.trim() === '') throw new TextInputError('text to synthesise is empty');
  const { promptText, text, speech } = layout(req, req.text);
  const promptTextIds = promptText ? tok.encode(promptText) : [];
  const textIds = tok.encode(text);
  if (![...promptTextIds, ...textIds].includes(tok.endOfPromptId)) {
    throw new TextInputError(`${ENDOFPROMPT} (id ${tok.endOfPromptId}) is missing from prompt_text ++ text`);
  }
  checkTextLength('prompt text + text', [...promptTextIds, ...textIds], req.maxTextTokens);
  return { promptTextIds, textIds, llmPromptSpeechTokens: speech, targetTextTokens: textIds.length };
}

/**
 * The prompt part of text-in streaming (upstream inference_bistream, tts_text a generator): the prompt text ids of
 * zero_shot or instruct2 as buildLlmTextInputs makes them. The text then arrives in pieces, each tokenized on its
 * own and not normalized, as upstream's frontend does for a generator. cross_lingual is refused: its
 * <|endofprompt|> is in the text, and upstream asserts it in the prompt text.
 */
export function buildBistreamPrompt(tok: CosyVoiceTokenizer, req: Omit<LlmTextRequest, 'text'>): { promptTextIds: number[]; llmPromptSpeechTokens: number[] } {
  if (req.mode === 'cross_lingual') throw new TextInputError('text-in streaming needs <|endofprompt|> in the prompt text: zero_shot or instruct2 (cross_lingual puts it in the text)');
  const { promptText, speech } = layout(req, '');
  const promptTextIds = tok.encode(promptText);
  checkTextLength('prompt text', promptTextIds, req.maxTextTokens);
  return { promptTextIds, llmPromptSpeechTokens: speech };
}
