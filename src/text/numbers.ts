/**
 * English digit spelling as upstream's frontend does it without a TN engine (utils/frontend_utils.py
 * `spell_out_number` calling inflect's `number_to_words` with its defaults: andword "and", zero "zero",
 * comma ",", group 0). Every maximal run of ASCII digits is replaced by words; everything else is kept.
 *
 * inflect's construction for a digit string (facts from its source): strip leading zeros; "0" → "zero",
 * "1" → "one"; otherwise name the last three digits with the current power word (" ", " thousand", " million", …
 * up to decillion), repeat for the next three, and finish with a two- or one-digit head. A hundreds group reads
 * "H hundred and TU" ("and" only when T or U is non-zero); tens join units with a hyphen ("twenty-one"); an
 * empty group (000) says nothing. Groups are joined with ", ", except that a final group that is a single word
 * is joined with " and " ("one thousand and one", but "one thousand, two hundred and thirty-four").
 * Runs longer than 36 digits make inflect raise; here they are left as digits.
 */

const UNIT = ['', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];
const TEEN = ['ten', 'eleven', 'twelve', 'thirteen', 'fourteen', 'fifteen', 'sixteen', 'seventeen', 'eighteen', 'nineteen'];
const TEN = ['', '', 'twenty', 'thirty', 'forty', 'fifty', 'sixty', 'seventy', 'eighty', 'ninety'];
const MILL = [' ', ' thousand', ' million', ' billion', ' trillion', ' quadrillion', ' quintillion', ' sextillion',
  ' septillion', ' octillion', ' nonillion', ' decillion'];

function tenWords(t: number, u: number, m = 0): string {
  if (t !== 1) return `${TEN[t]}${t && u ? '-' : ''}${UNIT[u]}${MILL[m]}`;
  return `${TEEN[u]}${MILL[m]}`;
}

function hundredWords(h: number, t: number, u: number, m: number): string {
  if (h) return `${UNIT[h]} hundred${t || u ? ' and ' : ''}${tenWords(t, u)}${MILL[m]}, `;
  if (t || u) return `${tenWords(t, u)}${MILL[m]}, `;
  return '';
}

/** inflect `number_to_words(digits)` for a string of ASCII digits; null when out of inflect's range. */
export function numberToWords(digits: string): string | null {
  if (!/^[0-9]+$/.test(digits)) throw new RangeError(`numberToWords expects ASCII digits, got "${digits}"`);
  const stripped = digits.replace(/^0+/, '');
  if (stripped === '') return 'zero';
  if (stripped === '1') return 'one';
  if (Math.ceil(stripped.length / 3) > MILL.length) return null;
  // Build right to left exactly as the regex substitutions do, then apply the same clean-ups.
  let rest = stripped;
  let words = '';
  let m = 0;
  while (rest.length >= 3) {
    const [h, t, u] = rest.slice(-3).split('').map(Number);
    words = hundredWords(h, t, u, m++) + words;
    rest = rest.slice(0, -3);
  }
  if (rest.length === 2) words = `${tenWords(Number(rest[0]), Number(rest[1]), m)}, ` + words;
  else if (rest.length === 1) words = `${UNIT[Number(rest)]}${MILL[m]}, ` + words;
  let s = words.endsWith(', ') ? words.slice(0, -2) : words;
  s = s.replace(/\s+,/g, ',');
  s = s.replace(/, (\S+)\s+$/, ' and $1');
  return s.replace(/\s+/g, ' ').trim();
}

/** upstream `spell_out_number`: replaces each run of digits by its words. */
export function spellOutNumbers(text: string): string {
  return text.replace(/[0-9]+/g, (d) => numberToWords(d) ?? d);
}
