/**
 * CosyVoice3 special tokens (cosyvoice/tokenizer/tokenizer.py `CosyVoice3Tokenizer`, `version: cosyvoice3`): the
 * `additional_special_tokens` list registered on the Qwen2 tokenizer with HF `add_special_tokens`, in list order.
 * Strings already in the base vocabulary keep their ids (`<|im_start|>`, `<|im_end|>`); the rest get consecutive
 * new ids from len(tokenizer) = 151646 on for the released CosyVoice-BlankEN files, so `<|endofprompt|>` = 151646
 * (hard-coded upstream in llm.py). `<|endoftext|>` (151643) is the eos/pad token and is not re-added.
 *
 * Groups: control / event markers (20), CMU phones with stress digits (84), pinyin units with
 * tones (176); phones and pinyin are written bracketed in text, e.g. `[AA1]`, `[iǎng]`.
 */

/** Existing Qwen2 special: end of text, also eos and pad. */
export const ENDOFTEXT = '<|endoftext|>';
export const ENDOFPROMPT = '<|endofprompt|>';
/** The id upstream hard-codes for `<|endofprompt|>` (llm.py asserts it occurs in prompt_text ++ text). */
export const ENDOFPROMPT_ID = 151646;

/** Control and paralinguistic markers, in registration order. */
export const COSYVOICE3_EVENT_TOKENS: readonly string[] = Object.freeze([
  '<|im_start|>', '<|im_end|>', '<|endofprompt|>', '[breath]', '<strong>', '</strong>', '[noise]',
  '[laughter]', '[cough]', '[clucking]', '[accent]', '[quick_breath]', '<laughter>', '</laughter>',
  '[hissing]', '[sigh]', '[vocalized-noise]', '[lipsmack]', '[mn]', '<|endofsystem|>',
]);

const CMU_PHONES = `
AA AA0 AA1 AA2 AE AE0 AE1 AE2 AH AH0 AH1 AH2 AO AO0 AO1 AO2 AW AW0 AW1 AW2 AY AY0 AY1 AY2 B CH D DH EH EH0 EH1
EH2 ER ER0 ER1 ER2 EY EY0 EY1 EY2 F G HH IH IH0 IH1 IH2 IY IY0 IY1 IY2 JH K L M N NG OW OW0 OW1 OW2 OY OY0 OY1
OY2 P R S SH T TH UH UH0 UH1 UH2 UW UW0 UW1 UW2 V W Y Z ZH
`;

const PINYIN_UNITS = `
a ai an ang ao b c ch d e ei en eng f g h i ian in ing iu ià iàn iàng iào iá ián iáng iáo iè ié iòng ióng iù
iú iā iān iāng iāo iē iě iōng iū iǎ iǎn iǎng iǎo iǒng iǔ j k l m n o ong ou p q r s sh t u uang ue un uo uà
uài uàn uàng uá uái uán uáng uè ué uì uí uò uó uā uāi uān uāng uē uě uī uō uǎ uǎi uǎn uǎng uǐ uǒ vè w x y z zh
à ài àn àng ào á ái án áng áo è èi èn èng èr é éi én éng ér ì ìn ìng í ín íng ò òng òu ó óng óu ù ùn ú ún ā āi
ān āng āo ē ēi ēn ēng ě ěi ěn ěng ěr ī īn īng ō ōng ōu ū ūn ǎ ǎi ǎn ǎng ǎo ǐ ǐn ǐng ǒ ǒng ǒu ǔ ǔn ǘ ǚ ǜ
`;

const bracket = (list: string) => list.trim().split(/\s+/).map((p) => `[${p}]`);

/** CMU phones, bracketed. */
export const COSYVOICE3_CMU_TOKENS: readonly string[] = Object.freeze(bracket(CMU_PHONES));
/** Pinyin units, bracketed. */
export const COSYVOICE3_PINYIN_TOKENS: readonly string[] = Object.freeze(bracket(PINYIN_UNITS));

/** The full `additional_special_tokens` list in registration order (280 strings). */
export const COSYVOICE3_SPECIAL_TOKENS: readonly string[] = Object.freeze([
  ...COSYVOICE3_EVENT_TOKENS,
  ...COSYVOICE3_CMU_TOKENS,
  ...COSYVOICE3_PINYIN_TOKENS,
]);
