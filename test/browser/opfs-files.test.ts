/**
 * HttpModelSource over OPFS (opfs-files.ts) in Node, with a fake server and an in-memory OPFS that locks as
 * Chromium does: big files are downloaded once by Range requests and then read in place (synchronously, into any
 * buffer); a second source makes no request; a download that stopped resumes near where it stopped; the quota is
 * checked before any request and a write that runs out of quota leaves no partial file; a file another tab holds
 * is read through the Cache API instead; an ONNX model loaded from it keeps its weights in the files (external
 * data and large inline tensors) with the eager load's values; closed files are typed errors naming the tensor.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SourceReadError } from '../../loader/errors.js';
import { LAZY_MIN_BYTES } from '../../loader/range-record.js';
import { clearModelCache, HttpModelSource, loadOnnxFromSource, MODEL_CACHE_NAME } from '../../src/browser/model-source.js';
import type { ProgressInfo } from '../../src/browser/protocol.js';
import { FakeOpfs } from '../helpers/fake-opfs.js';
import { fakeServer, MapCache, randomBytes } from '../helpers/fake-http.js';
import { externalTensor, modelBytes, tensorProto } from '../loader/helpers/onnx-writer.js';

const BASE = 'http://model.test/m/';
const BLOCK = 128;
const weights = randomBytes(1000, 3);
const files = { 'w.bin': weights };
const gets = (calls: { method: string; range: string | null }[]) => calls.filter((c) => c.method === 'GET');

function source(root: FakeOpfs, fetch: ReturnType<typeof fakeServer>['fetch'], extra: { estimate?: () => Promise<{ quota: number; usage: number }>; progress?: ProgressInfo[] } = {}) {
  return new HttpModelSource(BASE, {
    cache: new MapCache(),
    fetch,
    blockBytes: BLOCK,
    opfs: { root, parallel: 3, estimate: extra.estimate },
    onProgress: (p) => extra.progress?.push(p),
  });
}

describe('HttpModelSource with OPFS: big files downloaded once, read in place', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('one Range request per block, then synchronous reads into any buffer; a second source makes no request', async () => {
    const root = new FakeOpfs();
    const srv = fakeServer(files);
    const progress: ProgressInfo[] = [];
    const src = source(root, srv.fetch, { progress });
    expect(src.inPlace).toBe(true);
    const f = await src.open('w.bin');
    expect(f.readSync).toBeTypeOf('function');
    expect(await src.open('w.bin')).toBe(f); // one handle per file
    const ranges = gets(srv.calls).map((c) => c.range);
    expect(ranges.length).toBe(Math.ceil(1000 / BLOCK));
    expect(new Set(ranges).size).toBe(ranges.length);
    expect(src.counters.bytesDownloaded).toBe(1000);
    expect(progress.at(-1)).toEqual({ file: 'w.bin', loaded: 1000, total: 1000, cached: false, stage: 'fetch' });
    for (const [o, n] of [[0, 10], [120, 20], [250, 300], [999, 1], [0, 1000]]) {
      const dst = new Uint8Array(n);
      f.readSync!(dst, o, {});
      expect(dst).toEqual(weights.subarray(o, o + n));
    }
    expect(await f.read(5, 995)).toEqual(weights.subarray(5));
    expect(src.counters.bytesFromCache).toBe(10 + 20 + 300 + 1 + 1000 + 995);
    src.close();

    const srv2 = fakeServer(files);
    const progress2: ProgressInfo[] = [];
    const warm = source(root, srv2.fetch, { progress: progress2 });
    const g = await warm.open('w.bin');
    const all = new Uint8Array(1000);
    g.readSync!(all, 0, {});
    expect(all).toEqual(weights);
    expect(srv2.calls).toEqual([]);
    expect(warm.counters).toMatchObject({ misses: 0, bytesDownloaded: 0, bytesFromCache: 1000 });
    expect(progress2).toEqual([{ file: 'w.bin', loaded: 1000, total: 1000, cached: true, stage: 'fetch' }]);
    warm.close();
  });

  it('a download that stopped resumes a few blocks before where it stopped, and the file is whole', async () => {
    const root = new FakeOpfs();
    const weights = randomBytes(3000, 4);
    const files = { 'w.bin': weights };
    const broken = fakeServer(files, { failGetsFrom: 16 });
    await expect(source(root, broken.fetch).open('w.bin')).rejects.toMatchObject({ name: 'ModelFetchError' });
    // No marker: the partial file is never read as whole.
    expect([...root.folder(MODEL_CACHE_NAME).files.keys()]).toEqual(['w.bin']);
    const srv = fakeServer(files);
    const src = source(root, srv.fetch);
    const f = await src.open('w.bin');
    const firstBlock = Math.min(...gets(srv.calls).map((c) => Number(/bytes=(\d+)-/.exec(c.range!)![1]) / BLOCK));
    // 15 blocks arrived and were written; the resume backs off by the 3 that may have been in flight.
    expect(firstBlock).toBe(12);
    expect(gets(srv.calls).length).toBe(Math.ceil(3000 / BLOCK) - 12);
    expect(await f.read(0, 3000)).toEqual(weights);
    src.close();
  });

  it('quota: refused before any request where the browser can tell; a write that runs out leaves no partial file', async () => {
    const root = new FakeOpfs();
    const srv = fakeServer(files);
    const tight = source(root, srv.fetch, { estimate: async () => ({ quota: 900, usage: 100 }) });
    await expect(tight.open('w.bin')).rejects.toMatchObject({ name: 'ModelCacheQuotaError', message: expect.stringContaining('w.bin') });
    expect(gets(srv.calls)).toEqual([]);

    const small = new FakeOpfs({ quotaBytes: 600 });
    await expect(source(small, fakeServer(files).fetch).open('w.bin')).rejects.toMatchObject({ name: 'ModelCacheQuotaError', message: expect.stringContaining('w.bin') });
    expect([...small.folder(MODEL_CACHE_NAME).files.keys()]).toEqual([]);
  });

  it('a file another tab holds is read through the Cache API instead', async () => {
    const root = new FakeOpfs();
    const first = source(root, fakeServer(files).fetch);
    await first.open('w.bin');
    first.close();
    // Another tab writing the file holds it exclusively.
    const other = await (await root.folder(MODEL_CACHE_NAME).getFileHandle('w.bin')).createSyncAccessHandle();
    const srv = fakeServer(files);
    const src = source(root, srv.fetch);
    const f = await src.open('w.bin');
    expect(f.readSync).toBeUndefined();
    expect(await f.read(100, 800)).toEqual(weights.subarray(100, 900));
    other.close();
  });

  it('reads into a shared memory where the browser refuses one as a read target', async () => {
    const root = new FakeOpfs({ refuseShared: true });
    const src = source(root, fakeServer(files).fetch);
    const f = await src.open('w.bin');
    const shared = new Uint8Array(new SharedArrayBuffer(1024), 24, 1000);
    f.readSync!(shared, 0, {});
    expect(shared).toEqual(weights);
    src.close();
  });

  it('loadOnnxFromSource leaves external and large inline tensors in the files, with the eager values; closed files are typed errors', async () => {
    const big = Float32Array.from({ length: LAZY_MIN_BYTES / 4 + 5 }, (_, i) => Math.cos(i));
    const data = new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]);
    const model = {
      'm.onnx': modelBytes([
        tensorProto('small', 1, [2], { rawData: new Uint8Array(new Float32Array([7, 8]).buffer) }),
        tensorProto('big', 1, [big.length], { rawData: new Uint8Array(big.buffer) }),
        externalTensor('w', 1, [2, 2], 'm.onnx.data', 16, 16),
      ]),
      'm.onnx.data': new Uint8Array(data.buffer),
    };
    const eager = await loadOnnxFromSource(new HttpModelSource(BASE, { cache: null, fetch: fakeServer(model).fetch }), 'm.onnx');
    const src = source(new FakeOpfs(), fakeServer(model).fetch);
    const lazy = await loadOnnxFromSource(src, 'm.onnx');
    expect(Boolean(lazy.tensors.get('w')!.readInto)).toBe(true);
    expect(Boolean(lazy.tensors.get('big')!.readInto)).toBe(true);
    expect(lazy.tensors.get('small')!.readInto).toBeUndefined();
    for (const name of ['small', 'big', 'w']) expect(lazy.tensors.get(name)!.bytes, name).toEqual(eager.tensors.get(name)!.bytes);
    const row = new Uint8Array(8);
    lazy.tensors.get('w')!.readInto!(row, 8);
    expect(Array.from(new Float32Array(row.buffer))).toEqual([7, 8]);
    src.close();
    expect(() => lazy.tensors.get('w')!.readInto!(new Uint8Array(16))).toThrow(SourceReadError);
    expect(() => lazy.tensors.get('w')!.readInto!(new Uint8Array(16))).toThrow(/m\.onnx\.data.*tensor w|tensor w.*m\.onnx\.data/);
  });

  it('reports the in-place reads of a graph\'s weights as stage "read", in ≥1% steps, until endLoad()', async () => {
    // 300 external tensors of 64 B in two data files: 19,200 B, so a 1% step is 192 B (3 tensors).
    const n = 300;
    const d1 = randomBytes(64 * 200, 5);
    const d2 = randomBytes(64 * 100, 6);
    const model = {
      'g.onnx': modelBytes(Array.from({ length: n }, (_, i) => (i < 200 ? externalTensor(`t${i}`, 1, [16], 'g.onnx.data', i * 64, 64) : externalTensor(`t${i}`, 1, [16], 'g2.onnx.data', (i - 200) * 64, 64)))),
      'g.onnx.data': d1,
      'g2.onnx.data': d2,
    };
    const progress: ProgressInfo[] = [];
    const src = source(new FakeOpfs(), fakeServer(model).fetch, { progress });
    const m = await loadOnnxFromSource(src, 'g.onnx');
    const reads = () => progress.filter((p) => p.stage === 'read');
    // Nothing is read at load: one event at 0 of the whole.
    expect(reads()).toEqual([{ file: 'g.onnx', loaded: 0, total: 64 * n, cached: true, stage: 'read' }]);
    const dst = new Uint8Array(64);
    for (let i = 0; i < n; i++) {
      m.tensors.get(`t${i}`)!.readInto!(dst);
      expect(dst).toEqual((i < 200 ? d1 : d2).subarray((i % 200) * 64, (i % 200) * 64 + 64));
    }
    const r = reads();
    const steps = r.slice(1).map((p, i) => p.loaded - r[i].loaded);
    if (!steps.every((s) => s >= 192 || r.at(-1)!.loaded === 64 * n)) throw new Error(`steps under 1%: ${steps.filter((s) => s < 192).slice(0, 5)}`);
    expect(r.length).toBeGreaterThanOrEqual(90);
    expect(r.length).toBeLessThanOrEqual(102);
    expect(r.at(-1)).toEqual({ file: 'g.onnx', loaded: 64 * n, total: 64 * n, cached: true, stage: 'read' });
    expect(r.every((p, i) => i === 0 || p.loaded > r[i - 1].loaded)).toBe(true);
    // After the engine is built, row reads (the text table's) are not load progress.
    src.endLoad();
    const before = progress.length;
    m.tensors.get('t0')!.readInto!(dst);
    expect(progress.length).toBe(before);
    src.close();
  });

  it('clearModelCache removes the OPFS folder too', async () => {
    const root = new FakeOpfs();
    const src = source(root, fakeServer(files).fetch);
    await src.open('w.bin');
    vi.stubGlobal('navigator', { storage: { getDirectory: async () => root } });
    // Open files cannot be removed: the caller sees the error.
    await expect(clearModelCache()).rejects.toMatchObject({ name: 'ModelCacheBusyError', message: expect.stringContaining('dispose the client') });
    src.close();
    expect(await clearModelCache()).toBe(true);
    expect(root.dirs.has(MODEL_CACHE_NAME)).toBe(false);
  });
});
