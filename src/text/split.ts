/**
 * Text segmentation and the light text normalisation of upstream's frontend (cli/frontend.py `text_normalize`,
 * utils/frontend_utils.py), without the optional ttsfrd / wetext engines (not reproduced). English digit runs are
 * spelled out as upstream's inflect call does (numbers.ts).
 *
 * Rules (facts from upstream):
 * - text containing both `<|` and `|>` is neither normalised nor split (every CosyVoice3 prompt/instruct text and
 *   cross-lingual tts text contains `<|endofprompt|>`).
 * - language: "zh" if the text contains a CJK ideograph U+4E00–U+9FFF, else "en". zh lengths count characters
 *   (Python code points), en lengths count tokenizer tokens.
 * - zh clean-up: drop newlines, drop blanks not between two non-blank ASCII characters, ² → 平方, ³ → 立方,
 *   `.` → `。`, ` - ` → `，`, remove （ ） 【 】 and backticks, `——` → space, trailing runs of `，,、` → `。`.
 * - split_paragraph(token_max_n 80, token_min_n 60, merge_len 20): append a final stop if missing, cut after each
 *   sentence mark (a closing quote right after the mark stays with the sentence), then greedily pack sentences
 *   while the packed length ≤ max or the current pack is ≤ min; a last pack shorter than merge_len is glued
 *   to the previous one.
 * - segments that are empty or only punctuation/symbols are dropped.
 */
import { spellOutNumbers } from './numbers.js';

export type TextLanguage = 'zh' | 'en';

export interface SplitOptions {
  tokenMaxN?: number;
  tokenMinN?: number;
  mergeLen?: number;
  commaSplit?: boolean;
}

const ZH_MARKS = ['。', '？', '！', '；', '：', '、', '.', '?', '!', ';'];
const EN_MARKS = ['.', '?', '!', ';', ':'];

export function containsChinese(text: string): boolean {
  return /[\u4e00-\u9fff]/.test(text);
}

/** Python `len(str)`: code points. */
function pyLen(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** upstream `split_paragraph`. `tokenize` gives the length unit for "en". */
export function splitParagraph(
  text: string,
  tokenize: (s: string) => ArrayLike<unknown>,
  lang: TextLanguage = 'zh',
  opts: SplitOptions = {},
): string[] {
  const maxN = opts.tokenMaxN ?? 80;
  const minN = opts.tokenMinN ?? 60;
  const mergeLen = opts.mergeLen ?? 20;
  const chars = Array.from(text);
  if (chars.length === 0) return [];
  const marks = [...(lang === 'zh' ? ZH_MARKS : EN_MARKS), ...(opts.commaSplit ? ['，', ','] : [])];
  const len = (s: string) => (lang === 'zh' ? pyLen(s) : tokenize(s).length);
  if (!marks.includes(chars[chars.length - 1])) chars.push(lang === 'zh' ? '。' : '.');

  const utts: string[] = [];
  let st = 0;
  for (let i = 0; i < chars.length; i++) {
    if (!marks.includes(chars[i])) continue;
    if (i > st) utts.push(chars.slice(st, i).join('') + chars[i]);
    if (i + 1 < chars.length && (chars[i + 1] === '"' || chars[i + 1] === '”')) {
      // The quote joins the sentence just pushed (upstream pops the last one; with none yet Python would
      // raise IndexError, here the quote simply stands alone).
      const tmp = utts.pop() ?? '';
      utts.push(tmp + chars[i + 1]);
      st = i + 2;
    } else {
      st = i + 1;
    }
  }

  const out: string[] = [];
  let cur = '';
  for (const u of utts) {
    if (len(cur + u) > maxN && len(cur) > minN) {
      out.push(cur);
      cur = '';
    }
    cur += u;
  }
  if (cur.length > 0) {
    if (len(cur) < mergeLen && out.length !== 0) out[out.length - 1] += cur;
    else out.push(cur);
  }
  return out;
}

/** upstream `replace_blank`: keeps a space only between two non-space ASCII characters. */
export function replaceBlank(text: string): string {
  const c = Array.from(text);
  const isAsciiNonSpace = (ch: string | undefined) => ch !== undefined && ch !== ' ' && ch.codePointAt(0)! < 128;
  let out = '';
  for (let i = 0; i < c.length; i++) {
    if (c[i] !== ' ') out += c[i];
    // Python's text[i - 1] at i = 0 wraps to the last character; text[i + 1] past the end raises — a trailing
    // space cannot occur here because the text was stripped.
    else if (isAsciiNonSpace(c[i + 1]) && isAsciiNonSpace(c.at(i - 1))) out += ' ';
  }
  return out;
}

/** upstream `is_only_punctuation`: empty, or only Unicode punctuation (P*) and symbols (S*). */
export function isOnlyPunctuation(text: string): boolean {
  return /^[\p{P}\p{S}]*$/u.test(text);
}

/** The zh clean-up steps of `text_normalize` (after the optional TN engine, which is not run here). */
export function normalizeChinese(text: string): string {
  let t = text.replace(/\n/g, '');
  t = replaceBlank(t);
  t = t.replace(/²/g, '平方').replace(/³/g, '立方');
  t = t.replace(/\./g, '。');
  t = t.split(' - ').join('，');
  t = t.replace(/[（）【】`]/g, '').split('——').join(' ');
  return t.replace(/[，,、]+$/u, '。');
}

/**
 * `text_normalize(text, split=True)` minus the optional TN engines (ttsfrd / wetext): returns the segments to
 * synthesise one by one. English digit runs are spelled out as upstream does with inflect.
 */
export function normalizeAndSplit(text: string, tokenize: (s: string) => ArrayLike<unknown>, opts: SplitOptions = {}): string[] {
  if (text.includes('<|') && text.includes('|>')) return [text];
  if (text === '') return [text];
  const t = text.trim();
  const segs = containsChinese(t)
    ? splitParagraph(normalizeChinese(t), tokenize, 'zh', opts)
    : splitParagraph(spellOutNumbers(t), tokenize, 'en', opts);
  return segs.filter((s) => !isOnlyPunctuation(s));
}
