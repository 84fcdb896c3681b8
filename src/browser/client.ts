/**
 * Page-side client of the model Worker (worker.ts). All GPU work happens in the worker; this object only sends
 * protocol messages and turns the replies into promises and async generators.
 *
 *   const client = new CosyVoiceWorkerClient(new Worker(new URL('./worker.js', import.meta.url), { type: 'module' }));
 *   await client.load('./models/tiny/', (p) => console.log(p.file, p.loaded, p.total));
 *   for await (const pcm of client.stream('Hello')) player.push(pcm);
 *
 * A chunk is acknowledged when the consumer takes it, which lets the worker run `window` chunks ahead; leaving the
 * loop early (break/return/throw) cancels the stream in the worker.
 */
import type { SpeakerPrompt, SynthesisStats } from '../pipeline/types.js';
import { WorkerError, WorkerProtocolError } from './errors.js';
import type { DoneInfo, FromWorker, LoadedInfo, WorkerLoadOptions, ProgressInfo, TunedInfo, WorkerStreamOptions, WorkerTuneOptions, ToWorker } from './protocol.js';

export interface WorkerLike {
  postMessage(msg: unknown, transfer?: Transferable[]): void;
  addEventListener(type: 'message', fn: (ev: MessageEvent<FromWorker>) => void): void;
  addEventListener(type: 'error', fn: (ev: ErrorEvent) => void): void;
  terminate(): void;
}

export interface ClientStreamOptions extends WorkerStreamOptions {
  signal?: AbortSignal;
}

/** The generator `stream` returns, plus its id and a promise of the worker's final report. */
export type StreamHandle = AsyncGenerator<Float32Array, SynthesisStats, undefined> & { readonly id: number; readonly done: Promise<DoneInfo> };

type Item = { kind: 'chunk'; pcm: Float32Array } | { kind: 'done'; info: DoneInfo } | { kind: 'error'; error: Error };

interface StreamState {
  items: Item[];
  wake: (() => void) | null;
  resolveDone: (d: DoneInfo) => void;
  rejectDone: (e: Error) => void;
}

export class CosyVoiceWorkerClient {
  private readonly worker: WorkerLike;
  private nextId = 1;
  private readonly streams = new Map<number, StreamState>();
  private pendingLoad: { resolve: (l: LoadedInfo) => void; reject: (e: Error) => void; onProgress?: (p: ProgressInfo) => void } | null = null;
  private pendingTune: { resolve: (t: TunedInfo) => void; reject: (e: Error) => void; onProgress?: (p: ProgressInfo) => void } | null = null;
  private pendingDispose: (() => void) | null = null;
  private readonly pendingPrepare = new Map<number, { resolve: (kept: boolean) => void; reject: (e: Error) => void }>();
  private readonly pendingVoice = new Map<number, { resolve: (s: SpeakerPrompt) => void; reject: (e: Error) => void }>();
  private disposed = false;
  /** The last successful load's report. */
  loaded: LoadedInfo | null = null;

  constructor(worker: WorkerLike | string | URL) {
    this.worker = typeof worker === 'string' || worker instanceof URL ? new Worker(worker, { type: 'module' }) : worker;
    this.worker.addEventListener('message', (ev: MessageEvent<FromWorker>) => this.onMessage(ev.data));
    this.worker.addEventListener('error', (ev: ErrorEvent) => this.failAll(new WorkerError('WorkerError', `worker script failed: ${ev.message || 'unknown error'}`)));
  }

  private send(msg: ToWorker): void {
    if (this.disposed) throw new WorkerProtocolError('this CosyVoiceWorkerClient was disposed; create a new one');
    this.worker.postMessage(msg);
  }

  private push(id: number, item: Item): void {
    const s = this.streams.get(id);
    if (!s) return; // a stream the consumer already left
    s.items.push(item);
    s.wake?.();
  }

  private failAll(err: Error): void {
    this.pendingLoad?.reject(err);
    this.pendingLoad = null;
    this.pendingTune?.reject(err);
    this.pendingTune = null;
    for (const id of this.streams.keys()) this.push(id, { kind: 'error', error: err });
    for (const p of [...this.pendingPrepare.values(), ...this.pendingVoice.values()]) p.reject(err);
    this.pendingPrepare.clear();
    this.pendingVoice.clear();
  }

  private onMessage(m: FromWorker): void {
    switch (m.type) {
      case 'progress':
        (this.pendingLoad ?? this.pendingTune)?.onProgress?.({ file: m.file, loaded: m.loaded, total: m.total, cached: m.cached, stage: m.stage });
        break;
      case 'tuned': {
        const { type: _t, ...info } = m;
        this.pendingTune?.resolve(info);
        this.pendingTune = null;
        break;
      }
      case 'loaded': {
        const { type: _t, ...info } = m;
        this.loaded = info;
        this.pendingLoad?.resolve(info);
        this.pendingLoad = null;
        break;
      }
      case 'chunk':
        this.push(m.id, { kind: 'chunk', pcm: m.pcm });
        break;
      case 'prepared':
        this.pendingPrepare.get(m.id)?.resolve(m.kept);
        this.pendingPrepare.delete(m.id);
        break;
      case 'voice':
        this.pendingVoice.get(m.id)?.resolve(m.speaker);
        this.pendingVoice.delete(m.id);
        break;
      case 'done': {
        const { type: _t, id, ...info } = m;
        this.push(id, { kind: 'done', info });
        break;
      }
      case 'error': {
        const err = new WorkerError(m.name, m.message);
        const prep = m.id === undefined ? undefined : this.pendingPrepare.get(m.id) ?? this.pendingVoice.get(m.id);
        if (prep) {
          prep.reject(err);
          this.pendingPrepare.delete(m.id!);
          this.pendingVoice.delete(m.id!);
        } else if (m.id !== undefined) this.push(m.id, { kind: 'error', error: err });
        else if (this.pendingLoad) {
          this.pendingLoad.reject(err);
          this.pendingLoad = null;
        } else if (this.pendingTune) {
          this.pendingTune.reject(err);
          this.pendingTune = null;
        } else this.failAll(err); // device lost: every stream ends with it
        break;
      }
      case 'disposed':
        this.pendingDispose?.();
        break;
    }
  }

  /**
   * Solves the speaker's prompt (null: the model's default speaker) in the Worker ahead of any text, where the engine
   * keeps the result (the DiT prefix cache: Worker options gpuFlowCacheBytes and cpuFlowCacheBytes): the next text
   * with this speaker then reaches its first audio sooner. Resolves false where nothing is kept (a cache turned off;
   * a prompt shorter than one 50-frame chunk). Runs in order with streams.
   */
  prepareSpeaker(speaker: SpeakerPrompt | null = null): Promise<boolean> {
    const id = this.nextId++;
    return new Promise<boolean>((resolve, reject) => {
      this.send({ type: 'prepare', id, speaker }); // throws (rejects) once disposed, before anything is pending
      this.pendingPrepare.set(id, { resolve, reject });
    });
  }

  /**
   * A voice from prompt audio: WAV bytes (PCM or float, ≥ 16 kHz, ≤ 30 s) and, for zero-shot synthesis, what it
   * says. The Worker runs the loaded folder's speech_tokenizer_v3.onnx and campplus.onnx (fetched and kept like
   * the other files at the first call) on the CPU, as upstream's frontend; pass the speaker to stream().
   */
  voiceFromWav(wav: Uint8Array | ArrayBuffer, transcript?: string): Promise<SpeakerPrompt> {
    const id = this.nextId++;
    return new Promise<SpeakerPrompt>((resolve, reject) => {
      this.send({ type: 'voice', id, wav: wav instanceof Uint8Array ? wav : new Uint8Array(wav), ...(transcript !== undefined ? { transcript } : {}) });
      this.pendingVoice.set(id, { resolve, reject });
    });
  }

  /** Loads (or replaces) the model of a folder URL; resolves with the adapter, f16 use and cache counters. */
  load(url: string | URL, onProgress?: (p: ProgressInfo) => void, options: WorkerLoadOptions = {}): Promise<LoadedInfo> {
    if (this.pendingLoad) return Promise.reject(new WorkerProtocolError('a load is already in progress'));
    return new Promise<LoadedInfo>((resolve, reject) => {
      this.pendingLoad = { resolve, reject, onProgress };
      this.send({ type: 'load', url: String(url), options });
    });
  }

  /**
   * Measures this adapter's kernel choices for a CosyVoice3 folder (src/tune/) and resolves with the table's JSON
   * text; pass it as `load(url, onProgress, { tuning })` (now and on later visits: store it per adapter label).
   * The loaded model is unloaded first (tuning builds its own); load again after.
   */
  tune(url: string | URL, options: WorkerTuneOptions = {}, onProgress?: (p: ProgressInfo) => void): Promise<TunedInfo> {
    if (this.pendingLoad || this.pendingTune) return Promise.reject(new WorkerProtocolError('a load or tune is already in progress'));
    return new Promise<TunedInfo>((resolve, reject) => {
      this.pendingTune = { resolve, reject, onProgress };
      this.send({ type: 'tune', url: String(url), options });
    });
  }

  /** Streams PCM chunks (mono float32 at loaded.sampleRate); the generator's return value is the statistics. */
  stream(text: string, speaker: SpeakerPrompt | null = null, opts: ClientStreamOptions = {}): StreamHandle {
    const { signal, ...options } = opts;
    const id = this.nextId++;
    return this.open(id, { type: 'stream', id, text, speaker, options }, signal);
  }

  /**
   * Text-in streaming (CosyVoicePipeline.streamText, upstream's inference_bistream): the text is an (async) iterable
   * of pieces, e.g. a chat model's output, sent to the Worker as they come while speech streams back. With
   * `offline`, the speech comes at the end of the text, in one chunk. A failing `text` cancels the stream and ends
   * it with the failure.
   */
  streamText(text: AsyncIterable<string> | Iterable<string>, speaker: SpeakerPrompt | null = null, opts: ClientStreamOptions = {}): StreamHandle {
    const { signal, ...options } = opts;
    const id = this.nextId++;
    const handle = this.open(id, { type: 'stream-text', id, speaker, options }, signal);
    void (async () => {
      try {
        for await (const piece of text) {
          if (!this.streams.has(id)) return; // ended or left
          this.send({ type: 'text', id, piece: String(piece) });
        }
        if (this.streams.has(id)) this.send({ type: 'text-end', id });
      } catch (e) {
        if (!this.streams.has(id)) return;
        this.cancel(id);
        this.push(id, { kind: 'error', error: e instanceof Error ? e : new Error(String(e)) });
      }
    })();
    return handle;
  }

  /**
   * Voice conversion (upstream's inference_vc): the speech of a source WAV (PCM or float, ≥ 16 kHz, ≤ 30 s) in the
   * speaker's voice (null: the model's default speaker). The Worker tokenizes it with the loaded folder's
   * speech_tokenizer_v3.onnx on the CPU (as voiceFromWav) and renders the tokens like a text's: streaming chunks, or
   * one chunk with `offline` (then `speed` may be set). `seed`, `mode`, `instruct` and `forceTokens` do not apply.
   */
  convertVoice(wav: Uint8Array | ArrayBuffer, speaker: SpeakerPrompt | null = null, opts: ClientStreamOptions = {}): StreamHandle {
    const { signal, ...options } = opts;
    const id = this.nextId++;
    return this.open(id, { type: 'stream-vc', id, wav: wav instanceof Uint8Array ? wav : new Uint8Array(wav), speaker, options }, signal);
  }

  private open(id: number, msg: ToWorker, signal: AbortSignal | undefined): StreamHandle {
    let resolveDone!: (d: DoneInfo) => void;
    let rejectDone!: (e: Error) => void;
    const done = new Promise<DoneInfo>((res, rej) => ((resolveDone = res), (rejectDone = rej)));
    done.catch(() => undefined); // observed through the generator too
    const state: StreamState = { items: [], wake: null, resolveDone, rejectDone };
    this.streams.set(id, state);
    this.send(msg);
    const onAbort = (): void => this.cancel(id);
    signal?.addEventListener('abort', onAbort);
    if (signal?.aborted) onAbort();

    const self = this;
    async function* run(): AsyncGenerator<Float32Array, SynthesisStats, undefined> {
      let finished = false;
      try {
        for (;;) {
          while (!state.items.length) await new Promise<void>((r) => (state.wake = r));
          const item = state.items.shift()!;
          if (item.kind === 'chunk') {
            self.worker.postMessage({ type: 'ack', id, n: 1 } satisfies ToWorker);
            yield item.pcm;
          } else if (item.kind === 'done') {
            finished = true;
            state.resolveDone(item.info);
            return item.info.stats;
          } else {
            finished = true;
            state.rejectDone(item.error);
            throw item.error;
          }
        }
      } finally {
        signal?.removeEventListener('abort', onAbort);
        if (!finished) {
          // The consumer left early: cancel in the worker and still report the worker's final numbers.
          self.cancel(id);
          self.drain(id, state);
        } else self.streams.delete(id);
      }
    }
    return Object.assign(run(), { id, done });
  }

  /** After an early exit, keep listening until the worker's done/error so `done` resolves. */
  private drain(id: number, state: StreamState): void {
    const check = (): void => {
      for (const item of state.items.splice(0)) {
        if (item.kind === 'done') {
          state.resolveDone(item.info);
          this.streams.delete(id);
          return;
        }
        if (item.kind === 'error') {
          state.rejectDone(item.error);
          this.streams.delete(id);
          return;
        }
      }
      state.wake = check;
    };
    check();
  }

  /** Offline synthesis through the worker: all chunks concatenated. */
  async synthesize(text: string, speaker: SpeakerPrompt | null = null, opts: ClientStreamOptions = {}): Promise<{ pcm: Float32Array; stats: SynthesisStats }> {
    const parts: Float32Array[] = [];
    const gen = this.stream(text, speaker, opts);
    let r = await gen.next();
    while (!r.done) {
      parts.push(r.value);
      r = await gen.next();
    }
    const pcm = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
    let o = 0;
    for (const p of parts) pcm.set(p, (o += p.length) - p.length);
    return { pcm, stats: r.value };
  }

  /** Cancels one stream, or every active stream when no id is given. The stream then ends with done.cancelled. */
  cancel(id?: number): void {
    if (this.disposed) return;
    for (const sid of id === undefined ? [...this.streams.keys()] : [id]) this.worker.postMessage({ type: 'cancel', id: sid } satisfies ToWorker);
  }

  /** Releases the GPU device and models, then ends the worker. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    const gone = new Promise<void>((r) => (this.pendingDispose = r));
    this.send({ type: 'dispose' });
    this.disposed = true;
    await Promise.race([gone, new Promise((r) => setTimeout(r, 2000))]);
    this.failAll(new WorkerProtocolError('the worker was disposed'));
    this.worker.terminate();
  }
}
