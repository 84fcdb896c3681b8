/**
 * A model server (fetch with HEAD, Range and 404s, every call recorded; `fail` makes chosen GETs throw) and a Cache
 * API stand-in with a quota, for HttpModelSource tests. Files live under /m/ of any host.
 */
import type { CacheLike } from '../../src/browser/model-source.js';
import { SeededRng } from './rng.js';

export function fakeServer(files: Record<string, Uint8Array>, opts: { ignoreRange?: boolean; failGetsFrom?: number } = {}) {
  const calls: { url: string; method: string; range: string | null }[] = [];
  let gets = 0;
  const fetch = async (url: string, init: RequestInit = {}): Promise<Response> => {
    const method = init.method ?? 'GET';
    const range = (init.headers as Record<string, string> | undefined)?.Range ?? null;
    calls.push({ url, method, range });
    if (method === 'GET' && ++gets >= (opts.failGetsFrom ?? Infinity)) throw new TypeError('Failed to fetch');
    const body = files[new URL(url).pathname.replace('/m/', '')];
    if (!body) return new Response('not found', { status: 404, statusText: 'Not Found' });
    const headers = { 'content-length': String(body.length) };
    if (method === 'HEAD') return new Response(null, { status: 200, headers });
    const m = range && !opts.ignoreRange ? /^bytes=(\d+)-(\d+)$/.exec(range) : null;
    if (!m) return new Response(body.slice(), { status: 200, headers });
    const part = body.slice(Number(m[1]), Number(m[2]) + 1);
    return new Response(part, { status: 206, headers: { 'content-length': String(part.length), 'content-range': `bytes ${m[1]}-${m[2]}/${body.length}` } });
  };
  return { fetch, calls };
}

export class MapCache implements CacheLike {
  readonly map = new Map<string, Uint8Array>();
  constructor(private readonly quotaBytes = Infinity) {}
  async match(key: string): Promise<Response | undefined> {
    const b = this.map.get(key);
    return b ? new Response(b.slice()) : undefined;
  }
  async put(key: string, res: Response): Promise<void> {
    const b = new Uint8Array(await res.arrayBuffer());
    const used = [...this.map.values()].reduce((s, x) => s + x.length, 0);
    if (used + b.length > this.quotaBytes) throw new DOMException('Quota exceeded.', 'QuotaExceededError');
    this.map.set(key, b);
  }
}

export function randomBytes(n: number, seed: number): Uint8Array {
  const rng = new SeededRng(seed);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.int(256);
  return out;
}

