/**
 * `cosyvoice-webgpu serve`: one loaded pipeline behind HTTP, for several clients at once. Concurrent requests share
 * the LLM's batched decode steps on WebGPU (src/models/qwen2/steps.ts).
 *
 *   POST /tts   {"text": "…", "stream"?: true, "seed"?: 0, "mode"?, "instruct"?, "speed"?, "tokens"?}
 *               → audio/wav, 16-bit mono at the model's rate. Streaming (the default) sends each chunk as it is
 *               rendered after a header whose sizes are 0xFFFFFFFF (length unknown); "stream": false sends one
 *               complete WAV. A client that disconnects cancels its synthesis.
 *   GET /health → {"model", "sampleRate", "synthetic", "state": "ready" | "reloading", "reloads"}
 *
 * Input errors found before the first byte (bad JSON, empty text, a bad speed or mode) are 400 with
 * {"error": name, "message"}; other failures before it are 500; a failure mid-stream closes the connection.
 * A lost GPU device (driver reset, out of memory) fails the requests in flight (503 with Retry-After when nothing
 * was sent yet) and, with `rebuild`, the server builds the pipeline again on a new device; requests that arrive
 * meanwhile wait for it.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { pcm16, streamingWavHeader, writeWav } from '../../audio/index.js';
import type { CosyVoicePipeline, StreamOptions } from '../../pipeline/tts.js';
import type { SpeakerPrompt, SynthesisMode } from '../../pipeline/types.js';
import { loadForCli, MODEL_ARGS, modelOptions, UsageError } from './synth.js';

const HELP = `usage: cosyvoice-webgpu serve [--port 8080] [--host 127.0.0.1] [model options of synth]
  POST /tts {"text": "…", "stream": true, "seed": 0, "mode", "instruct", "speed", "tokens"} → audio/wav
  GET /health
  model options: --model --size --speaker --engine --threads --flow-cache-mb --dtype --kv-dtype --tuning --no-tuning`;

/** Largest request body. */
const MAX_BODY = 1 << 20;

/** A request that cannot be served as asked: 400. */
export class RequestError extends Error {
  override name = 'RequestError';
}

/** Error names that are the client's input (400), whatever module threw them. */
const INPUT_ERRORS = new Set(['RequestError', 'EmptyTextError', 'SpeedError', 'TextInputError', 'LlmInputError', 'BistreamError', 'SpeakerMismatchError']);

export interface ServeOptions {
  tts: CosyVoicePipeline;
  /** Builds the pipeline again (a new device) after the device is lost; without it a lost device stays lost. */
  rebuild?: () => Promise<CosyVoicePipeline>;
  speaker: SpeakerPrompt;
  /** The synthetic model: requests without "tokens" get 50 (random weights never stop on their own). */
  synthetic?: boolean;
  model?: string;
  port?: number;
  host?: string;
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
  try {
    if (req.method === 'GET' && req.url === '/health') {
      return json(res, 200, { model: o.model ?? 'synthetic', sampleRate: state.tts.sampleRate, synthetic: !!o.synthetic, state: state.reloading ? 'reloading' : 'ready', reloads: state.reloads });
    }
    if (req.url !== '/tts') return json(res, 404, { error: 'NotFound', message: `no ${req.url}: POST /tts or GET /health` });
    if (req.method !== 'POST') return json(res, 405, { error: 'MethodNotAllowed', message: 'POST /tts' });
    const body = parseRequest(await readBody(req));
    const opts: StreamOptions = { ...body.opts, signal: abort.signal };
    if (o.synthetic && opts.forceTokens === undefined) opts.forceTokens = 50;
    tts = await state.current();
    if (!body.stream) {
      const { pcm } = await tts.synthesize(body.text, o.speaker, opts);
      const wav = writeWav(pcm, tts.sampleRate);
      res.writeHead(200, { 'content-type': 'audio/wav', 'content-length': wav.length });
      return void res.end(wav);
    }
    const gen = tts.stream(body.text, o.speaker, opts);
    // Headers go out with the first chunk, so that an error before it still gets its status.
    let r = await gen.next();
    res.writeHead(200, { 'content-type': 'audio/wav' });
    res.write(streamingWavHeader(tts.sampleRate));
    for (; !r.done && !abort.signal.aborted; r = await gen.next()) res.write(new Uint8Array(pcm16(r.value).buffer));
    res.end();
  } catch (e) {
    const err = e as Error;
    const lost = err.name === 'DeviceLostError';
    if (lost && tts) state.lost(tts);
    if (res.headersSent) return void res.destroy(err);
    if (lost) {
      res.setHeader('retry-after', '5');
      const next = o.rebuild ? ' The pipeline is being built again on a new device: retry.' : '';
      return json(res, 503, { error: err.name, message: err.message + next });
    }
    json(res, INPUT_ERRORS.has(err.name) ? 400 : 500, { error: err.name, message: err.message });
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const chunk of req) {
    n += (chunk as Buffer).length;
    if (n > MAX_BODY) throw new RequestError(`request body over ${MAX_BODY} bytes`);
    parts.push(chunk as Buffer);
  }
  return Buffer.concat(parts).toString('utf8');
}

/** The request's JSON, checked field by field. */
export function parseRequest(raw: string): { text: string; stream: boolean; opts: StreamOptions } {
  let b: Record<string, unknown>;
  try {
    b = JSON.parse(raw) as Record<string, unknown>;
  } catch (e) {
    throw new RequestError(`body is not JSON: ${(e as Error).message}`);
  }
  if (typeof b !== 'object' || b === null || Array.isArray(b)) throw new RequestError('body must be a JSON object');
  const known = new Set(['text', 'stream', 'seed', 'mode', 'instruct', 'speed', 'tokens']);
  const unknown = Object.keys(b).find((k) => !known.has(k));
  if (unknown) throw new RequestError(`unknown field "${unknown}" (fields: ${[...known].join(', ')})`);
  if (typeof b.text !== 'string') throw new RequestError('"text" (a string) is required');
  const num = (k: string, ok: (v: number) => boolean, what: string): number | undefined => {
    if (b[k] === undefined) return undefined;
    if (typeof b[k] !== 'number' || !ok(b[k] as number)) throw new RequestError(`"${k}": ${JSON.stringify(b[k])} is not ${what}`);
    return b[k] as number;
  };
  if (b.stream !== undefined && typeof b.stream !== 'boolean') throw new RequestError('"stream" must be true or false');
  if (b.mode !== undefined && !['zero-shot', 'cross-lingual', 'instruct'].includes(b.mode as string)) throw new RequestError('"mode": zero-shot, cross-lingual or instruct');
  if (b.instruct !== undefined && typeof b.instruct !== 'string') throw new RequestError('"instruct" must be a string');
  const opts: StreamOptions = {
    seed: num('seed', Number.isInteger, 'an integer'),
    speed: num('speed', (v) => v > 0, 'a number > 0'),
    forceTokens: num('tokens', (v) => Number.isInteger(v) && v > 0, 'a positive integer'),
    mode: b.mode as SynthesisMode | undefined,
    instruct: b.instruct as string | undefined,
  };
  return { text: b.text, stream: (b.stream as boolean | undefined) ?? true, opts };
}

export async function serveCommand(argv: string[]): Promise<number> {
  const { values: v } = parseArgs({ args: argv, options: { ...MODEL_ARGS, port: { type: 'string', default: '8080' }, host: { type: 'string', default: '127.0.0.1' }, help: { type: 'boolean', default: false } } });
  if (v.help) {
    console.log(HELP);
    return 0;
  }
  const port = Number(v.port);
  if (!(Number.isInteger(port) && port >= 0 && port < 65536)) throw new UsageError(`--port ${v.port}: a port number`);
  const { files, speaker, tts, rebuild } = await loadForCli(modelOptions(v));
  const { url, close, pipeline } = await startServer({ tts, rebuild, speaker, synthetic: files.synthetic, model: files.source, port, host: v.host });
  console.log(`listening on ${url}: POST /tts {"text": "…"} → audio/wav; GET /health`);
  await new Promise<void>((resolve) => process.once('SIGINT', resolve).once('SIGTERM', resolve));
  await close();
  pipeline().dispose();
  return 0;
}
