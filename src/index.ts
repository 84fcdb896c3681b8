/**
 * cosyvoice-webgpu: the browser-safe library surface (no file system, no `webgpu` package, no ONNX Runtime).
 * Node-only entry points live in src/node.ts.
 */
export * from './gpu/index.js';
// Browser runtime: page-side Worker client, its message protocol, the cached HTTP model source, typed errors.
export { CosyVoiceWorkerClient, type ClientStreamOptions, type StreamHandle, type WorkerLike } from './browser/client.js';
export type { WorkerLoadOptions, WorkerStreamOptions, WorkerTuneOptions, TunedInfo, ProgressInfo, LoadedInfo, CacheCounters, DoneInfo, ToWorker, FromWorker } from './browser/protocol.js';
export { BrowserRuntimeError, ModelCacheQuotaError, ModelFetchError, UnsupportedModelError, WorkerProtocolError, WorkerError } from './browser/errors.js';
export { HttpModelSource, MODEL_CACHE_NAME, openModelCache, clearModelCache, loadOnnxFromSource, type ModelSource, type CacheLike } from './browser/model-source.js';
// The pipeline: models on WebGPU behind the streaming TextToSpeech contract, model files, text frontends.
export { createWebGpuPipeline, PIPELINE_DEFAULTS, type WebGpuPipelineOptions } from './pipeline/webgpu.js';
// The CPU fallback: the same pipeline on TypeScript models with WebAssembly SIMD matrix products.
export { createWasmPipeline, type WasmPipelineOptions } from './pipeline/wasm.js';
export { WasmEngine, type WasmEngineOptions } from './pipeline/wasm-engine.js';
export { CpuKernels, CpuMemoryError, type CpuMatrix, type CpuWeightDtype } from '../kernels/cpu-linear.js';
export { collectTunePoints, tunePoints, type TuneOptions, type TuneReport } from './tune/tuner.js';
export { tuneLlm, tuneFlow, type LlmTuneOptions, type FlowTuneOptions } from './tune/models.js';
export { CosyVoicePipeline, EmptyTextError, SpeakerMismatchError, type PipelineModels, type StreamOptions } from './pipeline/tts.js';
export { BistreamError } from './sampling/bistream.js';
export { syntheticModelFiles, modelFilesFrom, type ModelFiles } from './pipeline/model-files.js';
export { SpeedError, resampleMel } from './pipeline/speed.js';
export { syntheticSpeaker, speakerFromFile, speakerExpectationsOf } from './pipeline/speaker.js';
export { PromptModels, PROMPT_MODEL_FILES, type PromptModelGraphs } from './speaker/prompt-models.js';
export { OnnxSession, SUPPORTED_OPS, OnnxRunError, UnsupportedOpError, type OnnxSessionOptions, type Value as OnnxValue } from './onnx-run/index.js';
export { TokenizerFrontend, SyntheticTextFrontend, type TextFrontend } from './pipeline/text-frontends.js';
export type { SpeakerPrompt, SynthesisOptions, SynthesisStats, SynthesisMode, TextToSpeech, LoadProgress } from './pipeline/types.js';
