/**
 * Autotuning (src/gpu/tuning.ts, src/tune/): the table's file format and adapter check, the tuner's trials
 * (wrong outputs and refusals excluded, in-place outputs restored), and tuned plans that still compute the same
 * thing: kernels against float64, the tiny LLM and DiT against their untuned outputs. Timings are never asserted;
 * only that each trial that ran was timed and the winner is the fastest of them.
 */
import { describe, expect, it } from 'vitest';
import { conv1d, packConvWeight } from '../../kernels/conv1d.js';
import { createDims, atLength } from '../../kernels/flow-dims.js';
import { ditLinear } from '../../kernels/dit-linear.js';
import { linear } from '../../kernels/matmul.js';
import { ditAttentionGpu } from '../../kernels/dit-attention.js';
import { splitScratch } from '../../kernels/flash.js';
import { pagedAttentionSplit, prefillAttention, splitsFor } from '../../kernels/paged-attention.js';
import { packWeightF16, roundToF16 } from '../../kernels/quant.js';
import type { GpuContext } from '../../src/gpu/context.js';
import { adapterLabel } from '../../src/gpu/device.js';
import { rowBucket, TuningFileError, TuningTable, useTuning, type TunePoint } from '../../src/gpu/tuning.js';
import { lmFromDir } from '../../src/models/llm/from-dir.js';
import { collectTunePoints, tunePoints } from '../../src/tune/tuner.js';
import { tuneFlow, tuneLlm } from '../../src/tune/models.js';
import { tinyFlow, f32 } from '../flow/helpers.js';
import { expectClose } from '../helpers/compare.js';
import { readFixtureSet, TINY_DIR } from '../helpers/fixtures.js';
import { testContext } from '../helpers/gpu.js';
import { SeededRng } from '../helpers/rng.js';
import { linearEpilogueRef } from '../kernels/ref.js';

// Few runs and few candidates: every candidate compiles a pipeline, which takes lavapipe up to seconds.
const fast = { reps: 2, rounds: 1, maxCandidates: 3 };

/** Runs `fn` with `table` on the context, which is cleared after (the test context is shared by the file). */
async function withTuning<T>(ctx: GpuContext, table: TuningTable, fn: () => Promise<T>): Promise<T> {
  useTuning(ctx, table);
  try {
    return await fn();
  } finally {
    ctx.tuning = null;
  }
}

describe('tuning table', () => {
  it('round-trips through JSON and refuses malformed files and other adapters, naming the file', async () => {
    const ctx = await testContext();
    const t = TuningTable.forContext(ctx);
    t.set('linear', [64, 96, 64, 'f16', 'p'], { choice: { BM: 64, BN: 64, TM: 4, TN: 4, BK: 16 }, us: 12.5, tried: [{ name: 'a', us: 12.5 }, { name: 'b', us: null, note: 'refused' }] });
    const back = TuningTable.parse(JSON.stringify(t), 'x.json');
    expect(back.adapter).toBe(adapterLabel(ctx.handle.info));
    expect(back.get('linear', [64, 96, 64, 'f16', 'p'])).toEqual({ BM: 64, BN: 64, TM: 4, TN: 4, BK: 16 });
    expect(back.entry('linear:64x96x64xf16xp')!.tried[1].note).toBe('refused');
    expect(back.get('linear', [128, 96, 64, 'f16', 'p'])).toBeUndefined();
    const bad: [string, RegExp][] = [
      ['{', /bad\.json: not JSON/],
      ['{"format":"other"}', /bad\.json: not a cosyvoice-webgpu-tuning file/],
      ['{"format":"cosyvoice-webgpu-tuning","version":2,"adapter":"a","entries":[]}', /version 2/],
      ['{"format":"cosyvoice-webgpu-tuning","version":1,"adapter":"a","entries":[{"key":"linear:1","choice":{"BM":[1]},"us":1}]}', /entry 0/],
    ];
    for (const [text, msg] of bad) expect(() => TuningTable.parse(text, 'bad.json')).toThrow(msg);
    expect(() => TuningTable.parse('{}', 'bad.json')).toThrow(TuningFileError);
    expect(() => useTuning(ctx, new TuningTable('some other card'), 'their.json')).toThrow(/their\.json was measured on "some other card"/);
    expect(ctx.tuning).toBeNull();
    expect([rowBucket(1), rowBucket(9), rowBucket(64), rowBucket(65), rowBucket(600)]).toEqual([8, 16, 64, 128, 1024]);
    // merge: the other table's entries win; another adapter's table is refused.
    const more = TuningTable.forContext(ctx);
    more.set('linear', [64, 96, 64, 'f16', 'p'], { choice: { mode: 'gemm' }, us: 9, tried: [] });
    more.set('linear', [128, 96, 64, 'f16', 'p'], { choice: { mode: 'gemm' }, us: 9, tried: [] });
    back.merge(more);
    expect(back.size).toBe(2);
    expect(back.get('linear', [64, 96, 64, 'f16', 'p'])).toEqual({ mode: 'gemm' });
    expect(() => back.merge(new TuningTable('some other card'))).toThrow(TuningFileError);
  });
});

describe('tuner', () => {
  it('excludes a candidate whose output differs and one that throws; keeps the fastest of the rest', async () => {
    const ctx = await testContext();
    const [M, N, K] = [24, 40, 32];
    const rng = new SeededRng(5);
    const x = ctx.upload(rng.f32(M * K), 'f32', [M, K]);
    const w = ctx.upload(rng.f32(N * K), 'f32', [N, K]);
    const w2 = ctx.upload(rng.f32(N * K), 'f32', [N, K]); // another weight: another output
    const y = ctx.tensor('f32', [M, N]);
    const point: TunePoint = {
      family: 'test',
      shape: [M, N, K],
      candidates: [
        { name: 'rt default', choice: { w: 1, BM: 32, BN: 32, TM: 4, TN: 4, BK: 8 } },
        { name: 'wrong weight', choice: { w: 2, BM: 32, BN: 32, TM: 4, TN: 4, BK: 8 } },
        { name: 'refused tile', choice: { w: 1, BM: 32, BN: 32, TM: 3, TN: 4, BK: 8 } },
        { name: 'gemm', choice: { w: 1, mode: 'gemm' } },
      ],
      build: (c) => [
        c.mode === 'gemm'
          ? linear(ctx, { x, w, y, mode: 'gemm' })
          : linear(ctx, { x, w: c.w === 2 ? w2 : w, y, mode: 'gemm_rt', gemmTile: [Number(c.BM), Number(c.BN)], gemmTM: Number(c.TM), gemmTN: Number(c.TN), gemmBK: Number(c.BK) }),
      ],
      writes: [y],
      out: y,
      tag: 'test',
    };
    const table = TuningTable.forContext(ctx);
    const [r] = await tunePoints(ctx, [point, { ...point, tag: 'same key, skipped' }], table, { ...fast, maxCandidates: undefined });
    expect(table.size).toBe(1);
    const byName = Object.fromEntries(r.tried.map((t) => [t.name, t]));
    console.log(`[tuner] ${JSON.stringify(r.tried)}`);
    expect(byName['wrong weight'].us).toBeNull();
    expect(byName['wrong weight'].note).toMatch(/output differs from rt default/);
    expect(byName['refused tile'].us).toBeNull();
    expect(byName['refused tile'].note).toMatch(/gemm_rt: tile 32×32, 3×4 a thread/);
    expect(byName['rt default'].us).toBeGreaterThan(0);
    expect(byName['gemm'].us).toBeGreaterThan(0);
    expect(r.bestUs).toBe(Math.min(byName['rt default'].us!, byName['gemm'].us!));
    expect(table.get('test', [M, N, K])).toEqual(point.candidates.find((c) => c.name === r.bestName)!.choice);
  });

  it('linear gemm_rt: collects one decision per shape, tunes it, and the tuned record matches float64', async () => {
    const ctx = await testContext();
    const [M, N, K] = [40, 72, 64];
    const rng = new SeededRng(41);
    const xv = rng.f32(M * K), wv = rng.f32(2 * N * K, -0.3, 0.3), bv = rng.f32(2 * N);
    const x = ctx.upload(xv, 'f32', [M, K]), w = packWeightF16(ctx, wv, [2 * N, K]), bias = ctx.upload(bv, 'f32', [2 * N]);
    const y = ctx.tensor('f32', [M, N]);
    const args = { x, w, y, bias, gateUp: true, mode: 'gemm_rt' as const };
    const { points } = await collectTunePoints(ctx, () => [linear(ctx, args), linear(ctx, args)]);
    expect(points.map((p) => p.family)).toEqual(['linear', 'linear']);
    expect(points[0].shape).toEqual([rowBucket(M), N, K, 'f16', 'g']);
    expect(points[0].candidates.length).toBeGreaterThan(1);
    const table = TuningTable.forContext(ctx);
    const [r] = await tunePoints(ctx, points, table, fast);
    console.log(`[tuner] linear gate_up ${M}×${N}×${K} f16: ${r.tried.map((t) => `${t.name} ${t.us?.toFixed(0) ?? t.note}`).join(' | ')} → ${r.bestName}`);
    const ran = r.tried.filter((t) => t.us !== null);
    expect(ran.length).toBeGreaterThan(1);
    const choice = table.get('linear', points[0].shape)!;
    await withTuning(ctx, table, async () => {
      const rec = linear(ctx, args);
      expect(rec.variant).toContain(`BM${choice.BM}`);
      expect(rec.variant).toContain(`BK${choice.BK}`);
      ctx.run([rec]);
      const ref = linearEpilogueRef(xv, roundToF16(wv), M, 2 * N, K, { bias: bv, gateUp: true });
      expectClose(await ctx.readF32(y), ref, { atol: 2e-4, rtol: 2e-4, label: `tuned linear ${r.bestName}` });
      // A `gemm` choice (measured where the entry was left open) does not override a caller that named gemm_rt.
      table.set('linear', points[0].shape, { choice: { mode: 'gemm' }, us: 1, tried: [] });
      expect(linear(ctx, args).variant).toMatch(/^matmul_gemm_rt_/);
    });
  });

  it('linear gemv (decode row, fused RMSNorm): rows × lanes tried; every candidate that ran agrees, the chosen one matches float64', async () => {
    const ctx = await testContext();
    const [N, K] = [300, 256];
    const rng = new SeededRng(300);
    const xv = rng.f32(K), wv = rng.f32(N * K, -0.2, 0.2), nv = rng.f32(K, 0.5, 1.5);
    const args = { x: ctx.upload(xv, 'f32', [1, K]), w: packWeightF16(ctx, wv, [N, K]), y: ctx.tensor('f32', [1, N]), norm: ctx.upload(nv, 'f32', [K]), eps: 1e-6, mode: 'gemv' as const };
    const { points } = await collectTunePoints(ctx, () => linear(ctx, args));
    expect(points.map((p) => [p.family, ...p.shape])).toEqual([['gemv', 1, N, K, 'f16', 'n']]);
    const table = TuningTable.forContext(ctx);
    const [r] = await tunePoints(ctx, points, table, { ...fast, maxCandidates: 5 });
    console.log(`[tuner] gemv ${N}×${K}: ${r.tried.map((t) => `${t.name} ${t.us?.toFixed(0) ?? t.note}`).join(' | ')}`);
    expect(r.tried.filter((t) => t.us !== null).length).toBeGreaterThan(1);
    for (const t of r.tried) expect(t.note ?? '').not.toMatch(/output differs/);
    await withTuning(ctx, table, async () => {
      ctx.run([linear(ctx, args)]);
      let ss = 0;
      for (const v of xv) ss += v * v;
      const inv = 1 / Math.sqrt(ss / K + 1e-6);
      const xn = Float64Array.from(xv, (v, k) => nv[k] * v * inv);
      expectClose(await ctx.readF32(args.y), linearEpilogueRef(xn, roundToF16(wv), 1, N, K, {}), { atol: 2e-4, rtol: 2e-4, label: `tuned gemv ${r.bestName}` });
    });
  });

  it('ditLinear with the in-place gated residual: the tuner leaves the output as it found it', async () => {
    const ctx = await testContext();
    const [T, N, K] = [48, 64, 64];
    const rng = new SeededRng(9);
    const dims = createDims(ctx, { T, B: 1, chunk: 0 });
    const x = ctx.upload(rng.f32(T * K), 'f32', [T, K]), w = ctx.upload(rng.f32(N * K), 'f32', [N, K]), bias = ctx.upload(rng.f32(N), 'f32', [N]);
    const mod = ctx.upload(rng.f32(4 * N), 'f32', [4 * N]);
    const y = ctx.upload(rng.f32(T * N), 'f32', [T, N]);
    const args = { dims, x, w, bias, y, gate: { mod, base: N, stride: 0 }, impl: 'gemm_rt' as const };
    const { value: rec, points } = await collectTunePoints(ctx, () => ditLinear(ctx, args, 'ff2'));
    ctx.run(atLength([rec], T, 1));
    const before = await ctx.readF32(y);
    const sized = points.map((p) => ({ ...p, build: (c: Parameters<typeof p.build>[0]) => atLength(p.build(c) as never, T, 1) }));
    const table = TuningTable.forContext(ctx);
    const [r] = await tunePoints(ctx, sized, table, fast);
    expect(r.tried.find((t) => t.name === 'tiled')?.us).toBeGreaterThan(0);
    expect(Array.from(await ctx.readF32(y))).toEqual(Array.from(before));
  });

  it('decode attention: every split/combine/chunk form that runs agrees; the refused ones say why', async () => {
    const ctx = await testContext();
    const [Hq, Hkv, D, page, ctxLen] = [14, 2, 64, 16, 200];
    const pages = Math.ceil(256 / page);
    const rng = new SeededRng(3);
    const pool = ctx.upload(rng.f32(pages * 2 * page * Hkv * D), 'f32', [pages, 2, page, Hkv, D]);
    const blockTable = ctx.upload(Uint32Array.from({ length: pages }, (_, i) => i), 'u32', [1, pages]);
    const q = ctx.upload(rng.f32(Hq * D), 'f32', [1, Hq, D]);
    const out = ctx.tensor('f32', [1, Hq * D]);
    const partials = ctx.tensor('f32', [1, Hq, splitsFor(pages * page, 32), D + 2]);
    const step = ctx.uniform(new Uint32Array([ctxLen - 1, 0, 0, 0]));
    const { points } = await collectTunePoints(ctx, () => pagedAttentionSplit(ctx, { q, pool, blockTable, out, partials, step, chunk: 32 }, 'attn'));
    expect(points).toHaveLength(1);
    const table = TuningTable.forContext(ctx);
    const [r] = await tunePoints(ctx, points, table, { ...fast, maxCandidates: 8 });
    console.log(`[tuner] decode attention: ${r.tried.map((t) => `${t.name} ${t.us?.toFixed(0) ?? `(${t.note?.slice(0, 60)})`}`).join(' | ')}`);
    expect(r.tried.filter((t) => t.us !== null).length).toBeGreaterThan(3);
    for (const t of r.tried) if (t.us === null) expect(t.note).not.toMatch(/output differs/);
  });
});

describe('conv1d (HiFT) under tuning', () => {
  it('tiled entry with no tile: tiles × Cin splits tried on an accumulating conv (restored after), a chosen tile gives the default\'s output', async () => {
    const ctx = await testContext();
    const [cin, cout, lout, k, dil] = [64, 64, 200, 7, 3];
    const rng = new SeededRng(64);
    const init = rng.f32(cout * lout);
    const a = {
      x: ctx.upload(rng.f32(cin * lout, -1.5, 1.5), 'f32', [cin, lout]),
      w: ctx.upload(packConvWeight(rng.f32(cout * cin * k, -0.05, 0.05), cout, cin, k), 'f32', [cin * k * cout]),
      bias: ctx.upload(rng.f32(cout, -0.1, 0.1), 'f32', [cout]),
      out: ctx.upload(init, 'f32', [cout, lout]),
      cout, k, lout, dilation: dil, padLeft: (k - 1) * dil, accumulate: true, mode: 'tiled' as const,
    };
    const { value: def, points } = await collectTunePoints(ctx, () => conv1d(ctx, a, 'resblock'));
    expect(points).toHaveLength(1);
    expect(points[0].shape).toEqual([cin, cout, 256, k, dil, 'a']);
    expect(points[0].candidates[0].name).toBe('tiled 64co×64t rt4 split 1');
    expect(points[0].candidates.map((c) => c.name)).not.toContain('win'); // the caller named the tiled entry
    const table = TuningTable.forContext(ctx);
    const [r] = await tunePoints(ctx, points, table, { ...fast, maxCandidates: 4 });
    expect(r.tried.filter((t) => t.us !== null).length).toBe(4);
    expect(Array.from(await ctx.readF32(a.out))).toEqual(Array.from(init)); // the accumulating output was restored
    ctx.run([def]);
    const want = await ctx.readF32(a.out);
    ctx.write(a.out.buffer, 0, init);
    table.set('conv1d', points[0].shape, { choice: { co: 16, t: 32, rt: 2, split: 4 }, us: 1, tried: [] });
    await withTuning(ctx, table, async () => {
      const rec = conv1d(ctx, a, 'resblock');
      expect(rec.variant).toMatch(/SPLIT4/);
      ctx.run([rec]);
      expectClose(await ctx.readF32(a.out), want, { atol: 1e-5, rtol: 1e-5, label: 'conv1d 16co×32t split 4 (tuned) vs 64×64' });
    });
  });
});

describe('key-split attention forms under tuning', () => {
  it('DiT attention: flash tiles, tiled and 2–4 key splits tried; a table choosing split 3 plans two records with the default\'s output', async () => {
    const ctx = await testContext();
    const [T, B, H, DH] = [70, 2, 4, 64];
    const M = T * B, C = H * DH;
    const rng = new SeededRng(70);
    const dims = createDims(ctx, { T, B, chunk: 0 });
    const a = { dims, qkv: ctx.upload(rng.f32(M * 3 * C, -2, 2), 'f32', [M, 3 * C]), o: ctx.tensor('f32', [M, C]), keymask: ctx.upload(new Float32Array(M).fill(1), 'f32', [M]), heads: H };
    const split = splitScratch(ctx, M, H, DH, 'test.split', 4);
    const { value: def, points } = await collectTunePoints(ctx, () => ditAttentionGpu(ctx, a, split, 'attn'));
    const names = points[0].candidates.map((c) => c.name);
    expect(names.slice(0, 2)).toEqual(['flash kt8 rq2', 'tiled']);
    if (ctx.hasSubgroups && ctx.handle.info.subgroupMinSize >= 8) expect(names).toEqual(expect.arrayContaining(['flash split 2', 'flash split 3', 'flash split 4']));
    ctx.run(atLength(def, T, B));
    const want = await ctx.readF32(a.o);
    const table = TuningTable.forContext(ctx);
    const sized = points.map((p) => ({ ...p, build: (c: Parameters<typeof p.build>[0]) => atLength(p.build(c) as never, T, B) }));
    const [r] = await tunePoints(ctx, sized, table, { ...fast, maxCandidates: 5 });
    expect(r.tried.filter((t) => t.us !== null).map((t) => t.name)).toEqual(names.slice(0, 5).filter((n) => !r.tried.find((t) => t.name === n)?.note));
    table.set('dit_attention', points[0].shape, { choice: { impl: 'split', S: 3 }, us: 1, tried: [] });
    await withTuning(ctx, table, async () => {
      const recs = ditAttentionGpu(ctx, a, split, 'attn');
      expect(recs.map((x) => x.label)).toEqual([expect.stringMatching(/^attn\.split\//), expect.stringMatching(/^attn\.combine\//)]);
      ctx.run(atLength(recs, T, B));
      expectClose(await ctx.readF32(a.o), want, { atol: 1e-5, rtol: 1e-5, label: 'dit attention split 3 (tuned) vs flash' });
    });
  });

  it('prefill attention (flash): a table choosing 2 key splits gives the default flash walk\'s output', async () => {
    const ctx = await testContext();
    const [M, Hq, Hkv, D, page] = [40, 14, 2, 64, 16];
    const pages = 4;
    const rng = new SeededRng(40);
    const a = {
      q: ctx.upload(rng.f32(M * Hq * D), 'f32', [M, Hq, D]),
      pool: ctx.upload(rng.f32(pages * 2 * page * Hkv * D), 'f32', [pages, 2, page, Hkv, D]),
      blockTable: ctx.upload(Uint32Array.from({ length: pages }, (_, i) => i), 'u32', [1, pages]),
      out: ctx.tensor('f32', [M, Hq * D]),
      step: ctx.uniform(new Uint32Array([0, 0, 0, 0])),
      mode: 'flash' as const,
    };
    const split = splitScratch(ctx, 64, Hq, D, 'test.split', 4);
    const { value: def, points } = await collectTunePoints(ctx, () => prefillAttention(ctx, a, split, 'attn'));
    expect(points).toHaveLength(1);
    expect(points[0].shape).toEqual([64, Hq, Hkv, D, 'f32']);
    ctx.run(def);
    const want = await ctx.readF32(a.out);
    const table = TuningTable.forContext(ctx);
    table.set('prefill_attention', points[0].shape, { choice: { impl: 'split', S: 2 }, us: 1, tried: [] });
    await withTuning(ctx, table, async () => {
      const recs = prefillAttention(ctx, a, split, 'attn');
      expect(recs).toHaveLength(2);
      ctx.run(recs);
      expectClose(await ctx.readF32(a.out), want, { atol: 1e-5, rtol: 1e-5, label: 'prefill attention split 2 (tuned) vs flash' });
    });
  });
});

describe('tuned models', () => {
  it('tiny LLM with the GPU prefill plan: tuned linears, teacher-forced hidden states as untuned', async () => {
    const ctx = await testContext();
    const opts = { maxPrefill: 64, maxContext: 128, kv: { maxSeqs: 2 }, ownGemv: false, fuseNorm: true, mlp: 'fused' as const };
    const lm = await lmFromDir(ctx, TINY_DIR, opts);
    const table = TuningTable.forContext(ctx);
    const reports = await tuneLlm(ctx, () => lm.rt, table, { prefillRows: [3, 62], context: 40, ...fast });
    // The runtime passed in was built already: its decode plan is not collected again, the prefill plan is.
    // The prefill plan's GEMMs (64-row bucket) and its last row's head, a GEMV.
    expect(table.keys().every((k) => k.startsWith('linear:64x') || k.startsWith('gemv:1x'))).toBe(true);
    expect(reports.length).toBe(table.size);
    // On GPUs every prefill linear takes gemm_rt; on llvmpipe the fused-norm ones (qkv, gate_up) do, o and down take gemm_sg32.
    expect(table.keys()).toEqual(expect.arrayContaining([expect.stringMatching(/^linear:64x\d+x64xf32xn$/), expect.stringMatching(/^linear:64x\d+x64xf32xgn$/)]));
    const set = readFixtureSet('llm_teacher_forced', 0);
    const ints = (t: { data: Float64Array }) => Array.from(t.data);
    const emb = lm.embedPrompt({ promptText: ints(set.inputs[0]), text: ints(set.inputs[1]), promptSpeech: ints(set.inputs[2]) }, ints(set.inputs[3]));
    await withTuning(ctx, table, async () => {
      const tuned = await lmFromDir(ctx, TINY_DIR, opts);
      const seq = tuned.rt.createSequence();
      await tuned.rt.prefill(seq, emb, { allRows: true });
      const h = expectClose(await tuned.rt.readHidden(), set.outputs[1].data, { relL2: 1e-4, label: 'tuned llm hidden' });
      console.log(`[tuner] tiny LLM: ${reports.map((r) => `${r.tag} ${r.bestName}`).join(', ')}; hidden rel-L2 ${h.relL2.toExponential(2)}`);
      tuned.rt.free(seq);
    });
  });

  it('tiny DiT with the GPU kernels: tuned linears (and flash tiles where it runs), estimator output as the fixture', async () => {
    const ctx = await testContext();
    const table = TuningTable.forContext(ctx);
    const { FlowModel } = await import('../../src/models/flow/forward.js');
    const { readHyperYaml, loadPt } = await import('../../loader/node.js');
    const { join } = await import('node:path');
    const yaml = await readHyperYaml(join(TINY_DIR, 'cosyvoice3.yaml'));
    const store = await loadPt(join(TINY_DIR, 'flow.pt'));
    const make = () => FlowModel.load(ctx, { yaml, store, dtype: 'f32', maxFrames: 160, kernels: 'gpu' });
    const reports = await tuneFlow(ctx, make, table, { frames: 70, ...fast });
    expect(table.keys().some((k) => k.startsWith('dit_linear:'))).toBe(true);
    console.log(`[tuner] tiny DiT: ${reports.map((r) => `${r.key} ${r.bestName}`).join(', ')}`);
    await withTuning(ctx, table, async () => {
      const model = await make();
      const fx = readFixtureSet('flow_estimator', 0);
      const [x, mask, mu, t, spks, cond] = fx.inputs.map((i) => f32(i.data));
      const out = await model.estimator({ x, mask, mu, t, spks, cond, streaming: false });
      expectClose(out, fx.outputs[0].data, { relL2: 1e-4, label: 'tuned flow_estimator' });
    });
    void tinyFlow;
  });
});
