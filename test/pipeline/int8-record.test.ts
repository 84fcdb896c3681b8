/**
 * int8Float32Record: the float32 values of an int8 weight with one scale per row, computed when read. Against the
 * plain formula q[i] · scale[⌊i / per⌋] (exact: the same f64 product rounded once to f32) for every read a loader
 * makes: whole, a range across rows at any value offset, into an unaligned destination, from an in-memory int8
 * tensor and from a file-backed one read in pieces (a tensor over the 1 Mi-value piece). Byte ranges that split a
 * value and scale counts that do not divide the values are refused by name.
 */
import { describe, expect, it } from 'vitest';
import { CorruptFileError } from '../../loader/errors.js';
import { rangeRecord } from '../../loader/range-record.js';
import type { TensorRecord } from '../../loader/types.js';
import { dequantisedInt8, int8Float32Record } from '../../src/pipeline/model-files.js';
import { SeededRng } from '../helpers/rng.js';

function int8Tensor(rows: number, cols: number, seed: number, fileBacked: boolean): { q: TensorRecord; raw: Int8Array; scales: Float32Array } {
  const rng = new SeededRng(seed);
  const raw = Int8Array.from({ length: rows * cols }, () => rng.int(255) - 127);
  const scales = Float32Array.from({ length: rows }, () => 0.001 + rng.next() * 0.05);
  const bytes = new Uint8Array(raw.buffer);
  const meta = { name: 'w', dtype: 'int8' as const, dims: [rows, cols] };
  const q = fileBacked
    ? rangeRecord({ name: 'w.data', readSync: (dst, offset) => dst.set(bytes.subarray(offset, offset + dst.length)) }, 0, bytes.length, meta)
    : { ...meta, bytes };
  return { q, raw, scales };
}

const expected = (raw: Int8Array, scales: Float32Array, per: number) => Float32Array.from(raw, (v, i) => v * scales[Math.floor(i / per)]);

function firstMismatch(a: Float32Array, b: Float32Array): string {
  const i = a.findIndex((v, k) => v !== b[k]);
  return i < 0 ? 'none' : `at ${i}: ${a[i]} vs ${b[i]}`;
}

describe('int8Float32Record', () => {
  for (const fileBacked of [false, true]) {
    it(`whole and ranged reads equal q · row scale exactly (${fileBacked ? 'file-backed' : 'in memory'})`, () => {
      const { q, raw, scales } = int8Tensor(7, 37, 1, fileBacked);
      const want = expected(raw, scales, 37);
      const r = int8Float32Record(q, scales);
      expect(r.dtype).toBe('float32');
      expect(r.dims).toEqual([7, 37]);
      const all = new Float32Array(r.bytes.buffer, r.bytes.byteOffset, 7 * 37);
      expect(firstMismatch(all, want)).toBe('none');
      for (const [v0, count] of [[0, 1], [36, 2], [40, 100], [258, 1]]) {
        const part = new Float32Array(count);
        r.readInto!(new Uint8Array(part.buffer), 4 * v0);
        expect(firstMismatch(part, want.subarray(v0, v0 + count)), `values ${v0}+${count}`).toBe('none');
      }
      // An unaligned destination (a byte view at offset 1).
      const odd = new Uint8Array(4 * 10 + 1);
      r.readInto!(odd.subarray(1), 4 * 30);
      expect(firstMismatch(new Float32Array(odd.slice(1).buffer), want.subarray(30, 40))).toBe('none');
    });
  }

  it('a tensor larger than one read piece, file-backed', () => {
    const { q, raw, scales } = int8Tensor(3, 400_003, 2, true);
    const out = new Float32Array(3 * 400_003);
    int8Float32Record(q, scales).readInto!(new Uint8Array(out.buffer));
    expect(firstMismatch(out, expected(raw, scales, 400_003))).toBe('none');
  });

  it('refuses byte ranges that split a value and scales that do not divide the values', () => {
    const { q, scales } = int8Tensor(4, 8, 3, false);
    const r = int8Float32Record(q, scales);
    expect(() => r.readInto!(new Uint8Array(6), 4)).toThrow(/whole float32 values/);
    expect(() => r.readInto!(new Uint8Array(4), 2)).toThrow(/whole float32 values/);
    expect(() => int8Float32Record(q, new Float32Array(3))).toThrow(CorruptFileError);
  });

  it('dequantisedInt8: int8 + _scale pairs become float32 records, the _scale entries go, the rest pass through', () => {
    const { q, raw, scales } = int8Tensor(2, 5, 4, true);
    const bias = { name: 'b', dtype: 'float32' as const, dims: [2], bytes: new Uint8Array(new Float32Array([1, 2]).buffer) };
    const store = new Map<string, TensorRecord>([
      ['w', q],
      ['w_scale', { name: 'w_scale', dtype: 'float32', dims: [2], bytes: new Uint8Array(scales.slice().buffer) }],
      ['b', bias],
    ]);
    const out = dequantisedInt8(store);
    expect([...out.keys()]).toEqual(['w', 'b']);
    expect(out.get('b')).toBe(bias);
    const w = out.get('w')!;
    expect(firstMismatch(new Float32Array(w.bytes.slice().buffer), expected(raw, scales, 5))).toBe('none');
  });
});
