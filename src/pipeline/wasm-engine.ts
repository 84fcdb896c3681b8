/**
 * The CPU fallback behind the verify `Engine` contract (src/ort/engine.ts): the three models in TypeScript with
 * their matrix products in WebAssembly SIMD (kernels/cpu-linear.ts), for machines and browsers without WebGPU.
 * `verify --engine wasm` runs every manifest test on it; the streaming pipeline runs on it through
 * src/pipeline/engine-ports.ts. Browser-safe: it takes ModelFiles, not a path.
 */
import type { CpuKernelOptions, CpuWeightDtype } from '../../kernels/cpu-linear.js';
import type { CosyVoiceConfig } from '../convert/config.js';
import { CpuFlow } from '../models/cpu/flow.js';
import { CpuHift } from '../models/cpu/hift.js';
import { CpuLlm } from '../models/cpu/llm.js';
import type { HiftStages } from '../models/hift/stream.js';
import type { Engine, EstimatorInputs, HiftOutputs, LlmSession } from '../ort/engine.js';
import type { ModelFiles } from './model-files.js';
import { DEFAULT_FLOW_CACHE_BYTES } from './ports.js';

export interface WasmEngineOptions extends Pick<CpuKernelOptions, 'threads'> {
  dtype?: CpuWeightDtype;
  /**
   * Bytes the DiT may keep of the streaming calls' leading chunks, so that each streaming chunk (and a new text
   * with the same speaker prompt) computes only its new frames (src/models/cpu/dit-cache.ts; same output bits).
   * Default DEFAULT_FLOW_CACHE_BYTES; 0 turns it off.
   */
  flowCacheBytes?: number;
}

export class WasmEngine implements Engine {
  readonly name = 'wasm';
  private constructor(
    readonly config: CosyVoiceConfig,
    private readonly llm: CpuLlm,
    private readonly flow: CpuFlow,
    private readonly voc: CpuHift,
  ) {}

  /**
   * `opts.threads`: threads per matrix product (default: the host's cores where threads can run; see CpuKernels).
   * `opts.dtype`: how the LLM's and the DiT's linear weights are stored: f32 (default), or q8 (int8 with a scale
   * per 32 values: a quarter of the memory, LLM decode steps about twice as fast; HiFT stays f32).
   */
  static async create(files: ModelFiles, opts: WasmEngineOptions = {}): Promise<WasmEngine> {
    const { threads, dtype } = opts;
    const [llm, flow, voc] = await Promise.all([
      CpuLlm.create(files, { threads, dtype }),
      CpuFlow.create(files, { threads, dtype, cacheBytes: opts.flowCacheBytes ?? DEFAULT_FLOW_CACHE_BYTES }),
      CpuHift.create(files, { threads }),
    ]);
    return new WasmEngine(files.config, llm, flow, voc);
  }

  async embedText(ids: number[]): Promise<Float32Array> {
    return this.llm.embedText(ids);
  }
  async embedSpeech(ids: number[]): Promise<Float32Array> {
    return this.llm.embedSpeech(ids);
  }
  async llmSession(): Promise<LlmSession> {
    return this.llm.session();
  }
  async flowEncoder(tokens: number[], embedding: Float32Array, finalize: boolean) {
    return this.flow.encoder(tokens, embedding, finalize);
  }
  async flowEstimator(inp: EstimatorInputs): Promise<Float32Array> {
    return this.flow.estimator(inp);
  }
  get keepsFlowPrefix(): boolean {
    return this.flow.cacheBudget > 0;
  }
  /** The DiT prefix cache: bytes held; frames (per CFG item, over all estimator calls) served from it and computed. */
  get flowCache(): { held: number; cached: number; computed: number } {
    return { held: this.flow.cacheHeld, ...this.flow.frameCounts };
  }
  /** Gives the DiT prefix cache's memory back (a later streaming call starts it again). */
  clearFlowCache(): void {
    this.flow.clearCache();
  }
  async hift(mel: Float32Array, frames: number, sineNoise: Float32Array, finalize: boolean): Promise<HiftOutputs> {
    return this.voc.inference(mel, frames, sineNoise, finalize);
  }
  hiftStages(sineNoise: (samples: number) => Float32Array): HiftStages {
    const v = this.voc;
    return {
      cfg: v.cfg,
      weights: v.weights,
      predictF0: (mel, T, finalize) => v.predictF0(mel, T, finalize),
      synthesize: async (mel, T, finalize, window) => v.synthesize(mel, T, finalize, window, sineNoise(v.cfg.samplesPerFrame * (window.first + T))),
    };
  }
  async dispose(): Promise<void> {
    this.llm.dispose();
    this.flow.dispose();
    this.voc.dispose();
  }
}
