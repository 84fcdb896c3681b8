/**
 * dtype helpers (conversion to float32 for every dtype, alignment, size checks), path validation, and the
 * `inspect` CLI command on the fixture files.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { safeRelativeLocation } from '../../loader/byte-source.js';
import { bf16ToFloat, byteLengthOf, checkedByteLength, halfToFloat, ownFloat32, toFloat32 } from '../../loader/dtype.js';
import { CorruptFileError, SizeLimitError, UnsafePathError } from '../../loader/errors.js';
import { checkTensorNames, getTensor, ShapeMismatchError, withPrefix } from '../../loader/store.js';
import type { TensorRecord } from '../../loader/types.js';
import { inspectCommand } from '../../src/cli/commands/inspect.js';
import { SpeakerFileError } from '../../src/speaker/speaker-file.js';
import { saveSpeakerFile } from '../../src/speaker/speaker-io.js';
import { TINY_DIR } from '../helpers/fixtures.js';

describe('dtype', () => {
  it('half and bfloat16 decode exactly, including subnormals, infinities and NaN', () => {
    expect(halfToFloat(0x0001)).toBe(2 ** -24);
    expect(halfToFloat(0x7bff)).toBe(65504);
    expect(halfToFloat(0xfc00)).toBe(-Infinity);
    expect(halfToFloat(0x7e00)).toBeNaN();
    expect(bf16ToFloat(0x0001)).toBe(2 ** -133);
    expect(bf16ToFloat(0xff80)).toBe(-Infinity);
  });
  it('float32 is a view when aligned and a copy when not', () => {
    const buf = new Uint8Array(12);
    new Float32Array(buf.buffer).set([1, 2, 3]);
    const aligned = toFloat32({ name: 'a', dtype: 'float32', dims: [2], bytes: buf.subarray(4, 12) });
    expect(aligned.buffer).toBe(buf.buffer);
    const odd = new Uint8Array(9);
    odd.set(buf.subarray(4, 12), 1);
    const copy = toFloat32({ name: 'b', dtype: 'float32', dims: [2], bytes: odd.subarray(1) });
    expect(Array.from(copy)).toEqual([2, 3]);
    expect(copy.buffer).not.toBe(odd.buffer);
  });
  it('ownFloat32 never returns a view into a larger buffer (a kept value must not hold a whole file)', () => {
    const buf = new Uint8Array(12);
    new Float32Array(buf.buffer).set([1, 2, 3]);
    const part = ownFloat32({ name: 'a', dtype: 'float32', dims: [2], bytes: buf.subarray(4, 12) });
    expect(Array.from(part)).toEqual([2, 3]);
    expect(part.buffer.byteLength).toBe(8);
    const whole = { name: 'w', dtype: 'float32' as const, dims: [3], bytes: buf };
    expect(ownFloat32(whole).buffer).toBe(buf.buffer);
  });
  it('sizes: packed int4 rounds up, bad dims and caps are typed errors', () => {
    expect(byteLengthOf('int4', [3])).toBe(2);
    expect(byteLengthOf('float64', [2, 3])).toBe(48);
    expect(byteLengthOf('bool', [])).toBe(1);
    expect(() => byteLengthOf('float32', [1.5])).toThrow(CorruptFileError);
    expect(() => checkedByteLength('float32', [2 ** 20, 2 ** 20], { tensor: 't' })).toThrow(SizeLimitError);
    expect(() => byteLengthOf('float32', [2 ** 40, 2 ** 40])).toThrow(SizeLimitError);
    expect(() => toFloat32({ name: 'short', dtype: 'float32', dims: [3], bytes: new Uint8Array(8) })).toThrow(/tensor short/);
  });
  it('external locations: relative ones are normalised, escaping ones refused', () => {
    expect(safeRelativeLocation('./a//b/../c.bin', {})).toBe('a/c.bin');
    for (const bad of ['/etc/passwd', '\\\\host\\share', 'C:/x', 'file:///etc/passwd', 'http://evil/x', '../x', 'a/../../x', '', '.', 'a\0b']) {
      expect(() => safeRelativeLocation(bad, { file: 'm.onnx' }), bad).toThrow(UnsafePathError);
    }
  });
});

describe('inspect command', () => {
  let out: string[] = [];
  afterEach(() => vi.restoreAllMocks());
  const capture = () => {
    out = [];
    vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
    vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  };

  it('lists the ONNX initializers with dtype and shape, and the graph I/O', async () => {
    capture();
    expect(await inspectCommand([join(TINY_DIR, 'flow.decoder.estimator.fp32.onnx')])).toBe(0);
    const text = out.join('\n');
    expect(text).toMatch(/onnx, 43 tensors/);
    expect(text).toMatch(/time_embed\.time_mlp\.0\.weight\s+float32\s+\[64, 256\]/);
    expect(text).toMatch(/x: float32 \[2, 80, seq_len\]/);
    expect(text).toMatch(/opsets: ai\.onnx 17/);
  });

  it('.pt and .safetensors, JSON output, usage errors', async () => {
    capture();
    expect(await inspectCommand([join(TINY_DIR, 'hift.pt'), '--json'])).toBe(0);
    const j = JSON.parse(out.join('\n'));
    expect(j.kind).toBe('pytorch');
    expect(j.tensors.length).toBe(328);
    capture();
    expect(await inspectCommand([join(TINY_DIR, 'CosyVoice-BlankEN/model.safetensors')])).toBe(0);
    expect(out.join('\n')).toMatch(/model\.norm\.weight\s+float32\s+\[64\]/);
    capture();
    expect(await inspectCommand([])).toBe(2);
    expect(await inspectCommand(['x.txt'])).toBe(2);
  });

  it('a speaker file: its tokens, mel, embedding and transcript, as text and JSON; a damaged one is a SpeakerFileError', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'inspect-spk-'));
    try {
      const f = join(dir, 'voice.cvspk');
      saveSpeakerFile(f, {
        promptSpeechTokens: Int32Array.from([5, 9, 2, 7, 1, 3, 8, 4, 6]), embedding: Float32Array.from({ length: 192 }, (_, i) => (i === 0 ? 3 : i === 1 ? 4 : 0)),
        promptMel: new Float32Array(18 * 80).fill(-4), melFrames: 18, numMels: 80, sampleRate: 24000, transcript: 'hello there',
      });
      capture();
      expect(await inspectCommand([f])).toBe(0);
      const text = out.join('\n');
      expect(text).toMatch(/speaker, 9 prompt tokens \(5 9 2 7 1 3 8 4 …\)/);
      expect(text).toMatch(/prompt mel: 18 frames × 80 bins, computed at 24000 Hz/);
      expect(text).toMatch(/embedding: 192 values, L2 norm 5\.0000/);
      expect(text).toMatch(/transcript: "hello there"/);
      capture();
      expect(await inspectCommand([f, '--json'])).toBe(0);
      expect(JSON.parse(out.join('\n'))).toMatchObject({ kind: 'speaker', promptTokens: 9, melFrames: 18, embeddingDim: 192, transcript: 'hello there' });
      writeFileSync(f, new Uint8Array([1, 2, 3]));
      await expect(inspectCommand([f])).rejects.toThrow(SpeakerFileError);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('store helpers', () => {
  const rec = (name: string, dims: number[]): TensorRecord => ({ name, dtype: 'float32', dims, bytes: new Uint8Array(4 * dims.reduce((a, b) => a * b, 1)) });
  const store = new Map([
    ['decoder.estimator.proj_out.weight', rec('decoder.estimator.proj_out.weight', [80, 64])],
    ['decoder.estimator.proj_out.bias', rec('decoder.estimator.proj_out.bias', [80])],
  ]);
  it('getTensor checks shape and dtype, and suggests names when missing', () => {
    expect(getTensor(store, 'decoder.estimator.proj_out.weight', { dims: [80, -1], dtype: 'float32' }).dims).toEqual([80, 64]);
    expect(() => getTensor(store, 'decoder.estimator.proj_out.weight', { dims: [64, 80], file: 'flow.pt' })).toThrow(ShapeMismatchError);
    expect(() => getTensor(store, 'decoder.estimator.proj_out.bias', { dtype: 'float16' })).toThrow(/dtype float32, expected float16/);
    expect(() => getTensor(store, 'estimator.proj_out.weight')).toThrow(/similar: decoder\.estimator\.proj_out\.weight/);
  });
  it('withPrefix and checkTensorNames', () => {
    const sub = withPrefix(store, 'decoder.estimator.');
    expect([...sub.keys()]).toEqual(['proj_out.weight', 'proj_out.bias']);
    expect(checkTensorNames(sub, ['proj_out.weight'])).toEqual(['proj_out.bias']);
    expect(() => checkTensorNames(sub, ['proj_out.weight', 'x', 'y'], 'f.pt')).toThrow(/2 tensors missing: x, y/);
  });
});
