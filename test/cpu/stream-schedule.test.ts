/**
 * The streaming token2wav schedule against the `token2wav_streaming` fixture (two chunks: tokens[:28] at offset 0
 * non-final, then all 30 tokens at offset 25 final) and the spec's worked examples.
 */
import { describe, expect, it } from 'vitest';
import { readFixtureSet } from '../helpers/fixtures.js';
import { StreamSchedule, StreamScheduleError, planStreamChunks } from '../../src/sampling/index.js';

describe('streaming schedule vs token2wav_streaming fixture', () => {
  it('reproduces both chunk boundaries, finalize flags and sample counts', () => {
    const sets = [0, 1].map((i) => readFixtureSet('token2wav_streaming', i));
    const P = sets[0].inputs[3].dims[1];
    const total = sets[1].inputs[0].dims[1]; // the final call sees all tokens
    const chunks = planStreamChunks(total, { promptTokens: P });
    console.log(`P=${P} N=${total}:`, JSON.stringify(chunks));
    expect(chunks.length).toBe(sets.length);
    let samples = 0;
    for (let k = 0; k < sets.length; k++) {
      const [token, offset, finalize] = sets[k].inputs;
      expect(chunks[k].tokenEnd).toBe(token.dims[1]);
      expect(chunks[k].tokenOffset).toBe(offset.data[0]);
      expect(chunks[k].finalize).toBe(finalize.data[0] === 1);
      samples += sets[k].outputs[2].dims[1];
      expect(chunks[k].samplesEnd).toBe(samples);
      // Accumulated HiFT mel after the chunk: 2·(offset + hop) frames (look-ahead frames dropped), 2·N at the end.
      const melEnd = chunks[k].finalize ? 2 * chunks[k].tokenEnd : 2 * (chunks[k].tokenOffset + chunks[k].hop);
      expect(sets[k].outputs[1].dims[2]).toBe(melEnd);
    }
    const offline = readFixtureSet('token2wav_offline', 0);
    expect(samples).toBe(offline.outputs[1].dims[1]);
  });
});

describe('streaming schedule rules', () => {
  it('pads the first hop so prompt + first hop is a multiple of 25, then 50, 100, 100', () => {
    const chunks = planStreamChunks(400, { promptTokens: 87 });
    expect(chunks.map((c) => [c.tokenOffset, c.tokenEnd, c.finalize])).toEqual([
      [0, 41, false], // 25 + pad 13 + look-ahead 3 (spec: 41 tokens needed for P = 87)
      [38, 91, false],
      [88, 191, false],
      [188, 291, false],
      [288, 391, false],
      [388, 400, true],
    ]);
    expect(chunks[0].samplesEnd).toBe(32640); // spec §6 example
    expect(chunks.at(-1)!.samplesEnd).toBe(960 * 400);
    expect((87 + chunks[0].hop) % 25).toBe(0);
  });

  it('a trickling LLM yields the same chunks as a finished one', () => {
    const s = new StreamSchedule({ promptTokens: 150 });
    const got = [];
    for (let n = 0; n <= 333; n++) got.push(...s.poll(n, false));
    while (!s.done) got.push(...s.poll(333, true));
    expect(got).toEqual(planStreamChunks(333, { promptTokens: 150 }));
    expect(got[0].samplesEnd).toBe(20160);
  });

  it('short generations go straight to the final chunk', () => {
    expect(planStreamChunks(27, { promptTokens: 25 })).toEqual([
      { tokenEnd: 27, tokenOffset: 0, finalize: true, hop: 0, samplesEnd: 27 * 960 },
    ]);
    expect(planStreamChunks(0, { promptTokens: 0 })).toHaveLength(1);
  });

  it('reproduces the shared-model quirk (later requests start at the grown hop) and its stale exit test', () => {
    // initialHop 100 with P = 30: pad = 70, first hop 170; after it the hop stays 100, but the exit test of that
    // iteration still uses 170 + 3, so 150 remaining tokens go to the final chunk instead of a 100-token chunk.
    const chunks = planStreamChunks(173 + 150, { promptTokens: 30, initialHop: 100 });
    expect(chunks.map((c) => [c.tokenOffset, c.tokenEnd, c.finalize])).toEqual([
      [0, 173, false],
      [170, 323, true],
    ]);
  });

  it('rejects bad input', () => {
    expect(() => new StreamSchedule({ promptTokens: -1 })).toThrow(StreamScheduleError);
    const s = new StreamSchedule({ promptTokens: 25 });
    s.poll(40, false);
    expect(() => s.poll(10, false)).toThrow(/backwards/);
  });
});
