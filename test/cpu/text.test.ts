/**
 * Text frontend: the CosyVoice3 special-token list (checksum of upstream's list, counts, id layout), a small
 * made-up byte-level BPE built in the test (vocab.json/merges.txt and tokenizer.json routes, Qwen2 pre-tokenizer
 * boundaries, NFC, special-token splitting), prompt layouts per mode, split_paragraph and the length guard.
 */
import { loadTokenizerDir } from '../../src/text/load.js';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  COSYVOICE3_CMU_TOKENS,
  COSYVOICE3_EVENT_TOKENS,
  COSYVOICE3_PINYIN_TOKENS,
  COSYVOICE3_SPECIAL_TOKENS,
  CosyVoiceTokenizer,
  TextInputError,
  TextTooLongError,
  TokenizerFileError,
  buildBistreamPrompt,
  buildLlmTextInputs,
  byteLevelSources,
  isOnlyPunctuation,
  normalizeAndSplit,
  normalizeChinese,
  numberToWords,
  spellOutNumbers,
  qwen2TokenizerJson,
  splitParagraph,
} from '../../src/text/index.js';

const MERGES = ['H e', 'l l', 'He ll', 'Hell o', 'Ġ w', 'o r', 'Ġw or', 'l d', 'Ġwor ld', 'Ġ 1', '1 2', "' s", 't \''];

function tinyTokenizer(): CosyVoiceTokenizer {
  return CosyVoiceTokenizer.fromSources(byteLevelSources(MERGES), { expectEndOfPromptId: null });
}

describe('CosyVoice3 special tokens', () => {
  it('is upstream\'s 280-string list (sha256 of the newline-joined list) with 20 + 84 + 176 groups', () => {
    expect(COSYVOICE3_SPECIAL_TOKENS.length).toBe(280);
    expect([COSYVOICE3_EVENT_TOKENS.length, COSYVOICE3_CMU_TOKENS.length, COSYVOICE3_PINYIN_TOKENS.length]).toEqual([20, 84, 176]);
    const h = createHash('sha256').update(COSYVOICE3_SPECIAL_TOKENS.join('\n')).digest('hex');
    expect(h).toBe('4d5267643001673d742c7033834779c1e24f936caaf7a9ce850807222ee94b91');
  });

  it('registers like HF add_special_tokens: existing keep ids, new ones follow the vocabulary in order', () => {
    // A vocabulary laid out like Qwen2's: 151643 regular entries, then 3 added specials → <|endofprompt|> = 151646.
    const src = byteLevelSources([]);
    const vocab: Record<string, number> = { ...src.vocab };
    for (let i = 256; i < 151643; i++) vocab[`x${i}`] = i;
    const tok = CosyVoiceTokenizer.fromSources({
      vocab,
      merges: '',
      tokenizerConfig: {
        added_tokens_decoder: {
          151643: { content: '<|endoftext|>', special: true },
          151644: { content: '<|im_start|>', special: true },
          151645: { content: '<|im_end|>', special: true },
        },
      },
    });
    const id = (s: string) => tok.specialIds.get(s);
    expect(id('<|im_start|>')).toBe(151644);
    expect(id('<|im_end|>')).toBe(151645);
    expect(tok.endOfPromptId).toBe(151646);
    expect(id('[breath]')).toBe(151647);
    expect(id('<|endofsystem|>')).toBe(151663);
    expect(id('[AA]')).toBe(151664);
    expect(id('[ZH]')).toBe(151747);
    expect(id('[a]')).toBe(151748);
    expect(id('[ǜ]')).toBe(151923);
    expect(tok.encode('<|endofprompt|>[breath]')).toEqual([151646, 151647]);
  });

  it('refuses tokenizer files that would put <|endofprompt|> elsewhere', () => {
    expect(() => CosyVoiceTokenizer.fromSources(byteLevelSources([]))).toThrow(TokenizerFileError);
  });
});

describe('byte-level BPE through @huggingface/tokenizers', () => {
  const tok = tinyTokenizer();
  const base = 256 + new Set(MERGES.map((m) => m.replace(' ', ''))).size;

  it('applies merges inside Qwen2 pre-tokens only', () => {
    expect(tok.tokens('Hello world')).toEqual(['Hello', 'Ġworld']);
    // " 12": the space and each digit are separate pre-tokens, so neither 'Ġ 1' nor '1 2' may merge.
    expect(tok.tokens(' 12')).toEqual(['Ġ', '1', '2']);
    // "it's": "'s" is its own pre-token (merge applies), "t'" would cross a boundary (must not).
    expect(tok.tokens("it's")).toEqual(['i', 't', "'s"]);
    expect(tok.tokens("IT'S")).toEqual(['I', 'T', "'", 'S']);
  });

  it('NFC-normalises before BPE and round-trips bytes', () => {
    expect(tok.encode('e\u0301')).toEqual(tok.encode('\u00e9'));
    const s = 'Hello 你好\n\n world';
    expect(tok.decode(tok.encode(s), false)).toBe(s);
  });

  it('splits around special tokens anywhere in the text', () => {
    const ids = tok.encode('Hello world<|endofprompt|>Hello[breath] world[AA1]');
    const eop = tok.endOfPromptId;
    expect(eop).toBe(base + 3);
    expect(ids).toEqual([
      tok.tokenToId('Hello'), tok.tokenToId('Ġworld'), eop, tok.tokenToId('Hello'),
      tok.specialIds.get('[breath]'), tok.tokenToId('Ġworld'), tok.specialIds.get('[AA1]'),
    ]);
  });

  it('loads the same tokenizer from vocab.json + merges.txt and from tokenizer.json files', () => {
    const src = byteLevelSources(MERGES);
    const d1 = mkdtempSync(join(tmpdir(), 'tok-'));
    writeFileSync(join(d1, 'vocab.json'), JSON.stringify(src.vocab));
    writeFileSync(join(d1, 'merges.txt'), src.merges as string);
    writeFileSync(join(d1, 'tokenizer_config.json'), JSON.stringify(src.tokenizerConfig));
    const d2 = mkdtempSync(join(tmpdir(), 'tok-'));
    writeFileSync(join(d2, 'tokenizer.json'), JSON.stringify(qwen2TokenizerJson(src)));
    const text = "Hello world<|endofprompt|>it's [breath] 12";
    const a = loadTokenizerDir(d1, { expectEndOfPromptId: null }).encode(text);
    const b = loadTokenizerDir(d2, { expectEndOfPromptId: null }).encode(text);
    expect(a).toEqual(tok.encode(text));
    expect(b).toEqual(a);
    expect(() => loadTokenizerDir(mkdtempSync(join(tmpdir(), 'tok-')))).toThrow(/no tokenizer files/);
  });
});

describe('prompt layouts', () => {
  const tok = tinyTokenizer();
  const eop = tok.endOfPromptId;

  it('zero-shot: system + <|endofprompt|> + transcript as prompt text, prompt speech tokens to the LLM', () => {
    const r = buildLlmTextInputs(tok, { mode: 'zero_shot', text: 'Hello', promptTranscript: 'world', promptSpeechTokens: [5, 6] });
    expect(r.promptTextIds).toEqual(tok.encode('You are a helpful assistant.<|endofprompt|>world'));
    expect(r.textIds).toEqual(tok.encode('Hello'));
    expect(r.llmPromptSpeechTokens).toEqual([5, 6]);
    expect(r.targetTextTokens).toBe(1);
  });

  it('cross-lingual: the prefix goes into the text, no prompt text or LLM prompt speech', () => {
    const r = buildLlmTextInputs(tok, { mode: 'cross_lingual', text: '[breath]Hello', promptSpeechTokens: [5] });
    expect(r.promptTextIds).toEqual([]);
    expect(r.textIds.includes(eop)).toBe(true);
    expect(r.llmPromptSpeechTokens).toEqual([]);
    expect(r.targetTextTokens).toBe(r.textIds.length);
  });

  it('instruct2: the instruction is the prompt text; errors are typed', () => {
    const r = buildLlmTextInputs(tok, { mode: 'instruct2', text: 'Hello', instructText: 'You are a helpful assistant. Speak fast.<|endofprompt|>' });
    expect(r.promptTextIds.at(-1)).toBe(eop);
    expect(r.llmPromptSpeechTokens).toEqual([]);
    expect(() => buildLlmTextInputs(tok, { mode: 'instruct2', text: 'x' })).toThrow(TextInputError);
    expect(() => buildLlmTextInputs(tok, { mode: 'zero_shot', text: '  ', promptTranscript: 'a' })).toThrow(/empty/);
    expect(() => buildLlmTextInputs(tok, { mode: 'cross_lingual', text: 'Hello world Hello world', maxTextTokens: 8 })).toThrow(TextTooLongError);
  });

  it('text-in streaming: the same prompt part as a whole text in zero-shot and instruct2; cross-lingual refused', () => {
    const zs = { mode: 'zero_shot', promptTranscript: 'world', promptSpeechTokens: [5, 6] } as const;
    expect(buildBistreamPrompt(tok, zs)).toEqual({ promptTextIds: buildLlmTextInputs(tok, { ...zs, text: 'Hello' }).promptTextIds, llmPromptSpeechTokens: [5, 6] });
    const ins = { mode: 'instruct2', instructText: 'Speak fast.', promptSpeechTokens: [5] } as const;
    const b = buildBistreamPrompt(tok, ins);
    expect(b.promptTextIds).toEqual(buildLlmTextInputs(tok, { ...ins, text: 'Hello' }).promptTextIds);
    expect(b.promptTextIds.at(-1)).toBe(eop);
    expect(b.llmPromptSpeechTokens).toEqual([]);
    expect(() => buildBistreamPrompt(tok, { mode: 'cross_lingual' })).toThrow(/zero_shot or instruct2/);
    expect(() => buildBistreamPrompt(tok, { ...zs, maxTextTokens: 3 })).toThrow(TextTooLongError);
  });
});

describe('split_paragraph and normalisation', () => {
  const charLen = (s: string) => Array.from(s);

  it('zh: cuts at sentence marks, packs to 80 characters (min 60), merges a short tail', () => {
    const s = '一二三四五六七八九十'.repeat(3); // 30 characters
    const text = `${s}。${s}。${s}！${s}？短句。`;
    const out = splitParagraph(text, charLen, 'zh');
    // 31 + 31 = 62 > 60 and adding the third would exceed 80 → cut; the tail (31 + 31 + 3) is ≥ merge_len.
    expect(out).toEqual([`${s}。${s}。`, `${s}！${s}？短句。`]);
    // A pack may exceed 80 while it is ≤ 60 before the addition; a tail under 20 characters is glued back.
    const a = '甲'.repeat(45);
    expect(splitParagraph(`${a}。${a}。短。`, charLen, 'zh')).toEqual([`${a}。${a}。短。`]);
    expect(splitParagraph('没有标点', charLen, 'zh')).toEqual(['没有标点。']);
    expect(splitParagraph('他说：“好。”然后走了', charLen, 'zh')).toEqual(['他说：“好。”然后走了。']);
  });

  it('en: lengths in tokens, default final period, closing quotes stay with their sentence', () => {
    const words = (n: number) => Array.from({ length: n }, () => 'word').join(' ');
    const tokenize = (s: string) => s.split(/\s+/).filter(Boolean);
    const text = `${words(50)}. ${words(40)}! "${words(30)}?" tail`;
    const out = splitParagraph(text, tokenize, 'en');
    expect(out.length).toBe(2);
    expect(out[0]).toBe(`${words(50)}. ${words(40)}!`);
    expect(out[1].endsWith('tail.')).toBe(true);
  });

  it('normalises zh text and drops punctuation-only segments; <|...|> text is left alone', () => {
    expect(normalizeChinese('你好 世界，\n3²【注】——好、')).toBe('你好世界，3平方注 好。');
    expect(isOnlyPunctuation('。！')).toBe(true);
    expect(isOnlyPunctuation('好。')).toBe(false);
    const p = 'You are a helpful assistant.<|endofprompt|>[breath]一。二。';
    expect(normalizeAndSplit(p, charLen)).toEqual([p]);
    expect(normalizeAndSplit('Hello there. Bye.', (s) => s.split(' '))).toEqual(['Hello there. Bye.']);
  });
});

describe('English number spelling (inflect number_to_words defaults)', () => {
  it('matches inflect for the structural cases', () => {
    const cases: [string, string][] = [
      ['0', 'zero'], ['00', 'zero'], ['1', 'one'], ['007', 'seven'], ['10', 'ten'], ['13', 'thirteen'],
      ['21', 'twenty-one'], ['40', 'forty'], ['100', 'one hundred'], ['101', 'one hundred and one'],
      ['110', 'one hundred and ten'], ['999', 'nine hundred and ninety-nine'], ['1000', 'one thousand'],
      ['1001', 'one thousand and one'], ['1010', 'one thousand and ten'],
      ['1234', 'one thousand, two hundred and thirty-four'], ['2024', 'two thousand and twenty-four'],
      ['12345', 'twelve thousand, three hundred and forty-five'],
      ['123456', 'one hundred and twenty-three thousand, four hundred and fifty-six'],
      ['1000000', 'one million'], ['1002000', 'one million, two thousand'],
    ];
    for (const [d, w] of cases) expect(numberToWords(d), d).toBe(w);
    expect(numberToWords('1'.repeat(37))).toBeNull();
  });

  it('spells digit runs inside text and feeds the English split', () => {
    expect(spellOutNumbers('I have 3 cats and 21 dogs, born 2024.')).toBe(
      'I have three cats and twenty-one dogs, born two thousand and twenty-four.',
    );
    expect(spellOutNumbers('3.14')).toBe('three.fourteen');
    expect(normalizeAndSplit('Call 911 now', (s) => s.split(' '))).toEqual(['Call nine hundred and eleven now.']);
  });
});
