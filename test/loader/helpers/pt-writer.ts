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

/** STORED zip; data of every entry starts at a multiple of 64 like torch's writer. */
export function storedZip(entries: [string, Uint8Array][]): Uint8Array {
  const chunks: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let off = 0;
  for (const [name, data] of entries) {
    const nb = enc.encode(name);
    const pad = (64 - ((off + 30 + nb.length + 4) % 64)) % 64;
    const lh = new Uint8Array(30 + nb.length + 4 + pad);
    const dv = new DataView(lh.buffer);
    dv.setUint32(0, 0x04034b50, true);
    dv.setUint16(4, 20, true);
    dv.setUint32(18, data.length, true);
    dv.setUint32(22, data.length, true);
    dv.setUint16(26, nb.length, true);
    dv.setUint16(28, 4 + pad, true);
    lh.set(nb, 30);
    dv.setUint16(30 + nb.length, 0xfff0, true); // private extra id carrying the padding
    dv.setUint16(32 + nb.length, pad, true);
    const ch = new Uint8Array(46 + nb.length);
    const cv = new DataView(ch.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(6, 20, true);
    cv.setUint32(20, data.length, true);
    cv.setUint32(24, data.length, true);
    cv.setUint16(28, nb.length, true);
    cv.setUint32(42, off, true);
    ch.set(nb, 46);
    central.push(ch);
    chunks.push(lh, data);
    off += lh.length + data.length;
  }
  const cdSize = central.reduce((a, c) => a + c.length, 0);
  const eocd = new Uint8Array(22);
  const ev = new DataView(eocd.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, entries.length, true);
  ev.setUint16(10, entries.length, true);
  ev.setUint32(12, cdSize, true);
  ev.setUint32(16, off, true);
  const all = [...chunks, ...central, eocd];
  const out = new Uint8Array(all.reduce((a, c) => a + c.length, 0));
  let o = 0;
  for (const c of all) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

/** A whole checkpoint: archive/data.pkl + archive/data/<key> + archive/version. */
export function buildPt(tensors: PtTensorSpec[], storages: Record<string, Uint8Array>, pickle?: Uint8Array): Uint8Array {
  return storedZip([
    ['archive/data.pkl', pickle ?? stateDictPickle(tensors)],
    ...Object.entries(storages).map(([k, v]) => [`archive/data/${k}`, v] as [string, Uint8Array]),
    ['archive/version', enc.encode('3\n')],
  ]);
}
