export {
  COSYVOICE3_CMU_TOKENS,
  COSYVOICE3_EVENT_TOKENS,
  COSYVOICE3_PINYIN_TOKENS,
  COSYVOICE3_SPECIAL_TOKENS,
  ENDOFPROMPT,
  ENDOFPROMPT_ID,
  ENDOFTEXT,
} from './special-tokens.js';
export {
  CosyVoiceTokenizer,
  QWEN2_PRETOKENIZE_REGEX,
  TokenizerFileError,
  qwen2TokenizerJson,
  registerSpecialTokens,
} from './tokenizer.js';
export type { CosyVoiceTokenizerOptions, TokenizerSources } from './tokenizer.js';
// Node only (file system): import loadTokenizerDir from './load.js' directly, so bundles stay browser-safe.
export { byteLevelSources, bytesToUnicode } from './byte-level.js';
export { numberToWords, spellOutNumbers } from './numbers.js';
export {
  containsChinese,
  isOnlyPunctuation,
  normalizeAndSplit,
  normalizeChinese,
  replaceBlank,
  splitParagraph,
} from './split.js';
export type { SplitOptions, TextLanguage } from './split.js';
export {
  DEFAULT_SYSTEM_PROMPT,
  TextInputError,
  TextTooLongError,
  buildLlmTextInputs,
  buildBistreamPrompt,
  checkTextLength,
} from './frontend.js';
export type { InferenceMode, LlmTextInputs, LlmTextRequest } from './frontend.js';
