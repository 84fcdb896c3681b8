/**
 * Model files over HTTP, kept so a reload does not download again: in the Cache API, and big files in OPFS where the
 * Worker can read them in place (opfs-files.ts; `opfs` option).
 *
 * - Small whole files (JSON configs, ONNX graphs) are one GET each, streamed with progress, cached under their URL.
 * - Big files (ONNX external data, weight blobs) are read through `open(file)`. With `opfs`, the file is
 *   downloaded whole into OPFS by Range requests and read there synchronously (loads then leave the weights in it).
 *   Without, it is a ByteSource whose reads are served in fixed blocks (4 MiB by default) fetched with HTTP Range
 *   requests; each block is cached under a synthetic key (`<url>?cosyvoice-block=<i>`), so only the parts a model
 *   actually reads are downloaded, and a reload reads the same blocks back from the cache. The file size is cached too (`?cosyvoice-size`), so a warm reload makes no
 *   network request at all.
 * - A Cache.put that fails for lack of quota becomes a ModelCacheQuotaError (never a hang, never a silent retry).
 * Cache entries are not revalidated: a changed model folder needs clearModelCache() (or a new folder URL).
 */
import { checkRange, safeRelativeLocation, type ByteSource } from '../../loader/byte-source.js';
import { parseOnnxModel, type OnnxModel } from '../../loader/onnx.js';
import { leaveInlineInFile, resolveExternal } from '../../loader/onnx-external.js';
import type { SyncReader } from '../../loader/range-record.js';
import { OpfsModelFiles, opfsDirectory, type OpfsDirectory, type OpfsModelFilesOptions } from './opfs-files.js';
import { isQuotaError, ModelCacheBusyError, ModelCacheQuotaError, ModelFetchError } from './errors.js';
import type { CacheCounters, ProgressInfo } from './protocol.js';
import type { LoadProgress } from '../pipeline/types.js';

export const MODEL_CACHE_NAME = 'cosyvoice-webgpu-models-v1';
export const DEFAULT_BLOCK_BYTES = 4 << 20;

/** What an engine needs from a model folder; implemented over HTTP here and over files in the Node tests. */
export interface ModelSource {
  /** Folder URL (or path) the file names are relative to, for messages. */
  readonly base: string;
  /** A whole (small) file. */
  bytes(file: string): Promise<Uint8Array>;
  json<T = unknown>(file: string): Promise<T>;
  /**
   * Random access to a (big) file. Where `inPlace` is set, the sources read synchronously (ByteSource.readSync)
   * where they can, and loads leave the weights in them until the engine reads each into place.
   */
  open(file: string): ByteSource | Promise<ByteSource>;
  exists(file: string): Promise<boolean>;
  readonly inPlace?: boolean;
  /** Progress of the weights of graph `p.file` read in place (loadOnnxFromSource calls it for `inPlace` sources). */
  readProgress?(p: LoadProgress): void;
  /** Closes the files open() opened (after the engine that reads them is gone). */
  close?(): void;
}

export type FetchFn = (input: string, init?: RequestInit) => Promise<Response>;

/** The subset of the Cache API interface we use (tests substitute a fake to provoke quota errors). */
export interface CacheLike {
  match(key: string): Promise<Response | undefined>;
  put(key: string, res: Response): Promise<void>;
}

export interface HttpModelSourceOptions {
  /** null: no caching. */
  cache?: CacheLike | null;
  onProgress?: (p: ProgressInfo) => void;
  fetch?: FetchFn;
  blockBytes?: number;
  /**
   * Keep big files (open()) in OPFS and read them in place (opfs-files.ts) instead of Cache API blocks; a file
   * another tab holds locked is read through the Cache API. Small files (bytes()) still go to `cache`.
   */
  opfs?: { root: OpfsDirectory; name?: string; parallel?: number; estimate?: OpfsModelFilesOptions['estimate'] } | null;
}

export async function openModelCache(name = MODEL_CACHE_NAME): Promise<CacheLike | null> {
  const c = (globalThis as { caches?: CacheStorage }).caches;
  return c ? c.open(name) : null;
}

/** Deletes the cached model files: the Cache API cache and the OPFS folder of that name. */
export async function clearModelCache(name = MODEL_CACHE_NAME): Promise<boolean> {
  const c = (globalThis as { caches?: CacheStorage }).caches;
  const cleared = c ? await c.delete(name) : false;
  const root = await opfsDirectory();
  let removed = false;
  try {
    await root?.removeEntry(name, { recursive: true });
    removed = !!root;
  } catch (e) {
    const kind = (e as { name?: string }).name;
    if (kind === 'NoModificationAllowedError') {
      throw new ModelCacheBusyError(`${kind}: a Worker still reads the model files in OPFS (${(e as Error).message}); dispose the client (or load another model) first`);
    }
    if (kind !== 'NotFoundError') throw e; // NotFoundError: nothing stored there
  }
  return cleared || removed;
}

function withParam(url: string, param: string): string {
  return url + (url.includes('?') ? '&' : '?') + param;
}

export class HttpModelSource implements ModelSource {
  readonly counters: CacheCounters = { hits: 0, misses: 0, bytesDownloaded: 0, bytesFromCache: 0 };
  readonly base: string;
  private readonly cache: CacheLike | null;
  private readonly f: FetchFn;
  private readonly blockBytes: number;
  private readonly sizes = new Map<string, Promise<number>>();
  private readonly inflight = new Map<string, Promise<{ bytes: Uint8Array; cached: boolean }>>();
  private readonly blocksSeen = new Map<string, { blocks: Set<number>; loaded: number }>();
  /** The OPFS files of this folder, opened on the first open() (`opfs`); closed by close(). */
  private opfsFiles: Promise<OpfsModelFiles> | null = null;
  private opfsOpened: OpfsModelFiles | null = null;
  /** The last in-place read progress reported per graph file; none after endLoad(). */
  private readonly readReported = new Map<string, number>();
  private loadEnded = false;

  constructor(base: string, private readonly opts: HttpModelSourceOptions = {}) {
    this.base = base.endsWith('/') ? base : `${base}/`;
    this.cache = opts.cache ?? null;
    this.f = opts.fetch ?? globalThis.fetch.bind(globalThis);
    this.blockBytes = opts.blockBytes ?? DEFAULT_BLOCK_BYTES;
  }

  /** Whether files are kept in the Cache API. */
  get cached(): boolean {
    return !!this.cache;
  }

  get inPlace(): boolean {
    return !!this.opts.opfs;
  }

  close(): void {
    this.opfsOpened?.close();
  }

  /** Absolute URL of a file of the folder; names that would leave the folder are refused. */
  url(file: string): string {
    const rel = safeRelativeLocation(file, { file });
    return new URL(rel.split('/').map(encodeURIComponent).join('/'), this.base).href;
  }

  progress(file: string, loaded: number, total: number, cached: boolean): void {
    this.opts.onProgress?.({ file, loaded, total, cached, stage: 'fetch' });
  }

  /**
   * Reports in-place reads until endLoad(), in steps of at least 1% of the file (an int8 folder's weights are
   * read a MiB at a time: thousands of reads), and always the first and the last.
   */
  readProgress(p: LoadProgress): void {
    if (this.loadEnded || !this.opts.onProgress) return;
    const last = this.readReported.get(p.file);
    if (last !== undefined && p.loaded < p.total && p.loaded - last < p.total / 100) return;
    this.readReported.set(p.file, p.loaded);
    this.opts.onProgress({ ...p, cached: true, stage: 'read' });
  }

  /** The engine is built: reads after this (the text table's rows, as synthesis needs them) are not load progress. */
  endLoad(): void {
    this.loadEnded = true;
  }

  private async get(file: string, url: string, init?: RequestInit): Promise<Response> {
    let res: Response;
    try {
      res = await this.f(url, init);
    } catch (e) {
      throw new ModelFetchError(url, `network error: ${(e as Error).message}`);
    }
    if (!res.ok) throw new ModelFetchError(url, `HTTP ${res.status} ${res.statusText}`.trim());
    return res;
  }

  async cachedBytes(key: string): Promise<Uint8Array | undefined> {
    if (!this.cache) return undefined;
    const hit = await this.cache.match(key);
    if (!hit) return undefined;
    const bytes = new Uint8Array(await hit.arrayBuffer());
    this.counters.hits++;
    this.counters.bytesFromCache += bytes.length;
    return bytes;
  }

  async store(file: string, key: string, bytes: Uint8Array): Promise<void> {
    if (!this.cache) return;
    try {
      await this.cache.put(key, new Response(bytes as Uint8Array<ArrayBuffer>, { headers: { 'content-length': String(bytes.length) } }));
    } catch (e) {
      if (isQuotaError(e)) throw new ModelCacheQuotaError(file, bytes.length, (e as Error).message);
      throw e;
    }
  }

  async bytes(file: string): Promise<Uint8Array> {
    const url = this.url(file);
    const cached = await this.cachedBytes(url);
    if (cached) {
      this.progress(file, cached.length, cached.length, true);
      return cached;
    }
    this.counters.misses++;
    const res = await this.get(file, url);
    const total = Number(res.headers.get('content-length') ?? 0);
    let out: Uint8Array;
    if (!res.body) {
      out = new Uint8Array(await res.arrayBuffer());
      this.progress(file, out.length, out.length, false);
    } else {
      const reader = res.body.getReader();
      let buf = new Uint8Array(total || 1 << 16);
      let loaded = 0;
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        if (loaded + value.length > buf.length) {
          const grown = new Uint8Array(Math.max(buf.length * 2, loaded + value.length));
          grown.set(buf.subarray(0, loaded));
          buf = grown;
        }
        buf.set(value, loaded);
        loaded += value.length;
        this.progress(file, loaded, total || loaded, false);
      }
      out = buf.length === loaded ? buf : buf.slice(0, loaded);
    }
    this.counters.bytesDownloaded += out.length;
    await this.store(file, url, out);
    return out;
  }

  async json<T = unknown>(file: string): Promise<T> {
    const text = new TextDecoder().decode(await this.bytes(file));
    try {
      return JSON.parse(text) as T;
    } catch (e) {
      throw new ModelFetchError(this.url(file), `not valid JSON: ${(e as Error).message}`);
    }
  }

  /** Whether the file (or its size record) is in the cache; never touches the network. */
  async isCached(file: string): Promise<boolean> {
    if (!this.cache) return false;
    const url = this.url(file);
    return !!((await this.cache.match(url)) || (await this.cache.match(withParam(url, 'cosyvoice-size'))));
  }

  async exists(file: string): Promise<boolean> {
    const url = this.url(file);
    if (await this.isCached(file)) return true;
    try {
      const res = await this.f(url, { method: 'HEAD' });
      return res.ok;
    } catch (e) {
      throw new ModelFetchError(url, `network error: ${(e as Error).message}`);
    }
  }

  /** File size: from the cache, else one HEAD request (cached). */
  size(file: string): Promise<number> {
    let p = this.sizes.get(file);
    if (!p) {
      p = (async () => {
        const key = withParam(this.url(file), 'cosyvoice-size');
        const cached = await this.cachedBytes(key);
        if (cached) return Number(new TextDecoder().decode(cached));
        this.counters.misses++;
        const res = await this.get(file, this.url(file), { method: 'HEAD' });
        const n = Number(res.headers.get('content-length'));
        if (!Number.isSafeInteger(n) || n < 0) throw new ModelFetchError(this.url(file), 'the server sent no Content-Length');
        await this.store(file, key, new TextEncoder().encode(String(n)));
        return n;
      })();
      this.sizes.set(file, p);
      p.catch(() => this.sizes.delete(file));
    }
    return p;
  }

  open(file: string): ByteSource | Promise<ByteSource> {
    return this.opts.opfs ? this.openInPlace(this.opts.opfs, file) : new CachedRangeSource(this, file, this.blockBytes);
  }

  private async openInPlace(o: NonNullable<HttpModelSourceOptions['opfs']>, file: string): Promise<ByteSource> {
    this.opfsFiles ??= OpfsModelFiles.create(o.root, o.name ?? MODEL_CACHE_NAME, this.base, {
      blockBytes: this.blockBytes,
      parallel: o.parallel,
      estimate: o.estimate,
      onRead: (n) => void (this.counters.bytesFromCache += n),
    }).then((f) => (this.opfsOpened = f));
    const local = await (await this.opfsFiles).file(file, {
      size: () => this.size(file),
      range: async (start, end) => {
        this.counters.misses++;
        const bytes = await this.rangeGet(file, start, end);
        this.counters.bytesDownloaded += bytes.length;
        return bytes;
      },
      progress: (loaded, total, cached) => {
        if (cached) this.counters.hits++;
        this.progress(file, loaded, total, cached);
      },
    });
    return local ?? new CachedRangeSource(this, file, this.blockBytes);
  }

  /**
   * One block of a file: cache, else a Range request (then cached). Concurrent asks for the same block share one
   * request; progress counts each block of a file once.
   */
  block(file: string, index: number, size: number): Promise<{ bytes: Uint8Array; cached: boolean }> {
    const id = `${file}\u0000${index}`;
    let p = this.inflight.get(id);
    if (!p) {
      p = this.fetchBlock(file, index, size).then((b) => {
        let seen = this.blocksSeen.get(file);
        if (!seen) this.blocksSeen.set(file, (seen = { blocks: new Set(), loaded: 0 }));
        if (!seen.blocks.has(index)) {
          seen.blocks.add(index);
          seen.loaded += b.bytes.length;
          this.progress(file, seen.loaded, size, b.cached);
        }
        return b;
      });
      this.inflight.set(id, p);
      const drop = (): void => void this.inflight.delete(id);
      p.then(drop, drop);
    }
    return p;
  }

  /** Bytes [start, end) of a file by one Range request, checked. */
  async rangeGet(file: string, start: number, end: number): Promise<Uint8Array> {
    const url = this.url(file);
    const res = await this.get(file, url, { headers: { Range: `bytes=${start}-${end - 1}` } });
    if (res.status !== 206 && !(res.status === 200 && start === 0 && end === (await this.size(file)))) {
      throw new ModelFetchError(url, `the server ignored the Range request (HTTP ${res.status}); serve the model with Range support`);
    }
    const bytes = new Uint8Array(await res.arrayBuffer());
    if (bytes.length !== end - start) throw new ModelFetchError(url, `asked for bytes ${start}-${end - 1}, got ${bytes.length} bytes`);
    return bytes;
  }

  private async fetchBlock(file: string, index: number, size: number): Promise<{ bytes: Uint8Array; cached: boolean }> {
    const url = this.url(file);
    const start = index * this.blockBytes;
    const end = Math.min(size, start + this.blockBytes);
    const key = withParam(url, `cosyvoice-block=${index}`);
    const cached = await this.cachedBytes(key);
    if (cached && cached.length === end - start) return { bytes: cached, cached: true };
    this.counters.misses++;
    const bytes = await this.rangeGet(file, start, end);
    this.counters.bytesDownloaded += bytes.length;
    await this.store(file, key, bytes);
    return { bytes, cached: false };
  }
}

/** Random access over cached blocks; keeps the few most recent blocks in memory so small adjacent reads are cheap. */
class CachedRangeSource implements ByteSource {
  readonly name: string;
  private readonly recent = new Map<number, Promise<{ bytes: Uint8Array; cached: boolean }>>();

  constructor(
    private readonly src: HttpModelSource,
    private readonly file: string,
    private readonly blockBytes: number,
  ) {
    this.name = src.url(file);
  }

  size(): Promise<number> {
    return this.src.size(this.file);
  }

  private block(i: number, size: number): Promise<{ bytes: Uint8Array; cached: boolean }> {
    let p = this.recent.get(i);
    if (p) {
      this.recent.delete(i); // re-insert as most recent
    } else {
      p = this.src.block(this.file, i, size);
      p.catch(() => this.recent.delete(i));
    }
    this.recent.set(i, p);
    while (this.recent.size > 4) this.recent.delete(this.recent.keys().next().value as number);
    return p;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    const size = await this.size();
    checkRange(this.name, offset, length, size);
    const out = new Uint8Array(length);
    if (length === 0) return out;
    const first = Math.floor(offset / this.blockBytes);
    const last = Math.floor((offset + length - 1) / this.blockBytes);
    const blocks = [];
    for (let i = first; i <= last; i++) blocks.push(this.block(i, size));
    let i = first;
    for (const b of await Promise.all(blocks)) {
      const start = i * this.blockBytes;
      const from = Math.max(offset, start) - start;
      const to = Math.min(offset + length, start + b.bytes.length) - start;
      out.set(b.bytes.subarray(from, to), start + from - offset);
      i++;
    }
    return out;
  }
}

/**
 * Loads an ONNX model of the folder: the graph file whole, its external data through open(). From a source that
 * reads in place (`inPlace`), the weights stay in their files (external data and large inline tensors alike) and
 * the graph's buffer is dropped after parsing.
 */
export async function loadOnnxFromSource(src: ModelSource, file: string): Promise<OnnxModel> {
  const graph = src.inPlace ? await src.open(file) : undefined;
  const bytes = graph?.readSync ? await graph.read(0, await graph.size()) : await src.bytes(file);
  const parsed = parseOnnxModel(bytes, file, { external: 'defer' });
  const dir = file.includes('/') ? file.slice(0, file.lastIndexOf('/') + 1) : '';
  // Progress names the graph: its weights are counted as the engine reads them, from whichever data files.
  const onProgress = src.inPlace && src.readProgress ? (p: LoadProgress) => src.readProgress!({ ...p, file }) : undefined;
  const model = await resolveExternal(parsed, async (rel) => src.open(dir + rel), { file, lazy: src.inPlace, onProgress });
  return graph?.readSync ? leaveInlineInFile(model, bytes, graph as ByteSource & SyncReader) : model;
}
