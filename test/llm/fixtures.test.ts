/**
 * CosyVoice3LM on the GPU against the official fixtures (tiny size, lavapipe): teacher-forced hidden states and
 * logits at every position, per-step logits through the paged KV cache, and greedy / RAS-with-argmax token
 * sequences. f32 bound: rel-L2 ≤ 1e-4; f16 / q8 weights: the bounds stated below.
 */
import { lmFromDir } from '../../src/models/llm/from-dir.js';
import { describe, expect, it } from 'vitest';
import { CosyVoice3Lm } from '../../src/models/llm/cosyvoice3-lm.js';
import { maxWeightRelErr } from '../../src/models/qwen2/weights.js';
import { argmaxSampler } from '../../src/sampling/sampler.js';
import { expectClose } from '../helpers/compare.js';
import { readFixtureSet, TINY_DIR } from '../helpers/fixtures.js';
import { testContext } from '../helpers/gpu.js';

const ints = (t: { data: Float64Array }) => Array.from(t.data);
const lms = new Map<string, Promise<CosyVoice3Lm>>();
function model(dtype: 'f32' | 'f16' | 'q8' = 'f32', pageSize = 16, ownGemv?: boolean, kvDtype: 'f32' | 'f16' = 'f32', fuseNorm?: boolean): Promise<CosyVoice3Lm> {
  const key = `${dtype}:${pageSize}:${ownGemv}:${kvDtype}:${fuseNorm}`;
  if (!lms.has(key)) {
    lms.set(key, testContext().then((ctx) =>
      lmFromDir(ctx, TINY_DIR, { dtype, maxPrefill: 64, maxContext: 256, kv: { pageSize, maxSeqs: 3, dtype: kvDtype }, ownGemv, fuseNorm,
        // fuseNorm stands for the whole GPU prefill plan: norms into gemm_rt, SwiGLU as its gateUp epilogue.
        mlp: fuseNorm ? 'fused' : undefined })));
  }
  return lms.get(key)!;
}

function prompt(set: ReturnType<typeof readFixtureSet>) {
  return { promptText: ints(set.inputs[0]), text: ints(set.inputs[1]), promptSpeech: ints(set.inputs[2]) };
}

describe('llm_teacher_forced', () => {
  const set = readFixtureSet('llm_teacher_forced', 0);
  const [lmInput, hiddenRef, logitsRef] = set.outputs;
  // Measured bounds (rel-L2 of logits) for the stored-weight precisions; f32 is the 1e-4.
  const bounds = { f32: 1e-4, f16: 2e-3, q8: 2e-2 } as const;
  it.each([
    ['f32', 16, undefined, undefined],
    ['f32', 1, undefined, undefined],
    ['f32', 5, undefined, undefined],
    ['f32', 16, false, undefined],
    ['f32', 16, false, true], // the GPU plan: RMSNorms and SwiGLU fused into the prefill GEMMs (gemm_rt)
    ['f16', 16, undefined, undefined],
    ['f16', 16, false, undefined],
    ['f16', 16, false, true],
    ['q8', 16, undefined, undefined],
  ] as const)('%s weights, page size %i, own GEMV %s, fused norm %s: input embeddings, hidden states and logits at all 62 positions', async (dtype, pageSize, ownGemv, fuseNorm) => {
    const lm = await model(dtype, pageSize, ownGemv, 'f32', fuseNorm);
    const p = prompt(set);
    const emb = lm.embedPrompt(p, ints(set.inputs[3]));
    expect(Array.from(emb)).toEqual(Array.from(lmInput.raw as Float32Array));
    const seq = lm.rt.createSequence();
    try {
      await lm.rt.prefill(seq, emb, { allRows: true });
      const h = expectClose(await lm.rt.readHidden(), hiddenRef.data, { relL2: bounds[dtype], label: `${dtype} hidden` });
      const l = expectClose(await lm.rt.readLogits(), logitsRef.data, { relL2: bounds[dtype], label: `${dtype} logits` });
      console.log(`[llm_teacher_forced ${dtype} page ${pageSize} ownGemv ${lm.rt.ownGemv} fuseNorm ${lm.rt.fuseNorm}] stored-matrix rel-L2 vs f32 ≤ ${maxWeightRelErr(lm.weights).toExponential(2)}; hidden rel-L2 ${h.relL2.toExponential(2)} max ${h.maxAbs.toExponential(2)}; logits rel-L2 ${l.relL2.toExponential(2)} max ${l.maxAbs.toExponential(2)}`);
    } finally {
      lm.rt.free(seq);
    }
  });
});

describe('llm_incremental_kv', () => {
  const set = readFixtureSet('llm_incremental_kv', 0);
  const [stepLogits, , stepTokens, stepHidden, cacheLen] = set.outputs;
  // f32 weights; the f16 KV cache rounds rotated K and V to halves: measured bound below (tokens still exact).
  const kvBound = { f32: 1e-4, f16: 5e-4 } as const;
  it.each([
    [16, undefined, 'f32'],
    [1, undefined, 'f32'],
    [3, undefined, 'f32'],
    [16, false, 'f32'],
    [16, true, 'f32'],
    [16, undefined, 'f16'],
    [3, false, 'f16'],
  ] as const)('per-step logits through the paged cache (page size %i, own decode GEMV %s, %s cache)', async (pageSize, ownGemv, kvDtype) => {
    const lm = await model('f32', pageSize, ownGemv, kvDtype);
    const K = stepTokens.dims[0], V = lm.cfg.speechVocab, d = lm.cfg.hidden;
    const seq = lm.rt.createSequence();
    let worst = 0;
    try {
      for (let i = 0; i < K; i++) {
        expect(seq.length).toBe(cacheLen.data[i]);
        const r = i === 0
          ? await lm.rt.prefill(seq, lm.embedPrompt(prompt(set)))
          : await lm.rt.decode(seq, lm.speechRow(stepTokens.data[i - 1]));
        const ref = stepLogits.data.subarray(i * V, (i + 1) * V);
        const got = await lm.rt.readLogits();
        worst = Math.max(worst, expectClose(got, ref, { relL2: kvBound[kvDtype], label: `step ${i} logits` }).relL2);
        expectClose(await lm.rt.readHidden(), stepHidden.data.subarray(i * d, (i + 1) * d), { relL2: kvBound[kvDtype], label: `step ${i} hidden` });
        expect(r.ids[0]).toBe(stepTokens.data[i]);
      }
    } finally {
      lm.rt.free(seq);
    }
    console.log(`[llm_incremental_kv page ${pageSize} ownGemv ${lm.rt.ownGemv} ${kvDtype} cache] worst per-step logits rel-L2 ${worst.toExponential(2)}`);
  });
});

describe('generation', () => {
  it('llm_greedy: identical tokens, last-step logits', async () => {
    const set = readFixtureSet('llm_greedy', 0);
    const lm = await model('f32', 16);
    const toks = await lm.generateAll(prompt(set), { sampler: argmaxSampler, mode: 'greedy' });
    expect(toks).toEqual(ints(set.outputs[0]));
    expectClose(await lm.rt.readLogits(), set.outputs[1].data, { relL2: 1e-4, label: 'last step logits' });
    expect(lm.rt.kv.liveSequences).toBe(0);
  });

  it('llm_ras_argmax: identical tokens (ras_sampling with multinomial → argmax)', async () => {
    const set = readFixtureSet('llm_ras_argmax', 0);
    const lm = await model('f32', 16);
    const toks = await lm.generateAll(prompt(set), { sampler: argmaxSampler });
    expect(toks).toEqual(ints(set.outputs[0]));
  });

  it('f16 KV cache: llm_greedy tokens identical', async () => {
    const set = readFixtureSet('llm_greedy', 0);
    const lm = await model('f32', 16, undefined, 'f16');
    expect(lm.rt.kv.pools[0].dtype).toBe('f16');
    expect(await lm.generateAll(prompt(set), { sampler: argmaxSampler, mode: 'greedy' })).toEqual(ints(set.outputs[0]));
  });

  it.each(['f16', 'q8'] as const)('%s weights: greedy tokens', async (dtype) => {
    const set = readFixtureSet('llm_greedy', 0);
    const lm = await model(dtype, 16);
    const toks = await lm.generateAll(prompt(set), { sampler: argmaxSampler, mode: 'greedy' });
    const ref = ints(set.outputs[0]);
    let same = 0;
    while (same < Math.min(toks.length, ref.length) && toks[same] === ref[same]) same++;
    console.log(`[llm_greedy ${dtype}] ${same} of ${ref.length} leading tokens identical (got ${toks.length} tokens)`);
    if (dtype === 'f16') expect(toks).toEqual(ref);
  });
});
