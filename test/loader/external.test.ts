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
import { toFloat32 } from '../../loader/dtype.js';
import { CorruptFileError, SizeLimitError, SourceReadError, UnsafePathError } from '../../loader/errors.js';
import { loadOnnxUrl } from '../../loader/fetch-source.js';
import { loadOnnx } from '../../loader/node.js';
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

  it.each([['abs.onnx'], ['up.onnx'], ['updeep.onnx'], ['win.onnx'], ['link.onnx']])('%s: refused as UnsafePathError', async (f) => {
    const e = await loadOnnx(join(dir, f)).catch((x) => x);
    expect(e).toBeInstanceOf(UnsafePathError);
    expect(String(e.message)).toMatch(/tensor w/);
  });

  it('ranges past the end, lengths that disagree with dims, missing files, total caps', async () => {
    await expect(loadOnnx(join(dir, 'past.onnx'))).rejects.toBeInstanceOf(CorruptFileError);
    await expect(loadOnnx(join(dir, 'len.onnx'))).rejects.toThrow(/length 12.*need 8/);
    await expect(loadOnnx(join(dir, 'missing.onnx'))).rejects.toBeInstanceOf(SourceReadError);
    await expect(loadOnnx(join(dir, 'ok.onnx'), { maxBytes: 10 })).rejects.toBeInstanceOf(SizeLimitError);
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
