/**
 * Minimal `torch.save(state_dict)` writer (zip format): STORED entries `<archive>/data.pkl` (pickle protocol 2 of
 * an OrderedDict of `torch._utils._rebuild_tensor_v2(storage, 0, size, stride, False, OrderedDict())`),
 * `<archive>/data/<key>` (raw little-endian storage bytes, 64-byte aligned like torch writes them),
 * `<archive>/byteorder` and `<archive>/version`. Tensors that share a `storage` name share bytes (tied weights).
 *
 * Streaming: tensor bytes come from a callback per storage and go straight to disk with their CRC-32, so a 2 GB
 * checkpoint never sits in memory. No zip64: each checkpoint must stay under 4 GiB (the real ones do).
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { crc32 } from 'node:zlib';

export type TorchDType = 'float32' | 'float16' | 'int64';
const STORAGE: Record<TorchDType, [string, number]> = { float32: ['FloatStorage', 4], float16: ['HalfStorage', 2], int64: ['LongStorage', 8] };

export interface SaveTensor {
  name: string;
  dims: number[];
  dtype?: TorchDType;
  /** Storage key; tensors with the same key share one storage (default: own key). */
  storage?: string;
}

class Pickler {
  private out: number[] = [];
  byte(...b: number[]) { this.out.push(...b); }
  str(s: string) {
    const b = Buffer.from(s, 'utf8');
    this.byte(0x58, b.length & 255, (b.length >> 8) & 255, (b.length >> 16) & 255, b.length >>> 24, ...b); // BINUNICODE
  }
  int(v: number) {
    if (v >= 0 && v < 256) this.byte(0x4b, v); // BININT1
    else if (v >= 0 && v < 65536) this.byte(0x4d, v & 255, v >> 8); // BININT2
    else if (v >= -(2 ** 31) && v < 2 ** 31) this.byte(0x4a, v & 255, (v >> 8) & 255, (v >> 16) & 255, (v >>> 24) & 255); // BININT
    else {
      const b = Buffer.alloc(8);
      b.writeBigInt64LE(BigInt(v));
      this.byte(0x8a, 8, ...b); // LONG1
    }
  }
  global(mod: string, name: string) { this.byte(0x63, ...Buffer.from(`${mod}\n${name}\n`)); }
  tuple(xs: number[]) { this.byte(0x28); for (const x of xs) this.int(x); this.byte(0x74); } // MARK … TUPLE
  bytes() { return Uint8Array.from(this.out); }
}

function contiguousStride(dims: number[]): number[] {
  const s = new Array(dims.length).fill(1);
  for (let i = dims.length - 2; i >= 0; i--) s[i] = s[i + 1] * dims[i + 1];
  return s;
}

/** torch numbers storages 0, 1, 2, … in first-use order; tensors naming the same `storage` share one. */
function storageKeys(tensors: SaveTensor[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const t of tensors) {
    const id = t.storage ?? `#${t.name}`;
    if (!m.has(id)) m.set(id, String(m.size));
  }
  return m;
}
const keyOf = (keys: Map<string, string>, t: SaveTensor) => keys.get(t.storage ?? `#${t.name}`)!;

export function pickleStateDict(tensors: SaveTensor[]): Uint8Array {
  const keys = storageKeys(tensors);
  const p = new Pickler();
  p.byte(0x80, 2);
  p.global('collections', 'OrderedDict');
  p.byte(0x29, 0x52, 0x28); // EMPTY_TUPLE REDUCE MARK
  for (const t of tensors) {
    const [cls] = STORAGE[t.dtype ?? 'float32'];
    const numel = t.dims.reduce((a, b) => a * b, 1);
    p.str(t.name);
    p.global('torch._utils', '_rebuild_tensor_v2');
    p.byte(0x28); // MARK (args)
    p.byte(0x28); // MARK (persistent id)
    p.str('storage');
    p.global('torch', cls);
    p.str(keyOf(keys, t));
    p.str('cpu');
    p.int(numel);
    p.byte(0x74, 0x51); // TUPLE BINPERSID
    p.int(0);
    p.tuple(t.dims);
    p.tuple(contiguousStride(t.dims));
    p.byte(0x89); // NEWFALSE
    p.global('collections', 'OrderedDict');
    p.byte(0x29, 0x52); // EMPTY_TUPLE REDUCE
    p.byte(0x74, 0x52); // TUPLE REDUCE
  }
  p.byte(0x75, 0x2e); // SETITEMS STOP
  return p.bytes();
}

interface CdEntry { name: Buffer; crc: number; size: number; offset: number }

/**
 * Writes `path`. `fill(storageKey, tensor)` returns the storage bytes (called once per distinct storage, in
 * order). Returns the file size.
 */
export function saveStateDict(path: string, tensors: SaveTensor[], fill: (t: SaveTensor) => Uint8Array, archive = 'archive'): number {
  const fd = openSync(path, 'w');
  let pos = 0;
  const cd: CdEntry[] = [];
  const write = (b: Uint8Array) => {
    let o = 0;
    while (o < b.length) o += writeSync(fd, b, o, b.length - o);
    pos += b.length;
  };
  const entry = (name: string, data: Uint8Array) => {
    const nb = Buffer.from(name);
    const headerEnd = pos + 30 + nb.length;
    const pad = (64 - ((headerEnd + 4) % 64)) % 64; // extra field (4-byte header + pad) aligns the data to 64
    const extra = Buffer.alloc(4 + pad);
    extra.writeUInt16LE(0x4b46, 0); // 'FK', the id torch uses for its padding field
    extra.writeUInt16LE(pad, 2);
    const crc = crc32(data);
    const h = Buffer.alloc(30);
    h.writeUInt32LE(0x04034b50, 0);
    h.writeUInt16LE(20, 4);
    h.writeUInt32LE(crc >>> 0, 14);
    h.writeUInt32LE(data.length, 18);
    h.writeUInt32LE(data.length, 22);
    h.writeUInt16LE(nb.length, 26);
    h.writeUInt16LE(extra.length, 28);
    cd.push({ name: nb, crc: crc >>> 0, size: data.length, offset: pos });
    write(h);
    write(nb);
    write(extra);
    write(data);
  };
  try {
    entry(`${archive}/data.pkl`, pickleStateDict(tensors));
    entry(`${archive}/byteorder`, Buffer.from('little'));
    const keys = storageKeys(tensors);
    const seen = new Set<string>();
    for (const t of tensors) {
      const key = keyOf(keys, t);
      if (seen.has(key)) continue;
      seen.add(key);
      entry(`${archive}/data/${key}`, fill(t));
    }
    entry(`${archive}/version`, Buffer.from('3\n'));
    const cdStart = pos;
    for (const e of cd) {
      const h = Buffer.alloc(46);
      h.writeUInt32LE(0x02014b50, 0);
      h.writeUInt16LE(20, 4);
      h.writeUInt16LE(20, 6);
      h.writeUInt32LE(e.crc, 16);
      h.writeUInt32LE(e.size, 20);
      h.writeUInt32LE(e.size, 24);
      h.writeUInt16LE(e.name.length, 28);
      h.writeUInt32LE(e.offset, 42);
      write(h);
      write(e.name);
    }
    const end = Buffer.alloc(22);
    end.writeUInt32LE(0x06054b50, 0);
    end.writeUInt16LE(cd.length, 8);
    end.writeUInt16LE(cd.length, 10);
    end.writeUInt32LE(pos - cdStart, 12);
    end.writeUInt32LE(cdStart, 16);
    write(end);
  } finally {
    closeSync(fd);
  }
  return pos;
}
