/**
 * Adapts any verify `Engine` (src/ort/engine.ts: ONNX Runtime, WebGPU) to the pipeline's ports, so the same
 * streaming pipeline runs on every engine — the end-to-end benchmark compares them this way.
 */
import { nextTurn } from '../event-loop.js';
import type { Engine } from '../ort/engine.js';
import { flowInference, llmInput } from '../ort/pipeline.js';
import { BistreamError, bistreamTokens, sampleToken, SpeechTokenDecoder } from '../sampling/index.js';
import { upstreamNoiseTable } from '../models/flow/schedule.js';
import { HiftStream } from '../models/hift/stream.js';
import { SineNoiseTable } from './noise.js';
import { preparePromptAlone, type FlowCall, type FlowPort, type HiftPort, type LlmBistreamInput, type LlmInput, type LlmPort, type LlmRunOptions } from './ports.js';

export class EngineLlmPort implements LlmPort {
  constructor(private readonly e: Engine) {}
  get speechTokenSize() {
    return this.e.config.llm.speechTokenSize;
  }
  get textVocabSize() {
    return this.e.config.llm.textVocab;
  }

  async *generate(input: LlmInput, opts: LlmRunOptions): AsyncGenerator<number, void> {
    const c = this.e.config.llm;
    const H = c.hidden;
    const force = opts.forceTokens;
    const decoder = new SpeechTokenDecoder(
      {
        speechTokenSize: c.speechTokenSize,
        targetTextTokens: input.targetTextTokens,
        minTokenTextRatio: c.minLenRatio,
        // Forced lengths must not hit max_len first.
        maxTokenTextRatio: force ? Math.max(c.maxLenRatio, Math.ceil((force + 1) / Math.max(1, input.targetTextTokens))) : c.maxLenRatio,
        ras: c.sampling,
      },
      opts.sampler,
    );
    // [sos, text, task_id, prompt speech]: the same layout verify uses (the prompt/target text split does not
    // matter to the embedding, only to the length limits above).
    let embeds: Float32Array = await llmInput(this.e, { promptText: [], text: [...input.textIds], promptSpeech: [...input.promptSpeechTokens] });
    const session = await this.e.llmSession();
    try {
      let produced = 0;
      while (!decoder.done && !opts.signal?.aborted) {
        const T = embeds.length / H;
        const { logits } = await session.step(embeds, T);
        // The CPU fallback computes a step without leaving the thread: give the event loop a turn, so that other
        // syntheses, a server's sockets and a Worker's messages are served between tokens.
        await nextTurn();
        const last = logits.slice((T - 1) * c.headSize, T * c.headSize);
        if (force !== undefined) last.fill(-Infinity, c.stopFrom);
        const r = decoder.next(last);
        if (r.stop) return;
        yield r.token;
        if (force !== undefined && ++produced >= force) return;
        embeds = await this.e.embedSpeech([r.token]);
      }
    } finally {
      session.dispose();
    }
  }

  async *bistream(input: LlmBistreamInput, opts: LlmRunOptions): AsyncGenerator<number, void> {
    if (opts.forceTokens !== undefined) throw new BistreamError('forceTokens is not available with text-in streaming');
    const c = this.e.config.llm;
    const sampling = { speechTokenSize: c.speechTokenSize, ras: c.sampling };
    const session = await this.e.llmSession();
    try {
      yield* bistreamTokens(
        {
          speechTokenSize: c.speechTokenSize,
          textRows: (ids) => this.e.embedText([...ids]),
          speechRows: (ids) => this.e.embedSpeech([...ids]),
          feed: async (rows, draw) => {
            const T = rows.length / c.hidden;
            const { logits } = await session.step(rows, T);
            await nextTurn(); // as in generate
            return draw && sampleToken(logits.subarray((T - 1) * c.headSize, T * c.headSize), draw.history, { ...sampling, ignoreEos: draw.ignoreEos }, opts.sampler);
          },
        },
        { mixRatio: c.mixRatio, ...input },
        { signal: opts.signal },
      );
    } finally {
      session.dispose();
    }
  }
}


export class EngineFlowPort implements FlowPort {
  constructor(readonly e: Engine) {}
  get tokenMelRatio() {
    return this.e.config.flow.tokenMelRatio;
  }
  get preLookaheadLen() {
    return this.e.config.flow.preLookaheadLen;
  }
  get melBins() {
    return this.e.config.flow.outputSize;
  }

  prepare(s: Pick<FlowCall, 'promptTokens' | 'promptMel' | 'embedding'>): Promise<boolean> {
    return preparePromptAlone(this, s, this.e.keepsFlowPrefix === true, this.e.config.flow.dit.staticChunkSize);
  }

  async inference(call: FlowCall): Promise<{ mel: Float32Array; frames: number }> {
    const noise = upstreamNoiseTable();
    const r = await flowInference(this.e, {
      token: [...call.tokens],
      promptToken: [...call.promptTokens],
      promptFeat: call.promptMel,
      promptFrames: call.promptMel.length / this.melBins,
      embedding: call.embedding,
      noise: noise.data,
      noiseFrames: noise.frames,
      streaming: call.streaming,
      finalize: call.finalize,
    });
    return { mel: r.mel, frames: r.melFrames };
  }
}

export class EngineHiftPort implements HiftPort {
  constructor(
    private readonly e: Engine,
    private readonly noise = new SineNoiseTable(e.config.hift.nbHarmonics + 1),
  ) {}
  get sampleRate() {
    return this.e.config.sampleRate;
  }
  get hopSamples() {
    return this.e.config.sampleRate / (this.e.config.tokenFrameRate * this.e.config.tokenMelRatio);
  }

  async inference(mel: Float32Array, frames: number, finalize: boolean): Promise<Float32Array> {
    const r = await this.e.hift(mel, frames, this.noise.get(frames * this.hopSamples), finalize);
    return r.speech;
  }

  openStream(): HiftStream | undefined {
    return this.e.hiftStages && new HiftStream(this.e.hiftStages((samples) => this.noise.get(samples)));
  }
}
