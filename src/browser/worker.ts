/**
 * The model Worker: owns the GPU device, the model cache and the engine; speaks protocol.ts with the page.
 * Build: scripts/build-web.mjs bundles this file (WGSL inlined) as dist/web/worker.js, an ES-module worker.
 * One load (or tune) at a time. Streams run at once once the model is loaded (the WebGPU engine batches their LLM
 * decode steps; the CPU fallback runs one model call at a time), each paced by the page's acks (window), so cancel
 * takes effect within one chunk; a later load, tune or dispose waits for the streams already running.
 */
import shaders from 'virtual:shaders';
import { GpuContext } from '../gpu/context.js';
import { adapterLabel, requestGpuDevice, type AdapterDescription, type GpuDeviceHandle } from '../gpu/device.js';
import { NoAdapterError } from '../gpu/errors.js';
import { defaultCpuThreads } from '../../kernels/cpu-linear.js';
import { registerShaders } from '../gpu/shader-registry.js';
import type { SynthesisStats } from '../pipeline/types.js';
import { createEngine, createWasmEngine, type Engine } from './engine.js';
import { UnsupportedModelError, WorkerProtocolError } from './errors.js';
import { HttpModelSource, MODEL_CACHE_NAME, openModelCache } from './model-source.js';
import { opfsSyncRoot } from './opfs-files.js';
import { DEFAULT_WINDOW, errorMessage, type FromWorker, type WorkerLoadOptions, type WorkerStreamOptions, type WorkerTuneOptions, type ToWorker } from './protocol.js';
import { loadConvertedModelFiles } from './converted-model.js';
import { tuneModelFiles } from '../tune/models.js';
import type { SpeakerPrompt } from '../pipeline/types.js';
import { speakerFromFile } from '../pipeline/speaker.js';
import { PROMPT_MODEL_FILES, PromptModels } from '../speaker/prompt-models.js';
import { loadOnnxFromSource } from './model-source.js';

registerShaders(shaders);

interface WorkerScope {
  postMessage(msg: unknown, transfer?: Transferable[]): void;
  addEventListener(type: 'message', fn: (ev: MessageEvent<ToWorker>) => void): void;
  close(): void;
}
const scope = globalThis as unknown as WorkerScope;
const post = (msg: FromWorker, transfer: Transferable[] = []): void => scope.postMessage(msg, transfer);

interface ActiveStream {
  abort: AbortController;
  credit: number;
  wake: (() => void) | null;
  /** Text-in streaming: pieces received and not yet read, whether `text-end` came, who waits for more. */
  text?: { pieces: string[]; ended: boolean; wake: (() => void) | null };
}

/** The pieces of a text-in stream as its `text` messages arrive; ends at `text-end` or a cancel. */
async function* textPieces(st: ActiveStream): AsyncGenerator<string, void> {
  const t = st.text!;
  for (;;) {
    while (!t.pieces.length && !t.ended && !st.abort.signal.aborted) await new Promise<void>((r) => (t.wake = r));
    if (st.abort.signal.aborted) return;
    if (t.pieces.length) yield t.pieces.shift()!;
    else return;
  }
}

let handle: GpuDeviceHandle | null = null;
let handleF16Disabled = false;
let ctx: GpuContext | null = null;
let engine: Engine | null = null;
/** The model source of the engine (or tuning) now: its OPFS files stay open while the engine reads from them. */
let source: HttpModelSource | null = null;
/** Loads, tunes, prepares and disposes, one after another. */
let queue: Promise<unknown> = Promise.resolve();
const streams = new Map<number, ActiveStream>();
/** The streams started and not yet ended (they run beside each other, after the queue as it was when they came). */
const running = new Set<Promise<unknown>>();
/** The queue after every running stream: what a load, tune or dispose waits for. */
const afterStreams = (): Promise<unknown> => Promise.allSettled([queue, ...running]);
const now = (): number => performance.now();

/** The CPU fallback's stand-in for an adapter in `loaded`. */
const WASM_ADAPTER: AdapterDescription = { vendor: '', architecture: '', device: '', description: 'WebAssembly (CPU)', features: [], subgroupMinSize: 0, subgroupMaxSize: 0 };

/** The loaded folder's prompt models (voices from audio), read at the first `voice` message and kept with the engine. */
let promptModels: Promise<PromptModels> | null = null;

/** Drops the engine, its context and its files. */
function unload(): void {
  for (const s of streams.values()) s.abort.abort();
  void promptModels?.then((m) => m.dispose(), () => undefined);
  promptModels = null;
  engine?.dispose();
  engine = null;
  ctx?.dispose();
  ctx = null;
  source?.close();
  source = null;
}

/** Drops the engine and its context, and makes sure of a device with the asked f16 choice; returns the model source. */
async function unloadAndOpen(url: string, options: WorkerLoadOptions): Promise<{ handle: GpuDeviceHandle; src: HttpModelSource }> {
  unload();
  // A new device only when none exists yet or the f16 choice changed (features are fixed per device).
  if (!handle || handle.isLost() || handleF16Disabled !== !!options.disableF16) {
    handle?.device.destroy();
    handle = await requestGpuDevice(navigator.gpu, { disableFeatures: options.disableF16 ? ['shader-f16'] : [] });
    handleF16Disabled = !!options.disableF16;
    const h = handle;
    h.lost.then((err) => {
      if (handle === h) post(errorMessage(err));
    });
  }
  return { handle, src: await openSource(url, options) };
}

/** The folder's speech_tokenizer_v3.onnx and campplus.onnx (OPFS / Cache API like the other files), on the CPU ONNX interpreter. */
async function openPromptModels(src: HttpModelSource): Promise<PromptModels> {
  for (const f of Object.values(PROMPT_MODEL_FILES)) {
    if (!(await src.exists(f))) throw new UnsupportedModelError(`${src.base}${f} not found: a voice from audio needs ${PROMPT_MODEL_FILES.tokenizer} and ${PROMPT_MODEL_FILES.campplus} in the model folder (convert copies them from the official one)`);
  }
  const tokenizer = await loadOnnxFromSource(src, PROMPT_MODEL_FILES.tokenizer);
  const campplus = await loadOnnxFromSource(src, PROMPT_MODEL_FILES.campplus);
  return PromptModels.create({ tokenizer, campplus });
}

async function openSource(url: string, options: WorkerLoadOptions): Promise<HttpModelSource> {
  const name = options.cacheName ?? MODEL_CACHE_NAME;
  const cache = options.cache === false ? null : await openModelCache(name);
  const root = options.cache === false || options.store === 'cache' ? null : await opfsSyncRoot();
  source = new HttpModelSource(new URL(url, location.href).href, { cache, opfs: root && { root, name }, onProgress: (p) => post({ type: 'progress', ...p }) });
  return source;
}

function modelStore(src: HttpModelSource): 'opfs' | 'cache' | 'none' {
  return src.inPlace ? 'opfs' : src.cached ? 'cache' : 'none';
}

/** The CPU fallback: no device; CosyVoice3 folders only. */
async function loadWasm(url: string, options: WorkerLoadOptions, t0: number): Promise<void> {
  unload();
  const src = await openSource(url, options);
  engine = await createWasmEngine(src, { engine: options.engine, cpuDtype: options.cpuDtype, cpuFlowCacheBytes: options.cpuFlowCacheBytes });
  src.endLoad();
  post({ type: 'loaded', engine: engine.name, speakerExpectations: engine.speakerExpectations, backend: 'wasm', threads: defaultCpuThreads(), cpuDtype: options.cpuDtype ?? 'f32', sampleRate: engine.sampleRate, adapter: WASM_ADAPTER, adapterLabel: adapterLabel(WASM_ADAPTER), shaderF16: false, loadMs: now() - t0, cache: { ...src.counters }, modelStore: modelStore(src) });
}

async function load(url: string, options: WorkerLoadOptions): Promise<void> {
  const t0 = now();
  const backend = options.backend ?? 'auto';
  if (backend === 'wasm') return loadWasm(url, options, t0);
  let opened: Awaited<ReturnType<typeof unloadAndOpen>>;
  try {
    opened = await unloadAndOpen(url, options);
  } catch (e) {
    // No WebGPU here (no navigator.gpu, or no adapter): 'auto' falls back to the CPU.
    if (backend === 'auto' && e instanceof NoAdapterError) return loadWasm(url, options, t0);
    throw e;
  }
  const { handle, src } = opened;
  // A fresh context per model: an engine's dispose() releases everything its context created.
  ctx = new GpuContext(handle);
  engine = await createEngine(src, ctx, { engine: options.engine, disableF16: options.disableF16, dtype: options.dtype, tuning: options.tuning, gpuFlowCacheBytes: options.gpuFlowCacheBytes });
  src.endLoad();
  post({
    type: 'loaded',
    engine: engine.name,
    speakerExpectations: engine.speakerExpectations,
    backend: 'webgpu',
    sampleRate: engine.sampleRate,
    adapter: handle.info,
    adapterLabel: adapterLabel(handle.info),
    shaderF16: engine.shaderF16,
    loadMs: now() - t0,
    cache: { ...src.counters },
    modelStore: modelStore(src),
  });
}

/**
 * Measures this adapter's kernel choices for a CosyVoice3 folder (src/tune/models.ts tuneModelFiles) on a context
 * of its own, freed after: the loaded engine is dropped first so that the two never hold the models at once.
 */
async function tune(url: string, options: WorkerTuneOptions): Promise<void> {
  const t0 = now();
  const { handle, src } = await unloadAndOpen(url, options);
  if (!(await src.exists('cosyvoice.json'))) throw new UnsupportedModelError(`${src.base}: tuning applies to a converted CosyVoice3 folder (cosyvoice.json)`);
  const files = await loadConvertedModelFiles(src);
  const tctx = new GpuContext(handle);
  try {
    const dtype = options.dtype ?? (tctx.hasF16 && !options.disableF16 ? 'f16' : 'f32');
    const { table, reports } = await tuneModelFiles(tctx, files, {
      dtype, models: options.models, maxCandidates: options.quick ? 3 : undefined, prefillRows: options.prefillRows, context: options.context, frames: options.frames,
    });
    post({ type: 'tuned', table: JSON.stringify(table), adapterLabel: table.adapter, decisions: table.size, changed: reports.filter((r) => r.bestName !== r.defaultName).length, tuneMs: now() - t0 });
  } finally {
    tctx.dispose();
    source?.close();
    source = null;
  }
}

/** What a stream speaks: a text, a text arriving in pieces (`text` messages), or a source WAV's speech (voice conversion). */
type StreamInput = { text: string } | { textIn: true } | { wav: Uint8Array };

/** The loaded folder's prompt models, opened at the first voice or conversion and kept with the engine. */
function loadedPromptModels(what: string): Promise<PromptModels> {
  if (!source || !engine?.speakerExpectations) throw new WorkerProtocolError(`${what} before a CosyVoice3 load: send {type: "load"} with a CosyVoice3 folder first`);
  promptModels ??= openPromptModels(source);
  promptModels.catch(() => (promptModels = null));
  return promptModels;
}

async function stream(id: number, input: StreamInput, speaker: SpeakerPrompt | null, options: WorkerStreamOptions): Promise<void> {
  if (!engine) throw new WorkerProtocolError('stream before load: send {type: "load"} first');
  const st = streams.get(id)!;
  if ('textIn' in input && !engine.streamText) throw new WorkerProtocolError(`stream-text: the ${engine.name} engine has no text-in streaming`);
  if ('wav' in input && !engine.streamTokens) throw new WorkerProtocolError(`stream-vc: the ${engine.name} engine has no voice conversion`);
  const t0 = now();
  let ttfa = 0;
  let chunks = 0;
  let samples = 0;
  let transferred = 0;
  let stats: SynthesisStats | undefined;
  if (options.offline && !engine.segments) throw new WorkerProtocolError('offline: this engine renders streaming chunks only');
  const opts = { ...options, signal: st.abort.signal };
  const who = speaker ?? engine.defaultSpeaker;
  // A conversion's source is tokenized first (on this thread, yielding every ~20 ms); it counts in its TTFA.
  const gen =
    'wav' in input
      ? engine.streamTokens!(await (await loadedPromptModels('stream-vc')).sourceTokens(input.wav), who, { ...opts, streaming: !options.offline })
      : 'textIn' in input
        ? engine.streamText!(textPieces(st), who, { ...opts, streaming: !options.offline })
        : (options.offline ? engine.segments! : engine.stream).call(engine, input.text, who, opts);
  try {
    for (;;) {
      while (st.credit <= 0 && !st.abort.signal.aborted) await new Promise<void>((r) => (st.wake = r));
      if (st.abort.signal.aborted) break;
      const r = await gen.next();
      if (r.done) {
        stats = r.value;
        break;
      }
      // Transfer the samples; copy first when the chunk is a view into a bigger buffer (the rest must stay).
      const pcm = r.value.byteOffset === 0 && r.value.byteLength === r.value.buffer.byteLength ? r.value : r.value.slice();
      if (!ttfa) ttfa = now() - t0;
      samples += pcm.length;
      st.credit--;
      post({ type: 'chunk', id, index: chunks++, pcm }, [pcm.buffer as ArrayBuffer]);
      if (pcm.buffer.byteLength === 0) transferred++;
    }
  } finally {
    if (!stats) await gen.return(undefined as never).catch(() => undefined);
  }
  const cancelled = st.abort.signal.aborted && !stats;
  if (!stats) {
    const totalMs = now() - t0;
    const audioSeconds = samples / engine.sampleRate;
    stats = { ttfaMs: ttfa, totalMs, audioSeconds, rtf: audioSeconds ? totalMs / 1000 / audioSeconds : 0, tokens: 0, llmMs: 0, flowMs: 0, hiftMs: 0 };
  }
  post({ type: 'done', id, stats, cancelled, chunks, samples, transferred });
}

function dispose(): void {
  for (const s of streams.values()) s.abort.abort();
  engine?.dispose();
  ctx?.dispose();
  source?.close();
  handle?.device.destroy();
  engine = null;
  ctx = null;
  handle = null;
  post({ type: 'disposed' });
  scope.close();
}

scope.addEventListener('message', (ev) => {
  const msg = ev.data;
  switch (msg.type) {
    case 'load':
      queue = afterStreams().then(() => load(msg.url, msg.options ?? {})).catch((e) => post(errorMessage(e)));
      break;
    case 'tune':
      queue = afterStreams().then(() => tune(msg.url, msg.options ?? {})).catch((e) => post(errorMessage(e)));
      break;
    case 'stream':
    case 'stream-text':
    case 'stream-vc': {
      const st: ActiveStream = { abort: new AbortController(), credit: Math.max(1, msg.options?.window ?? DEFAULT_WINDOW), wake: null };
      if (msg.type === 'stream-text') st.text = { pieces: [], ended: false, wake: null };
      streams.set(msg.id, st);
      // Streams start after any pending load and run beside each other; a cancel before the start ends the stream
      // at once. A text-in stream's pieces wait in st.text until it runs.
      const run: Promise<unknown> = queue
        .then(() => stream(msg.id, msg.type === 'stream' ? { text: msg.text } : msg.type === 'stream-vc' ? { wav: msg.wav } : { textIn: true }, msg.speaker, msg.options ?? {}))
        .catch((e) => post(errorMessage(e, msg.id)))
        .finally(() => {
          streams.delete(msg.id);
          running.delete(run);
        });
      running.add(run);
      break;
    }
    case 'prepare':
      // In order with loads and streams: it runs on the loaded engine, between texts.
      queue = queue
        .then(async () => {
          if (!engine) throw new WorkerProtocolError('prepare before load: send {type: "load"} first');
          const kept = (await engine.prepareSpeaker?.(msg.speaker ?? engine.defaultSpeaker)) ?? false;
          post({ type: 'prepared', id: msg.id, kept });
        })
        .catch((e) => post(errorMessage(e, msg.id)));
      break;
    case 'voice':
      // In order with loads (it reads the loaded folder's files); beside streams (its graphs run on this thread,
      // giving the event loop a turn every ~20 ms, so running streams keep going).
      queue = queue
        .then(async () => {
          const models = await loadedPromptModels('voice');
          const file = await models.speaker(msg.wav, msg.transcript, engine!.speakerExpectations);
          post({ type: 'voice', id: msg.id, speaker: speakerFromFile(file) });
        })
        .catch((e) => post(errorMessage(e, msg.id)));
      break;
    case 'text':
    case 'text-end': {
      const t = streams.get(msg.id)?.text;
      if (t) {
        if (msg.type === 'text') t.pieces.push(msg.piece);
        else t.ended = true;
        t.wake?.();
      }
      break;
    }
    case 'ack': {
      const st = streams.get(msg.id);
      if (st) {
        st.credit += msg.n;
        st.wake?.();
      }
      break;
    }
    case 'cancel': {
      const st = streams.get(msg.id);
      if (st) {
        st.abort.abort();
        st.wake?.();
        st.text?.wake?.();
      }
      break;
    }
    case 'dispose':
      // Abort first: a stream waiting for acks would otherwise hold the queue forever.
      for (const s of streams.values()) {
        s.abort.abort();
        s.wake?.();
        s.text?.wake?.();
      }
      queue = afterStreams().then(dispose, dispose);
      break;
    default:
      post(errorMessage(new WorkerProtocolError(`unknown message type ${(msg as { type?: unknown }).type}`)));
  }
});
