/**
 * Test-only writers for torch.save-style archives: a protocol-2 pickle of an OrderedDict state_dict (the exact
 * opcodes torch emits) and a STORED zip with 64-byte aligned data. Used to build checkpoints with features the
 * fixtures lack (strides, offsets, shared storages, fp16/bf16/int64) and hostile variants.
 */
const enc = new TextEncoder();

export interface PtTensorSpec {
  name: string;
  storageKey: string;
  storageType: string; // FloatStorage, HalfStorage, BFloat16Storage, LongStorage, ...
  numel: number;
  offset: number;
  size: number[];
  stride: number[];
}

export class PickleBuilder {
  private parts: number[] = [];
  byte(...b: number[]): this {
    this.parts.push(...b);
    return this;
  }
  raw(b: Uint8Array): this {
    for (const x of b) this.parts.push(x);
    return this;
  }
  global(module: string, name: string): this {
    return this.byte(0x63).raw(enc.encode(`${module}\n${name}\n`));
  }
  str(s: string): this {
    const b = enc.encode(s);
    return this.byte(0x58, b.length & 255, (b.length >> 8) & 255, (b.length >> 16) & 255, b.length >>> 24).raw(b);
  }
  int(v: number): this {
    if (v >= 0 && v < 256) return this.byte(0x4b, v);
    if (v >= -(2 ** 31) && v < 2 ** 31) {
      const b = new Uint8Array(4);
      new DataView(b.buffer).setInt32(0, v, true);
      return this.byte(0x4a).raw(b);
    }
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigInt64(0, BigInt(v), true);
    return this.byte(0x8a, 8).raw(b);
  }
  tuple(items: number[]): this {
    this.byte(0x28);
    for (const v of items) this.int(v);
    return this.byte(0x74);
  }
  bytes(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

export function stateDictPickle(tensors: PtTensorSpec[]): Uint8Array {
  const p = new PickleBuilder().byte(0x80, 2).global('collections', 'OrderedDict').byte(0x29, 0x52).byte(0x28);
  for (const t of tensors) {
    p.str(t.name).global('torch._utils', '_rebuild_tensor_v2').byte(0x28);
    p.byte(0x28).str('storage').global('torch', t.storageType).str(t.storageKey).str('cpu').int(t.numel).byte(0x74, 0x51);
    p.int(t.offset).tuple(t.size).tuple(t.stride).byte(0x89);
    p.global('collections', 'OrderedDict').byte(0x29, 0x52).byte(0x74, 0x52);
  }
  return p.byte(0x75, 0x2e).bytes();
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(b: Uint8Array): number {
  let c = 0xffffffff;
  for (const x of b) c = CRC_TABLE[(c ^ x) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export interface ZipLayout {
  /** [file position, bytes] pieces; gaps between them are holes (sparse on disk). */
  pieces: [number, Uint8Array][];
  size: number;
}

/**
 * STORED zip; data of every entry starts at a multiple of 64 like torch's writer. `base` moves the first entry
 * (leaving a hole before it, to build > 4 GiB archives as sparse files); `zip64` writes zip64 extra fields, the
 * zip64 end record and its locator, as torch does for archives over 4 GiB.
 */
export function zipLayout(entries: [string, Uint8Array][], opts: { base?: number; zip64?: boolean } = {}): ZipLayout {
  const z64 = opts.zip64 ?? false;
  const pieces: [number, Uint8Array][] = [];
  const central: Uint8Array[] = [];
  let off = opts.base ?? 0;
  for (const [name, data] of entries) {
    const nb = enc.encode(name);
    const pad = (64 - ((off + 30 + nb.length + 4) % 64)) % 64;
    const lh = new Uint8Array(30 + nb.length + 4 + pad);
    const dv = new DataView(lh.buffer);
    dv.setUint32(0, 0x04034b50, true);
    dv.setUint16(4, 20, true);
    const crc = crc32(data);
    dv.setUint32(14, crc, true);
    dv.setUint32(18, data.length, true);
    dv.setUint32(22, data.length, true);
    dv.setUint16(26, nb.length, true);
    dv.setUint16(28, 4 + pad, true);
    lh.set(nb, 30);
    dv.setUint16(30 + nb.length, 0xfff0, true); // private extra id carrying the padding
    dv.setUint16(32 + nb.length, pad, true);
    const extra = z64 ? 28 : 0;
    const ch = new Uint8Array(46 + nb.length + extra);
    const cv = new DataView(ch.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(6, z64 ? 45 : 20, true);
    cv.setUint32(16, crc, true);
    cv.setUint32(20, z64 ? 0xffffffff : data.length, true);
    cv.setUint32(24, z64 ? 0xffffffff : data.length, true);
    cv.setUint16(28, nb.length, true);
    cv.setUint16(30, extra, true);
    cv.setUint32(42, z64 ? 0xffffffff : off, true);
    ch.set(nb, 46);
    if (z64) {
      const e = 46 + nb.length;
      cv.setUint16(e, 1, true);
      cv.setUint16(e + 2, 24, true);
      cv.setBigUint64(e + 4, BigInt(data.length), true); // uncompressed
      cv.setBigUint64(e + 12, BigInt(data.length), true); // compressed
      cv.setBigUint64(e + 20, BigInt(off), true); // local header offset
    }
    central.push(ch);
    pieces.push([off, lh], [off + lh.length, data]);
    off += lh.length + data.length;
  }
  const cdOff = off;
  const cdSize = central.reduce((a, c) => a + c.length, 0);
  for (const c of central) {
    pieces.push([off, c]);
    off += c.length;
  }
  if (z64) {
    const rec = new Uint8Array(56);
    const rv = new DataView(rec.buffer);
    rv.setUint32(0, 0x06064b50, true);
    rv.setBigUint64(4, 44n, true);
    rv.setUint16(12, 45, true);
    rv.setUint16(14, 45, true);
    rv.setBigUint64(24, BigInt(entries.length), true);
    rv.setBigUint64(32, BigInt(entries.length), true);
    rv.setBigUint64(40, BigInt(cdSize), true);
    rv.setBigUint64(48, BigInt(cdOff), true);
    const loc = new Uint8Array(20);
    const lv = new DataView(loc.buffer);
    lv.setUint32(0, 0x07064b50, true);
    lv.setBigUint64(8, BigInt(off), true);
    lv.setUint32(16, 1, true);
    pieces.push([off, rec], [off + 56, loc]);
    off += 76;
  }
  const eocd = new Uint8Array(22);
  const ev = new DataView(eocd.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, z64 ? 0xffff : entries.length, true);
  ev.setUint16(10, z64 ? 0xffff : entries.length, true);
  ev.setUint32(12, z64 ? 0xffffffff : cdSize, true);
  ev.setUint32(16, z64 ? 0xffffffff : cdOff, true);
  pieces.push([off, eocd]);
  return { pieces, size: off + 22 };
}

/** In-memory STORED zip (see zipLayout). */
export function storedZip(entries: [string, Uint8Array][], opts: { zip64?: boolean } = {}): Uint8Array {
  const l = zipLayout(entries, opts);
  const out = new Uint8Array(l.size);
  for (const [p, b] of l.pieces) out.set(b, p);
  return out;
}

/** A whole checkpoint: archive/data.pkl + archive/data/<key> + archive/version. */
export function ptEntries(tensors: PtTensorSpec[], storages: Record<string, Uint8Array>, pickle?: Uint8Array): [string, Uint8Array][] {
  return [
    ['archive/data.pkl', pickle ?? stateDictPickle(tensors)],
    ...Object.entries(storages).map(([k, v]) => [`archive/data/${k}`, v] as [string, Uint8Array]),
    ['archive/version', enc.encode('3\n')],
  ];
}

export function buildPt(tensors: PtTensorSpec[], storages: Record<string, Uint8Array>, pickle?: Uint8Array, opts: { zip64?: boolean } = {}): Uint8Array {
  return storedZip(ptEntries(tensors, storages, pickle), opts);
}
