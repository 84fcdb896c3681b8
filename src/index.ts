/**
 * cosyvoice-webgpu: the browser-safe library surface (no file system, no `webgpu` package, no ONNX Runtime).
 * Node-only entry points live in src/node.ts.
 */
export * from './gpu/index.js';
// Browser runtime: page-side Worker client, its message protocol, the cached HTTP model source, typed errors.
export { CosyVoiceWorkerClient, type ClientStreamOptions, type StreamHandle, type WorkerLike } from './browser/client.js';
export type { WorkerLoadOptions, WorkerStreamOptions, ProgressInfo, LoadedInfo, CacheCounters, DoneInfo, ToWorker, FromWorker } from './browser/protocol.js';
export { BrowserRuntimeError, ModelCacheQuotaError, ModelFetchError, UnsupportedModelError, WorkerProtocolError, WorkerError } from './browser/errors.js';
export { HttpModelSource, MODEL_CACHE_NAME, openModelCache, clearModelCache, loadOnnxFromSource, type ModelSource, type CacheLike } from './browser/model-source.js';
