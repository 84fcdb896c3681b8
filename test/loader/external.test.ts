/**
 * ONNX external data from disk (loadOnnx) and over HTTP Range requests (loadOnnxUrl against a local server):
 * values, progress, and every way a location can try to leave the model folder.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFloat32Into, toFloat32 } from '../../loader/dtype.js';
import { CorruptFileError, SizeLimitError, SourceReadError, UnsafePathError } from '../../loader/errors.js';
import { loadOnnxUrl } from '../../loader/fetch-source.js';
import { LAZY_MIN_BYTES, loadOnnx } from '../../loader/node.js';
import { renamedRecord } from '../../loader/store.js';
import type { Progress } from '../../loader/types.js';
import { externalTensor, modelBytes, tensorProto } from './helpers/onnx-writer.js';

let root: string;
let dir: string;
const f32 = (a: number[]) => new Uint8Array(Float32Array.from(a).buffer);

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'loader-ext-'));
  dir = join(root, 'model');
  mkdirSync(join(dir, 'sub'), { recursive: true });
  // weights.bin: 16 bytes of padding, w0 = [1,2,3,4] at 16, w1 = [[5],[6]] at 48 (fp32); sub/h.bin holds fp16 [1, -2].
  const bin = new Uint8Array(64);
  bin.set(f32([1, 2, 3, 4]), 16);
  bin.set(f32([5, 6]), 48);
  writeFileSync(join(dir, 'weights.bin'), bin);
  writeFileSync(join(dir, 'sub', 'h.bin'), new Uint8Array(Uint16Array.of(0x3c00, 0xc000).buffer));
  writeFileSync(join(root, 'secret.bin'), f32([666, 666]));
  symlinkSync(join(root, 'secret.bin'), join(dir, 'link.bin'));
  const ok = modelBytes([
    externalTensor('w0', 1, [4], 'weights.bin', 16, 16),
    externalTensor('w1', 1, [2, 1], './weights.bin', 48, 8),
    externalTensor('h', 10, [2], 'sub/h.bin', 0, 4),
    tensorProto('inline', 1, [1], { floatData: [9] }),
  ]);
  writeFileSync(join(dir, 'ok.onnx'), ok);
  const one = (name: string, loc: string, off = 0, len = 8) => writeFileSync(join(dir, name), modelBytes([externalTensor('w', 1, [2], loc, off, len)]));
  one('abs.onnx', join(root, 'secret.bin'));
  one('up.onnx', '../secret.bin');
  one('updeep.onnx', 'sub/../../secret.bin');
  one('win.onnx', 'C:\\secret.bin');
  one('link.onnx', 'link.bin');
  one('past.onnx', 'weights.bin', 60, 8);
  one('len.onnx', 'weights.bin', 0, 12);
  one('missing.onnx', 'nope.bin');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('loadOnnx external data', () => {
  it('reads each tensor range, inline tensors too, with progress up to the total', async () => {
    const events: Progress[] = [];
    const m = await loadOnnx(join(dir, 'ok.onnx'), { onProgress: (p) => events.push(p) });
    expect(Array.from(toFloat32(m.tensors.get('w0')!))).toEqual([1, 2, 3, 4]);
    expect(m.tensors.get('w1')!.dims).toEqual([2, 1]);
    expect(Array.from(toFloat32(m.tensors.get('w1')!))).toEqual([5, 6]);
    expect(Array.from(toFloat32(m.tensors.get('h')!))).toEqual([1, -2]);
    expect(Array.from(toFloat32(m.tensors.get('inline')!))).toEqual([9]);
    const last = events[events.length - 1];
    expect(last.loaded).toBe(last.total);
    expect(events.every((e, i) => i === 0 || e.loaded >= events[i - 1].loaded || e.file !== events[i - 1].file)).toBe(true);
  });

  // Lazy loads read no tensor, yet must refuse the same files with the same errors, before returning.
  describe.each([[false], [true]])('lazy %s', (lazy) => {
    it.each([['abs.onnx'], ['up.onnx'], ['updeep.onnx'], ['win.onnx'], ['link.onnx']])('%s: refused as UnsafePathError', async (f) => {
      const e = await loadOnnx(join(dir, f), { lazy }).catch((x) => x);
      expect(e).toBeInstanceOf(UnsafePathError);
      expect(String(e.message)).toMatch(/tensor w/);
    });

    it('ranges past the end, lengths that disagree with dims, missing files, total caps', async () => {
      await expect(loadOnnx(join(dir, 'past.onnx'), { lazy })).rejects.toBeInstanceOf(CorruptFileError);
      await expect(loadOnnx(join(dir, 'len.onnx'), { lazy })).rejects.toThrow(/length 12.*need 8/);
      await expect(loadOnnx(join(dir, 'missing.onnx'), { lazy })).rejects.toBeInstanceOf(SourceReadError);
      await expect(loadOnnx(join(dir, 'ok.onnx'), { lazy, maxBytes: 10 })).rejects.toBeInstanceOf(SizeLimitError);
    });
  });
});

describe('loadOnnx lazy: tensors stay in their files until read', () => {
  it('external tensors and large inline ones are file ranges; values equal the eager load', async () => {
    const big = Float32Array.from({ length: LAZY_MIN_BYTES / 4 + 3 }, (_, i) => Math.sin(i));
    writeFileSync(join(dir, 'big.onnx'), modelBytes([
      tensorProto('small', 1, [2], { rawData: f32([7, 8]) }),
      tensorProto('big', 1, [big.length], { rawData: new Uint8Array(big.buffer) }),
      externalTensor('w0', 1, [4], 'weights.bin', 16, 16),
    ]));
    const events: Progress[] = [];
    const lazy = await loadOnnx(join(dir, 'big.onnx'), { lazy: true, onProgress: (p) => events.push(p) });
    // Progress: the model file at load; the external bytes count as a consumer reads them (capped at the total).
    const fileBytes = events[0].loaded;
    expect(events.at(-1)).toEqual({ file: join(dir, 'big.onnx'), loaded: fileBytes, total: fileBytes + 16 });
    lazy.tensors.get('w0')!.readInto!(new Uint8Array(16));
    expect(events.at(-1)!.loaded).toBe(fileBytes + 16);
    lazy.tensors.get('w0')!.readInto!(new Uint8Array(16));
    expect(events.at(-1)!.loaded).toBe(fileBytes + 16);
    const eager = await loadOnnx(join(dir, 'big.onnx'));
    expect([...lazy.tensors.keys()]).toEqual([...eager.tensors.keys()]);
    expect(lazy.tensors.get('small')!.readInto).toBeUndefined();
    expect(lazy.tensors.get('big')!.readInto).toBeTypeOf('function');
    expect(lazy.tensors.get('w0')!.readInto).toBeTypeOf('function');
    for (const [k, t] of eager.tensors) {
      const l = lazy.tensors.get(k)!;
      expect([l.dtype, l.dims]).toEqual([t.dtype, t.dims]);
      expect(toFloat32(l), k).toEqual(toFloat32(t));
    }
    expect(toFloat32(lazy.tensors.get('big')!)).toEqual(big);
    // The small one is a copy, not a view of the (dropped) whole-file buffer.
    expect(lazy.tensors.get('small')!.bytes.buffer.byteLength).toBe(8);
  });

  it('readInto fills a WebAssembly memory; bytes is read on demand and kept while held; renamed records stay lazy', async () => {
    const m = await loadOnnx(join(dir, 'ok.onnx'), { lazy: true });
    const w0 = m.tensors.get('w0')!;
    const mem = new WebAssembly.Memory({ initial: 1, maximum: 2, shared: true });
    w0.readInto!(new Uint8Array(mem.buffer, 64, 16));
    expect(Array.from(new Float32Array(mem.buffer, 64, 4))).toEqual([1, 2, 3, 4]);
    const b = w0.bytes;
    expect(w0.bytes).toBe(b);
    const r = renamedRecord(w0, 'other');
    expect([r.name, w0.name, typeof r.readInto]).toEqual(['other', 'w0', 'function']);
    expect(Array.from(toFloat32(r))).toEqual([1, 2, 3, 4]);
    const dst = new Float32Array(2);
    copyFloat32Into(m.tensors.get('h')!, dst); // float16 in the file: widened
    expect(Array.from(dst)).toEqual([1, -2]);
    expect(() => copyFloat32Into(w0, new Float32Array(3))).toThrow(/w0: 4 values of \[4\] cannot fill 3/);
    expect(() => w0.readInto!(new Uint8Array(12))).toThrow(/readInto of 12 bytes needs exactly 16/);
    const part = new Uint8Array(8);
    w0.readInto!(part, 4); // bytes 4..11: the values 2 and 3
    expect(Array.from(new Float32Array(part.buffer))).toEqual([2, 3]);
    expect(() => w0.readInto!(new Uint8Array(8), 12)).toThrow(/readInto of 8 bytes at 12 is outside its 16/);
  });

  it('a file that shrank or vanished after the load: a typed error naming the file and tensor, never short data', async () => {
    const d = join(root, 'shrink');
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, 'w.bin'), f32([1, 2, 3, 4]));
    writeFileSync(join(d, 'm.onnx'), modelBytes([externalTensor('w', 1, [4], 'w.bin', 0, 16)]));
    const t = (await loadOnnx(join(d, 'm.onnx'), { lazy: true })).tensors.get('w')!;
    writeFileSync(join(d, 'w.bin'), f32([1, 2]));
    expect(() => t.readInto!(new Uint8Array(16))).toThrow(CorruptFileError);
    expect(() => t.bytes).toThrow(/w\.bin.*tensor w/);
    rmSync(join(d, 'w.bin'));
    const e = (() => { try { return t.bytes; } catch (x) { return x; } })();
    expect(e).toBeInstanceOf(SourceReadError);
    expect(String((e as Error).message)).toMatch(/tensor w/);
  });
});

describe('loadOnnxUrl over HTTP Range requests', () => {
  let server: Server;
  let base: string;
  const ranges: string[] = [];
  beforeAll(async () => {
    server = createServer(async (req, res) => {
      const url = new URL(req.url!, 'http://x');
      const noRange = url.pathname.startsWith('/norange/');
      const path = join(root, decodeURIComponent(url.pathname.replace(/^\/norange/, '')));
      let body: Buffer;
      try {
        body = await readFile(path);
      } catch {
        res.writeHead(404).end();
        return;
      }
      const range = /bytes=(\d+)-(\d+)/.exec(req.headers.range ?? '');
      if (range && !noRange) {
        ranges.push(`${url.pathname} ${range[0]}`);
        const [a, b] = [Number(range[1]), Number(range[2])];
        res.writeHead(206, { 'content-length': b - a + 1, 'content-range': `bytes ${a}-${b}/${body.length}` });
        res.end(req.method === 'HEAD' ? undefined : body.subarray(a, b + 1));
      } else {
        res.writeHead(200, { 'content-length': body.length });
        res.end(req.method === 'HEAD' ? undefined : body);
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const addr = server.address() as { port: number };
    base = `http://127.0.0.1:${addr.port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('fetches the model with progress and each external tensor with a Range request', async () => {
    const events: Progress[] = [];
    const m = await loadOnnxUrl(`${base}/model/ok.onnx`, { onProgress: (p) => events.push(p) });
    expect(Array.from(toFloat32(m.tensors.get('w0')!))).toEqual([1, 2, 3, 4]);
    expect(Array.from(toFloat32(m.tensors.get('h')!))).toEqual([1, -2]);
    // w0 [16, 32) and w1 [48, 56) are neighbours: one request covers both (coalescing), h.bin gets its own.
    expect(ranges).toContain('/model/weights.bin bytes=16-55');
    expect(ranges).toContain('/model/sub/h.bin bytes=0-3');
    expect(m.tensors.get('w1')!.bytes.buffer).toBe(m.tensors.get('w0')!.bytes.buffer);
    expect(events[0].file).toMatch(/ok\.onnx$/);
    expect(events[events.length - 1].loaded).toBe(events[events.length - 1].total);
  });

  it('coalescing off (or gaps over the limit) gives one Range request per tensor', async () => {
    ranges.length = 0;
    const m = await loadOnnxUrl(`${base}/model/ok.onnx`, { coalesce: { maxGroupBytes: 1 << 20, maxGapBytes: 8 } });
    expect(Array.from(toFloat32(m.tensors.get('w1')!))).toEqual([5, 6]);
    expect(ranges.filter((r) => r.startsWith('/model/weights.bin')).sort()).toEqual(['/model/weights.bin bytes=16-31', '/model/weights.bin bytes=48-55']);
  });

  it('escaping locations are refused before any request; ignored Range headers are an error', async () => {
    const before = ranges.length;
    await expect(loadOnnxUrl(`${base}/model/up.onnx`)).rejects.toBeInstanceOf(UnsafePathError);
    await expect(loadOnnxUrl(`${base}/model/abs.onnx`)).rejects.toBeInstanceOf(UnsafePathError);
    expect(ranges.length).toBe(before);
    await expect(loadOnnxUrl(`${base}/norange/model/ok.onnx`)).rejects.toThrow(/ignored the Range/);
    await expect(loadOnnxUrl(`${base}/model/missing.onnx`)).rejects.toBeInstanceOf(SourceReadError);
  });
});
