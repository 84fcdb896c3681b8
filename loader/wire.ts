/**
 * Minimal protobuf wire-format reader: just enough for ONNX ModelProto. Length-delimited fields come back as
 * subarray views of the input, so raw_data is never copied. Every read is bounds-checked and throws
 * CorruptFileError, never RangeError.
 */
import { CorruptFileError, type LoaderErrorInfo } from './errors.js';

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LEN = 2;
export const WIRE_FIXED32 = 5;

const utf8 = new TextDecoder('utf-8', { fatal: false });

export class WireReader {
  pos: number;
  readonly end: number;
  constructor(
    readonly buf: Uint8Array,
    readonly info: LoaderErrorInfo,
    start = 0,
    end = buf.length,
  ) {
    this.pos = start;
    this.end = end;
  }

  static of(buf: Uint8Array, info: LoaderErrorInfo): WireReader {
    return new WireReader(buf, info, 0, buf.length);
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  fail(msg: string): never {
    throw new CorruptFileError(`protobuf: ${msg} at byte ${this.pos}`, this.info);
  }

  /** Varint as two 32-bit halves (exact for the full 64-bit range). */
  private varint64(): [number, number] {
    let lo = 0;
    let hi = 0;
    let shift = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) this.fail('truncated varint');
      const b = this.buf[this.pos++];
      if (shift < 28) lo |= (b & 0x7f) << shift;
      else if (shift === 28) {
        lo |= (b & 0x0f) << 28;
        hi |= (b & 0x7f) >> 4;
      } else hi |= (b & 0x7f) << (shift - 32);
      if (!(b & 0x80)) return [lo >>> 0, hi >>> 0];
      shift += 7;
    }
    this.fail('varint longer than 10 bytes');
  }

  /** Unsigned varint that must fit a safe integer (lengths, tags, enum values). */
  uint(): number {
    const [lo, hi] = this.varint64();
    if (hi >= 0x200000) this.fail('varint beyond 2^53');
    return hi * 4294967296 + lo;
  }

  /** int64 / int32 field as a signed number when it is a safe integer, otherwise as a bigint. */
  int64(): number | bigint {
    const [lo, hi] = this.varint64();
    const signedHi = hi | 0;
    const v = signedHi * 4294967296 + lo;
    if (Number.isSafeInteger(v)) return v;
    return (BigInt(signedHi) << 32n) | BigInt(lo);
  }

  /** int64 that must be a safe integer (dims, offsets). */
  safeInt64(what: string): number {
    const v = this.int64();
    if (typeof v !== 'number') this.fail(`${what} ${v} is not a safe integer`);
    return v;
  }

  tag(): [field: number, wire: number] {
    const t = this.uint();
    const field = Math.floor(t / 8);
    if (field === 0) this.fail('field number 0');
    return [field, t & 7];
  }

  /** Length-delimited payload as a view (no copy). */
  bytes(): Uint8Array {
    const n = this.uint();
    if (n > this.end - this.pos) this.fail(`length ${n} runs past the end (${this.end - this.pos} bytes left)`);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  string(): string {
    return utf8.decode(this.bytes());
  }

  /** Sub-reader over a length-delimited message. */
  message(): WireReader {
    const v = this.bytes();
    return new WireReader(this.buf, this.info, v.byteOffset - this.buf.byteOffset, v.byteOffset - this.buf.byteOffset + v.length);
  }

  fixed32Bytes(): Uint8Array {
    if (this.end - this.pos < 4) this.fail('truncated fixed32');
    const v = this.buf.subarray(this.pos, this.pos + 4);
    this.pos += 4;
    return v;
  }

  float(): number {
    const b = this.fixed32Bytes();
    return new DataView(b.buffer, b.byteOffset, 4).getFloat32(0, true);
  }

  skip(wire: number): void {
    switch (wire) {
      case WIRE_VARINT:
        this.varint64();
        return;
      case WIRE_FIXED64:
        if (this.end - this.pos < 8) this.fail('truncated fixed64');
        this.pos += 8;
        return;
      case WIRE_LEN:
        this.bytes();
        return;
      case WIRE_FIXED32:
        this.fixed32Bytes();
        return;
      default:
        this.fail(`unsupported wire type ${wire}`);
    }
  }

  /** Repeated varint field in either packed (LEN) or unpacked (one VARINT) encoding, appended to `out`. */
  repeatedInt64(wire: number, out: (number | bigint)[]): void {
    if (wire === WIRE_VARINT) {
      out.push(this.int64());
      return;
    }
    if (wire !== WIRE_LEN) this.fail(`wire type ${wire} for a repeated varint`);
    const sub = this.message();
    while (!sub.done) out.push(sub.int64());
  }

  /**
   * Repeated fixed-width field (float = 4, double = 8): packed payload returned as a view, or a single unpacked
   * element as a 4/8-byte view. The caller concatenates views.
   */
  repeatedFixed(wire: number, width: 4 | 8): Uint8Array {
    if (wire === WIRE_LEN) {
      const v = this.bytes();
      if (v.length % width) this.fail(`packed fixed${width * 8} payload of ${v.length} bytes`);
      return v;
    }
    if ((width === 4 && wire !== WIRE_FIXED32) || (width === 8 && wire !== WIRE_FIXED64)) {
      this.fail(`wire type ${wire} for a repeated fixed${width * 8}`);
    }
    if (this.end - this.pos < width) this.fail('truncated fixed field');
    const v = this.buf.subarray(this.pos, this.pos + width);
    this.pos += width;
    return v;
  }
}
