/**
 * HttpModelSource in Node with a fake server (fetch) and a fake Cache: block reads across boundaries return the
 * right bytes, concurrent reads of one block share one request, a second source over the same cache makes no
 * request at all, quota failures become ModelCacheQuotaError, servers without Range support and 404s become
 * ModelFetchError, and file names cannot leave the model folder.
 */
import { describe, expect, it } from 'vitest';
import { HttpModelSource, type CacheLike } from '../../src/browser/model-source.js';
import type { ProgressInfo } from '../../src/browser/protocol.js';
import { SeededRng } from '../helpers/rng.js';

const BASE = 'http://model.test/m/';

function fakeServer(files: Record<string, Uint8Array>, opts: { ignoreRange?: boolean } = {}) {
  const calls: { url: string; method: string; range: string | null }[] = [];
  const fetch = async (url: string, init: RequestInit = {}): Promise<Response> => {
    const method = init.method ?? 'GET';
    const range = (init.headers as Record<string, string> | undefined)?.Range ?? null;
    calls.push({ url, method, range });
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

class MapCache implements CacheLike {
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

function randomBytes(n: number, seed: number): Uint8Array {
  const rng = new SeededRng(seed);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.int(256);
  return out;
}

describe('HttpModelSource', () => {
  const weights = randomBytes(1000, 1);
  const files = { 'w.bin': weights, 'h.json': new TextEncoder().encode('{"a":1}') };

  it('serves ranges across block boundaries, one request per block, then only from the cache', async () => {
    const srv = fakeServer(files);
    const cache = new MapCache();
    const progress: ProgressInfo[] = [];
    const src = new HttpModelSource(BASE, { cache, fetch: srv.fetch, blockBytes: 128, onProgress: (p) => progress.push(p) });
    const f = src.open('w.bin');
    const reads: [number, number][] = [[0, 10], [120, 20], [250, 300], [999, 1], [5, 995]];
    const got = await Promise.all(reads.map(([o, n]) => f.read(o, n)));
    reads.forEach(([o, n], i) => expect(got[i]).toEqual(weights.subarray(o, o + n)));
    const gets = srv.calls.filter((c) => c.method === 'GET');
    expect(gets.map((c) => c.range).sort()).toEqual([...new Set(gets.map((c) => c.range))].sort()); // no block twice
    expect(gets.length).toBe(Math.ceil(1000 / 128));
    expect(src.counters.bytesDownloaded).toBe(1000);
    expect(progress.at(-1)).toEqual({ file: 'w.bin', loaded: 1000, total: 1000, cached: false });
    expect(await src.json('h.json')).toEqual({ a: 1 });

    const srv2 = fakeServer(files);
    const progress2: ProgressInfo[] = [];
    const warm = new HttpModelSource(BASE, { cache, fetch: srv2.fetch, blockBytes: 128, onProgress: (p) => progress2.push(p) });
    expect(await warm.open('w.bin').read(100, 800)).toEqual(weights.subarray(100, 900));
    expect(await warm.json('h.json')).toEqual({ a: 1 });
    expect(await warm.isCached('w.bin')).toBe(true);
    expect(srv2.calls).toEqual([]);
    expect(warm.counters.misses).toBe(0);
    expect(progress2.every((p) => p.cached)).toBe(true);
  });

  it('a full cache is a ModelCacheQuotaError naming the file, not a hang', async () => {
    const src = new HttpModelSource(BASE, { cache: new MapCache(300), fetch: fakeServer(files).fetch, blockBytes: 256 });
    await expect(src.open('w.bin').read(0, 1000)).rejects.toMatchObject({ name: 'ModelCacheQuotaError', message: expect.stringContaining('w.bin') });
  });

  it('HTTP errors, Range-less servers and escaping names are typed errors', async () => {
    const src = new HttpModelSource(BASE, { cache: null, fetch: fakeServer(files).fetch });
    await expect(src.bytes('missing.json')).rejects.toMatchObject({ name: 'ModelFetchError', message: expect.stringContaining('HTTP 404') });
    expect(await src.exists('missing.json')).toBe(false);
    const noRange = new HttpModelSource(BASE, { cache: null, fetch: fakeServer(files, { ignoreRange: true }).fetch, blockBytes: 128 });
    await expect(noRange.open('w.bin').read(500, 10)).rejects.toMatchObject({ name: 'ModelFetchError', message: expect.stringContaining('Range') });
    expect(() => src.url('../secret.bin')).toThrow(/escapes the model folder/);
    expect(() => src.url('http://evil.test/x')).toThrow(/absolute/);
  });
});
