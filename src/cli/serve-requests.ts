/**
 * The bodies `serve` takes (src/cli/commands/serve.ts): its own POST /tts and OpenAI's POST /v1/audio/speech, read
 * into one TtsRequest with a RequestError (400) naming the field for anything else.
 */
import type { StreamOptions } from '../pipeline/tts.js';
import { SYNTHESIS_MODES } from '../pipeline/types.js';

/** A request that cannot be served as asked: 400. */
export class RequestError extends Error {
  override name = 'RequestError';
}

/** One synthesis to serve, from either endpoint's body. */
export interface TtsRequest {
  text: string;
  /** Chunks as they are rendered (true), or one piece once all is rendered. */
  stream: boolean;
  /** A WAV (streamed with "length unknown" sizes) or bare 16-bit little-endian samples. */
  format: 'wav' | 'pcm';
  /** A voice name of ServeOptions.voices (default: the server's speaker). */
  voice?: string;
  opts: StreamOptions;
}

/** A JSON object body's fields, read with typed checks that name the field. */
export class Fields {
  constructor(readonly b: Record<string, unknown>) {}
  only(known: string[]): this {
    const unknown = Object.keys(this.b).find((k) => !known.includes(k));
    if (unknown) throw new RequestError(`unknown field "${unknown}" (fields: ${known.join(', ')})`);
    return this;
  }
  str(k: string, required = false): string | undefined {
    const v = this.b[k];
    if (v === undefined && !required) return undefined;
    if (typeof v !== 'string') throw new RequestError(`"${k}" (a string) is ${v === undefined ? 'required' : 'not a string'}`);
    return v;
  }
  num(k: string, ok: (v: number) => boolean, what: string): number | undefined {
    const v = this.b[k];
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !ok(v)) throw new RequestError(`"${k}": ${JSON.stringify(v)} is not ${what}`);
    return v;
  }
  oneOf<T extends string>(k: string, values: readonly T[]): T | undefined {
    const v = this.b[k];
    if (v !== undefined && !values.includes(v as T)) throw new RequestError(`"${k}": ${JSON.stringify(v)} is not one of ${values.join(', ')}`);
    return v as T | undefined;
  }
  bool(k: string): boolean | undefined {
    const v = this.b[k];
    if (v !== undefined && typeof v !== 'boolean') throw new RequestError(`"${k}" must be true or false`);
    return v as boolean | undefined;
  }
}

export function fields(raw: string): Fields {
  let b: unknown;
  try {
    b = JSON.parse(raw);
  } catch (e) {
    throw new RequestError(`body is not JSON: ${(e as Error).message}`);
  }
  if (typeof b !== 'object' || b === null || Array.isArray(b)) throw new RequestError('body must be a JSON object');
  return new Fields(b as Record<string, unknown>);
}

/** POST /tts: {text, stream, seed, mode, instruct, speed, tokens, voice, format}. */
function parseTts(f: Fields): TtsRequest {
  f.only(['text', 'stream', 'seed', 'mode', 'instruct', 'speed', 'tokens', 'voice', 'format']);
  const opts: StreamOptions = {
    seed: f.num('seed', Number.isInteger, 'an integer'),
    speed: f.num('speed', (v) => v > 0, 'a number > 0'),
    forceTokens: f.num('tokens', (v) => Number.isInteger(v) && v > 0, 'a positive integer'),
    mode: f.oneOf('mode', SYNTHESIS_MODES),
    instruct: f.str('instruct'),
  };
  return { text: f.str('text', true)!, stream: f.bool('stream') ?? true, format: f.oneOf('format', ['wav', 'pcm'] as const) ?? 'wav', voice: f.str('voice'), opts };
}

/**
 * POST /v1/audio/speech, OpenAI's speech request: {model (any), input, voice, instructions, response_format
 * wav | pcm (24 kHz 16-bit little-endian, as OpenAI's pcm), speed 0.25–4}. `instructions` selects instruct mode;
 * a speed other than 1 renders offline (upstream resamples a whole segment's mel); otherwise the audio streams.
 */
function parseOpenAiSpeech(f: Fields): TtsRequest {
  f.only(['model', 'input', 'voice', 'instructions', 'response_format', 'speed', 'stream_format']);
  f.str('model');
  const format = f.oneOf('response_format', ['wav', 'pcm', 'mp3', 'opus', 'aac', 'flac'] as const) ?? 'wav';
  if (format !== 'wav' && format !== 'pcm') throw new RequestError(`"response_format": ${format} is not served here: use wav or pcm`);
  if (f.oneOf('stream_format', ['audio', 'sse'] as const) === 'sse') throw new RequestError('"stream_format": sse is not served here: use audio');
  const speed = f.num('speed', (v) => v >= 0.25 && v <= 4, 'a number in [0.25, 4]') ?? 1;
  const instruct = f.str('instructions');
  return { text: f.str('input', true)!, stream: speed === 1, format, voice: f.str('voice'), opts: { speed, ...(instruct ? { mode: 'instruct', instruct } : {}) } };
}

/**
 * POST /vc?voice=…&stream=…&format=…&speed=…: a voice conversion's options (its body is the source WAV). The
 * defaults are /tts's: streamed, a WAV, the server's speaker, speed 1 (offline only, as upstream).
 */
export function parseVcQuery(q: URLSearchParams): Omit<TtsRequest, 'text'> {
  const known = ['voice', 'stream', 'format', 'speed'];
  const unknown = [...q.keys()].find((k) => !known.includes(k));
  if (unknown) throw new RequestError(`unknown query parameter "${unknown}" (parameters: ${known.join(', ')})`);
  const stream = q.get('stream') ?? 'true';
  if (stream !== 'true' && stream !== 'false') throw new RequestError(`"stream": ${stream} is not true or false`);
  const format = q.get('format') ?? 'wav';
  if (format !== 'wav' && format !== 'pcm') throw new RequestError(`"format": ${format} is not one of wav, pcm`);
  const speedText = q.get('speed');
  const speed = speedText === null ? undefined : Number(speedText);
  if (speed !== undefined && !(speedText!.trim() !== '' && Number.isFinite(speed) && speed > 0)) throw new RequestError(`"speed": ${speedText} is not a number > 0`);
  return { stream: stream === 'true', format, voice: q.get('voice') ?? undefined, opts: { speed } };
}

export const ROUTES: Record<string, (f: Fields) => TtsRequest> = { '/tts': parseTts, '/v1/audio/speech': parseOpenAiSpeech };

/** A body as the route reads it (RequestError naming the field). */
export function parseRequest(route: '/tts' | '/v1/audio/speech', raw: string): TtsRequest {
  return ROUTES[route](fields(raw));
}
