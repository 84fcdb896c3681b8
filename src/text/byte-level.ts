/**
 * GPT-2 byte ↔ unicode table used by byte-level BPE vocabularies (Qwen2 included), and a minimal byte-level
 * vocabulary builder: enough to make a working tokenizer when no tokenizer files exist (tests, the synthetic
 * model of the CLI). It is NOT the Qwen2 vocabulary: ids differ from the released model's.
 */
import type { TokenizerSources } from './tokenizer.js';

/** bytes_to_unicode(): printable Latin-1 bytes map to themselves, the other 68 to U+0100 onwards. */
export function bytesToUnicode(): string[] {
  const bs: number[] = [];
  for (let i = 0x21; i <= 0x7e; i++) bs.push(i);
  for (let i = 0xa1; i <= 0xac; i++) bs.push(i);
  for (let i = 0xae; i <= 0xff; i++) bs.push(i);
  const cs = bs.slice();
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n++);
    }
  }
  const out = new Array<string>(256);
  bs.forEach((b, i) => (out[b] = String.fromCodePoint(cs[i])));
  return out;
}

/**
 * vocab.json + merges.txt (+ tokenizer_config.json with Qwen2's three specials placed right after the vocabulary)
 * for a byte-level BPE whose base vocabulary is the 256 byte symbols plus one entry per merge (in order).
 * `merges` are pairs of byte-level symbols, e.g. ['H e', 'Ġ w'].
 */
export function byteLevelSources(merges: string[] = []): TokenizerSources {
  const vocab: Record<string, number> = {};
  bytesToUnicode().forEach((c, i) => (vocab[c] = i));
  let id = 256;
  for (const m of merges) {
    const parts = m.split(' ');
    if (parts.length !== 2) throw new Error(`merge "${m}" must be two space-separated symbols`);
    const joined = parts[0] + parts[1];
    if (vocab[joined] === undefined) vocab[joined] = id++;
  }
  const tokenizerConfig = {
    added_tokens_decoder: {
      [id]: { content: '<|endoftext|>', special: true },
      [id + 1]: { content: '<|im_start|>', special: true },
      [id + 2]: { content: '<|im_end|>', special: true },
    },
  };
  return { vocab, merges: ['#version: 0.2', ...merges].join('\n'), tokenizerConfig };
}
