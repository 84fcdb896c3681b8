/**
 * HttpModelSource in Node with a fake server (fetch) and a fake Cache: block reads across boundaries return the
 * right bytes, concurrent reads of one block share one request, a second source over the same cache makes no
 * request at all, quota failures become ModelCacheQuotaError, servers without Range support and 404s become
 * ModelFetchError, and file names cannot leave the model folder.
 */
import { describe, expect, it } from 'vitest';
import { HttpModelSource } from '../../src/browser/model-source.js';
import type { ProgressInfo } from '../../src/browser/protocol.js';
import { fakeServer, MapCache, randomBytes } from '../helpers/fake-http.js';

const BASE = 'http://model.test/m/';

describe('HttpModelSource', () => {
  const weights = randomBytes(1000, 1);
  const files = { 'w.bin': weights, 'h.json': new TextEncoder().encode('{"a":1}') };

  it('serves ranges across block boundaries, one request per block, then only from the cache', async () => {
    const srv = fakeServer(files);
    const cache = new MapCache();
    const progress: ProgressInfo[] = [];
    const src = new HttpModelSource(BASE, { cache, fetch: srv.fetch, blockBytes: 128, onProgress: (p) => progress.push(p) });
    const f = await src.open('w.bin');
    const reads: [number, number][] = [[0, 10], [120, 20], [250, 300], [999, 1], [5, 995]];
    const got = await Promise.all(reads.map(([o, n]) => f.read(o, n)));
    reads.forEach(([o, n], i) => expect(got[i]).toEqual(weights.subarray(o, o + n)));
    const gets = srv.calls.filter((c) => c.method === 'GET');
    expect(gets.map((c) => c.range).sort()).toEqual([...new Set(gets.map((c) => c.range))].sort()); // no block twice
    expect(gets.length).toBe(Math.ceil(1000 / 128));
    expect(src.counters.bytesDownloaded).toBe(1000);
    expect(progress.at(-1)).toEqual({ file: 'w.bin', loaded: 1000, total: 1000, cached: false, stage: 'fetch' });
    expect(await src.json('h.json')).toEqual({ a: 1 });

    const srv2 = fakeServer(files);
    const progress2: ProgressInfo[] = [];
    const warm = new HttpModelSource(BASE, { cache, fetch: srv2.fetch, blockBytes: 128, onProgress: (p) => progress2.push(p) });
    expect(await (await warm.open('w.bin')).read(100, 800)).toEqual(weights.subarray(100, 900));
    expect(await warm.json('h.json')).toEqual({ a: 1 });
    expect(await warm.isCached('w.bin')).toBe(true);
    expect(srv2.calls).toEqual([]);
    expect(warm.counters.misses).toBe(0);
    expect(progress2.every((p) => p.cached)).toBe(true);
  });

  it('a full cache is a ModelCacheQuotaError naming the file, not a hang', async () => {
    const src = new HttpModelSource(BASE, { cache: new MapCache(300), fetch: fakeServer(files).fetch, blockBytes: 256 });
    await expect((await src.open('w.bin')).read(0, 1000)).rejects.toMatchObject({ name: 'ModelCacheQuotaError', message: expect.stringContaining('w.bin') });
  });

  it('HTTP errors, Range-less servers and escaping names are typed errors', async () => {
    const src = new HttpModelSource(BASE, { cache: null, fetch: fakeServer(files).fetch });
    await expect(src.bytes('missing.json')).rejects.toMatchObject({ name: 'ModelFetchError', message: expect.stringContaining('HTTP 404') });
    expect(await src.exists('missing.json')).toBe(false);
    const noRange = new HttpModelSource(BASE, { cache: null, fetch: fakeServer(files, { ignoreRange: true }).fetch, blockBytes: 128 });
    await expect((await noRange.open('w.bin')).read(500, 10)).rejects.toMatchObject({ name: 'ModelFetchError', message: expect.stringContaining('Range') });
    expect(() => src.url('../secret.bin')).toThrow(/escapes the model folder/);
    expect(() => src.url('http://evil.test/x')).toThrow(/absolute/);
  });
});
