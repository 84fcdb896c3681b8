/**
 * Text-in streaming ("bistream", upstream Qwen2LM.inference_bistream, spec §3.7): the text arrives a token at a
 * time while speech tokens are already decoded. The LLM input interleaves text and speech in groups of
 * MIX_RATIO = [5 text, 15 speech]; the model marks the end of each group of 15 speech tokens with `fill`, after
 * which it needs the next 5 text tokens.
 *
 *   start     lm_input = [SE[sos], TE[prompt text up to and including <|endofprompt|>]]; the rest of the prompt
 *             text begins text_cache; next_fill = (⌊P/15⌋ + 1)·15 − P for P prompt speech tokens
 *   per text token (appended to text_cache):
 *     - while prompt speech remains and text_cache holds 5: lm_input ++= [5 text, ≤ 15 prompt speech]
 *     - once no prompt speech remains: after a fill (or with no output and a one-row lm_input) the next 5 text
 *       tokens are needed: lm_input = those 5 (after a fill) or ++= them, else wait for more text; then decode:
 *       feed lm_input; at out index next_fill force `fill` (next_fill += 16), else sample with ignore_eos; a
 *       sampled fill sets next_fill = its index + 16; a fill ends the inner loop (not yielded, kept in the
 *       sampling history); any other id ≥ S is an error; else yield it and lm_input = SE[token]
 *   end of text: lm_input ++= [text_cache, SE[task_id]] and decode until eos (ignore_eos off); any other id ≥ S is
 *             an error. There is no max_len.
 *
 * Upstream's quirks are kept, since they decide the tokens: after a fill, lm_input still holds the rows that
 * were fed to produce it, and the end of text feeds them a second time; prompt speech left when the text ends is
 * never fed; in the text phase ignore_eos masks only index S (sos), so a sampled eos is an error.
 */
/** Upstream's mix_ratio (Qwen2LM's default, and cosyvoice3.yaml's llm.mix_ratio): 5 text tokens, then 15 speech. */
export const MIX_RATIO = [5, 15] as const;

/** A yaml's llm.mix_ratio as [text, speech]: MIX_RATIO when absent, null when not two positive integers. */
export function parseMixRatio(v: unknown): [number, number] | null {
  if (v === undefined) return [...MIX_RATIO];
  return Array.isArray(v) && v.length === 2 && v.every((x) => Number.isInteger(x) && x > 0) ? [v[0], v[1]] : null;
}

export class BistreamError extends Error {
  override name = 'BistreamError';
}

/** A draw over the last fed row: sampling_ids(logp, history, ignore_eos). */
export interface Draw {
  history: readonly number[];
  ignoreEos: boolean;
}

/** What the algorithm needs of an LLM: embedding rows, and one forward over new rows appended to its sequence. */
export interface BistreamLm {
  /** S = speech_token_size; sos S, eos S+1, task_id S+2, fill S+3. */
  readonly speechTokenSize: number;
  /** [n, d] rows of embed_tokens */
  textRows(ids: readonly number[]): Promise<Float32Array>;
  /** [n, d] rows of speech_embedding */
  speechRows(ids: readonly number[]): Promise<Float32Array>;
  /**
   * Feeds rows [n, d] after those already in the sequence (the KV cache) and returns the token drawn over the last
   * row, or undefined without `draw` (a forced fill: the forward runs, nothing is drawn). Feed and draw are one call
   * so that an LLM shared by several streams can keep its logits until the draw (src/models/qwen2/steps.ts).
   */
  feed(rows: Float32Array, draw: Draw | undefined): Promise<number | undefined>;
}

export interface BistreamInput {
  /** Prompt text ids: up to <|endofprompt|> they open the input, the rest waits with the text. */
  promptText: ArrayLike<number>;
  endOfPromptId: number;
  promptSpeech: ArrayLike<number>;
  /** The target text, as ids in arrival order. */
  text: AsyncIterable<number> | Iterable<number>;
  /** [text, speech] tokens per group: the yaml's llm.mix_ratio (default MIX_RATIO). */
  mixRatio?: readonly [number, number];
}

function concatRows(parts: Float32Array[]): Float32Array {
  if (parts.length === 1) return parts[0];
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
  return out;
}

/** Speech tokens as upstream's inference_bistream yields them (fill and eos not yielded). */
export async function* bistreamTokens(lm: BistreamLm, input: BistreamInput, opts: { signal?: AbortSignal } = {}): AsyncGenerator<number, void> {
  const S = lm.speechTokenSize;
  const eos = S + 1, taskId = S + 2, fill = S + 3;
  const [nText, nSpeech] = input.mixRatio ?? MIX_RATIO;
  const promptText = Array.from(input.promptText);
  const eop = promptText.indexOf(input.endOfPromptId);
  if (eop < 0) throw new BistreamError(`text-in streaming needs <|endofprompt|> (id ${input.endOfPromptId}) in the prompt text, as upstream asserts (cross-lingual mode has none)`);
  let lmInput: Float32Array[] = [await lm.speechRows([S]), await lm.textRows(promptText.slice(0, eop + 1))];
  const d = lmInput[0].length;
  const rowsOf = (parts: Float32Array[]) => parts.reduce((n, p) => n + p.length, 0) / d;
  const textCache = promptText.slice(eop + 1);
  const speech = Array.from(input.promptSpeech);
  const P = speech.length;
  let nextFill = (Math.trunc(P / nSpeech) + 1) * nSpeech - P;
  const out: number[] = [];

  for await (const token of input.text) {
    if (opts.signal?.aborted) return;
    textCache.push(token);
    while (speech.length > 0 && textCache.length >= nText) {
      lmInput.push(await lm.textRows(textCache.splice(0, nText)), await lm.speechRows(speech.splice(0, nSpeech)));
    }
    if (speech.length > 0) continue;
    const afterFill = out.length > 0 && out[out.length - 1] === fill;
    if (afterFill || (out.length === 0 && rowsOf(lmInput) === 1)) {
      if (textCache.length < nText) continue; // wait for more text
      const rows = await lm.textRows(textCache.splice(0, nText));
      lmInput = afterFill ? [rows] : [...lmInput, rows];
    }
    for (;;) {
      const forced = nextFill !== -1 && out.length === nextFill;
      const drawn = await lm.feed(concatRows(lmInput), forced ? undefined : { history: out, ignoreEos: true });
      let top: number;
      if (forced) {
        top = fill;
        nextFill += nSpeech + 1;
      } else {
        top = drawn!;
      }
      if (top === fill) nextFill = out.length + nSpeech + 1;
      out.push(top);
      if (top >= S) {
        if (top === fill) break;
        throw new BistreamError(`the LLM gave id ${top} (≥ ${S}, not fill) while text was still arriving, where upstream raises`);
      }
      yield top;
      if (opts.signal?.aborted) return;
      lmInput = [await lm.speechRows([top])];
    }
  }

  lmInput = [...lmInput, ...(textCache.length ? [await lm.textRows(textCache)] : []), await lm.speechRows([taskId])];
  for (;;) {
    const top = (await lm.feed(concatRows(lmInput), { history: out, ignoreEos: false }))!;
    out.push(top);
    if (top === eos) return;
    if (top >= S) throw new BistreamError(`the LLM gave id ${top} (≥ ${S}, not eos) after the text ended, where upstream raises`);
    yield top;
    if (opts.signal?.aborted) return;
    lmInput = [await lm.speechRows([top])];
  }
}
