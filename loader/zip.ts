/**
 * Zip central-directory reader for torch.save archives. torch writes every entry STORED (uncompressed, data
 * 64-byte aligned), so an entry's bytes are a view of the archive; deflated entries are inflated into a buffer of
 * exactly the declared size. Supports zip64 (checkpoints over 4 GiB). Every offset and size is validated against
 * the archive before use. Works on a synchronous RangeReader so that parsePt stays synchronous and Node can read
 * only the ranges it needs from a file descriptor.
 */
import { inflateSync } from 'fflate';
import { allocBytes } from './dtype.js';
import { CorruptFileError, SizeLimitError } from './errors.js';

export interface RangeReader {
  readonly name: string;
  readonly size: number;
  /** Exactly `length` bytes at `offset`; callers check the range first. */
  read(offset: number, length: number): Uint8Array;
}

export function memoryReader(bytes: Uint8Array, name = '(memory)'): RangeReader {
  return { name, size: bytes.length, read: (o, n) => bytes.subarray(o, o + n) };
}

export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

const EOCD = 0x06054b50;
const EOCD64 = 0x06064b50;
const EOCD64_LOCATOR = 0x07064b50;
const CDH = 0x02014b50;
const LFH = 0x04034b50;
const utf8 = new TextDecoder('utf-8', { fatal: false });

function u64(dv: DataView, at: number, file: string): number {
  const v = dv.getUint32(at, true) + dv.getUint32(at + 4, true) * 4294967296;
  if (!Number.isSafeInteger(v)) throw new CorruptFileError('zip64 value beyond 2^53', { file });
  return v;
}

function readChecked(r: RangeReader, offset: number, length: number, what: string): DataView {
  if (offset < 0 || length < 0 || offset + length > r.size) {
    throw new CorruptFileError(`zip ${what} at [${offset}, ${offset + length}) is outside the ${r.size}-byte file`, { file: r.name });
  }
  const b = r.read(offset, length);
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/** Reads the central directory: name → entry. Duplicate names are refused (they make "which one?" ambiguous). */
export function readZipDirectory(r: RangeReader): Map<string, ZipEntry> {
  const file = r.name;
  if (r.size < 22) throw new CorruptFileError('too short to be a zip archive', { file });
  const tailLen = Math.min(r.size, 22 + 65535);
  const tailStart = r.size - tailLen;
  const tail = readChecked(r, tailStart, tailLen, 'tail');
  let eocd = -1;
  for (let i = tailLen - 22; i >= 0; i--) {
    if (tail.getUint32(i, true) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new CorruptFileError('no zip end-of-central-directory record (wrong magic or truncated)', { file });
  let count = tail.getUint16(eocd + 10, true);
  let cdSize = tail.getUint32(eocd + 12, true);
  let cdOffset = tail.getUint32(eocd + 16, true);
  const eocdAbs = tailStart + eocd;
  if (eocdAbs >= 20 && (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff)) {
    const loc = readChecked(r, eocdAbs - 20, 20, 'zip64 locator');
    if (loc.getUint32(0, true) !== EOCD64_LOCATOR) throw new CorruptFileError('zip64 locator missing', { file });
    const recOff = u64(loc, 8, file);
    const rec = readChecked(r, recOff, 56, 'zip64 end record');
    if (rec.getUint32(0, true) !== EOCD64) throw new CorruptFileError('bad zip64 end record signature', { file });
    count = u64(rec, 32, file);
    cdSize = u64(rec, 40, file);
    cdOffset = u64(rec, 48, file);
  }
  if (count * 46 > cdSize) throw new CorruptFileError(`central directory of ${cdSize} bytes cannot hold ${count} entries`, { file });
  const cd = readChecked(r, cdOffset, cdSize, 'central directory');
  const entries = new Map<string, ZipEntry>();
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cdSize || cd.getUint32(p, true) !== CDH) throw new CorruptFileError(`bad central directory entry ${i}`, { file });
    const method = cd.getUint16(p + 10, true);
    let compressedSize = cd.getUint32(p + 20, true);
    let size = cd.getUint32(p + 24, true);
    const nameLen = cd.getUint16(p + 28, true);
    const extraLen = cd.getUint16(p + 30, true);
    const commentLen = cd.getUint16(p + 32, true);
    let localHeaderOffset = cd.getUint32(p + 42, true);
    if (p + 46 + nameLen + extraLen + commentLen > cdSize) throw new CorruptFileError(`central directory entry ${i} overruns`, { file });
    const name = utf8.decode(new Uint8Array(cd.buffer, cd.byteOffset + p + 46, nameLen));
    // zip64 extra field: only the fields that are 0xffffffff in the header are present, in this order.
    let e = p + 46 + nameLen;
    const eEnd = e + extraLen;
    while (e + 4 <= eEnd) {
      const id = cd.getUint16(e, true);
      const len = cd.getUint16(e + 2, true);
      if (e + 4 + len > eEnd) throw new CorruptFileError(`extra field overruns in entry ${name}`, { file });
      if (id === 1) {
        let q = e + 4;
        const take = (): number => {
          if (q + 8 > e + 4 + len) throw new CorruptFileError(`short zip64 extra field in entry ${name}`, { file });
          const v = u64(cd, q, file);
          q += 8;
          return v;
        };
        if (size === 0xffffffff) size = take();
        if (compressedSize === 0xffffffff) compressedSize = take();
        if (localHeaderOffset === 0xffffffff) localHeaderOffset = take();
      }
      e += 4 + len;
    }
    if (entries.has(name)) throw new CorruptFileError(`duplicate zip entry ${name}`, { file });
    if (localHeaderOffset + 30 + compressedSize > cdOffset) {
      throw new CorruptFileError(`zip entry ${name} (offset ${localHeaderOffset}, ${compressedSize} bytes) overlaps the central directory`, { file });
    }
    entries.set(name, { name, method, compressedSize, size, localHeaderOffset });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

/** Offset of an entry's data (after its local header), validated against the archive. */
export function entryDataOffset(r: RangeReader, e: ZipEntry): number {
  const lh = readChecked(r, e.localHeaderOffset, 30, `local header of ${e.name}`);
  if (lh.getUint32(0, true) !== LFH) throw new CorruptFileError(`bad local header signature for entry ${e.name}`, { file: r.name });
  const start = e.localHeaderOffset + 30 + lh.getUint16(26, true) + lh.getUint16(28, true);
  if (start + e.compressedSize > r.size) {
    throw new CorruptFileError(`entry ${e.name} data [${start}, ${start + e.compressedSize}) runs past the end`, { file: r.name });
  }
  return start;
}

/** Entry bytes: a view for STORED entries, an exact-size inflate for DEFLATE (bounded by maxBytes). */
export function readZipEntry(r: RangeReader, e: ZipEntry, maxBytes = 2 ** 32): Uint8Array {
  const start = entryDataOffset(r, e);
  if (e.method === 0) {
    if (e.size !== e.compressedSize) throw new CorruptFileError(`stored entry ${e.name} with two sizes`, { file: r.name });
    return r.read(start, e.size);
  }
  if (e.method !== 8) throw new CorruptFileError(`entry ${e.name} uses unsupported compression ${e.method}`, { file: r.name });
  if (e.size > maxBytes) throw new SizeLimitError(`entry ${e.name} inflates to ${e.size} bytes`, { file: r.name });
  const out = allocBytes(e.size, { file: r.name, tensor: e.name });
  let got: Uint8Array;
  try {
    got = inflateSync(r.read(start, e.compressedSize), { out });
  } catch (err) {
    throw new CorruptFileError(`entry ${e.name} does not inflate: ${(err as Error).message}`, { file: r.name });
  }
  if (got.length !== e.size) throw new CorruptFileError(`entry ${e.name} inflated to ${got.length} bytes, expected ${e.size}`, { file: r.name });
  return got;
}
