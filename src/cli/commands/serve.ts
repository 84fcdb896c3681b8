/**
 * `cosyvoice-webgpu serve`: one loaded pipeline behind HTTP, for several clients at once. Concurrent requests share
 * the LLM's batched decode steps on WebGPU (src/models/qwen2/steps.ts).
 *
 *   POST /tts   {"text": "…", "stream"?: true, "seed"?: 0, "mode"?, "instruct"?, "speed"?, "tokens"?, "voice"?,
 *               "format"?: "wav" | "pcm"} → 16-bit mono at the model's rate: a WAV (audio/wav) or bare
 *               little-endian samples (audio/pcm). Streaming (the default) sends each chunk as it is rendered, a
 *               WAV after a header whose sizes are 0xFFFFFFFF (length unknown); "stream": false sends it whole.
 *               A client that disconnects cancels its synthesis.
 *   POST /v1/audio/speech   OpenAI's speech request (parseOpenAiSpeech), so its clients work unchanged.
 *   GET /voices → {"voices": [names]}: the speaker files of --voices <dir>, by file name, and the uploaded ones.
 *   POST /voices?name=alice&text=<transcript>   body: a prompt WAV (≤ 32 MiB) → 201 {"voice", "promptTokens",
 *               "replaced"}: a voice made from it as `cosyvoice-webgpu speaker` makes one (the model folder's speech
 *               tokenizer and CAMPPlus on the CPU ONNX interpreter), kept in memory and, with --voices, saved there
 *               as <name>.cvspk. Names: 1–64 of A–Z a–z 0–9 _ -.
 *   POST /vc?voice=alice&stream=true&format=wav&speed=1   body: a source WAV (≤ 32 MiB, ≤ 30 s) → its speech in
 *               the voice (upstream's inference_vc: the source's speech tokens, from the model folder's speech
 *               tokenizer, take the LLM's place), answered as /tts answers.
 *   DELETE /voices/alice → {"voice", "files"}: forgets the voice and deletes its speaker files (.cvspk, .json) from
 *               --voices; 404 for an unknown one.
 *   GET /health → {"model", "sampleRate", "synthetic", "state": "ready" | "reloading", "reloads", "requests":
 *               {inFlight, served, cancelled, failed}, "llmSteps": the LLM's steps and decode rows (WebGPU: its mean batch)}
 *
 * With an API key (--api-key-file, or the COSYVOICE_API_KEY environment variable) every request but GET /health
 * needs "Authorization: Bearer <key>" (OpenAI's clients send their key so): 401 otherwise. With --max-requests N, a
 * synthesis, conversion or voice upload beyond N at once is 429 with Retry-After (nothing queues unbounded).
 *
 * Input errors found before the first byte (bad JSON, empty text, a bad speed or mode) are 400 with
 * {"error": name, "message"}; other failures before it are 500; a failure mid-stream closes the connection.
 * A lost GPU device (driver reset, out of memory) fails the requests in flight (503 with Retry-After when nothing
 * was sent yet) and, with `rebuild`, the server builds the pipeline again on a new device; requests that arrive
 * meanwhile wait for it.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { basename, extname, join } from 'node:path';
import type { ModelFiles } from '../../pipeline/model-files.js';
import { pcm16, streamingWavHeader, writeWav } from '../../audio/index.js';
import type { CosyVoicePipeline, StreamOptions } from '../../pipeline/tts.js';
import type { SpeakerPrompt } from '../../pipeline/types.js';
import { speakerExpectationsOf, speakerFromFile } from '../../pipeline/speaker.js';
import type { PromptModels } from '../../speaker/prompt-models.js';
import type { SpeakerPrompt as SpeakerFile } from '../../speaker/speaker-file.js';
import { saveSpeakerFile } from '../../speaker/speaker-io.js';
import { fields, parseVcQuery, RequestError, ROUTES } from '../serve-requests.js';
import { loadForCli, MODEL_ARGS, modelOptions, readSpeaker, UsageError } from './synth.js';
import { openPromptModels } from './speaker.js';

export { parseRequest } from '../serve-requests.js';

const HELP = `usage: cosyvoice-webgpu serve [--port 8080] [--host 127.0.0.1] [--voices <dir>] [model options of synth]
  --voices <dir>   every speaker file (.cvspk, .json) in dir is a voice, named by its file name; voices uploaded
                   with POST /voices are saved there
  POST /voices?name=alice&text=<transcript>  (body: a prompt WAV) → a voice from it
  POST /vc?voice=alice&stream=true&format=wav|pcm&speed=1  (body: a source WAV) → its speech in the voice
  DELETE /voices/alice  forgets a voice (and deletes its files from --voices)
  POST /tts {"text": "…", "stream": true, "seed": 0, "mode", "instruct", "speed", "tokens", "voice", "format": "wav"|"pcm"}
  POST /v1/audio/speech {"model", "input", "voice", "instructions", "response_format": "wav"|"pcm", "speed"} (OpenAI's)
  GET /voices, GET /health
  --api-key-file <f>  every request but GET /health needs "Authorization: Bearer <the file's key>" (or set
                   COSYVOICE_API_KEY); 401 without it
  --max-requests N  at most N syntheses, conversions and voice uploads at once; more are 429 with Retry-After
  model options: --model --size --speaker --engine --threads --flow-cache-mb --dtype --kv-dtype --tuning --no-tuning`;

/** Largest request body. */
const MAX_BODY = 1 << 20;
/** A prompt WAV upload: 30 s of 48 kHz stereo 32-bit float is 11.5 MB. */
const MAX_WAV = 32 << 20;
const VOICE_NAME = /^[A-Za-z0-9_-]{1,64}$/;


/** Error names that are the client's input (400), whatever module threw them. */
const INPUT_ERRORS = new Set(['RequestError', 'EmptyTextError', 'TextTooLongError', 'SpeedError', 'TextInputError', 'LlmInputError', 'BistreamError', 'SpeakerMismatchError', 'WavFormatError', 'AudioInputError', 'SpeakerFileError']);

export interface ServeOptions {
  tts: CosyVoicePipeline;
  /** Named voices a request can pick ("voice"); requests without one get `speaker`. */
  voices?: Map<string, SpeakerPrompt>;
  /** Makes a voice from prompt WAV bytes and its transcript (POST /voices); without it uploads are 501. */
  voiceFromWav?: (wav: Uint8Array, transcript: string | undefined) => Promise<SpeakerFile>;
  /** The speech tokens of a source WAV (POST /vc, voice conversion); without it conversions are 501. */
  sourceTokens?: (wav: Uint8Array) => Promise<Int32Array>;
  /** Where uploaded voices are saved (<name>.cvspk), when given. */
  voicesDir?: string;
  /** Builds the pipeline again (a new device) after the device is lost; without it a lost device stays lost. */
  rebuild?: () => Promise<CosyVoicePipeline>;
  speaker: SpeakerPrompt;
  /** The synthetic model: requests without "tokens" get 50 (random weights never stop on their own). */
  synthetic?: boolean;
  model?: string;
  port?: number;
  host?: string;
  /** Requests but GET /health need "Authorization: Bearer <apiKey>" (401 otherwise). */
  apiKey?: string;
  /** Syntheses, conversions and voice uploads at once; more are 429 (default: no limit). */
  maxRequests?: number;
}

/** Starts the server; resolves once it listens (port 0: any free port, see `url`). */
export async function startServer(o: ServeOptions): Promise<{ server: Server; url: string; close: () => Promise<void>; pipeline: () => CosyVoicePipeline }> {
  const state = new PipelineState(o);
  const server = createServer((req, res) => void handle(o, state, req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 8080, o.host ?? '127.0.0.1', resolve);
  });
  const { address, port } = server.address() as AddressInfo;
  const url = `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
  return { server, url, close: () => new Promise<void>((r) => server.close(() => r())), pipeline: () => state.tts };
}

/** The pipeline requests run on, and its rebuild after a lost device. */
class PipelineState {
  tts: CosyVoicePipeline;
  reloading: Promise<void> | null = null;
  reloads = 0;
  /** Synthesis requests: in flight, answered with audio, cancelled by their client mid-stream, failed. */
  readonly requests = { inFlight: 0, served: 0, cancelled: 0, failed: 0 };
  /** Syntheses, conversions and voice uploads running now (what --max-requests bounds). */
  busy = 0;

  constructor(private readonly o: ServeOptions) {
    this.tts = o.tts;
  }

  /** The pipeline to run a request on, once any rebuild has finished. */
  async current(): Promise<CosyVoicePipeline> {
    if (this.reloading) await this.reloading;
    return this.tts;
  }

  /** `lost` lost its device: build the next pipeline once (a later loss of the same one is the same event). */
  lost(lost: CosyVoicePipeline): void {
    if (!this.o.rebuild || lost !== this.tts || this.reloading) return;
    console.error('GPU device lost: building the pipeline again on a new device');
    this.reloading = this.o
      .rebuild()
      .then((next) => {
        this.tts = next;
        this.reloads++;
        try {
          lost.dispose();
        } catch {
          // its device is gone: nothing to free there
        }
      })
      .catch((e: Error) => console.error(`rebuild failed (${e.name}: ${e.message}); the next lost request tries again`))
      .finally(() => (this.reloading = null));
  }
}

async function handle(o: ServeOptions, state: PipelineState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const abort = new AbortController();
  res.on('close', () => abort.abort());
  let tts: CosyVoicePipeline | undefined;
  let counted = false;
  try {
    if (req.method === 'GET' && req.url === '/health') {
      const llm = state.tts.models.llm.stepCounts;
      return json(res, 200, {
        model: o.model ?? 'synthetic', sampleRate: state.tts.sampleRate, synthetic: !!o.synthetic, state: state.reloading ? 'reloading' : 'ready', reloads: state.reloads,
        requests: state.requests, ...(llm ? { llmSteps: llm } : {}),
      });
    }
    if (o.apiKey !== undefined && !authorized(req, o.apiKey)) {
      res.setHeader('www-authenticate', 'Bearer');
      return json(res, 401, { error: 'Unauthorized', message: 'this server needs "Authorization: Bearer <key>"' });
    }
    if (req.method === 'GET' && req.url === '/voices') return json(res, 200, { voices: [...(o.voices?.keys() ?? [])] });
    if (req.method === 'DELETE' && (req.url ?? '').startsWith('/voices/')) return deleteVoice(o, decodeURIComponent((req.url ?? '').slice('/voices/'.length)), res);
    const route = (req.url ?? '').split('?')[0];
    if (req.method === 'POST' && (route === '/voices' || route === '/vc' || ROUTES[req.url ?? ''])) {
      if (o.maxRequests !== undefined && state.busy >= o.maxRequests) {
        res.setHeader('retry-after', '1');
        return json(res, 429, { error: 'TooManyRequests', message: `${state.busy} requests are running, the most this server takes at once (--max-requests ${o.maxRequests}): retry` });
      }
      state.busy++;
      res.on('close', () => state.busy--);
    }
    if (req.method === 'POST' && route === '/voices') return await uploadVoice(o, req, res);
    const parse = route === '/vc' ? undefined : ROUTES[req.url ?? ''];
    if (!parse && route !== '/vc') return json(res, 404, { error: 'NotFound', message: `no ${req.url}: POST /tts, /v1/audio/speech or /vc, GET /health or /voices` });
    if (req.method !== 'POST') return json(res, 405, { error: 'MethodNotAllowed', message: `POST ${req.url}` });
    if (!parse && !o.sourceTokens) return json(res, 501, { error: 'NotImplemented', message: 'this server converts no voices' });
    state.requests.inFlight++;
    counted = true;
    const synthesis = parse?.(fields(await readBody(req)));
    const body = synthesis ?? parseVcQuery(new URL(req.url ?? '', 'http://localhost').searchParams);
    const speaker = voiceOf(o, body.voice);
    // Voice conversion: the source WAV's speech tokens take the LLM's place.
    const source = parse ? undefined : await o.sourceTokens!(await readBytes(req, MAX_WAV));
    const opts: StreamOptions = { ...body.opts, signal: abort.signal };
    if (o.synthetic && opts.forceTokens === undefined && !source) opts.forceTokens = 50;
    tts = await state.current();
    const type = body.format === 'wav' ? 'audio/wav' : 'audio/pcm';
    const gen = render(tts, body.stream, synthesis?.text ?? '', source, speaker, opts);
    let r: IteratorResult<Float32Array, unknown> | undefined;
    try {
      if (!body.stream) {
        const parts: Float32Array[] = [];
        for (r = await gen.next(); !r.done; r = await gen.next()) parts.push(r.value);
        const pcm = concat(parts);
        const bytes = body.format === 'wav' ? writeWav(pcm, tts.sampleRate) : new Uint8Array(pcm16(pcm).buffer);
        res.writeHead(200, { 'content-type': type, 'content-length': bytes.length });
        state.requests.served++;
        return void res.end(bytes);
      }
      // Headers go out with the first chunk, so that an error before it still gets its status.
      r = await gen.next();
      res.writeHead(200, { 'content-type': type });
      if (body.format === 'wav') res.write(streamingWavHeader(tts.sampleRate));
      for (; !r.done && !abort.signal.aborted; r = await gen.next()) {
        // A slow client: wait until its socket has taken the last chunk before rendering the next.
        if (!res.write(new Uint8Array(pcm16(r.value).buffer)) && !abort.signal.aborted) await once(res, 'drain', { signal: abort.signal }).catch(() => undefined);
      }
    } finally {
      // Left early (client gone, write failed): close the synthesis, which frees its LLM sequence and KV slot.
      if (!r?.done) await gen.return(undefined as never).catch(() => undefined);
    }
    if (abort.signal.aborted) state.requests.cancelled++;
    else state.requests.served++;
    res.end();
  } catch (e) {
    const err = e as Error;
    if (counted) state.requests.failed++;
    const lost = err.name === 'DeviceLostError';
    if (lost && tts) state.lost(tts);
    if (res.headersSent) return void res.destroy(err);
    if (lost) {
      res.setHeader('retry-after', '5');
      const next = o.rebuild ? ' The pipeline is being built again on a new device: retry.' : '';
      return json(res, 503, { error: err.name, message: err.message + next });
    }
    json(res, INPUT_ERRORS.has(err.name) ? 400 : err.name === 'MissingPromptModelError' ? 501 : 500, { error: err.name, message: err.message });
  } finally {
    if (counted) state.requests.inFlight--;
  }
}

/** POST /voices?name=…&text=…: a voice from the WAV body, kept (and saved to voicesDir). */
async function uploadVoice(o: ServeOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const q = new URL(req.url ?? '', 'http://localhost').searchParams;
  const name = q.get('name') ?? '';
  if (!VOICE_NAME.test(name)) throw new RequestError(`voice name "${name}": 1–64 of A–Z a–z 0–9 _ - (?name=…)`);
  if (!o.voiceFromWav) return json(res, 501, { error: 'NotImplemented', message: 'this server makes no voices from audio' });
  const wav = await readBytes(req, MAX_WAV);
  const file = await o.voiceFromWav(wav, q.get('text') ?? undefined);
  o.voices ??= new Map();
  const replaced = o.voices.has(name);
  o.voices.set(name, speakerFromFile(file));
  if (o.voicesDir) saveSpeakerFile(join(o.voicesDir, `${name}.cvspk`), file);
  json(res, 201, { voice: name, promptTokens: file.promptSpeechTokens.length, replaced });
}

/** DELETE /voices/<name>: the voice forgotten, its speaker files in voicesDir deleted. */
function deleteVoice(o: ServeOptions, name: string, res: ServerResponse): void {
  if (!VOICE_NAME.test(name)) throw new RequestError(`voice name "${name}": 1–64 of A–Z a–z 0–9 _ -`);
  if (!o.voices?.has(name)) return json(res, 404, { error: 'NotFound', message: `no voice "${name}"` });
  o.voices.delete(name);
  const files: string[] = [];
  for (const ext of ['.cvspk', '.json']) {
    const f = o.voicesDir && join(o.voicesDir, `${name}${ext}`);
    if (f && existsSync(f)) {
      rmSync(f);
      files.push(`${name}${ext}`);
    }
  }
  json(res, 200, { voice: name, files });
}

function voiceOf(o: ServeOptions, name: string | undefined): SpeakerPrompt {
  if (name === undefined) return o.speaker;
  const v = o.voices?.get(name);
  if (!v) throw new RequestError(`no voice "${name}" (voices: ${[...(o.voices?.keys() ?? [])].join(', ') || 'none: start serve with --voices <dir>'})`);
  return v;
}

/**
 * A request's audio as chunks: the conversion of `source` tokens, or the synthesis of `text`; streamed in upstream's
 * chunks, or offline (each text segment in one chunk, as upstream's stream=False renders it).
 */
function render(tts: CosyVoicePipeline, stream: boolean, text: string, source: Int32Array | undefined, speaker: SpeakerPrompt, opts: StreamOptions): AsyncGenerator<Float32Array, unknown> {
  if (source) return tts.streamTokens(source, speaker, { ...opts, streaming: stream });
  return stream ? tts.stream(text, speaker, opts) : tts.segments(text, speaker, opts);
}

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
  return out;
}

/** Whether the request carries "Authorization: Bearer <key>" (compared in constant time). */
function authorized(req: IncomingMessage, key: string): boolean {
  const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
  if (!m) return false;
  const a = createHash('sha256').update(m[1]).digest(), b = createHash('sha256').update(key).digest();
  return timingSafeEqual(a, b);
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string> {
  return Buffer.from(await readBytes(req, MAX_BODY)).toString('utf8');
}

async function readBytes(req: IncomingMessage, max: number): Promise<Uint8Array> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const chunk of req) {
    n += (chunk as Buffer).length;
    if (n > max) throw new RequestError(`request body over ${max} bytes`);
    parts.push(chunk as Buffer);
  }
  return new Uint8Array(Buffer.concat(parts));
}


export async function serveCommand(argv: string[]): Promise<number> {
  const { values: v } = parseArgs({
    args: argv,
    options: {
      ...MODEL_ARGS, port: { type: 'string', default: '8080' }, host: { type: 'string', default: '127.0.0.1' }, voices: { type: 'string' },
      'api-key-file': { type: 'string' }, 'max-requests': { type: 'string' }, help: { type: 'boolean', default: false },
    },
  });
  if (v.help) {
    console.log(HELP);
    return 0;
  }
  const port = Number(v.port);
  if (!(Number.isInteger(port) && port >= 0 && port < 65536)) throw new UsageError(`--port ${v.port}: a port number`);
  const maxRequests = v['max-requests'] === undefined ? undefined : Number(v['max-requests']);
  if (maxRequests !== undefined && !(Number.isInteger(maxRequests) && maxRequests >= 1)) throw new UsageError(`--max-requests ${v['max-requests']}: a whole number ≥ 1`);
  const apiKey = apiKeyOf(v['api-key-file']);
  const { files, speaker, tts, rebuild } = await loadForCli(modelOptions(v));
  const voices = v.voices ? readVoices(v.voices, files) : undefined;
  if (voices) console.log(`voices: ${[...voices.keys()].join(', ') || '(none found)'}`);
  // Voices from uploaded WAVs and voice conversions: the prompt models are read at the first such request, and kept.
  let models: Promise<PromptModels> | undefined;
  const c = files.config;
  const promptModels = (): Promise<PromptModels> => {
    models ??= openPromptModels({ model: v.model, size: v.size });
    models.catch(() => (models = undefined));
    return models;
  };
  const voiceFromWav = async (wav: Uint8Array, transcript: string | undefined) => (await promptModels()).speaker(wav, transcript, speakerExpectationsOf(c));
  const sourceTokens = async (wav: Uint8Array) => (await promptModels()).sourceTokens(wav);
  const { url, close, pipeline } = await startServer({ tts, rebuild, speaker, voices, voiceFromWav, sourceTokens, voicesDir: v.voices, synthetic: files.synthetic, model: files.source, port, host: v.host, apiKey, maxRequests });
  console.log(`listening on ${url}: POST /tts {"text": "…"} → audio/wav; GET /health${apiKey ? ' (requests need the API key)' : ''}${maxRequests ? `; at most ${maxRequests} at once` : ''}`);
  await new Promise<void>((resolve) => process.once('SIGINT', resolve).once('SIGTERM', resolve));
  await close();
  pipeline().dispose();
  (await models?.catch(() => undefined))?.dispose();
  return 0;
}

/** The API key of --api-key-file (its first line), else COSYVOICE_API_KEY, else none. */
export function apiKeyOf(file: string | undefined, env = process.env.COSYVOICE_API_KEY): string | undefined {
  let key = env;
  if (file !== undefined) {
    try {
      key = readFileSync(file, 'utf8').split(/\r?\n/)[0];
    } catch (e) {
      throw new UsageError(`--api-key-file ${file}: cannot read (${(e as Error).message})`);
    }
  }
  if (key === undefined) return undefined;
  key = key.trim();
  if (!/^[\x21-\x7e]{8,}$/.test(key)) throw new UsageError(`the API key (${file ? `--api-key-file ${file}` : 'COSYVOICE_API_KEY'}) must be 8 or more printable characters without spaces`);
  return key;
}

/** The speaker files of a folder, named by file name without extension. */
export function readVoices(dir: string, files: ModelFiles): Map<string, SpeakerPrompt> {
  const voices = new Map<string, SpeakerPrompt>();
  for (const name of readdirSync(dir).sort()) {
    const ext = extname(name);
    if (ext === '.cvspk' || ext === '.json') voices.set(basename(name, ext), readSpeaker(join(dir, name), files));
  }
  return voices;
}
