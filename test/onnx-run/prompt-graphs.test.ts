/**
 * The CPU ONNX interpreter on graphs of the prompt models' structure (src/convert/random-prompt-models.ts: the S3
 * tokenizer v3 and CAM++ as torch.onnx.export writes them, random weights) against ONNX Runtime's cpu EP: the
 * tokenizer's int32 codes exactly (a padded input, so its length masks matter), the CAM++ embedding within
 * 1e-4 + 1e-4·|b| (20-odd layers of float32 sums in a different order), on 1 and 2 GEMM threads.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TINY_CAMPPLUS, TINY_TOKENIZER, campplusGraph, speechTokenizerGraph } from '../../src/convert/random-prompt-models.js';
import { SeededRng } from '../helpers/rng.js';
import { runBoth } from './oracle.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cv-prompt-graphs-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const rng = new SeededRng(5);

describe('prompt-model graphs: interpreter vs ORT cpu', () => {
  for (const threads of [1, 2]) {
    it(`speech tokenizer (2 layers, 128 wide), 173 frames of which 161 real: the same codes (${threads} thread${threads > 1 ? 's' : ''})`, async () => {
      const T = 173;
      const mel = rng.f32(128 * T, -1.5, 1.5);
      const r = await runBoth(dir, speechTokenizerGraph(TINY_TOKENIZER), {
        feats: { dtype: 'float32', dims: [1, 128, T], data: mel },
        feats_length: { dtype: 'int32', dims: [1], data: [161] },
      }, {}, undefined, threads);
      const o = r.outputs[0];
      // Fused (fuse.ts): the bias Adds of each block's six linears and of the FSQ projection (13), and four of the
      // five nodes of each exact GELU (two blocks, two convs: 16).
      expect(r.nodes - r.ranNodes).toBe(13 + 16);
      expect(o.dims).toEqual([1, 44]);
      expect(o.mismatches, 'first mismatching codes').toEqual([]);
      const codes = Array.from(r.ours.tokens.data);
      expect(new Set(codes).size, 'codes vary').toBeGreaterThan(5);
      expect(Math.min(...codes)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...codes)).toBeLessThan(6561);
    });
  }

  it('CAM++-shaped embedding of 250 frames (two 100-frame segments after the stride, the last one short)', async () => {
    const T = 250;
    const r = await runBoth(dir, campplusGraph(TINY_CAMPPLUS), { input: { dtype: 'float32', dims: [1, T, 80], data: rng.f32(T * 80, -3, 3) } }, { atol: 1e-4, rtol: 1e-4 }, undefined, 2);
    const o = r.outputs[0];
    expect(o.dims).toEqual([1, 192]);
    expect(o.mismatches, 'first mismatches').toEqual([]);
    console.log(`campplus-shaped: max |ours − ORT| ${o.maxErr.toExponential(2)}`);
  });
});
