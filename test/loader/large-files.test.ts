/**
 * Files past the 2/4 GiB marks, as sparse files (no disk use): an ONNX external-data file with a tensor at
 * 4.5 GiB, a safetensors file whose data block holds a tensor beyond 4 GiB, and a zip64 .pt with its storage past
 * 4 GiB. The loaders must read just those ranges (never the whole file into one buffer, which Node cannot do
 * beyond 4 GiB anyway) and stay within a small memory budget.
 */
import { closeSync, ftruncateSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toFloat32 } from '../../loader/dtype.js';
import { SizeLimitError } from '../../loader/errors.js';
import { loadOnnx, loadPt, loadSafetensors } from '../../loader/node.js';
import { parsePt } from '../../loader/pt.js';
import { externalTensor, modelBytes } from './helpers/onnx-writer.js';
import { buildPt, ptEntries, zipLayout, type PtTensorSpec } from './helpers/pt-writer.js';

const FAR = 2 ** 32 + 2 ** 29; // 4.5 GiB
let dir: string;
const f32 = (a: number[]) => new Uint8Array(Float32Array.from(a).buffer);

function sparse(path: string, size: number, pieces: [number, Uint8Array][]): void {
  const fd = openSync(path, 'w');
  try {
    ftruncateSync(fd, size);
    for (const [pos, b] of pieces) writeSync(fd, b, 0, b.length, pos);
  } finally {
    closeSync(fd);
  }
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'loader-large-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const spec: PtTensorSpec = { name: 'w', storageKey: '0', storageType: 'FloatStorage', numel: 3, offset: 0, size: [3], stride: [1] };

describe('files beyond 4 GiB', () => {
  it('ONNX external data at offset 4.5 GiB', async () => {
    sparse(join(dir, 'big.bin'), FAR + 4096, [[FAR, f32([1, 2, 3])]]);
    writeFileSync(join(dir, 'big.onnx'), modelBytes([externalTensor('far', 1, [3], 'big.bin', FAR, 12)]));
    const before = process.memoryUsage().arrayBuffers;
    const m = await loadOnnx(join(dir, 'big.onnx'));
    expect(Array.from(toFloat32(m.tensors.get('far')!))).toEqual([1, 2, 3]);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 << 20);
  });

  it('safetensors with a tensor past 4 GiB; a 4.5 GiB tensor is refused by the cap before allocation', async () => {
    const write = (name: string, entries: Record<string, unknown>) => {
      const header = new TextEncoder().encode(JSON.stringify(entries));
      const first = new Uint8Array(8 + header.length);
      new DataView(first.buffer).setUint32(0, header.length, true);
      first.set(header, 8);
      sparse(join(dir, name), 8 + header.length + FAR + 12, [[0, first], [8 + header.length + FAR, f32([4, 5, 6])]]);
      return join(dir, name);
    };
    const w = { dtype: 'F32', shape: [3], data_offsets: [FAR, FAR + 12] };
    const s = await loadSafetensors(write('far.safetensors', { w }));
    expect(Array.from(toFloat32(s.get('w')!))).toEqual([4, 5, 6]);
    const padded = write('pad.safetensors', { pad: { dtype: 'U8', shape: [FAR], data_offsets: [0, FAR] }, w });
    const e = await loadSafetensors(padded).catch((x) => x);
    expect(e).toBeInstanceOf(SizeLimitError);
    expect(e.message).toMatch(/tensor pad/);
  });

  it('zip64 .pt (in memory) and a sparse zip64 .pt whose storage sits past 4 GiB', async () => {
    const mem = parsePt(buildPt([spec], { '0': f32([7, 8, 9]) }, undefined, { zip64: true }), 'z64.pt');
    expect(Array.from(toFloat32(mem.get('w')!))).toEqual([7, 8, 9]);
    const layout = zipLayout(ptEntries([spec], { '0': f32([1, -1, 0.5]) }), { base: FAR, zip64: true });
    const path = join(dir, 'big.pt');
    sparse(path, layout.size, layout.pieces);
    const before = process.memoryUsage().arrayBuffers;
    const s = await loadPt(path);
    expect(Array.from(toFloat32(s.get('w')!))).toEqual([1, -1, 0.5]);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 << 20);
  });
});
