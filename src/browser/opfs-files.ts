/**
 * Model files kept in the Origin Private File System (OPFS) and read in place.
 *
 * The Cache API hands out bytes only asynchronously, so a model loaded from it sits in the Worker's memory whole
 * until the engine is built (3.4 GB of f32 weights at full size, in a tab that has a few GB in all). An OPFS file
 * opened with a sync access handle (dedicated Workers only) reads synchronously at any offset: the loaders' lazy
 * records (loader/range-record.ts) then read each weight straight into its upload staging or the WebAssembly
 * memory, as Node reads from disk, and the model never sits in host memory whole.
 *
 * Layout: <root>/<cache name>/<folder key>/<file name, URI-encoded>, and once a file is whole a marker
 * `<name>.complete` that holds its size; a file without a marker is never read. A download writes blocks at their
 * offsets, a few in flight; one that stopped part way resumes a few blocks before the end of what it wrote (blocks
 * in flight may have left holes there), so a reload after a lost connection does not start again.
 * Entries are not revalidated: a changed model folder needs clearModelCache() (or a new folder URL).
 */
import { checkRange, type ByteSource } from '../../loader/byte-source.js';
import { allocBytes } from '../../loader/dtype.js';
import { LoaderError, SourceReadError, type LoaderErrorInfo } from '../../loader/errors.js';
import type { SyncReader } from '../../loader/range-record.js';
import { isQuotaError, ModelCacheQuotaError } from './errors.js';

/** The parts of the File System API used here (tests substitute an in-memory one). */
export interface OpfsSyncHandle {
  read(buf: Uint8Array, opts?: { at?: number }): number;
  write(buf: Uint8Array, opts?: { at?: number }): number;
  getSize(): number;
  truncate(size: number): void;
  flush(): void;
  close(): void;
}
export interface OpfsFileHandle {
  createSyncAccessHandle(opts?: { mode?: 'read-only' | 'readwrite' }): Promise<OpfsSyncHandle>;
}
export interface OpfsDirectory {
  getDirectoryHandle(name: string, opts?: { create?: boolean }): Promise<OpfsDirectory>;
  getFileHandle(name: string, opts?: { create?: boolean }): Promise<OpfsFileHandle>;
  removeEntry(name: string, opts?: { recursive?: boolean }): Promise<void>;
}

interface StorageLike {
  getDirectory?(): Promise<unknown>;
  estimate?(): Promise<{ quota?: number; usage?: number }>;
}
const storage = (): StorageLike | undefined => (globalThis as { navigator?: { storage?: StorageLike } }).navigator?.storage;

/** The OPFS root (any context; clearModelCache uses it), or null where the browser has none or refuses it. */
export async function opfsDirectory(): Promise<OpfsDirectory | null> {
  const s = storage();
  if (!s?.getDirectory) return null;
  try {
    return (await s.getDirectory()) as OpfsDirectory;
  } catch {
    return null; // e.g. a private window that refuses storage: the caller falls back to the Cache API
  }
}

/** The OPFS root where this context can read files synchronously (a dedicated Worker), else null. */
export async function opfsSyncRoot(): Promise<OpfsDirectory | null> {
  const fh = (globalThis as { FileSystemFileHandle?: { prototype: object } }).FileSystemFileHandle;
  return fh && 'createSyncAccessHandle' in fh.prototype ? opfsDirectory() : null;
}

/** A short stable name for a folder URL (FNV-1a, 64 bits as two lanes). */
export function folderKey(base: string): string {
  let a = 0x811c9dc5;
  let b = 0xcbf29ce4;
  for (let i = 0; i < base.length; i++) {
    const c = base.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193) >>> 0;
    b = Math.imul(b ^ c, 0x01000193 + 2) >>> 0;
  }
  return `m-${a.toString(16).padStart(8, '0')}${b.toString(16).padStart(8, '0')}`;
}

/** Another tab (or a handle not closed) holds the file: the caller reads it some other way. */
function isLockError(e: unknown): boolean {
  const name = (e as { name?: string } | null)?.name;
  return name === 'NoModificationAllowedError' || name === 'InvalidStateError';
}

/** One whole file of the store, open for synchronous reads; `onRead` counts the bytes read. */
export class OpfsFile implements ByteSource, SyncReader {
  /** Set when the browser refuses shared memory (a threaded WebAssembly memory) as a read target. */
  private bounce: Uint8Array | null = null;

  constructor(
    readonly name: string,
    private readonly handle: OpfsSyncHandle,
    private readonly bytes: number,
    private readonly onRead: (n: number) => void,
  ) {}

  async size(): Promise<number> {
    return this.bytes;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    checkRange(this.name, offset, length, this.bytes);
    const out = allocBytes(length, { file: this.name });
    this.readSync(out, offset, {});
    return out;
  }

  readSync(dst: Uint8Array, offset: number, info: LoaderErrorInfo): void {
    const where = { ...info, file: this.name };
    checkRange(this.name, offset, dst.length, this.bytes, where);
    try {
      for (let got = 0; got < dst.length; ) {
        const k = this.readSome(dst.subarray(got), offset + got);
        if (k === 0) throw new SourceReadError(`file shrank while reading [${offset}, ${offset + dst.length})`, where);
        got += k;
      }
    } catch (e) {
      if (e instanceof LoaderError) throw e;
      throw new SourceReadError(`cannot read from the browser's file system: ${(e as Error).message}`, where);
    }
    this.onRead(dst.length);
  }

  private readSome(dst: Uint8Array, at: number): number {
    if (!this.bounce) {
      try {
        return this.handle.read(dst, { at });
      } catch (e) {
        if (!(e instanceof TypeError && dst.buffer instanceof SharedArrayBuffer)) throw e;
        this.bounce = new Uint8Array(1 << 20);
      }
    }
    const part = this.bounce.subarray(0, Math.min(this.bounce.length, dst.length));
    const k = this.handle.read(part, { at });
    dst.set(part.subarray(0, k));
    return k;
  }

  /** Not ByteSource.close: the store closes its files when the engine that reads them is gone. */
  release(): void {
    this.handle.close();
  }
}

/** What a download needs from the network side (model-source.ts). */
export interface OpfsDownload {
  /** The file's size (asked only when it is not whole here). */
  size(): Promise<number>;
  /** Bytes [start, end) of the file. */
  range(start: number, end: number): Promise<Uint8Array>;
  /** Bytes of the file now here; `cached` when they were here already. */
  progress(loaded: number, total: number, cached: boolean): void;
}

export interface OpfsModelFilesOptions {
  /** Bytes per request and write (default 4 MiB). */
  blockBytes?: number;
  /** Requests in flight per download (default 4). */
  parallel?: number;
  /** Counts bytes read from the store. */
  onRead?: (n: number) => void;
  /** The origin's quota and usage (navigator.storage.estimate by default); a download that cannot fit fails first. */
  estimate?: () => Promise<{ quota?: number; usage?: number }>;
}

/** The files of one model folder in OPFS. close() closes every handle it opened (the engine that read them is gone). */
export class OpfsModelFiles {
  private readonly opened: OpfsFile[] = [];
  /** One open per file: browsers without read-only handles lock a file to its first handle. */
  private readonly byName = new Map<string, Promise<OpfsFile | null>>();
  private readonly blockBytes: number;
  private readonly parallel: number;

  private constructor(private readonly dir: OpfsDirectory, private readonly opts: OpfsModelFilesOptions) {
    this.blockBytes = opts.blockBytes ?? 4 << 20;
    this.parallel = opts.parallel ?? 4;
  }

  static async create(root: OpfsDirectory, cacheName: string, base: string, opts: OpfsModelFilesOptions = {}): Promise<OpfsModelFiles> {
    const top = await root.getDirectoryHandle(cacheName, { create: true });
    return new OpfsModelFiles(await top.getDirectoryHandle(folderKey(base), { create: true }), opts);
  }

  /**
   * `file`, downloaded first unless it is whole here, open for synchronous reads; null when another tab holds
   * it (the caller reads it some other way). A download that does not fit the quota is a ModelCacheQuotaError,
   * before any request where the browser can tell, and leaves no partial file behind.
   */
  file(file: string, dl: OpfsDownload): Promise<OpfsFile | null> {
    let f = this.byName.get(file);
    if (!f) {
      f = this.openFile(file, dl);
      this.byName.set(file, f);
      f.catch(() => this.byName.delete(file));
    }
    return f;
  }

  private async openFile(file: string, dl: OpfsDownload): Promise<OpfsFile | null> {
    const name = encodeURIComponent(file);
    let size = await this.completeSize(name);
    if (size === null) {
      size = await dl.size();
      if (!(await this.download(file, name, size, dl))) return null;
      await this.writeMarker(name, size);
    } else {
      dl.progress(size, size, true);
    }
    let handle: OpfsSyncHandle;
    try {
      // read-only handles can be shared between tabs (browsers without the mode open an exclusive one).
      handle = await (await this.dir.getFileHandle(name)).createSyncAccessHandle({ mode: 'read-only' });
    } catch (e) {
      if (isLockError(e)) return null;
      throw e;
    }
    const f = new OpfsFile(file, handle, size, this.opts.onRead ?? (() => {}));
    this.opened.push(f);
    return f;
  }

  /** The size recorded by a file's marker when the file is whole, else null. */
  private async completeSize(name: string): Promise<number | null> {
    let marker: OpfsSyncHandle;
    try {
      marker = await (await this.dir.getFileHandle(`${name}.complete`)).createSyncAccessHandle({ mode: 'read-only' });
    } catch {
      return null; // no marker (or one being written by another tab)
    }
    let recorded: number;
    try {
      const b = new Uint8Array(marker.getSize());
      marker.read(b, { at: 0 });
      recorded = Number(new TextDecoder().decode(b));
    } finally {
      marker.close();
    }
    let data: OpfsSyncHandle;
    try {
      data = await (await this.dir.getFileHandle(name)).createSyncAccessHandle({ mode: 'read-only' });
    } catch (e) {
      if (isLockError(e)) return Number.isSafeInteger(recorded) ? recorded : null;
      return null;
    }
    const size = data.getSize();
    data.close();
    return Number.isSafeInteger(recorded) && recorded === size ? size : null;
  }

  private async writeMarker(name: string, size: number): Promise<void> {
    const h = await (await this.dir.getFileHandle(`${name}.complete`, { create: true })).createSyncAccessHandle();
    try {
      const b = new TextEncoder().encode(String(size));
      h.truncate(0);
      h.write(b, { at: 0 });
      h.flush();
    } finally {
      h.close();
    }
  }

  /** Writes the file's missing blocks; false when another tab holds it. */
  private async download(file: string, name: string, size: number, dl: OpfsDownload): Promise<boolean> {
    let h: OpfsSyncHandle;
    try {
      await this.dir.removeEntry(`${name}.complete`).catch(() => undefined);
      h = await (await this.dir.getFileHandle(name, { create: true })).createSyncAccessHandle();
    } catch (e) {
      if (isLockError(e)) return false;
      throw e;
    }
    const block = this.blockBytes;
    let next = Math.max(0, Math.floor(Math.min(h.getSize(), size) / block) - this.parallel) * block;
    try {
      const est = await (this.opts.estimate ?? storage()?.estimate?.bind(storage()))?.();
      if (est?.quota !== undefined && est.usage !== undefined && est.quota - est.usage < size - h.getSize()) {
        throw new ModelCacheQuotaError(file, size, `${est.quota - est.usage} bytes of quota left`);
      }
      h.truncate(next);
      let loaded = next;
      if (loaded) dl.progress(loaded, size, true);
      let failed = false;
      // A failed request or write stops the other workers before their next block; the blocks they have in flight
      // are still written (all settle before the handle closes), so a resume loses as little as it can.
      const worker = async (): Promise<void> => {
        while (next < size && !failed) {
          const start = next;
          const end = Math.min(size, start + block);
          next = end;
          try {
            const bytes = await dl.range(start, end);
            for (let o = 0; o < bytes.length; ) o += h.write(bytes.subarray(o), { at: start + o });
            loaded += bytes.length;
          } catch (e) {
            failed = true;
            throw e;
          }
          dl.progress(loaded, size, false);
        }
      };
      const ends = await Promise.allSettled(Array.from({ length: Math.max(1, Math.min(this.parallel, Math.ceil((size - next) / block))) }, worker));
      const bad = ends.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (bad) throw bad.reason;
      h.flush();
    } catch (e) {
      if (!isQuotaError(e) && !(e instanceof ModelCacheQuotaError)) throw e;
      h.close();
      await this.dir.removeEntry(name).catch(() => undefined);
      throw e instanceof ModelCacheQuotaError ? e : new ModelCacheQuotaError(file, size, (e as Error).message);
    } finally {
      h.close(); // a no-op when the quota path closed it already (sync access handles close once)
    }
    return true;
  }

  /** Closes every file this store opened. */
  close(): void {
    for (const f of this.opened.splice(0)) f.release();
    this.byName.clear();
  }
}
