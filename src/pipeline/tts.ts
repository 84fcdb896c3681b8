/**
 * The text-to-speech pipeline (upstream CosyVoice3Model.tts, spec §2 and §6) over engine-neutral ports:
 * text → ids → LLM speech tokens (→ silent-token filter) → token2wav in upstream's streaming schedule.
 *
 * Streaming renders chunks while the LLM is still decoding: chunk k's flow/HiFT work is awaited between LLM
 * steps. Each text segment (sentence split) is synthesised independently, as upstream does.
 *
 * Offline vs streaming: upstream's streaming chunks run the DiT with the static chunk mask and its offline path
 * with full attention, so the two give the same LENGTH (960 samples per token) but not the same values;
 * `synthesize(..., { stream: true })` returns exactly the concatenated stream.
 */
import { BistreamError, StreamSchedule, TorchSampler, type Sampler } from '../sampling/index.js';
import { TorchGenerator } from '../rng/index.js';
import type { FlowPort, HiftPort, LlmPort } from './ports.js';
import { SilenceFilter } from './silence-filter.js';
import { checkSpeed, SpeedError } from './speed.js';
import type { TextFrontend } from './text-frontends.js';
import { Token2Wav } from './token2wav.js';
import type { SpeakerPrompt, SynthesisOptions, SynthesisStats, TextToSpeech } from './types.js';

export class EmptyTextError extends Error {
  override name = 'EmptyTextError';
}
export class SpeakerMismatchError extends Error {
  override name = 'SpeakerMismatchError';
}

export interface PipelineModels {
  llm: LlmPort;
  flow: FlowPort;
  hift: HiftPort;
  text: TextFrontend;
  /** Speaker embedding length the flow expects (spk_embed_dim). */
  speakerEmbedDim: number;
  dispose?(): void;
}

export interface StreamOptions extends SynthesisOptions {
  /** Reproduce upstream's hop state carried across requests (see StreamSchedule.initialHop). */
  initialHop?: number;
  /**
   * Keep the DiT's chunk mask on for the final streaming chunk. Upstream's tts() turns it off there (full
   * attention); the official token2wav_streaming fixture recorded its last chunk with it on. Default false. With it
   * on, the CPU fallback's DiT prefix cache serves the final chunk too (it computes only its new frames).
   */
  finalChunkMask?: boolean;
  /** Injected sampler (tests: argmax); default: PyTorch-compatible multinomial seeded with `seed`. */
  sampler?: Sampler;
}

/**
 * Speech tokens from somewhere other than the text LLM path: text-in streaming (the LLM, so upstream's llm_job
 * filters their silent runs) or voice conversion (a source's tokens, which upstream's vc_job passes on unfiltered).
 */
interface TokenSource {
  tokens: (sampler: Sampler) => AsyncGenerator<number, void>;
  fromLlm: boolean;
}

export class CosyVoicePipeline implements TextToSpeech {
  constructor(readonly models: PipelineModels) {}

  get sampleRate(): number {
    return this.models.hift.sampleRate;
  }

  private checkSpeaker(s: SpeakerPrompt): void {
    const { speakerEmbedDim, flow } = this.models;
    if (s.embedding.length !== speakerEmbedDim) {
      throw new SpeakerMismatchError(`speaker embedding has ${s.embedding.length} values, the model expects ${speakerEmbedDim}`);
    }
    if (s.promptMel.length !== s.promptTokens.length * flow.tokenMelRatio * flow.melBins) {
      throw new SpeakerMismatchError(
        `prompt mel has ${s.promptMel.length} values; ${s.promptTokens.length} prompt tokens need [${s.promptTokens.length * flow.tokenMelRatio}, ${flow.melBins}]`,
      );
    }
    const S = this.models.llm.speechTokenSize;
    const bad = s.promptTokens.find((t) => t < 0 || t >= S);
    if (bad !== undefined) throw new SpeakerMismatchError(`prompt token ${bad} is outside the speech vocabulary [0, ${S})`);
  }

  /** The LLM's inputs for one segment in the chosen mode (spec §2.1), ids checked against the vocabulary. */
  private llmText(segment: string, speaker: SpeakerPrompt, opts: StreamOptions): { ids: Int32Array; target: number; promptSpeech: Int32Array } {
    const r = this.models.text.inputs({
      segment,
      mode: opts.mode ?? 'zero-shot',
      promptText: speaker.promptText,
      instruct: opts.instruct,
      promptSpeechTokens: speaker.promptTokens,
    });
    const V = this.models.llm.textVocabSize;
    const bad = r.textIds.find((t) => t < 0 || t >= V);
    if (bad !== undefined) throw new SpeakerMismatchError(`text id ${bad} is outside the model's text vocabulary [0, ${V}): tokenizer and model do not match`);
    return { ids: r.textIds, target: r.targetTextTokens, promptSpeech: r.promptSpeechTokens };
  }

  async *stream(text: string, speaker: SpeakerPrompt, opts: StreamOptions = {}): AsyncGenerator<Float32Array, SynthesisStats> {
    return yield* this.run(text, speaker, opts, true);
  }

  /**
   * Offline synthesis one text segment at a time: each segment's speech in one chunk, rendered as upstream's
   * stream=False path renders it (full attention, `speed` allowed). What `synthesize` concatenates.
   */
  async *segments(text: string, speaker: SpeakerPrompt, opts: StreamOptions = {}): AsyncGenerator<Float32Array, SynthesisStats> {
    return yield* this.run(text, speaker, opts, false);
  }

  /**
   * Speech from given speech tokens instead of text (upstream's voice-conversion path, inference_vc: the source
   * audio's tokens replace the LLM, PromptModels.sourceTokens makes them from a WAV), with the same schedule as
   * `stream` when `streaming` is true (default), offline otherwise (then `speed` may be set). Every token reaches
   * the flow: upstream's silent-token filter is the LLM's (llm_job), not voice conversion's (vc_job).
   */
  async *streamTokens(tokens: Int32Array, speaker: SpeakerPrompt, opts: StreamOptions & { streaming?: boolean } = {}): AsyncGenerator<Float32Array, SynthesisStats> {
    const S = this.models.llm.speechTokenSize;
    const bad = tokens.find((t) => t < 0 || t >= S);
    if (bad !== undefined) throw new SpeakerMismatchError(`speech token ${bad} is outside [0, ${S})`);
    const source: TokenSource = {
      tokens: async function* () {
        yield* tokens;
      },
      fromLlm: false,
    };
    return yield* this.run('', speaker, opts, opts.streaming ?? true, source);
  }

  /**
   * Text-in streaming (upstream's inference_bistream, tts_text a generator; spec §3.7): speech while the text is
   * still arriving, e.g. from a chat model. Each piece of `text` is tokenized on its own and not normalized or
   * split, as upstream does; the LLM interleaves 5 text tokens with 15 speech tokens (src/sampling/bistream.ts).
   * Modes zero-shot and instruct (upstream needs <|endofprompt|> in the prompt text); streaming chunks as `stream`
   * (`streaming: false` renders offline once the text has ended). No forceTokens; no max length, as upstream.
   * The whole stream is one segment: one LLM context (the WebGPU LLM's maxContext, default 2048 rows: about four
   * rows a text token) and one flow solve (maxFrames, default 1500 frames, 30 s of speech) bound it, with a typed
   * error past them; raise them for longer texts, or start a new stream per paragraph.
   */
  async *streamText(
    text: AsyncIterable<string> | Iterable<string>,
    speaker: SpeakerPrompt,
    opts: StreamOptions & { streaming?: boolean } = {},
  ): AsyncGenerator<Float32Array, SynthesisStats> {
    const llm = this.models.llm;
    if (!llm.bistream) throw new BistreamError('this engine has no text-in streaming');
    this.checkSpeaker(speaker);
    const t = this.models.text.bistream({ mode: opts.mode ?? 'zero-shot', promptText: speaker.promptText, instruct: opts.instruct, promptSpeechTokens: speaker.promptTokens });
    const V = llm.textVocabSize;
    async function* ids(): AsyncGenerator<number, void> {
      for await (const piece of text) {
        for (const id of t.encode(piece)) {
          if (id < 0 || id >= V) throw new SpeakerMismatchError(`text id ${id} is outside the model's text vocabulary [0, ${V}): tokenizer and model do not match`);
          yield id;
        }
      }
    }
    const source: TokenSource = {
      fromLlm: true,
      tokens: (sampler) =>
        llm.bistream!({ promptText: t.promptTextIds, endOfPromptId: t.endOfPromptId, promptSpeech: t.promptSpeechTokens, text: ids() }, { sampler, signal: opts.signal, forceTokens: opts.forceTokens }),
    };
    return yield* this.run('', speaker, opts, opts.streaming ?? true, source);
  }

  /**
   * Solves the speaker's prompt ahead of any text where the engine keeps the result (the CPU fallback's DiT prefix
   * cache): the first streaming chunk of the next text with this speaker then computes only its own frames, which
   * moves most of the prompt's cost out of the time to first audio. Resolves false (and does nothing) on engines
   * that keep nothing, or with a prompt shorter than one 50-frame chunk. The output of later calls is unchanged.
   */
  async prepareSpeaker(speaker: SpeakerPrompt): Promise<boolean> {
    this.checkSpeaker(speaker);
    return (await this.models.flow.prepare?.(speaker)) ?? false;
  }

  async synthesize(text: string, speaker: SpeakerPrompt, opts: StreamOptions & { stream?: boolean } = {}) {
    const parts: Float32Array[] = [];
    const gen = this.run(text, speaker, opts, opts.stream ?? false);
    let r = await gen.next();
    while (!r.done) {
      parts.push(r.value);
      r = await gen.next();
    }
    const pcm = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      pcm.set(p, at);
      at += p.length;
    }
    return { pcm, stats: r.value };
  }

  private async *run(
    text: string,
    speaker: SpeakerPrompt,
    opts: StreamOptions,
    streaming: boolean,
    fixedTokens?: TokenSource,
  ): AsyncGenerator<Float32Array, SynthesisStats> {
    if (!fixedTokens && !text.trim()) throw new EmptyTextError('text is empty');
    // Upstream filters runs of silent tokens where the LLM makes them (llm_job), not a voice conversion's source.
    const filterSilence = fixedTokens?.fromLlm ?? true;
    this.checkSpeaker(speaker);
    const speed = checkSpeed(opts.speed ?? 1);
    if (speed !== 1 && streaming) throw new SpeedError(`speed ${speed} needs offline synthesis (stream: false): the mel of a whole segment is resampled, as upstream does`);
    const t0 = performance.now();
    const stats: SynthesisStats = { ttfaMs: -1, totalMs: 0, audioSeconds: 0, rtf: 0, tokens: 0, llmMs: 0, flowMs: 0, hiftMs: 0 };
    const sampler = opts.sampler ?? new TorchSampler(new TorchGenerator(opts.seed ?? 0));
    let samples = 0;
    const segments = fixedTokens ? [''] : this.models.text.split(text);
    if (segments.length === 0) throw new EmptyTextError('text has nothing to speak after splitting (only punctuation?)');
    for (const segment of segments) {
      const t2w = new Token2Wav(this.models.flow, this.models.hift, speaker);
      const schedule = new StreamSchedule({
        promptTokens: speaker.promptTokens.length,
        preLookaheadLen: this.models.flow.preLookaheadLen,
        tokenMelRatio: this.models.flow.tokenMelRatio,
        initialHop: opts.initialHop,
      });
      const filter = new SilenceFilter();
      const tokens: number[] = [];
      const emit = (pcm: Float32Array) => {
        if (pcm.length && stats.ttfaMs < 0) stats.ttfaMs = performance.now() - t0;
        samples += pcm.length;
        return pcm;
      };
      // The LLM's next step is started before a due chunk's flow/HiFT work, and a rendered chunk is yielded as soon
      // as it is ready, so decoding overlaps rendering (on the GPU queue and on the CPU: F0 predictor, host
      // gathers). Token2Wav itself runs one chunk at a time, in order. llmMs is the wall time spent waiting for
      // tokens, which includes GPU time the LLM shared with rendering.
      const it = (fixedTokens ? fixedTokens.tokens(sampler) : this.llmTokens(segment, speaker, opts, sampler))[Symbol.asyncIterator]();
      const request = () => {
        const t = performance.now();
        return it.next().then((r) => ((stats.llmMs += performance.now() - t), r));
      };
      let next = request();
      let pending: Promise<Float32Array> | undefined;
      let llmDone = false;
      try {
        for (;;) {
          if (pending && (await Promise.race([next.then(() => false), pending.then(() => true)]))) {
            const pcm = await pending;
            pending = undefined;
            yield emit(pcm);
            continue;
          }
          const r = await next;
          if (r.done) {
            llmDone = true;
            break;
          }
          stats.tokens++;
          if (!filterSilence || filter.accept(r.value)) tokens.push(r.value);
          if (opts.signal?.aborted) break;
          const due = streaming ? schedule.poll(tokens.length, false) : [];
          next = request();
          for (const chunk of due) {
            if (pending) yield emit(await pending);
            pending = t2w.chunk(Int32Array.from(tokens), chunk);
          }
        }
        if (pending) yield emit(await pending);
      } finally {
        // Cancelled (signal, or the consumer stopped iterating): let the in-flight step finish, then close the LLM
        // generator so it frees its KV-cache sequence.
        pending?.catch(() => undefined); // a chunk still rendering when cancelled: its result is dropped
        if (!llmDone) {
          await next.catch(() => undefined);
          await it.return?.(undefined);
        }
      }
      if (opts.signal?.aborted) break;
      const all = Int32Array.from(tokens);
      if (all.length === 0) {
        // The LLM stopped at once: this segment has no audio (upstream would fail in the flow on an empty mel).
      } else if (streaming) {
        while (!schedule.done) {
          for (const chunk of schedule.poll(tokens.length, true)) {
            yield emit(await t2w.chunk(all, chunk, !chunk.finalize || !!opts.finalChunkMask));
          }
        }
      } else if (all.length) {
        yield emit(await t2w.offline(all, speed));
      }
      stats.flowMs += t2w.times.flowMs;
      stats.hiftMs += t2w.times.hiftMs;
    }
    stats.totalMs = performance.now() - t0;
    stats.audioSeconds = samples / this.sampleRate;
    stats.rtf = stats.audioSeconds > 0 ? stats.totalMs / 1000 / stats.audioSeconds : 0;
    return stats;
  }

  private llmTokens(segment: string, speaker: SpeakerPrompt, opts: StreamOptions, sampler: Sampler): AsyncGenerator<number, void> {
    const { ids, target, promptSpeech } = this.llmText(segment, speaker, opts);
    return this.models.llm.generate(
      { textIds: ids, targetTextTokens: target, promptSpeechTokens: promptSpeech },
      { sampler, forceTokens: opts.forceTokens, signal: opts.signal },
    );
  }

  dispose(): void {
    this.models.dispose?.();
  }
}
