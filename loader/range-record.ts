/**
 * Tensors left in their files: a record whose bytes stay at [offset, offset + length) of a file that can be read
 * synchronously (a Node file descriptor, a browser OPFS sync access handle) until a consumer asks for them.
 * Browser-safe.
 *
 * readInto fills the caller's buffer with no allocation, so a weight goes from the file straight to where it lives
 * (a WebAssembly memory, an upload staging buffer) and the model never sits in host memory whole: on the CI VM a
 * fresh page costs ~3 s a GB to touch, 30× the copy, and a browser tab has a few GB in all. `bytes` reads a fresh
 * aligned buffer on demand and keeps it only while someone else does (WeakRef), so code that knows nothing of
 * laziness works unchanged.
 */
import { allocBytes } from './dtype.js';
import type { LoaderErrorInfo } from './errors.js';
import type { ProgressFn, TensorRecord } from './types.js';

/** Tensors below this stay in memory under `lazy` (a read each would cost more than they hold). */
export const LAZY_MIN_BYTES = 1 << 16;

/** A file read synchronously: exactly dst.length bytes at `offset`, or a typed LoaderError naming `info`. */
export interface SyncReader {
  readonly name: string;
  readSync(dst: Uint8Array, offset: number, info: LoaderErrorInfo): void;
}

export function rangeRecord(
  file: SyncReader,
  offset: number,
  length: number,
  meta: Omit<TensorRecord, 'bytes' | 'readInto'>,
  /** Called with the byte count of every read that completed (a loader's progress). */
  onRead?: (bytes: number) => void,
): TensorRecord {
  const info = { file: file.name, tensor: meta.name };
  let kept: WeakRef<Uint8Array> | undefined;
  const readInto = (dst: Uint8Array, at?: number): void => {
    const n = dst.length;
    if (at === undefined ? n !== length : !(Number.isSafeInteger(at) && at >= 0 && at + n <= length)) {
      throw new RangeError(`${meta.name}: readInto of ${n} bytes ${at === undefined ? `needs exactly ${length}` : `at ${at} is outside its ${length}`}`);
    }
    file.readSync(dst, offset + (at ?? 0), info);
    onRead?.(n);
  };
  return {
    ...meta,
    readInto,
    get bytes(): Uint8Array {
      let b = kept?.deref();
      if (!b) {
        b = allocBytes(length, info);
        readInto(b);
        kept = new WeakRef(b);
      }
      return b;
    },
  };
}

/** Progress of a lazy load: `loaded` bytes now, then each read as it happens (re-reads capped at `total`). */
export function readProgress(file: string, loaded: number, total: number, onProgress?: ProgressFn): ((n: number) => void) | undefined {
  if (!onProgress) return undefined;
  onProgress({ file, loaded, total });
  return (n) => {
    loaded = Math.min(total, loaded + n);
    onProgress({ file, loaded, total });
  };
}
