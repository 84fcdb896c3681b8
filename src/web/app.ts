/**
 * Demo page: load a converted model folder in the Worker, type text, press Play; chunks stream into the
 * "pcm-player" AudioWorklet as they arrive. Shows load progress, TTFA, RTF, the adapter and shader-f16 use.
 * With a CosyVoice3 folder that holds the prompt models: "Make voice" turns a prompt WAV or a microphone recording
 * ("Record", then "Stop"; the later of the two is used) and its transcript into
 * the voice Play then speaks with (client.voiceFromWav), "Save voice" downloads it as a speaker file (.cvspk) that
 * "use a voice file" reads back, "Convert" speaks a source WAV's speech in it (client.convertVoice, voice
 * conversion).
 * `window.cosyvoiceDemo` exposes the run's data (received PCM, progress events, stats) for the browser tests.
 * URL parameters: ?model=<folder URL>&text=<text>&seed=<n>&tokens=<n>&dtype=f32|f16&backend=auto|webgpu|wasm&cpudtype=f32|q8
 * (tokens: generate exactly n speech tokens, for benchmarks and for random-weight test models that would otherwise
 * run to their length limit; dtype: CosyVoice3 weight storage, default f16 where the device has shader-f16;
 * backend: where the model runs, default WebGPU with the CPU fallback when the browser has no adapter; cpudtype:
 * the CPU fallback's weight storage, default f32).
 */
import { CosyVoiceWorkerClient, type StreamHandle } from '../browser/client.js';
import type { DoneInfo, LoadedInfo, ProgressInfo } from '../browser/protocol.js';
import { speakerFromFile, speakerToFile } from '../pipeline/speaker.js';
import type { SpeakerPrompt } from '../pipeline/types.js';
import { decodeSpeaker, encodeSpeaker, speakerFromJson } from '../speaker/speaker-file.js';
import { writeWav } from '../audio/wav.js';

type State = 'idle' | 'loading' | 'loaded' | 'playing' | 'done' | 'played' | 'cancelled' | 'error';

interface PlayerStatus {
  played: number;
  buffered: number;
  underruns: number;
  drained: boolean;
}

const el = <T extends HTMLElement = HTMLElement>(id: string): T => document.getElementById(id) as T;
const ui = {
  model: el<HTMLInputElement>('model'),
  models: el<HTMLDataListElement>('models'),
  cache: el<HTMLInputElement>('cache'),
  nof16: el<HTMLInputElement>('nof16'),
  text: el<HTMLTextAreaElement>('text'),
  tokens: el<HTMLInputElement>('tokens'),
  seed: el<HTMLInputElement>('seed'),
  speed: el<HTMLInputElement>('speed'),
  promptWav: el<HTMLInputElement>('prompt-wav'),
  promptText: el<HTMLInputElement>('prompt-text'),
  voice: el<HTMLButtonElement>('voice'),
  voiceStatus: el('voice-status'),
  sourceWav: el<HTMLInputElement>('source-wav'),
  convert: el<HTMLButtonElement>('convert'),
  saveVoice: el<HTMLButtonElement>('save-voice'),
  record: el<HTMLButtonElement>('record'),
  voiceFile: el<HTMLInputElement>('voice-file'),
  load: el<HTMLButtonElement>('load'),
  play: el<HTMLButtonElement>('play'),
  cancel: el<HTMLButtonElement>('cancel'),
  status: el('status'),
  progress: el<HTMLProgressElement>('progress'),
  progressText: el('progress-text'),
  adapter: el('adapter'),
  f16: el('f16'),
  ttfa: el('ttfa'),
  rtf: el('rtf'),
  played: el('played'),
  wave: el<HTMLCanvasElement>('wave'),
  log: el('log'),
};

const demo = {
  client: new CosyVoiceWorkerClient(new Worker(new URL('./worker.js', import.meta.url), { type: 'module' })),
  state: 'idle' as State,
  loaded: null as LoadedInfo | null,
  loadedKey: '',
  progress: [] as ProgressInfo[],
  chunks: [] as Float32Array[],
  chunkTimes: [] as number[],
  done: null as DoneInfo | null,
  pageTtfaMs: 0,
  player: null as PlayerStatus | null,
  error: null as { name: string; message: string } | null,
  current: null as StreamHandle | null,
  /** The voice made from a prompt WAV (null: the model's default speaker). */
  speaker: null as SpeakerPrompt | null,
  /** The last microphone recording as a WAV, and whether it (not the chosen file) is the prompt. */
  recording: null as Uint8Array | null,
  useRecording: false,
  /** The last voice file "Save voice" made (tests read it). */
  savedVoice: null as Uint8Array | null,
  /** All samples of the last run, as a plain array (tests read this). */
  pcm(): number[] {
    const out: number[] = [];
    for (const c of this.chunks) for (let i = 0; i < c.length; i++) out.push(c[i]);
    return out;
  },
};
(globalThis as unknown as { cosyvoiceDemo: typeof demo }).cosyvoiceDemo = demo;

let audio: AudioContext | null = null;
let node: AudioWorkletNode | null = null;

function setState(s: State, msg?: string): void {
  demo.state = s;
  document.body.dataset.state = s;
  ui.status.textContent = msg ?? s;
  const busy = s === 'loading' || s === 'playing';
  ui.play.disabled = busy;
  ui.load.disabled = busy;
  ui.voice.disabled = busy;
  ui.convert.disabled = busy;
  ui.cancel.disabled = s !== 'playing' && !(s === 'done' && demo.player && !demo.player.drained);
}

function log(line: string): void {
  ui.log.textContent = `${new Date().toISOString().slice(11, 23)} ${line}\n${ui.log.textContent}`;
}

const kb = (n: number): string => (n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MiB` : `${(n / 1024).toFixed(1)} kB`);

/** One bar over both stages: the files arriving (fetch), then their weights read in place (read, OPFS only). */
function showProgress(): void {
  const last = new Map<string, ProgressInfo>();
  for (const p of demo.progress) last.set(`${p.stage}:${p.file}`, p);
  const sum = { fetch: { loaded: 0, total: 0, files: 0, cached: 0 }, read: { loaded: 0, total: 0, files: 0, cached: 0 } };
  for (const p of last.values()) {
    const s = sum[p.stage];
    s.loaded += p.loaded;
    s.total += p.total;
    s.files++;
    if (p.cached) s.cached++;
  }
  const { fetch, read } = sum;
  ui.progress.value = fetch.total + read.total ? (fetch.loaded + read.loaded) / (fetch.total + read.total) : 0;
  ui.progressText.textContent =
    `${kb(fetch.loaded)} of ${kb(fetch.total)} · ${fetch.files} file(s), ${fetch.cached} from cache` +
    (read.files ? ` · weights read in place ${kb(read.loaded)} of ${kb(read.total)}` : '') +
    ` · ${demo.progress.length} progress events`;
}

async function ensureLoaded(): Promise<LoadedInfo> {
  const url = new URL(ui.model.value.trim() || './models/tone/', location.href).href;
  const key = `${url}|${ui.cache.checked}|${ui.nof16.checked}`;
  if (demo.loaded && demo.loadedKey === key) return demo.loaded;
  setState('loading', 'loading model…');
  demo.progress = [];
  demo.loaded = null;
  showProgress();
  const info = await demo.client.load(
    url,
    (p) => {
      demo.progress.push(p);
      showProgress();
    },
    { cache: ui.cache.checked, disableF16: ui.nof16.checked, dtype: dtypeParam(), backend: backendParam(), cpuDtype: cpuDtypeParam() },
  );
  demo.loaded = info;
  demo.loadedKey = key;
  // A voice belongs to the model it was made for.
  useVoice(null, 'default voice');
  showProgress();
  ui.progress.value = 1; // the text table's rows are read later, as synthesis needs them
  ui.progressText.textContent += ` · loaded in ${info.loadMs.toFixed(0)} ms (downloaded ${kb(info.cache.bytesDownloaded)}, cache hits ${info.cache.hits}, files kept in ${info.modelStore === 'opfs' ? 'OPFS, read in place' : info.modelStore === 'cache' ? 'the Cache API' : 'no cache'})`;
  ui.adapter.textContent = info.adapterLabel;
  const has = info.adapter.features.includes('shader-f16');
  ui.f16.textContent = info.shaderF16 ? 'yes (f16 kernels)' : `no — ${has ? (ui.nof16.checked ? 'disabled by the checkbox' : `the ${info.engine} engine runs f32`) : 'the adapter lacks it'}, f32 kernels`;
  log(`loaded ${info.engine} from ${url} on ${info.backend === 'wasm' ? `the CPU fallback (WebAssembly, ${info.threads} thread(s))` : 'WebGPU'}: ${info.sampleRate} Hz, adapter ${info.adapterLabel}`);
  setState('loaded');
  return info;
}

async function ensureAudio(sampleRate: number): Promise<AudioWorkletNode> {
  if (!audio || audio.sampleRate !== sampleRate) {
    await audio?.close();
    audio = new AudioContext({ sampleRate, latencyHint: 'interactive' });
    await audio.audioWorklet.addModule(new URL('./pcm-player.worklet.js', import.meta.url));
    node = new AudioWorkletNode(audio, 'pcm-player', { numberOfInputs: 0, outputChannelCount: [1] });
    node.port.onmessage = (ev: MessageEvent<{ type: 'status' } & PlayerStatus>) => {
      demo.player = ev.data;
      showPlayer();
      if (ev.data.drained && demo.state === 'done') setState('played', 'played');
    };
    node.connect(audio.destination);
  }
  await audio.resume();
  return node!;
}

function showPlayer(): void {
  const p = demo.player;
  const sr = demo.loaded?.sampleRate ?? 1;
  const received = demo.chunks.reduce((s, c) => s + c.length, 0);
  ui.played.textContent = p
    ? `${(p.played / sr).toFixed(2)} s played of ${(received / sr).toFixed(2)} s received · buffered ${(p.buffered / sr).toFixed(2)} s · underruns ${p.underruns}`
    : '–';
}

function drawWave(): void {
  const g = ui.wave.getContext('2d');
  if (!g) return;
  const { width: w, height: h } = ui.wave;
  g.clearRect(0, 0, w, h);
  const total = demo.chunks.reduce((s, c) => s + c.length, 0);
  if (!total) return;
  g.fillStyle = '#2364aa';
  const per = Math.max(1, Math.ceil(total / w));
  let x = 0;
  let acc = 0;
  let peak = 0;
  for (const c of demo.chunks) {
    for (let i = 0; i < c.length; i++) {
      peak = Math.max(peak, Math.abs(c[i]));
      if (++acc === per) {
        g.fillRect(x++, h / 2 - peak * (h / 2), 1, Math.max(1, peak * h));
        acc = 0;
        peak = 0;
      }
    }
  }
}

/** The file of a file input as bytes (a clear error when none is chosen). */
async function fileBytes(input: HTMLInputElement, what: string): Promise<Uint8Array> {
  const f = input.files?.[0];
  if (!f) throw Object.assign(new Error(`choose a ${what} WAV first`), { name: 'InputError' });
  return new Uint8Array(await f.arrayBuffer());
}

/** The longest prompt the speech tokenizer takes (upstream asserts it): a recording stops there. */
const MAX_RECORDING_S = 30;
let recorder: MediaRecorder | null = null;

/** Record / Stop: the microphone's audio, decoded and mixed to mono, becomes the prompt WAV. */
async function toggleRecording(): Promise<void> {
  if (recorder) return void recorder.stop();
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false } });
    const parts: Blob[] = [];
    const rec = new MediaRecorder(stream);
    recorder = rec;
    const limit = setTimeout(() => rec.state === 'recording' && rec.stop(), MAX_RECORDING_S * 1000);
    rec.ondataavailable = (e) => parts.push(e.data);
    rec.onstop = () => {
      clearTimeout(limit);
      stream.getTracks().forEach((t) => t.stop());
      recorder = null;
      ui.record.textContent = 'Record';
      void wavOf(new Blob(parts, { type: rec.mimeType })).then((wav) => {
        demo.recording = wav.bytes;
        demo.useRecording = true;
        ui.voiceStatus.textContent = `recorded ${wav.seconds.toFixed(1)} s: press Make voice`;
        log(`recorded ${wav.seconds.toFixed(1)} s (${rec.mimeType || 'the browser\'s format'})`);
      }, (e: Error) => failed(e));
    };
    rec.start();
    ui.record.textContent = 'Stop';
    ui.voiceStatus.textContent = 'recording…';
  } catch (e) {
    recorder = null;
    failed(e as Error);
  }
}

/** A recording decoded by the browser, its channels averaged, as a 16-bit WAV at its own rate. */
async function wavOf(blob: Blob): Promise<{ bytes: Uint8Array; seconds: number }> {
  const ctx = new AudioContext();
  try {
    const buf = await ctx.decodeAudioData(await blob.arrayBuffer());
    const mono = new Float32Array(buf.length);
    for (let c = 0; c < buf.numberOfChannels; c++) {
      const ch = buf.getChannelData(c);
      for (let i = 0; i < ch.length; i++) mono[i] += ch[i] / buf.numberOfChannels;
    }
    return { bytes: writeWav(mono, buf.sampleRate), seconds: buf.duration };
  } finally {
    void ctx.close();
  }
}

/** A voice from the prompt WAV (or the recording) and its transcript, made in the Worker by the folder's prompt models. */
async function makeVoice(): Promise<void> {
  demo.error = null;
  try {
    const fromMic = demo.useRecording && demo.recording !== null;
    const bytes = fromMic ? demo.recording! : await fileBytes(ui.promptWav, 'prompt (or record one)');
    const name = fromMic ? 'the recording' : ui.promptWav.files![0].name;
    await ensureLoaded();
    setState('loading', 'making the voice…');
    const t0 = performance.now();
    const s = await demo.client.voiceFromWav(bytes, ui.promptText.value.trim() || undefined);
    useVoice(s, `voice of ${name}`);
    log(`voice from ${name}: ${s.promptTokens.length} prompt tokens in ${(performance.now() - t0).toFixed(0)} ms`);
    setState('loaded', 'voice ready');
  } catch (e) {
    failed(e as Error);
  }
}

function useVoice(s: SpeakerPrompt | null, label: string): void {
  demo.speaker = s;
  ui.voiceStatus.textContent = s ? `${label}: ${s.promptTokens.length} prompt tokens` : label;
  ui.saveVoice.disabled = !s;
}

/** Downloads the current voice as a speaker file (src/speaker/speaker-file.ts, what `cosyvoice-webgpu speaker` writes). */
function saveVoice(): void {
  const expect = demo.loaded?.speakerExpectations;
  if (!demo.speaker || !expect?.numMels) return;
  const bytes = encodeSpeaker(speakerToFile(demo.speaker, expect.numMels));
  demo.savedVoice = bytes;
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }));
  a.download = 'voice.cvspk';
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
  log(`saved the voice as voice.cvspk (${bytes.length} bytes)`);
}

/** A voice from a speaker file (.cvspk or .json), checked against the loaded model. */
async function loadVoiceFile(): Promise<void> {
  try {
    const f = ui.voiceFile.files?.[0];
    if (!f) return;
    const info = await ensureLoaded();
    const bytes = new Uint8Array(await f.arrayBuffer());
    const expect = info.speakerExpectations ?? {};
    const file = f.name.endsWith('.json') ? speakerFromJson(new TextDecoder().decode(bytes), expect) : decodeSpeaker(bytes, expect);
    useVoice(speakerFromFile(file), `voice from ${f.name}`);
    log(`voice from ${f.name}: ${file.promptSpeechTokens.length} prompt tokens`);
  } catch (e) {
    failed(e as Error);
  }
}

function failed(err: Error): void {
  demo.error = { name: err.name, message: err.message };
  demo.current = null;
  log(`${err.name}: ${err.message}`);
  setState('error', `${err.name}: ${err.message}`);
}

/** Speaks the text (or, with `source`, converts that WAV's speech) in the current voice, into the player. */
async function play(source?: Uint8Array): Promise<void> {
  const t0 = performance.now();
  demo.error = null;
  try {
    const info = await ensureLoaded();
    const player = await ensureAudio(info.sampleRate);
    player.port.postMessage({ type: 'clear' });
    demo.chunks = [];
    demo.chunkTimes = [];
    demo.done = null;
    demo.player = null;
    demo.pageTtfaMs = 0;
    ui.ttfa.textContent = ui.rtf.textContent = '…';
    drawWave();
    setState('playing', 'synthesizing…');
    const tStream = performance.now();
    const opts = streamOptions();
    const gen = source
      ? demo.client.convertVoice(source, demo.speaker, { speed: opts.speed, offline: opts.offline })
      : demo.client.stream(ui.text.value, demo.speaker, opts);
    demo.current = gen;
    for await (const pcm of gen) {
      if (!demo.chunks.length) {
        demo.pageTtfaMs = performance.now() - tStream;
        ui.ttfa.textContent = `${demo.pageTtfaMs.toFixed(1)} ms (page, from stream start) · ${(performance.now() - t0).toFixed(1)} ms from click`;
      }
      demo.chunks.push(pcm);
      demo.chunkTimes.push(performance.now() - tStream);
      // Chunks already on their way when Cancel was pressed still arrive; the player was cleared, keep it so.
      if (demo.current === gen) {
        const copy = pcm.slice();
        player.port.postMessage({ type: 'push', pcm: copy }, [copy.buffer]);
      }
      drawWave();
      showPlayer();
    }
    const done = await gen.done;
    const cancelPressed = demo.current !== gen; // the worker may have finished before the cancel reached it
    demo.done = done;
    demo.current = null;
    const s = done.stats;
    ui.ttfa.textContent = `${s.ttfaMs.toFixed(1)} ms (engine) · ${demo.pageTtfaMs.toFixed(1)} ms (page)`;
    ui.rtf.textContent = `${s.rtf.toFixed(3)} · ${s.audioSeconds.toFixed(2)} s of audio in ${s.totalMs.toFixed(0)} ms · ${done.chunks} chunks`;
    if (done.cancelled || cancelPressed) {
      setState('cancelled', `cancelled after ${done.chunks} chunks`);
      return;
    }
    player.port.postMessage({ type: 'end' });
    log(`${source ? 'converted' : 'synthesized'} ${s.audioSeconds.toFixed(2)} s in ${done.chunks} chunks, TTFA ${s.ttfaMs.toFixed(1)} ms, RTF ${s.rtf.toFixed(3)}`);
    setState((demo.player as PlayerStatus | null)?.drained ? 'played' : 'done', 'playing…');
  } catch (e) {
    failed(e as Error);
  }
}

async function convert(): Promise<void> {
  try {
    await play(await fileBytes(ui.sourceWav, 'source'));
  } catch (e) {
    failed(e as Error);
  }
}

function dtypeParam(): 'f32' | 'f16' | undefined {
  const d = new URLSearchParams(location.search).get('dtype');
  return d === 'f32' || d === 'f16' ? d : undefined;
}

function cpuDtypeParam(): 'f32' | 'q8' | undefined {
  const d = new URLSearchParams(location.search).get('cpudtype');
  return d === 'f32' || d === 'q8' ? d : undefined;
}

function backendParam(): 'auto' | 'webgpu' | 'wasm' | undefined {
  const b = new URLSearchParams(location.search).get('backend');
  return b === 'auto' || b === 'webgpu' || b === 'wasm' ? b : undefined;
}

/** The page's stream options; a speed other than 1 renders each text segment offline (upstream allows it only there). */
function streamOptions(): { seed?: number; forceTokens?: number; speed?: number; offline?: boolean } {
  const num = (v: string): number | undefined => (v.trim() !== '' && Number.isInteger(Number(v)) ? Number(v) : undefined);
  const tokens = num(ui.tokens.value);
  const speed = Number(ui.speed.value);
  const fast = Number.isFinite(speed) && speed > 0 && speed !== 1 ? { speed, offline: true } : {};
  return { seed: num(ui.seed.value), forceTokens: tokens ? tokens : undefined, ...fast };
}

function cancel(): void {
  if (demo.current) demo.client.cancel(demo.current.id);
  demo.current = null; // play() stops feeding the player from here on
  node?.port.postMessage({ type: 'clear' });
  if (demo.state === 'done') setState('cancelled', 'playback stopped');
}

async function listModels(): Promise<void> {
  try {
    const res = await fetch('./models/index.json');
    if (!res.ok) return;
    const list = (await res.json()) as { name: string; url: string; engine: string; tokens?: number }[];
    for (const m of list) {
      const o = document.createElement('option');
      o.value = m.url;
      o.label = `${m.name} (${m.engine})`;
      ui.models.append(o);
    }
    const params = new URLSearchParams(location.search);
    if (!params.has('model') && list.length) {
      ui.model.value = list[0].url;
      if (!params.has('tokens') && list[0].tokens) ui.tokens.value = String(list[0].tokens);
    }
  } catch {
    /* no list: keep the default */
  }
}

const params = new URLSearchParams(location.search);
if (params.has('model')) ui.model.value = params.get('model')!;
if (params.has('text')) ui.text.value = params.get('text')!;
if (params.has('tokens')) ui.tokens.value = params.get('tokens')!;
if (params.has('seed')) ui.seed.value = params.get('seed')!;
if (params.has('speed')) ui.speed.value = params.get('speed')!;
ui.play.addEventListener('click', () => void play());
ui.voice.addEventListener('click', () => void makeVoice());
ui.convert.addEventListener('click', () => void convert());
ui.saveVoice.addEventListener('click', saveVoice);
ui.record.addEventListener('click', () => void toggleRecording());
ui.promptWav.addEventListener('change', () => (demo.useRecording = false));
ui.voiceFile.addEventListener('change', () => void loadVoiceFile());
ui.cancel.addEventListener('click', cancel);
ui.load.addEventListener('click', () =>
  void ensureLoaded().catch((e: Error) => {
    demo.error = { name: e.name, message: e.message };
    setState('error', `${e.name}: ${e.message}`);
  }),
);
void listModels().then(() => setState('idle', 'ready'));
