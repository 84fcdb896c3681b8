/**
 * The CosyVoice3 text tokenizer: Qwen2 byte-level BPE (via @huggingface/tokenizers) plus the CosyVoice3 special
 * tokens, as upstream's `CosyVoice3Tokenizer` builds it with transformers' AutoTokenizer + add_special_tokens.
 *
 * Sources accepted: a `tokenizer.json` object (used as is), or `vocab.json` + `merges.txt` (+ the optional
 * `tokenizer_config.json`, whose `added_tokens_decoder` holds Qwen2's `<|endoftext|>`, `<|im_start|>`,
 * `<|im_end|>`), from which the same pipeline a Qwen2TokenizerFast converts to is assembled: NFC normaliser,
 * the Qwen2 split regex (isolated) then ByteLevel without prefix space, BPE without unk/dropout, ByteLevel decoder.
 * No BOS/EOS is added. Special tokens are matched on the raw text before normalisation and BPE (`normalized:
 * false`), and new ones receive ids len(vocab ∪ added) + i in list order, as HF `add_special_tokens` does.
 */
import { Tokenizer } from '@huggingface/tokenizers';
import { COSYVOICE3_SPECIAL_TOKENS, ENDOFPROMPT, ENDOFPROMPT_ID } from './special-tokens.js';

export class TokenizerFileError extends Error {
  override name = 'TokenizerFileError';
}

/** Qwen2's pre-tokenizer pattern (tokenization_qwen2.py PRETOKENIZE_REGEX). */
export const QWEN2_PRETOKENIZE_REGEX =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

export interface TokenizerSources {
  /** Parsed tokenizer.json; when given, vocab/merges are ignored. */
  tokenizerJson?: any;
  /** Parsed vocab.json: token string → id. */
  vocab?: Record<string, number>;
  /** merges.txt content (with or without the `#version` header) or its lines. */
  merges?: string | string[];
  /** Parsed tokenizer_config.json (added_tokens_decoder, clean_up_tokenization_spaces). */
  tokenizerConfig?: any;
}

interface AddedTokenJson {
  id: number;
  content: string;
  single_word: boolean;
  lstrip: boolean;
  rstrip: boolean;
  normalized: boolean;
  special: boolean;
}

function parseMerges(m: string | string[]): string[] {
  const lines = typeof m === 'string' ? m.split(/\r?\n/) : m;
  return lines.filter((l) => l.length > 0 && !l.startsWith('#version'));
}

/** tokenizer.json object for a Qwen2 byte-level BPE from vocab + merges (+ config added tokens). */
export function qwen2TokenizerJson(src: TokenizerSources): any {
  if (!src.vocab || src.merges === undefined) {
    throw new TokenizerFileError('need tokenizer.json, or vocab.json + merges.txt');
  }
  const added: AddedTokenJson[] = [];
  const dec = src.tokenizerConfig?.added_tokens_decoder ?? {};
  for (const [id, t] of Object.entries<any>(dec)) {
    added.push({
      id: Number(id),
      content: t.content,
      single_word: !!t.single_word,
      lstrip: !!t.lstrip,
      rstrip: !!t.rstrip,
      normalized: !!t.normalized,
      special: t.special !== false,
    });
  }
  added.sort((a, b) => a.id - b.id);
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false };
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: { type: 'NFC' },
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: QWEN2_PRETOKENIZE_REGEX }, behavior: 'Isolated', invert: false },
        byteLevel,
      ],
    },
    post_processor: byteLevel,
    decoder: byteLevel,
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab: src.vocab,
      merges: parseMerges(src.merges),
    },
  };
}

/** Adds special tokens as HF `add_special_tokens`: existing strings keep their id, new ones are appended. */
export function registerSpecialTokens(tokenizerJson: any, specials: readonly string[]): Map<string, number> {
  const vocab: Record<string, number> = tokenizerJson.model?.vocab ?? {};
  const added: AddedTokenJson[] = (tokenizerJson.added_tokens ??= []);
  const ids = new Map<string, number>();
  const taken = new Set<number>(Object.values(vocab));
  for (const t of added) taken.add(t.id);
  let next = taken.size;
  for (const s of specials) {
    const existing = added.find((t) => t.content === s);
    if (existing) {
      existing.special = true;
      ids.set(s, existing.id);
      continue;
    }
    let id = vocab[s];
    if (id === undefined) {
      while (taken.has(next)) next++;
      id = next++;
      taken.add(id);
    }
    added.push({ id, content: s, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
    ids.set(s, id);
  }
  return ids;
}

export interface CosyVoiceTokenizerOptions {
  /** Strings registered as special tokens (default: the CosyVoice3 list). */
  specialTokens?: readonly string[];
  /** Require `<|endofprompt|>` to land on this id (default 151646, upstream's hard-coded id); null to skip. */
  expectEndOfPromptId?: number | null;
}

export class CosyVoiceTokenizer {
  private readonly tok: Tokenizer;
  readonly specialIds: ReadonlyMap<string, number>;
  readonly endOfPromptId: number;

  private constructor(json: any, config: any, specials: Map<string, number>) {
    this.tok = new Tokenizer(json, config ?? { clean_up_tokenization_spaces: false });
    this.specialIds = specials;
    this.endOfPromptId = specials.get(ENDOFPROMPT) ?? -1;
  }

  static fromSources(src: TokenizerSources, opts: CosyVoiceTokenizerOptions = {}): CosyVoiceTokenizer {
    const json = src.tokenizerJson ? structuredClone(src.tokenizerJson) : qwen2TokenizerJson(src);
    const specials = registerSpecialTokens(json, opts.specialTokens ?? COSYVOICE3_SPECIAL_TOKENS);
    const expect = opts.expectEndOfPromptId === undefined ? ENDOFPROMPT_ID : opts.expectEndOfPromptId;
    const eop = specials.get(ENDOFPROMPT);
    if (expect !== null && eop !== undefined && eop !== expect) {
      throw new TokenizerFileError(
        `${ENDOFPROMPT} was assigned id ${eop}, but the CosyVoice3 LLM expects ${expect}: ` +
          'these tokenizer files do not match the model (wrong vocabulary size or added tokens)',
      );
    }
    const config = { clean_up_tokenization_spaces: false, ...(src.tokenizerConfig ?? {}) };
    delete (config as any).added_tokens_decoder;
    return new CosyVoiceTokenizer(json, config, specials);
  }

  /** Token ids of `text` (no BOS/EOS), as upstream `tokenizer.encode`. */
  encode(text: string): number[] {
    return this.tok.encode(text, { add_special_tokens: false }).ids;
  }

  tokens(text: string): string[] {
    return this.tok.encode(text, { add_special_tokens: false }).tokens;
  }

  decode(ids: number[], skipSpecialTokens = true): string {
    return this.tok.decode(ids, { skip_special_tokens: skipSpecialTokens });
  }

  tokenToId(token: string): number | undefined {
    return this.tok.token_to_id(token);
  }
}
