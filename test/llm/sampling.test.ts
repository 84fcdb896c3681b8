/**
 * The decode loop's sampling path (GPU top-k + log-sum-exp readback, full row fetched only for the RAS redraw)
 * against upstream-exact CPU sampling on the full logits row, both drawing from PyTorch-compatible generators
 * with the same seed: identical tokens, and the redraw path is exercised.
 */
import { lmFromDir } from '../../src/models/llm/from-dir.js';
import { describe, expect, it } from 'vitest';
import { CosyVoice3Lm } from '../../src/models/llm/cosyvoice3-lm.js';
import { TorchGenerator } from '../../src/rng/torch-generator.js';
import { sampleToken } from '../../src/sampling/ras.js';
import { TorchSampler } from '../../src/sampling/sampler.js';
import { sampleTokenTopK } from '../../src/sampling/topk.js';
import { readFixtureSet, TINY_DIR } from '../helpers/fixtures.js';
import { testContext } from '../helpers/gpu.js';

describe('GPU top-k sampling path = CPU full-row ras_sampling (same torch generator stream)', () => {
  it.each([0, 1, 1986])('seed %i', async (seed) => {
    const ctx = await testContext();
    const lm = await lmFromDir(ctx, TINY_DIR, { maxPrefill: 64, maxContext: 256 });
    const set = readFixtureSet('llm_greedy', 0);
    const p = { promptText: Array.from(set.inputs[0].data), text: Array.from(set.inputs[1].data), promptSpeech: Array.from(set.inputs[2].data) };
    const S = lm.cfg.speechTokenSize;
    const gpuSampler = new TorchSampler(new TorchGenerator(seed));
    const cpuSampler = new TorchSampler(new TorchGenerator(seed));
    const minLen = 2 * p.text.length, maxLen = 20 * p.text.length;
    const seq = lm.rt.createSequence();
    let cand = await lm.rt.prefill(seq, lm.embedPrompt(p));
    const out: number[] = [];
    let redraws = 0;
    for (let i = 0; i < maxLen; i++) {
      const full = await lm.rt.readLogits();
      const opts = { speechTokenSize: S, ignoreEos: i < minLen, ras: lm.cfg.ras };
      const tg = await sampleTokenTopK(cand, out, opts, gpuSampler, () => {
        redraws++;
        return lm.rt.readLogits();
      });
      const tc = sampleToken(full, out, opts, cpuSampler);
      expect(tg, `step ${i}`).toBe(tc);
      if (tg >= S) break;
      out.push(tg);
      cand = await lm.rt.decode(seq, lm.speechRow(tg));
    }
    lm.rt.free(seq);
    console.log(`[sampling seed ${seed}] ${out.length} tokens, ${redraws} RAS redraws (full row fetched), ids: ${out.slice(0, 12).join(' ')} …`);
    expect(out.length).toBeGreaterThan(4);
  });
});
