/** EmbeddingTable: a text table left in its file (lazy load) gives the rows an in-memory one gives. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadOnnx } from '../../loader/node.js';
import { EmbeddingTable } from '../../src/models/qwen2/embedding.js';
import { externalTensor, modelBytes, tensorProto } from '../loader/helpers/onnx-writer.js';
import { SeededRng } from '../helpers/rng.js';

const dir = mkdtempSync(join(tmpdir(), 'emb-table-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('EmbeddingTable', () => {
  it('file-backed rows equal in-memory rows, in any order and repeated; bad ids and short rows are refused', async () => {
    const rows = 37, width = 12;
    const values = new SeededRng(5).f32(rows * width);
    writeFileSync(join(dir, 'e.bin'), new Uint8Array(values.buffer));
    writeFileSync(join(dir, 'e.onnx'), modelBytes([externalTensor('embed', 1, [rows, width], 'e.bin', 0, 4 * rows * width)]));
    const rec = (await loadOnnx(join(dir, 'e.onnx'), { lazy: true })).tensors.get('embed')!;
    expect(rec.readInto).toBeTypeOf('function');
    const lazy = EmbeddingTable.of(rec), mem = EmbeddingTable.inMemory(values, rows, width);
    const ids = [0, 36, 5, 5, 17, 1];
    const got = lazy.gather(ids);
    expect(got).toEqual(mem.gather(ids));
    expect(Array.from(got.subarray(width, 2 * width))).toEqual(Array.from(values.subarray(36 * width, 37 * width)));
    expect(() => lazy.gather([37])).toThrow(/row 37 is outside \[0, 37\)/);
    expect(() => mem.row(-1, new Float32Array(width))).toThrow(RangeError);
    expect(() => lazy.row(2, new Float32Array(width - 1))).toThrow(/cannot hold 12/);
  });

  for (const [dtype, code] of [['float16', 10], ['bfloat16', 16]] as const) {
    it(`a file-backed ${dtype} table stays in its file; its rows, widened, equal the in-memory widening`, async () => {
      const rows = 23, width = 9;
      const rng = new SeededRng(code);
      const halves = Uint16Array.from({ length: rows * width }, () => rng.int(0x7c00) | (rng.int(2) << 15)); // finite values, both signs
      writeFileSync(join(dir, `${dtype}.bin`), new Uint8Array(halves.buffer));
      writeFileSync(join(dir, `${dtype}.onnx`), modelBytes([externalTensor('embed', code, [rows, width], `${dtype}.bin`, 0, 2 * rows * width)]));
      const rec = (await loadOnnx(join(dir, `${dtype}.onnx`), { lazy: true })).tensors.get('embed')!;
      expect(rec.dtype).toBe(dtype);
      const lazy = EmbeddingTable.of(rec);
      const mem = EmbeddingTable.of({ name: 'embed', dtype, dims: [rows, width], bytes: new Uint8Array(halves.buffer) });
      const ids = [22, 0, 7, 7, 13];
      expect(Array.from(lazy.gather(ids))).toEqual(Array.from(mem.gather(ids)));
    });
  }

  it('a float16 table is widened into memory', () => {
    const t = EmbeddingTable.of({ name: 'h', dtype: 'float16', dims: [2, 2], bytes: new Uint8Array(Uint16Array.of(0x3c00, 0xc000, 0, 0x3800).buffer) });
    expect(Array.from(t.gather([1, 0]))).toEqual([0, 0.5, 1, -2]);
    expect(() => EmbeddingTable.of({ name: 'v', dtype: 'float32', dims: [4], bytes: new Uint8Array(16) })).toThrow(/dims \[4\] are not \[rows, width\]/);
  });
});
