/**
 * The pipeline on the CPU fallback (WasmEngine: TypeScript models, WebAssembly SIMD matrix products), for hosts
 * without WebGPU. The same streaming pipeline and schedule as on WebGPU, through the engine ports. Browser-safe.
 */
import type { ModelFiles } from './model-files.js';
import { EngineFlowPort, EngineHiftPort, EngineLlmPort } from './engine-ports.js';
import { SineNoiseTable } from './noise.js';
import { SyntheticTextFrontend, type TextFrontend } from './text-frontends.js';
import { CosyVoicePipeline } from './tts.js';
import { WasmEngine, type WasmEngineOptions } from './wasm-engine.js';

/** `threads`, `dtype` and `flowCacheBytes` as WasmEngine.create takes them. */
export interface WasmPipelineOptions extends WasmEngineOptions {
  text?: TextFrontend;
  /** HiFT harmonic-noise table [rows, 9]; default: seeded, as on WebGPU (noise.ts). */
  sineNoise?: Float32Array;
}

export async function createWasmPipeline(files: ModelFiles, opts: WasmPipelineOptions = {}): Promise<CosyVoicePipeline> {
  const engine = await WasmEngine.create(files, { threads: opts.threads, dtype: opts.dtype, flowCacheBytes: opts.flowCacheBytes });
  const harmonics = files.config.hift.nbHarmonics + 1;
  const noise = opts.sineNoise ? SineNoiseTable.fromTable(opts.sineNoise, harmonics) : new SineNoiseTable(harmonics);
  return new CosyVoicePipeline({
    llm: new EngineLlmPort(engine),
    flow: new EngineFlowPort(engine),
    hift: new EngineHiftPort(engine, noise),
    text: opts.text ?? new SyntheticTextFrontend(files.config.llm.textVocab),
    speakerEmbedDim: files.config.flow.spkEmbedDim,
    dispose: () => void engine.dispose(),
  });
}
