/**
 * Random-access byte sources: the one interface the readers use to fetch byte ranges, so that the same parsers work
 * on an in-memory buffer, a Node file handle (node-source.ts) and HTTP Range requests (fetch-source.ts).
 * Browser-safe.
 */
import { CorruptFileError, UnsafePathError, type LoaderErrorInfo } from './errors.js';

export interface ByteSource {
  /** Path or URL, used in error messages and progress. */
  readonly name: string;
  /** Total size in bytes. */
  size(): Promise<number>;
  /** Exactly `length` bytes at `offset` (a fresh buffer or a view); throws CorruptFileError past the end. */
  read(offset: number, length: number): Promise<Uint8Array>;
  /**
   * Present where the bytes are on this machine (a file by path in Node, an OPFS file in a browser Worker): fills
   * dst with the dst.length bytes at `offset`, synchronously. Lazy loads then leave tensors in the file
   * (loader/range-record.ts) and keep the source open for as long as the records live; its owner closes it.
   */
  readSync?(dst: Uint8Array, offset: number, info: LoaderErrorInfo): void;
  close?(): Promise<void>;
}

/** Bounds check shared by every source: callers never get short reads. */
export function checkRange(name: string, offset: number, length: number, size: number, info: LoaderErrorInfo = {}): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > size) {
    throw new CorruptFileError(`byte range [${offset}, ${offset + length}) outside ${name} (${size} bytes)`, { file: name, ...info });
  }
}

export class MemorySource implements ByteSource {
  constructor(readonly bytes: Uint8Array, readonly name = '(memory)') {}
  async size(): Promise<number> {
    return this.bytes.length;
  }
  async read(offset: number, length: number): Promise<Uint8Array> {
    checkRange(this.name, offset, length, this.bytes.length);
    return this.bytes.subarray(offset, offset + length);
  }
}

/**
 * Validates an external-data location taken from a model file and returns it normalised ("a/b.bin"). Absolute
 * paths, drive letters, URLs, NUL bytes and any ".." that climbs above the model folder are refused; symlinks are
 * checked separately by the Node source, which can see the file system.
 */
export function safeRelativeLocation(location: string, info: LoaderErrorInfo): string {
  if (!location || location.includes('\0')) throw new UnsafePathError(`empty or NUL-containing location`, info);
  if (/^[\\/]/.test(location) || /^[a-zA-Z]:/.test(location) || /^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(location)) {
    throw new UnsafePathError(`external data location "${location}" is absolute`, info);
  }
  const out: string[] = [];
  for (const seg of location.split(/[\\/]+/)) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (!out.length) throw new UnsafePathError(`external data location "${location}" escapes the model folder`, info);
      out.pop();
    } else out.push(seg);
  }
  if (!out.length) throw new UnsafePathError(`external data location "${location}" names the model folder itself`, info);
  return out.join('/');
}
