import { describe, expect, it } from 'vitest';
import { TokenizerFrontend } from '../../src/pipeline/text-frontends.js';
import { byteLevelSources, CosyVoiceTokenizer, ENDOFPROMPT, TextTooLongError } from '../../src/text/index.js';

const tok = () => CosyVoiceTokenizer.fromSources(byteLevelSources(['H e', 'l l']), { expectEndOfPromptId: null });

describe('TokenizerFrontend (upstream prompt layouts over the real tokenizer code)', () => {
  it('zero-shot: system prefix + transcript, <|endofprompt|> present, prompt speech passed through', () => {
    const f = new TokenizerFrontend(tok());
    const eop = f.tokenizer.endOfPromptId;
    const r = f.inputs({ segment: 'Hello.', mode: 'zero-shot', promptText: 'hi', promptSpeechTokens: Int32Array.of(5, 6) });
    expect([...r.textIds]).toContain(eop);
    expect(r.targetTextTokens).toBe(f.tokenizer.encode('Hello.').length);
    expect([...r.promptSpeechTokens]).toEqual([5, 6]);
  });

  it('cross-lingual puts the system prefix on the text and drops prompt speech; instruct needs the instruction', () => {
    const f = new TokenizerFrontend(tok());
    const r = f.inputs({ segment: 'Hello.', mode: 'cross-lingual', promptSpeechTokens: Int32Array.of(5) });
    expect(r.promptSpeechTokens.length).toBe(0);
    expect(r.targetTextTokens).toBe(r.textIds.length);
    const i = f.inputs({ segment: 'Hello.', mode: 'instruct', instruct: `Speak slowly.${ENDOFPROMPT}`, promptSpeechTokens: Int32Array.of(5) });
    expect(i.promptSpeechTokens.length).toBe(0);
    expect(() => f.inputs({ segment: 'Hello.', mode: 'instruct', promptSpeechTokens: new Int32Array(0) })).toThrow(/instruct/);
  });

  it('splits long English text into sentences and rejects text over the token limit', () => {
    const f = new TokenizerFrontend(tok(), 40);
    const long = Array.from({ length: 12 }, (_, i) => `Sentence number ${i} is here.`).join(' ');
    expect(f.split(long).length).toBeGreaterThan(1);
    expect(() => f.inputs({ segment: long, mode: 'cross-lingual', promptSpeechTokens: new Int32Array(0) })).toThrow(TextTooLongError);
  });
});
