/**
 * An in-memory Origin Private File System with the locking rules of Chromium's sync access handles: a readwrite
 * handle is exclusive, read-only handles share a file with each other; a closed handle refuses reads; writes past
 * the store's quota throw QuotaExceededError; a file with an open handle cannot be removed. `refuseShared` makes
 * read() refuse SharedArrayBuffer views, as a browser without [AllowShared] would.
 */
import type { OpfsDirectory, OpfsFileHandle, OpfsSyncHandle } from '../../src/browser/opfs-files.js';

const domError = (name: string, message: string): DOMException => new DOMException(message, name);

interface FakeFile {
  data: Uint8Array;
  size: number;
  writer: boolean;
  readers: number;
}

export interface FakeOpfsOptions {
  quotaBytes?: number;
  refuseShared?: boolean;
}

class FakeSyncHandle implements OpfsSyncHandle {
  private closed = false;
  constructor(private readonly f: FakeFile, private readonly readOnly: boolean, private readonly fs: FakeOpfs) {}

  private live(): void {
    if (this.closed) throw domError('InvalidStateError', 'the access handle was closed');
  }
  read(buf: Uint8Array, opts: { at?: number } = {}): number {
    this.live();
    if (this.fs.opts.refuseShared && buf.buffer instanceof SharedArrayBuffer) throw new TypeError('shared buffers are not allowed');
    const at = opts.at ?? 0;
    const n = Math.max(0, Math.min(buf.length, this.f.size - at));
    buf.set(this.f.data.subarray(at, at + n));
    return n;
  }
  write(buf: Uint8Array, opts: { at?: number } = {}): number {
    this.live();
    if (this.readOnly) throw domError('NoModificationAllowedError', 'read-only handle');
    const at = opts.at ?? 0;
    const end = Math.max(this.f.size, at + buf.length);
    if (this.fs.used() - this.f.size + end > (this.fs.opts.quotaBytes ?? Infinity)) throw domError('QuotaExceededError', 'The quota has been exceeded.');
    if (end > this.f.data.length) {
      const grown = new Uint8Array(Math.max(end, this.f.data.length * 2));
      grown.set(this.f.data.subarray(0, this.f.size));
      this.f.data = grown;
    }
    this.f.data.set(buf, at);
    this.f.size = end;
    return buf.length;
  }
  getSize(): number {
    this.live();
    return this.f.size;
  }
  truncate(size: number): void {
    this.live();
    if (size < this.f.size) this.f.data.fill(0, size, this.f.size);
    else this.write(new Uint8Array(size - this.f.size), { at: this.f.size });
    this.f.size = size;
  }
  flush(): void {
    this.live();
  }
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.readOnly) this.f.readers--;
    else this.f.writer = false;
  }
}

class FakeFileHandle implements OpfsFileHandle {
  constructor(private readonly f: FakeFile, private readonly fs: FakeOpfs) {}
  async createSyncAccessHandle(opts: { mode?: 'read-only' | 'readwrite' } = {}): Promise<OpfsSyncHandle> {
    const readOnly = opts.mode === 'read-only';
    if (this.f.writer || (!readOnly && this.f.readers > 0)) throw domError('NoModificationAllowedError', 'the file is locked by another handle');
    if (readOnly) this.f.readers++;
    else this.f.writer = true;
    return new FakeSyncHandle(this.f, readOnly, this.fs);
  }
}

export class FakeOpfs implements OpfsDirectory {
  readonly dirs = new Map<string, FakeOpfs>();
  readonly files = new Map<string, FakeFile>();

  constructor(readonly opts: FakeOpfsOptions = {}, private readonly root?: FakeOpfs) {}

  used(): number {
    const top = this.root ?? this;
    const sum = (d: FakeOpfs): number => [...d.files.values()].reduce((s, f) => s + f.size, 0) + [...d.dirs.values()].reduce((s, x) => s + sum(x), 0);
    return sum(top);
  }

  async getDirectoryHandle(name: string, opts: { create?: boolean } = {}): Promise<OpfsDirectory> {
    let d = this.dirs.get(name);
    if (!d) {
      if (!opts.create) throw domError('NotFoundError', `no directory ${name}`);
      this.dirs.set(name, (d = new FakeOpfs(this.opts, this.root ?? this)));
    }
    return d;
  }

  async getFileHandle(name: string, opts: { create?: boolean } = {}): Promise<OpfsFileHandle> {
    let f = this.files.get(name);
    if (!f) {
      if (!opts.create) throw domError('NotFoundError', `no file ${name}`);
      this.files.set(name, (f = { data: new Uint8Array(0), size: 0, writer: false, readers: 0 }));
    }
    return new FakeFileHandle(f, this.root ?? this);
  }

  async removeEntry(name: string, opts: { recursive?: boolean } = {}): Promise<void> {
    const f = this.files.get(name);
    if (f) {
      if (f.writer || f.readers) throw domError('NoModificationAllowedError', `${name} is open`);
      this.files.delete(name);
      return;
    }
    const d = this.dirs.get(name);
    if (!d) throw domError('NotFoundError', `no entry ${name}`);
    const locked = (x: FakeOpfs): boolean => [...x.files.values()].some((g) => g.writer || g.readers > 0) || [...x.dirs.values()].some(locked);
    if (locked(d)) throw domError('NoModificationAllowedError', `${name} holds an open file`);
    if (!opts.recursive && (d.files.size || d.dirs.size)) throw domError('InvalidModificationError', `${name} is not empty`);
    this.dirs.delete(name);
  }

  /** The one model folder under <cache name> (tests open one folder per store). */
  folder(cacheName: string): FakeOpfs {
    const top = this.dirs.get(cacheName);
    const only = top && [...top.dirs.values()];
    if (!only || only.length !== 1) throw new Error(`expected one folder under ${cacheName}`);
    return only[0];
  }
}
