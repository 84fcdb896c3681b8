/**
 * The WebGPU engine of the pipeline: the three models on one GpuContext, adapted to the pipeline's ports.
 * Browser-safe (no file access): model files come in as a ModelFiles record.
 */
import type { GpuContext } from '../gpu/context.js';
import { useTuning, type TuningTable } from '../gpu/tuning.js';
import { FlowModel } from '../models/flow/forward.js';
import { hiftConfigFromYaml } from '../models/hift/config.js';
import { createHift, type HiftGenerator } from '../models/hift/forward.js';
import { HiftStream } from '../models/hift/stream.js';
import { loadHiftWeights } from '../models/hift/weights.js';
import { CosyVoice3Lm } from '../models/llm/cosyvoice3-lm.js';
import type { StepResult } from '../models/qwen2/forward.js';
import { argmaxSampler, BistreamError, bistreamTokens, sampleTokenTopK } from '../sampling/index.js';
import type { ModelFiles } from './model-files.js';
import { SineNoiseTable } from './noise.js';
import { DEFAULT_FLOW_CACHE_BYTES, preparePromptAlone, type FlowCall, type FlowPort, type HiftPort, type LlmBistreamInput, type LlmInput, type LlmPort, type LlmRunOptions } from './ports.js';
import { SyntheticTextFrontend, type TextFrontend } from './text-frontends.js';
import { CosyVoicePipeline } from './tts.js';

export interface WebGpuPipelineOptions {
  /** Weight storage: f32, or f16 (packed; f16 arithmetic only where the adapter has shader-f16). */
  dtype?: 'f32' | 'f16';
  /** Longest flow call (prompt + generated) and longest HiFT call, in mel frames (scratch size). */
  maxFrames?: number;
  /** LLM context length in positions. */
  maxContext?: number;
  /** LLM KV cache element type (default f32; f16 halves the cache and the bytes attention reads per key). */
  kvDtype?: 'f32' | 'f16';
  /**
   * Concurrent syntheses on this pipeline share the LLM's decode steps: the steps of up to 4 sequences waiting
   * together run as one (src/models/qwen2/steps.ts). Default true; false runs one sequence a step. At most 4
   * sequences are live at once (the KV cache's slots): a fifth synthesis's LLM waits for a slot.
   */
  batchDecode?: boolean;
  /**
   * Prompt rows an LLM prefill step feeds at most (default 256, the prefill's own parts): a new synthesis's
   * prompt is fed in parts this long, with the running syntheses' decode steps between them, so it holds them for
   * one part at a time (serve: `--prefill-chunk`). The parts do not depend on what else runs.
   */
  prefillChunk?: number;
  /** HiFT harmonic-noise table [rows, 9] (e.g. exported from upstream); default: seeded, see noise.ts. */
  sineNoise?: Float32Array;
  text?: TextFrontend;
  /**
   * Compile the pipelines a synthesis needs at load, all at once (GpuContext.compileBatch), instead of one by one
   * on first use (default on). Tiny model on this 2-core VM (bench/ttfa.ts, medians of 3): Node on lavapipe, load +
   * first audio 2124 → 1660 ms, first audio after load 1687 → 450 ms; headless Chromium on SwiftShader (the page
   * test) 69.3 → 69.8 s in total, but first audio 66.0 → 6.3 s after load (the wait moves into load).
   */
  precompile?: boolean;
  /**
   * Measured kernel choices for this adapter (`cosyvoice-webgpu tune`, src/tune/): the models take its tiles and
   * forms where it has them, the defaults elsewhere. Refused (TuningFileError) if another adapter measured it.
   */
  tuning?: TuningTable;
  /**
   * GPU memory for the flow's streaming prefix cache (src/models/flow/prefix-cache.ts): each streaming chunk, and a
   * new text with the same speaker prompt, solves only its new frames; same output bits. Default
   * DEFAULT_FLOW_CACHE_BYTES (at full size 250 frames, 3.5 MB each); 0 turns it off. Allocated at load with
   * `precompile` (the default), else at the first streaming call.
   */
  flowCacheBytes?: number;
}

/** The scratch limits createWebGpuPipeline uses by default (`tune` tunes for the same shapes). */
export const PIPELINE_DEFAULTS = { maxFrames: 1500, maxContext: 2048 } as const;

class GpuLlmPort implements LlmPort {
  constructor(private readonly lm: CosyVoice3Lm) {}
  get speechTokenSize() {
    return this.lm.cfg.speechTokenSize;
  }
  get textVocabSize() {
    return this.lm.cfg.textVocab;
  }
  get stepCounts() {
    return this.lm.steps.counts;
  }

  async *generate(input: LlmInput, opts: LlmRunOptions): AsyncGenerator<number, void> {
    const split = input.textIds.length - input.targetTextTokens;
    const prompt = { promptText: input.textIds.subarray(0, split), text: input.textIds.subarray(split), promptSpeech: input.promptSpeechTokens };
    if (opts.forceTokens !== undefined) return yield* this.forced(prompt, opts.forceTokens, opts.signal);
    for await (const t of this.lm.generate(prompt, { sampler: opts.sampler })) {
      yield t;
      if (opts.signal?.aborted) return;
    }
  }

  async *bistream(input: LlmBistreamInput, opts: LlmRunOptions): AsyncGenerator<number, void> {
    if (opts.forceTokens !== undefined) throw new BistreamError('forceTokens is not available with text-in streaming');
    const { lm } = this;
    const sampling = { speechTokenSize: lm.cfg.speechTokenSize, ras: lm.cfg.ras };
    const seq = await lm.steps.open();
    try {
      yield* bistreamTokens(
        {
          speechTokenSize: lm.cfg.speechTokenSize,
          textRows: async (ids) => lm.textRows(ids),
          speechRows: async (ids) => lm.speechRows(ids),
          feed: (rows, draw) =>
            lm.steps.feed(seq, rows, (cand, logits) => draw && sampleTokenTopK(cand, draw.history, { ...sampling, ignoreEos: draw.ignoreEos }, opts.sampler, logits)),
        },
        { mixRatio: lm.cfg.mixRatio, ...input },
        { signal: opts.signal },
      );
    } finally {
      lm.steps.close(seq);
    }
  }

  /** Benchmarks: exactly n tokens, the best non-stop candidate each step (stop ids never win). */
  private async *forced(prompt: Parameters<CosyVoice3Lm['embedPrompt']>[0], n: number, signal?: AbortSignal): AsyncGenerator<number, void> {
    const { lm } = this;
    const S = this.speechTokenSize;
    const best = async (cand: StepResult, logits: () => Promise<Float32Array>) =>
      Array.from(cand.ids).find((id) => id < S) ?? argmaxSampler.multinomial((await logits()).subarray(0, S));
    const seq = await lm.steps.open();
    try {
      if (n < 1) return;
      let tok = await lm.steps.prefill(seq, lm.embedPrompt(prompt), best);
      for (let i = 0; i < n && !signal?.aborted; i++) {
        yield tok;
        if (i + 1 < n) tok = await lm.steps.decode(seq, lm.speechRow(tok), best);
      }
    } finally {
      lm.steps.close(seq);
    }
  }
}

export class GpuFlowPort implements FlowPort {
  constructor(readonly flow: FlowModel) {}
  prepare(s: Pick<FlowCall, 'promptTokens' | 'promptMel' | 'embedding'>): Promise<boolean> {
    return preparePromptAlone(this, s, this.flow.prefixCapacity > 0, this.flow.cfg.staticChunk);
  }
  get tokenMelRatio() {
    return this.flow.cfg.tokenMelRatio;
  }
  get preLookaheadLen() {
    return this.flow.cfg.preLookaheadLen;
  }
  get melBins() {
    return this.flow.cfg.melDim;
  }
  async inference(call: FlowCall) {
    const r = await this.flow.inference(call);
    return { mel: r.mel, frames: r.frames };
  }
}

class GpuHiftPort implements HiftPort {
  constructor(private readonly hift: HiftGenerator) {}
  get sampleRate() {
    return this.hift.cfg.samplingRate;
  }
  get hopSamples() {
    return this.hift.cfg.samplesPerFrame;
  }
  async inference(mel: Float32Array, frames: number, finalize: boolean) {
    return (await this.hift.inference(mel, frames, finalize)).speech;
  }
  openStream() {
    return new HiftStream(this.hift);
  }
}

/**
 * The pipeline's three models, each built the way createWebGpuPipeline builds it (weights, dtypes, scratch
 * limits): the tuner (src/tune/models.ts) builds them through these too, so that it tunes the same shapes.
 */
export function pipelineModelBuilders(ctx: GpuContext, files: ModelFiles, opts: WebGpuPipelineOptions = {}) {
  const dtype = opts.dtype ?? 'f32';
  const maxFrames = opts.maxFrames ?? PIPELINE_DEFAULTS.maxFrames;
  return {
    lm: () => CosyVoice3Lm.fromStore(ctx, files.llm, files.qwen, files.yaml, { dtype, maxContext: opts.maxContext ?? PIPELINE_DEFAULTS.maxContext, kv: { dtype: opts.kvDtype }, batchDecode: opts.batchDecode, prefillChunk: opts.prefillChunk }),
    flow: () => FlowModel.load(ctx, { yaml: files.yaml, store: files.flow, dtype, maxFrames, prefixCacheBytes: opts.flowCacheBytes ?? DEFAULT_FLOW_CACHE_BYTES }),
    hift: () => {
      const hcfg = hiftConfigFromYaml(files.yaml);
      // A caller's table bounds the longest HiFT call (its noise is read by absolute sample index).
      const hiftFrames = opts.sineNoise ? Math.min(maxFrames, Math.floor(opts.sineNoise.length / hcfg.harmonics / hcfg.samplesPerFrame)) : maxFrames;
      const noise = opts.sineNoise ?? new SineNoiseTable(hcfg.harmonics).get(hcfg.samplesPerFrame * maxFrames).slice();
      return createHift(ctx, hcfg, loadHiftWeights(files.hift, hcfg), { maxFrames: hiftFrames, noise });
    },
  };
}

/** Loads the three models onto `ctx` and returns the streaming pipeline over them. */
export async function createWebGpuPipeline(ctx: GpuContext, files: ModelFiles, opts: WebGpuPipelineOptions = {}): Promise<CosyVoicePipeline> {
  if (opts.tuning) useTuning(ctx, opts.tuning);
  const { lm, flow, hift } = await buildModels(ctx, files, opts);
  // Nothing built here may reach `files`: the weights now live on the GPU, and the host copies (GBs when read
  // eagerly) must be collectable. Closures made in buildModels would share its scope with the builders over
  // `files`, so the pipeline's closures are made here, where only the built models are in scope.
  return new CosyVoicePipeline({
    llm: new GpuLlmPort(lm),
    flow: new GpuFlowPort(flow),
    hift: new GpuHiftPort(hift),
    text: opts.text ?? new SyntheticTextFrontend(lm.cfg.textVocab),
    speakerEmbedDim: files.config.flow.spkEmbedDim,
    dispose: () => {
      hift.dispose();
      ctx.dispose();
    },
  });
}

async function buildModels(ctx: GpuContext, files: ModelFiles, opts: WebGpuPipelineOptions) {
  // With precompile, the pipelines a synthesis needs compile here, all at once: the models plan their fixed
  // dispatch lists at load, and a prefill, the flow's token wrapper and HiFT calls of a few lengths are planned
  // ahead so that their variants join the batch.
  const precompile = opts.precompile !== false;
  const make = pipelineModelBuilders(ctx, files, opts);
  const build = async () => {
    const lm = make.lm();
    const flow = await make.flow();
    const hift = make.hift();
    if (precompile) {
      lm.rt.plan(Math.min(64, lm.rt.scratch.maxRows), false);
      flow.planAhead();
      hift.planAhead();
    }
    return { lm, flow, hift };
  };
  return precompile ? await ctx.compileBatch(build) : await build();
}
