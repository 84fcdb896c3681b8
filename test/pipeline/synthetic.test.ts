/** The synthetic model must be indistinguishable in structure from an official folder: same keys and shapes. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parsePt } from '../../loader/index.js';
import { syntheticCheckpoint } from '../../src/pipeline/synthetic.js';
import { TINY_DIR } from '../helpers/fixtures.js';

describe('synthetic model', () => {
  it('tiny: every state-dict key and shape equals the official tiny fixture checkpoints', () => {
    const syn = syntheticCheckpoint('tiny', 7);
    for (const file of ['llm', 'flow', 'hift'] as const) {
      const official = parsePt(new Uint8Array(readFileSync(join(TINY_DIR, `${file}.pt`))), `${file}.pt`);
      const want = [...official.entries()].filter(([k]) => k !== 'llm.model.lm_head.weight').map(([k, v]) => `${k} [${v.dims}]`).sort();
      const got = [...syn[file].entries()].map(([k, v]) => `${k} [${v.dims}]`).sort();
      expect(got, file).toEqual(want);
    }
  });

  it('key counts follow the released checkpoints (spec: 293 / 330 / 328 keys at full depth) and values are finite', () => {
    const syn = syntheticCheckpoint('tiny');
    // llm.pt: embed + 12 per layer + norm + tied lm_head (absent here) + llm_decoder + speech_embedding = 12·24 + 5 = 293.
    expect(syn.llm.size + 1).toBe(12 * syn.dims.llm.layers + 5);
    // flow.pt: 18 outside the blocks + 14 per block + 4 after them = 18 + 14·22 + 4 = 330.
    expect(syn.flow.size).toBe(18 + 14 * syn.dims.dit.depth + 4);
    expect(syn.hift.size).toBe(328);
    for (const t of syn.flow.values()) expect(new Float32Array(t.bytes.buffer).every(Number.isFinite)).toBe(true);
  });
});
