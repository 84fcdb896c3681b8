/**
 * The CosyVoice3 engine of the Worker: a converted model folder (converted-model.ts) loaded onto its own
 * GpuContext through the pipeline's WebGPU assembly (src/pipeline/webgpu.ts), or onto the CPU fallback
 * (src/pipeline/wasm.ts), behind the Engine interface.
 * Weights are f16 where the device has shader-f16 (unless disabled), else f32; `dtype` overrides (tests force f32
 * so the page's PCM can be compared with Node's at f32 tolerance).
 */
import type { GpuContext } from '../gpu/context.js';
import type { ModelFiles } from '../pipeline/model-files.js';
import { speakerExpectationsOf } from '../pipeline/speaker.js';
import type { SpeakerExpectations } from '../speaker/speaker-file.js';
import type { CosyVoicePipeline } from '../pipeline/tts.js';
import type { SpeakerPrompt, SynthesisOptions, SynthesisStats } from '../pipeline/types.js';
import { TuningTable } from '../gpu/tuning.js';
import { createWasmPipeline } from '../pipeline/wasm.js';
import { createWebGpuPipeline } from '../pipeline/webgpu.js';
import { loadConvertedModelFiles } from './converted-model.js';
import type { Engine } from './engine.js';
import type { ModelSource } from './model-source.js';

/**
 * A DiT prefix cache in a page: half the Node default. On the CPU fallback it sits in ArrayBuffers beside a
 * WebAssembly memory of up to 3.1 GB (f32 weights); on WebGPU in GPU memory beside the weights. At full size ~145
 * frames through all 10 steps (100 on WebGPU, which keeps whole chunks): the prompt's first chunks.
 */
export const BROWSER_FLOW_CACHE_BYTES = 512 << 20;

export interface CosyVoiceEngineOptions {
  dtype?: 'f32' | 'f16';
  disableF16?: boolean;
  /** Longest flow/HiFT call in mel frames and LLM context in positions (scratch sizes; pipeline defaults). */
  maxFrames?: number;
  maxContext?: number;
  /** A tuning table's JSON text (src/gpu/tuning.ts), measured on this adapter. */
  tuning?: string;
  /** GPU memory for the flow's streaming prefix cache (default BROWSER_FLOW_CACHE_BYTES; 0: off). */
  flowCacheBytes?: number;
}

export class CosyVoiceEngine implements Engine {
  readonly name = 'cosyvoice3';
  readonly defaultSpeaker: SpeakerPrompt;

  /** Keeps no reference to the model's host tensors: they are GBs, and the weights now live on the device. */
  private constructor(
    private readonly pipeline: CosyVoicePipeline,
    /** What a speaker must hold to suit this model (voices made from audio are checked against it). */
    readonly speakerExpectations: SpeakerExpectations,
    readonly dtype: 'f32' | 'f16' | 'q8',
    readonly shaderF16: boolean,
  ) {
    // No prompt speaker: a zero embedding and no prompt audio (cross-lingual mode, see stream()).
    this.defaultSpeaker = { promptTokens: new Int32Array(0), embedding: new Float32Array(speakerExpectations.embeddingDim ?? 0), promptMel: new Float32Array(0) };
  }

  static async load(src: ModelSource, ctx: GpuContext, opts: CosyVoiceEngineOptions = {}): Promise<CosyVoiceEngine> {
    const files = await loadConvertedModelFiles(src);
    const dtype = opts.dtype ?? (ctx.hasF16 && !opts.disableF16 ? 'f16' : 'f32');
    const tuning = opts.tuning ? TuningTable.parse(opts.tuning, 'the tuning load option') : undefined;
    const flowCacheBytes = opts.flowCacheBytes ?? BROWSER_FLOW_CACHE_BYTES;
    const pipeline = await createWebGpuPipeline(ctx, files, { dtype, maxFrames: opts.maxFrames, maxContext: opts.maxContext, tuning, flowCacheBytes });
    return new CosyVoiceEngine(pipeline, speakerExpectationsOf(files.config), dtype, dtype === 'f16' && ctx.hasF16);
  }

  /** The same engine on the CPU fallback (no GPU context; f32 or q8 weights for the LLM and the DiT). */
  static async loadWasm(src: ModelSource, dtype: 'f32' | 'q8' = 'f32', flowCacheBytes = BROWSER_FLOW_CACHE_BYTES): Promise<CosyVoiceEngine> {
    const files = await loadConvertedModelFiles(src);
    return new CosyVoiceEngine(await createWasmPipeline(files, { dtype, flowCacheBytes }), speakerExpectationsOf(files.config), dtype, false);
  }

  get sampleRate(): number {
    return this.pipeline.sampleRate;
  }

  private options(speaker: SpeakerPrompt, opts: SynthesisOptions): SynthesisOptions {
    // Without prompt audio there is nothing to clone: default to cross-lingual, which ignores the prompt text.
    return !opts.mode && speaker.promptTokens.length === 0 ? { ...opts, mode: 'cross-lingual' } : opts;
  }

  /** CosyVoicePipeline.prepareSpeaker: true where the flow's prefix cache (WebGPU or the CPU fallback) kept the prompt. */
  prepareSpeaker(speaker: SpeakerPrompt): Promise<boolean> {
    return this.pipeline.prepareSpeaker(speaker);
  }

  stream(text: string, speaker: SpeakerPrompt, opts: SynthesisOptions = {}): AsyncGenerator<Float32Array, SynthesisStats> {
    return this.pipeline.stream(text, speaker, this.options(speaker, opts));
  }

  /** Text-in streaming (CosyVoicePipeline.streamText): the text arrives in pieces while speech is streamed. */
  streamText(text: AsyncIterable<string> | Iterable<string>, speaker: SpeakerPrompt, opts: SynthesisOptions & { streaming?: boolean } = {}): AsyncGenerator<Float32Array, SynthesisStats> {
    return this.pipeline.streamText(text, speaker, { ...this.options(speaker, opts), streaming: opts.streaming });
  }

  /** Voice conversion (CosyVoicePipeline.streamTokens): a source's speech tokens spoken in the speaker's voice. */
  streamTokens(tokens: Int32Array, speaker: SpeakerPrompt, opts: SynthesisOptions & { streaming?: boolean } = {}): AsyncGenerator<Float32Array, SynthesisStats> {
    return this.pipeline.streamTokens(tokens, speaker, opts);
  }

  /** Offline, a chunk per text segment (CosyVoicePipeline.segments): full attention, and `speed` may be set. */
  segments(text: string, speaker: SpeakerPrompt, opts: SynthesisOptions = {}): AsyncGenerator<Float32Array, SynthesisStats> {
    return this.pipeline.segments(text, speaker, this.options(speaker, opts));
  }

  synthesize(text: string, speaker: SpeakerPrompt, opts: SynthesisOptions = {}): Promise<{ pcm: Float32Array; stats: SynthesisStats }> {
    return this.pipeline.synthesize(text, speaker, { ...this.options(speaker, opts), stream: true });
  }

  dispose(): void {
    this.pipeline.dispose();
  }
}
