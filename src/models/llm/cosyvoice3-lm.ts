/**
 * CosyVoice3LM (llm/llm.py `Qwen2LM.inference`, spec §3.4) around the WebGPU Qwen2 runtime: builds the prompt
 * embedding sequence on the host, runs prefill + one decode step per token, and samples exactly as upstream
 * (`sampling_ids` → ras_sampling on GPU top-k candidates, the full row read back only for the RAS redraw).
 *
 *   E = [ SE[sos] ; TE[prompt_text ++ text] ; SE[task_id] ; SE[prompt_speech] ]      (SE = speech_embedding,
 *                                                                                    TE = embed_tokens)
 *   step i (i < max_len): token = sampling_ids(log_softmax(head(h_last)), out_tokens, ignore_eos = i < min_len)
 *   stop (not yielded) on any id ≥ S; otherwise yield it and feed SE[token].
 * min_len = int(|text|·2), max_len = int(|text|·20), |text| = target text tokens only. ignore_eos masks index
 * S (= sos in CosyVoice3, the upstream quirk the fixtures keep).
 */
import type { TensorStore } from '../../../loader/types.js';
import type { GpuContext } from '../../gpu/context.js';
import type { Sampler } from '../../sampling/sampler.js';
import { sampleTokenTopK } from '../../sampling/topk.js';
import { llmConfig, type LlmConfig } from '../qwen2/config.js';
import { Qwen2Runtime, type Qwen2RuntimeOptions, type StepResult } from '../qwen2/forward.js';
import type { KvSequence } from '../qwen2/paged-kv.js';
import { LlmSteps } from '../qwen2/steps.js';
import { uploadLlmWeights, type LlmWeightDtype, type LlmWeights } from '../qwen2/weights.js';

export class LlmInputError extends Error {
  override name = 'LlmInputError';
}

export interface LlmPrompt {
  /** Prompt-text ids (empty in cross-lingual / instruct2 modes is allowed). */
  promptText: ArrayLike<number>;
  /** Target text ids. */
  text: ArrayLike<number>;
  /** Prompt speech tokens (may be empty). */
  promptSpeech: ArrayLike<number>;
}

export interface GenerateOptions {
  sampler: Sampler;
  /**
   * 'ras' (default): upstream ras_sampling with the sampler's draws. 'greedy': `llm.sampling` replaced by argmax
   * after the sampling_ids mask (the llm_greedy fixture).
   */
  mode?: 'ras' | 'greedy';
  /** Override min/max length (default int(|text|·2), int(|text|·20)). */
  minLen?: number;
  maxLen?: number;
}

export interface CosyVoice3LmOptions extends Qwen2RuntimeOptions {
  dtype?: LlmWeightDtype;
  /** Batch the decode steps of concurrent generations (steps.ts; default true). */
  batchDecode?: boolean;
  /** Prompt rows a prefill step feeds at most, other sequences' decode steps between the parts (steps.ts). */
  prefillChunk?: number;
}

/** argmax over the candidates (already in value-desc, id-asc order), skipping the masked id. */
function greedyPick(c: StepResult, masked: number): number {
  for (let i = 0; i < c.ids.length; i++) if (c.ids[i] !== masked) return c.ids[i];
  throw new LlmInputError('greedy: no candidate left after the ignore_eos mask');
}

export class CosyVoice3Lm {
  readonly rt: Qwen2Runtime;
  /** Every step of `generate` (and of the pipeline's other LLM loops) goes through it: see steps.ts. */
  readonly steps: LlmSteps;

  constructor(
    readonly ctx: GpuContext,
    readonly cfg: LlmConfig,
    readonly weights: LlmWeights,
    opts: CosyVoice3LmOptions = {},
  ) {
    this.rt = new Qwen2Runtime(ctx, cfg, weights, opts);
    this.steps = new LlmSteps(this.rt, { batch: opts.batchDecode, prefillChunk: opts.prefillChunk });
  }

  static fromStore(ctx: GpuContext, store: TensorStore, qwenConfig: string | Record<string, unknown>, yaml: Record<string, unknown> | undefined, opts: CosyVoice3LmOptions = {}): CosyVoice3Lm {
    const cfg = llmConfig(qwenConfig, yaml, store);
    return new CosyVoice3Lm(ctx, cfg, uploadLlmWeights(ctx, store, cfg, opts.dtype ?? 'f32'), opts);
  }

  /** Host gather of the prefill sequence E [L, d]. */
  embedPrompt(p: LlmPrompt, extraSpeech: ArrayLike<number> = []): Float32Array {
    const d = this.cfg.hidden;
    const rows: { table: 'speech' | 'text'; id: number; what: string; limit: number }[] = [];
    const sp = (id: number, what: string) => rows.push({ table: 'speech', id, what, limit: this.cfg.speechVocab });
    const tx = (id: number) => rows.push({ table: 'text', id, what: 'text', limit: this.cfg.textVocab });
    sp(this.cfg.sos, 'sos');
    for (const t of Array.from(p.promptText)) tx(t);
    for (const t of Array.from(p.text)) tx(t);
    sp(this.cfg.taskId, 'task_id');
    for (const t of Array.from(p.promptSpeech)) sp(t, 'prompt speech');
    for (const t of Array.from(extraSpeech)) sp(t, 'speech');
    const out = new Float32Array(rows.length * d);
    rows.forEach((r, i) => {
      if (!Number.isInteger(r.id) || r.id < 0 || r.id >= r.limit) {
        throw new LlmInputError(`${r.what} token id ${r.id} at position ${i} is outside [0, ${r.limit})`);
      }
      if (r.table === 'text') this.weights.textEmbedding.row(r.id, out.subarray(i * d, (i + 1) * d));
      else out.set(this.weights.speechEmbedding.subarray(r.id * d, (r.id + 1) * d), i * d);
    });
    return out;
  }

  /** Rows of embed_tokens [ids.length, d] (text-in streaming feeds them as the text arrives). */
  textRows(ids: readonly number[]): Float32Array {
    const d = this.cfg.hidden;
    const out = new Float32Array(ids.length * d);
    ids.forEach((id, i) => {
      if (!Number.isInteger(id) || id < 0 || id >= this.cfg.textVocab) throw new LlmInputError(`text token id ${id} is outside [0, ${this.cfg.textVocab})`);
      this.weights.textEmbedding.row(id, out.subarray(i * d, (i + 1) * d));
    });
    return out;
  }

  /** Rows of speech_embedding [ids.length, d]. */
  speechRows(ids: readonly number[]): Float32Array {
    const d = this.cfg.hidden;
    const out = new Float32Array(ids.length * d);
    ids.forEach((id, i) => out.set(this.speechRow(id), i * d));
    return out;
  }

  speechRow(token: number): Float32Array {
    const d = this.cfg.hidden;
    if (!Number.isInteger(token) || token < 0 || token >= this.cfg.speechVocab) {
      throw new LlmInputError(`speech token ${token} is outside [0, ${this.cfg.speechVocab})`);
    }
    return this.weights.speechEmbedding.subarray(token * d, (token + 1) * d);
  }

  /**
   * Speech tokens of one utterance, as upstream yields them (stop token not included). Several may run at once on
   * one model: their steps take turns (steps.ts).
   */
  async *generate(p: LlmPrompt, opts: GenerateOptions): AsyncGenerator<number> {
    const S = this.cfg.speechTokenSize;
    const minLen = opts.minLen ?? Math.trunc(p.text.length * this.cfg.minTokenTextRatio);
    const maxLen = opts.maxLen ?? Math.trunc(p.text.length * this.cfg.maxTokenTextRatio);
    const out: number[] = [];
    const pick = (cand: StepResult, logits: () => Promise<Float32Array>) => {
      const ignoreEos = out.length < minLen;
      return opts.mode === 'greedy'
        ? greedyPick(cand, ignoreEos ? S : -1)
        : sampleTokenTopK(cand, out, { speechTokenSize: S, ignoreEos, ras: this.cfg.ras }, opts.sampler, logits);
    };
    const seq = await this.steps.open();
    try {
      if (maxLen < 1) return;
      let token = await this.steps.prefill(seq, this.embedPrompt(p), pick);
      for (;;) {
        if (token >= S) break;
        yield token;
        out.push(token);
        if (out.length >= maxLen) break;
        token = await this.steps.decode(seq, this.speechRow(token), pick);
      }
    } finally {
      this.steps.close(seq);
    }
  }

  /** Runs `generate` to the end. */
  async generateAll(p: LlmPrompt, opts: GenerateOptions): Promise<number[]> {
    const toks: number[] = [];
    for await (const t of this.generate(p, opts)) toks.push(t);
    return toks;
  }

  /** Convenience for tests: a sequence with the prompt prefilled (caller frees it). */
  async start(p: LlmPrompt, allRows = false): Promise<{ seq: KvSequence; first: StepResult }> {
    const seq = this.rt.createSequence();
    return { seq, first: await this.rt.prefill(seq, this.embedPrompt(p), { allRows }) };
  }
}
