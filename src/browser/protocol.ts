/**
 * The message protocol between the page (client.ts) and the model Worker (worker.ts). Every message is a plain
 * structured-cloneable object with a `type`; PCM chunks travel as transferred Float32Arrays (their ArrayBuffer is
 * moved, not copied). Flow control: the worker keeps at most `window` chunks of one stream unacknowledged, so a slow
 * consumer bounds the memory and the work done ahead of it; the client acks a chunk when its consumer takes it.
 */
import type { AdapterDescription } from '../gpu/device.js';
import type { LoadProgress, SpeakerPrompt, SynthesisMode, SynthesisStats } from '../pipeline/types.js';
import type { SpeakerExpectations } from '../speaker/speaker-file.js';

export interface WorkerLoadOptions {
  /** Keep downloaded model files (OPFS and the Cache API, see `store`) so that a reload does not download again (default true). */
  cache?: boolean;
  /** Name of the Cache API cache and of the OPFS folder (default MODEL_CACHE_NAME). */
  cacheName?: string;
  /**
   * Where big model files are kept: 'auto' (default) puts them in the Origin Private File System where the Worker
   * can read it synchronously, so the weights are read in place (each straight into its GPU upload or the
   * WebAssembly memory) and the model never sits in the Worker's memory whole; elsewhere, and with 'cache', they go
   * to the Cache API in blocks and are read whole before the engine is built.
   */
  store?: 'auto' | 'cache';
  /** Run without shader-f16 even where the adapter has it (f32 everywhere). */
  disableF16?: boolean;
  /** CosyVoice3 weight storage (default f16 where the device has shader-f16, else f32). */
  dtype?: 'f32' | 'f16';
  /** Which engine to build; 'auto' picks from the files in the model folder. */
  engine?: 'auto' | 'tone' | 'cosyvoice';
  /**
   * Where CosyVoice3 runs: 'webgpu', 'wasm' (the CPU fallback: TypeScript models, WebAssembly SIMD matrix
   * products) or 'auto' (default): WebGPU, else the CPU fallback when the browser has no WebGPU adapter.
   */
  backend?: 'auto' | 'webgpu' | 'wasm';
  /**
   * The CPU fallback's weight storage for the LLM and the DiT: 'f32' (default) or 'q8' (int8 with a scale per 32
   * values: a quarter of the memory, LLM decode steps about twice as fast).
   */
  cpuDtype?: 'f32' | 'q8';
  /**
   * Bytes the CPU fallback's DiT may keep of the streaming calls' leading chunks, so that each chunk, and a new
   * text with the same speaker, computes only its new frames (same output). Default 512 MiB in a page (ArrayBuffers
   * beside the WebAssembly memory); 0 turns it off.
   */
  cpuFlowCacheBytes?: number;
  /**
   * GPU memory for the WebGPU flow's streaming prefix cache (src/models/flow/prefix-cache.ts): the same saving on
   * the GPU, 3.5 MB a frame at full size in f32. Default 512 MiB (100 frames); 0 turns it off.
   */
  gpuFlowCacheBytes?: number;
  /**
   * A tuning table's JSON text (`cosyvoice-webgpu tune` on this machine's GPU, src/gpu/tuning.ts) for the CosyVoice3
   * engine; refused (the load fails with TuningFileError) when another adapter measured it.
   */
  tuning?: string;
}

/** `tune`: how the Worker measures this adapter's kernel choices for a CosyVoice3 folder (src/tune/). */
export interface WorkerTuneOptions extends Pick<WorkerLoadOptions, 'cache' | 'cacheName' | 'store' | 'disableF16' | 'dtype'> {
  /** Only the default and two alternatives per decision. */
  quick?: boolean;
  /** Which models (default all three). */
  models?: ('llm' | 'flow' | 'hift')[];
  /** LLM prefill row counts (default 64, 128, 256). */
  prefillRows?: number[];
  /** LLM decode context (default 1024). */
  context?: number;
  /** DiT frames of the tuned estimator call (default 600). */
  frames?: number;
}

/** A finished `tune`: the table's JSON text, for `load(url, { tuning })` now and later (store it per adapter). */
export interface TunedInfo {
  table: string;
  adapterLabel: string;
  /** Decisions measured, and how many of them differ from the built-in defaults. */
  decisions: number;
  changed: number;
  tuneMs: number;
}

export interface WorkerStreamOptions {
  mode?: SynthesisMode;
  instruct?: string;
  seed?: number;
  forceTokens?: number;
  /**
   * Render each text segment offline, as one chunk (upstream's stream=False: the DiT with full attention), instead
   * of upstream's streaming chunks. Needed for `speed`.
   */
  offline?: boolean;
  /** Speech rate (default 1; offline only): each segment's mel is resampled to int(T / speed) frames. */
  speed?: number;
  /** Most chunks the worker may have sent but not had acknowledged (default 16; at least 1). */
  window?: number;
}

/**
 * Progress of one model file, in two stages:
 * - `fetch`: the file's bytes arriving, `cached` when they came from OPFS or the Cache API instead of the network;
 * - `read` (OPFS only): the weights of graph `file` read in place into the engine (its GPU uploads or WebAssembly
 *   memory), `total` being every byte of its external data. Reported while the load runs, in about 1% steps. The
 *   Qwen2 text table stays in its file and is read a row at a time during synthesis, so `llm.onnx` ends below its
 *   total: `loaded` ends the load.
 */
export interface ProgressInfo extends LoadProgress {
  cached: boolean;
  stage: 'fetch' | 'read';
}

export interface LoadedInfo {
  engine: string;
  /** CosyVoice3: what a speaker must hold to suit the model (for speaker files made or read in the page). */
  speakerExpectations?: SpeakerExpectations;
  /** Where the engine runs (the CPU fallback reports a pseudo adapter, "WebAssembly (CPU)"). */
  backend: 'webgpu' | 'wasm';
  /** The CPU fallback's threads per matrix product (more than 1 needs a cross-origin-isolated page). */
  threads?: number;
  /** The CPU fallback's weight storage. */
  cpuDtype?: 'f32' | 'q8';
  sampleRate: number;
  adapter: AdapterDescription;
  /** One line naming the adapter, for display. */
  adapterLabel: string;
  /** Whether the engine's kernels use f16 (the device has shader-f16 and it was not disabled). */
  shaderF16: boolean;
  loadMs: number;
  cache: CacheCounters;
  /**
   * Where the big model files were kept: in OPFS and read in place (a file another tab held goes through the Cache
   * API), whole from the Cache API, or not kept.
   */
  modelStore: 'opfs' | 'cache' | 'none';
}

export interface CacheCounters {
  /** Requests answered from the cache. */
  hits: number;
  /** Requests that went to the network. */
  misses: number;
  /** Bytes received over the network for this load. */
  bytesDownloaded: number;
  /** Bytes served from the cache for this load. */
  bytesFromCache: number;
}

export interface DoneInfo {
  stats: SynthesisStats;
  cancelled: boolean;
  /** Chunks the worker produced for this stream. */
  chunks: number;
  samples: number;
  /** Chunks whose buffer was moved to the page (detached in the worker after postMessage), i.e. not copied. */
  transferred: number;
}

export type ToWorker =
  | { type: 'load'; url: string; options: WorkerLoadOptions }
  /** Unloads the engine (tuning builds its own models), tunes the folder's models, then answers `tuned`. */
  | { type: 'tune'; url: string; options: WorkerTuneOptions }
  | { type: 'stream'; id: number; text: string; speaker: SpeakerPrompt | null; options: WorkerStreamOptions }
  /** Text-in streaming: a stream whose text then arrives as `text` messages, ended by `text-end`. */
  | { type: 'stream-text'; id: number; speaker: SpeakerPrompt | null; options: WorkerStreamOptions }
  /** Voice conversion: the source WAV's speech (tokenized by the loaded folder's speech tokenizer) in the speaker's voice. */
  | { type: 'stream-vc'; id: number; wav: Uint8Array; speaker: SpeakerPrompt | null; options: WorkerStreamOptions }
  | { type: 'text'; id: number; piece: string }
  | { type: 'text-end'; id: number }
  | { type: 'ack'; id: number; n: number }
  | { type: 'cancel'; id: number }
  | { type: 'prepare'; id: number; speaker: SpeakerPrompt | null }
  /** A voice from prompt WAV bytes and its transcript, with the loaded folder's prompt models (answer: `voice`). */
  | { type: 'voice'; id: number; wav: Uint8Array; transcript?: string }
  | { type: 'dispose' };

export type FromWorker =
  | ({ type: 'progress' } & ProgressInfo)
  | ({ type: 'loaded' } & LoadedInfo)
  | ({ type: 'tuned' } & TunedInfo)
  | { type: 'chunk'; id: number; index: number; pcm: Float32Array }
  | { type: 'prepared'; id: number; kept: boolean }
  | { type: 'voice'; id: number; speaker: SpeakerPrompt }
  | ({ type: 'done'; id: number } & DoneInfo)
  /** `id` is the stream the error belongs to; absent for load/tune/dispose errors. */
  | { type: 'error'; id?: number; name: string; message: string }
  | { type: 'disposed' };

export const DEFAULT_WINDOW = 16;

/** Serialises an exception for the wire, keeping its class name. */
export function errorMessage(e: unknown, id?: number): Extract<FromWorker, { type: 'error' }> {
  const err = e instanceof Error ? e : new Error(String(e));
  return { type: 'error', ...(id === undefined ? {} : { id }), name: err.name || 'Error', message: err.message };
}
