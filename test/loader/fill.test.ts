/** Weights written in place (loader/fill.ts): stacked parts, the copy fill, the reused staging buffer. */
import { describe, expect, it } from 'vitest';
import { fillFrom, recordFill, stackedRows, Staging } from '../../loader/fill.js';
import { ShapeMismatchError } from '../../loader/store.js';

const seq = (n: number, from = 0) => Float32Array.from({ length: n }, (_, i) => from + i);

describe('weight fills', () => {
  it('stackedRows writes each part after the previous one and refuses a total that is not the matrix', () => {
    const dst = new Float32Array(7).fill(-1);
    stackedRows([{ values: 4, fill: fillFrom(seq(4)) }, { values: 3, fill: fillFrom(seq(3, 10)) }])(dst);
    expect(Array.from(dst)).toEqual([0, 1, 2, 3, 10, 11, 12]);
    expect(() => stackedRows([{ values: 4, fill: fillFrom(seq(4)) }])(new Float32Array(5))).toThrow(/parts hold 4 values, the matrix 5/);
    expect(() => fillFrom(seq(3), 'q_proj')(new Float32Array(4))).toThrow(ShapeMismatchError);
  });

  it('recordFill widens a float16 record', () => {
    const dst = new Float32Array(2);
    recordFill({ name: 'h', dtype: 'float16', dims: [2], bytes: new Uint8Array(Uint16Array.of(0x3c00, 0xc000).buffer) })(dst);
    expect(Array.from(dst)).toEqual([1, -2]);
  });

  it('Staging hands out views of one buffer, grown only when a larger one is asked for', () => {
    const s = new Staging();
    const a = s.stage(fillFrom(seq(6)), 6);
    const b = s.stage(fillFrom(seq(4, 20)), 4);
    expect(b.buffer).toBe(a.buffer);
    expect(Array.from(b)).toEqual([20, 21, 22, 23]);
    const c = s.stage(fillFrom(seq(9)), 9);
    expect(c.length).toBe(9);
    expect(c.buffer).not.toBe(a.buffer);
  });
});
