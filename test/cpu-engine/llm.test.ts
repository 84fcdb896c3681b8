import { beforeAll, describe, expect, it } from 'vitest';
import { CpuLlm } from '../../src/models/cpu/llm.js';
import { loadModelFolder } from '../../src/pipeline/node-model-files.js';
import { loadTinyLm, type TinyLm } from '../cpu/qwen2-f64.js';
import { expectClose } from '../helpers/compare.js';
import { TINY_DIR, requireFixtures } from '../helpers/fixtures.js';
import { verifyKinds } from './helpers.js';

describe('wasm engine: LLM on the tiny official fixtures', () => {
  it('teacher-forced, incremental KV, greedy and RAS sets pass verify', async () => {
    await verifyKinds(['llm_teacher_forced', 'llm_incremental_kv', 'llm_greedy', 'llm_ras_argmax']);
  });
});

describe('CpuLlm sessions (tiny official weights)', () => {
  let llm: CpuLlm;
  let ref: TinyLm;
  // 150 rows: past the 64-row attention chunk and two doublings of the 64-position cache.
  const L = 150;
  let embeds: Float32Array;

  beforeAll(async () => {
    requireFixtures();
    llm = await CpuLlm.create(await loadModelFolder(TINY_DIR));
    ref = await loadTinyLm(TINY_DIR);
    const text = Array.from({ length: 40 }, (_, i) => (i * 37) % llm.cfg.textVocab);
    const speech = Array.from({ length: L - 40 }, (_, i) => (i * 101) % llm.cfg.speechTokenSize);
    embeds = new Float32Array(L * llm.cfg.hidden);
    embeds.set(llm.embedText(text));
    embeds.set(llm.embedSpeech(speech), text.length * llm.cfg.hidden);
  });

  it('one prefill of 150 rows matches the float64 reference at its last row', async () => {
    const s = llm.session();
    const { logits, hidden } = await s.step(embeds, L);
    expect(s.cacheLen).toBe(L);
    expect(hidden.length).toBe(L * llm.cfg.hidden);
    const V = llm.cfg.speechVocab;
    const H = llm.cfg.hidden;
    const rows = Array.from({ length: L }, (_, t) => Float64Array.from(embeds.subarray(t * H, (t + 1) * H)));
    expectClose(logits.subarray((L - 1) * V), ref.lastLogits(rows), { relL2: 1e-5, label: 'last-row logits' });
    s.dispose();
  });

  it('uneven prefills then one-row decode steps give the one-prefill logits and hidden rows', async () => {
    const H = llm.cfg.hidden, V = llm.cfg.speechVocab;
    const whole = llm.session();
    const all = await whole.step(embeds, L);
    const s = llm.session();
    const cuts = [0, 37, 101, 130, ...Array.from({ length: L - 130 }, (_, i) => 131 + i)];
    for (let i = 0; i + 1 < cuts.length; i++) {
      const [a, b] = [cuts[i], cuts[i + 1]];
      expect(s.cacheLen).toBe(a);
      const r = await s.step(embeds.slice(a * H, b * H), b - a);
      expectClose(r.logits, all.logits.subarray(a * V, b * V), { relL2: 1e-5, label: `logits rows ${a}…${b - 1}` });
      expectClose(r.hidden, all.hidden.subarray(a * H, b * H), { relL2: 1e-5, label: `hidden rows ${a}…${b - 1}` });
    }
    expect(s.cacheLen).toBe(L);
    s.dispose();
    whole.dispose();
  });

  it('KV caches live in the kernels\' memory and are given back: many sessions cost the memory of one', async () => {
    const H = llm.cfg.hidden;
    const run = async () => {
      const s = llm.session();
      // Three growths of the cache (64 → 128 → 256), then decode steps.
      await s.step(embeds.slice(0, 100 * H), 100);
      for (let i = 0; i < 60; i++) await s.step(embeds.slice(i * H, (i + 1) * H), 1);
      expect(s.cacheLen).toBe(160);
      s.dispose();
    };
    const before = llm.residentBytes;
    await run();
    expect(llm.residentBytes).toBe(before);
    const live = llm.session();
    await live.step(embeds.slice(0, 100 * H), 100);
    const held = llm.residentBytes - before;
    // 128 positions of K and Vᵀ for every layer.
    expect(held).toBe(llm.cfg.layers * 2 * llm.cfg.kvHeads * 128 * llm.cfg.headDim * 4);
    for (let i = 0; i < 12; i++) await run();
    live.dispose();
    expect(llm.residentBytes).toBe(before);
  });

  it('sessions are independent, and a disposed session or a misshaped step throws', async () => {
    const H = llm.cfg.hidden;
    const a = llm.session(), b = llm.session();
    const ra = await a.step(embeds.slice(0, 5 * H), 5);
    await b.step(embeds.slice(5 * H, 9 * H), 4);
    const rb = await llm.session().step(embeds.slice(0, 5 * H), 5);
    expect(Array.from(rb.logits)).toEqual(Array.from(ra.logits));
    expect(b.cacheLen).toBe(4);
    await expect(a.step(embeds.slice(0, 2 * H), 3)).rejects.toThrow(/not \[3,/);
    a.dispose();
    await expect(a.step(embeds.slice(0, H), 1)).rejects.toThrow(/disposed/);
    expect(() => llm.embedSpeech([llm.cfg.speechVocab])).toThrow(/outside/);
    expect(() => llm.embedText([-1])).toThrow(/outside/);
  });
});
