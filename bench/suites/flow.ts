/**
 * Flow (DiT estimator + CFM solve) benchmark at full DiT size (dim 1024, 22 blocks, 16×64 heads, FFN 2048) with
 * seeded random weights (src/pipeline/synthetic.ts, official names and shapes).
 *
 *   npx tsx bench/suites/flow.ts [--frames 200,600] [--solve-frames 200] [--dtypes f32,f16] [--reps 2]
 *                               [--no-ort] [--no-ort-webgpu] [--no-solve] [--profile] [--depth 22]
 *                               [--tune]   (tune the DiT's kernel choices on this adapter first: src/tune/)
 *
 * Rows: one estimator call (CFG batch 2) at each total length (prompt + generated frames), ours (f32 and f16
 * weights; GPU wall time of the planned dispatches, no host transfers) and onnxruntime-node (`cpu`, `webgpu` EPs)
 * running the estimator ONNX built by the converter (src/convert/dit.ts, same weights, fp32, batch 2); and a whole
 * 10-step solve (ours: wrapper + 10 CFG Euler steps in one submit, end to end with readback). FLOPs count the
 * linear layers, conv-pos and attention (2·MACs). Results → bench/results/flow.json. Timings only, never asserted.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { toFloat32 } from '../../loader/dtype.js';
import { parseHyperYaml } from '../../loader/hyperyaml.js';
import type { TensorStore } from '../../loader/types.js';
import { GpuContext } from '../../src/gpu/context.js';
import { adapterLabel } from '../../src/gpu/device.js';
import { requestNodeDevice } from '../../src/gpu/node-device.js';
import { profileDispatches, summariseTimings, wallTimeMs } from '../../src/gpu/timing.js';
import { FlowModel } from '../../src/models/flow/forward.js';
import { SYNTHETIC_SIZES, syntheticCheckpoint, type SyntheticDims } from '../../src/pipeline/synthetic.js';
import { tuneFlow } from '../../src/tune/models.js';
import { tuneFor } from './tune-for.js';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const flag = (f: string) => args.includes(f);
const opt = (f: string, d: string) => (args.includes(f) ? args[args.indexOf(f) + 1] : d);
const frameList = opt('--frames', '200,600').split(',').map(Number);
const solveFrames = Number(opt('--solve-frames', '200'));
const dtypes = opt('--dtypes', 'f32,f16').split(',') as ('f32' | 'f16')[];
const reps = Number(opt('--reps', '2'));
const depth = Number(opt('--depth', String(SYNTHETIC_SIZES.full.dit.depth)));

const dims: SyntheticDims = { ...SYNTHETIC_SIZES.tiny, dit: { ...SYNTHETIC_SIZES.full.dit, depth } };

/** FLOPs of one estimator call, batch B, T frames (linears + conv-pos + attention; elementwise ignored). */
function estimatorFlops(T: number, B = 2): number {
  const { dim: C, depth: L, ffMult, heads, dimHead } = dims.dit;
  const F = C * ffMult;
  const rows = B * T;
  const linear = rows * (320 * C + L * (3 * C * C + C * C + 2 * C * F) + C * 80);
  const conv = 2 * rows * C * (C / 16) * 31;
  const attn = L * B * heads * 2 * T * T * dimHead;
  return 2 * (linear + conv + attn);
}

const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const rnd = (n: number, seed: number, scale = 1) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + seed * 78.233) * scale);

interface Row { [k: string]: unknown }

async function benchOurs(ctx: GpuContext, flow: TensorStore, yaml: Record<string, unknown>, dtype: 'f32' | 'f16', rows: Row[]): Promise<void> {
  const t0 = performance.now();
  const maxFrames = Math.max(...frameList, solveFrames);
  const make = () => FlowModel.load(ctx, { yaml, store: flow, dtype, maxFrames });
  // --tune: this adapter's choices at the longest call first (src/tune/), then the timed model is built with them.
  const tuned = flag('--tune') ? await tuneFor(ctx, (table, log) => tuneFlow(ctx, make, table, { frames: Math.max(...frameList), log })) : undefined;
  const model = await make();
  ctx.tuning = null;
  if (tuned) rows.push({ impl: 'ours-webgpu', dtype, what: 'tuning', tuned });
  const loadS = (performance.now() - t0) / 1000;
  console.log(`[flow bench] ours ${dtype}: loaded in ${loadS.toFixed(1)} s; ${model.dispatchesPerStep} dispatches per solver step`);
  for (const T of frameList) {
    const B = 2;
    const inputs = {
      x: rnd(B * 80 * T, 1), mu: rnd(B * 80 * T, 2), cond: rnd(B * 80 * T, 3), spks: rnd(B * 80, 4),
      mask: new Float32Array(B * T).fill(1), t: new Float32Array([0.3, 0.3]), streaming: false,
    };
    const recs = model.prepareEstimator(inputs).records;
    if (reps > 1) await wallTimeMs(ctx, recs); // warm-up (lavapipe compiles pipelines at first use)
    const ms: number[] = [];
    for (let r = 0; r < reps; r++) ms.push(await wallTimeMs(ctx, recs));
    const row: Row = { impl: 'ours-webgpu', dtype, what: 'estimator', frames: T, batch: B, ms: +median(ms).toFixed(1), dispatches: recs.length };
    row.gflops = +(estimatorFlops(T) / (median(ms) * 1e6)).toFixed(1);
    console.log(`[flow bench] ours ${dtype} estimator T=${T}: ${row.ms} ms, ${row.gflops} GFLOP/s, ${recs.length} dispatches`);
    if (flag('--profile')) {
      const prof = await profileDispatches(ctx, recs);
      if (prof) {
        row.profile = Object.fromEntries(summariseTimings(prof).map((k) => [k.label, +k.ms.toFixed(2)]));
        console.log('[flow bench] GPU ms by kernel variant:', row.profile);
      }
    }
    rows.push(row);
  }
  if (!flag('--no-solve')) {
    const T = solveFrames;
    const P = 25;
    const nTok = T / 2 - P;
    const call = {
      tokens: Int32Array.from({ length: nTok }, (_, i) => (i * 37) % 100),
      promptTokens: Int32Array.from({ length: P }, (_, i) => (i * 11) % 100),
      promptMel: rnd(2 * P * 80, 5),
      embedding: rnd(192, 6),
      streaming: false,
      finalize: true,
    };
    if (reps > 1) await model.inference(call);
    const ms: number[] = [];
    const before = { ...ctx.counters };
    for (let r = 0; r < Math.max(1, reps - 1); r++) {
      const t = performance.now();
      await model.inference(call);
      ms.push(performance.now() - t);
    }
    const counters = Object.fromEntries(Object.entries(ctx.counters).map(([k, v]) => [k, (v - (before as Record<string, number>)[k]) / ms.length]));
    const row: Row = { impl: 'ours-webgpu', dtype, what: 'solve (10 CFG Euler steps, end to end)', frames: T, ms: +median(ms).toFixed(1) };
    row.gflops = +((10 * estimatorFlops(T)) / (median(ms) * 1e6)).toFixed(1);
    row.countersPerCall = counters;
    console.log(`[flow bench] ours ${dtype} solve T=${T}: ${row.ms} ms (${row.gflops} GFLOP/s); per call ${JSON.stringify(counters)}`);
    rows.push(row);
  }
}

async function benchOrt(flow: TensorStore, yamlText: string, ep: 'cpu' | 'webgpu', rows: Row[]): Promise<void> {
  const { buildConfig } = await import('../../src/convert/config.js');
  const { Weights } = await import('../../src/convert/weights.js');
  const { buildDit } = await import('../../src/convert/dit.js');
  const { writeModel } = await import('../../src/onnx/writer.js');
  const ortMod = await import('onnxruntime-node');
  const ort = (ortMod as unknown as { default?: typeof ortMod }).default ?? ortMod;
  const dir = join(tmpdir(), `flow-bench-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'flow.onnx');
  try {
    const cfg = buildConfig(yamlText, { hidden_size: 64, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, intermediate_size: 160, vocab_size: 200, rope_theta: 1e6, rms_norm_eps: 1e-6 }, 'fp32');
    const w = new Weights('flow.pt', [...flow].map(([k, r]) => [k, { dims: r.dims, data: toFloat32(r) }] as const));
    writeModel(buildDit(w, cfg.flow, 'fp32'), path);
    const sess = await ort.InferenceSession.create(path, { executionProviders: [ep], graphOptimizationLevel: 'all' });
    const impl = `onnxruntime-node ${ort.env.versions.common} ${ep}`;
    for (const T of frameList) {
      const B = 2;
      const feeds: Record<string, InstanceType<typeof ort.Tensor>> = {
        x: new ort.Tensor('float32', rnd(B * 80 * T, 1), [B, 80, T]),
        mask: new ort.Tensor('float32', new Float32Array(B * T).fill(1), [B, 1, T]),
        mu: new ort.Tensor('float32', rnd(B * 80 * T, 2), [B, 80, T]),
        t: new ort.Tensor('float32', new Float32Array([0.3, 0.3]), [B]),
        spks: new ort.Tensor('float32', rnd(B * 80, 4), [B, 80]),
        cond: new ort.Tensor('float32', rnd(B * 80 * T, 3), [B, 80, T]),
        streaming: new ort.Tensor('bool', new Uint8Array([0]), [1]),
      };
      const inputs = Object.fromEntries(sess.inputNames.map((n) => [n, feeds[n]]));
      if (reps > 1) await sess.run(inputs); // warm-up
      const ms: number[] = [];
      for (let r = 0; r < reps; r++) {
        const t = performance.now();
        await sess.run(inputs);
        ms.push(performance.now() - t);
      }
      const row: Row = { impl, dtype: 'f32', what: 'estimator', frames: T, batch: B, ms: +median(ms).toFixed(1) };
      row.gflops = +(estimatorFlops(T) / (median(ms) * 1e6)).toFixed(1);
      console.log(`[flow bench] ${impl} estimator T=${T}: ${row.ms} ms, ${row.gflops} GFLOP/s`);
      rows.push(row);
    }
    await sess.release();
  } catch (e) {
    const msg = String((e as Error).message ?? e).slice(0, 400);
    console.log(`[flow bench] onnxruntime-node ${ep} failed: ${msg}`);
    rows.push({ impl: `onnxruntime-node ${ep}`, error: msg });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const ck = syntheticCheckpoint(dims, 11);
  const yaml = parseHyperYaml(ck.yaml);
  const ctx = new GpuContext(await requestNodeDevice());
  const device = adapterLabel(ctx.handle.info);
  console.log(`[flow bench] device: ${device}; DiT dim ${dims.dit.dim} depth ${dims.dit.depth}; frames ${frameList}; solve ${solveFrames}`);
  const rows: Row[] = [];
  for (const dtype of dtypes) await benchOurs(ctx, ck.flow, yaml, dtype, rows);
  if (!flag('--no-ort')) {
    await benchOrt(ck.flow, ck.yaml, 'cpu', rows);
    if (!flag('--no-ort-webgpu')) await benchOrt(ck.flow, ck.yaml, 'webgpu', rows);
  }
  // Rows of earlier runs with other keys are kept (full-size runs are long: estimator and solve run separately).
  // Reduced-depth runs (profiling) go to their own file so they never replace full-size results.
  const full = dims.dit.depth === SYNTHETIC_SIZES.full.dit.depth;
  const outPath = join(here, '..', 'results', full ? 'flow.json' : `flow-depth${dims.dit.depth}.json`);
  const key = (r: Row) => `${r.impl}|${r.dtype}|${r.what}|${r.frames}|${device}|${dims.dit.depth}`;
  let history: unknown;
  if (existsSync(outPath)) {
    try {
      const prev = JSON.parse(readFileSync(outPath, 'utf8')) as { rows?: Row[]; device?: string; dims?: { depth?: number }; history?: unknown };
      history = prev.history;
      if (prev.device === device && prev.dims?.depth === dims.dit.depth) {
        const mine = new Set(rows.map(key));
        rows.unshift(...(prev.rows ?? []).filter((r) => !mine.has(key(r))));
      }
    } catch {
      // unreadable earlier results are replaced
    }
  }
  // our/ORT ratios: ORT ms ÷ our ms (> 1 = we are faster)
  const ratios: Row[] = [];
  for (const r of rows.filter((x) => x.impl === 'ours-webgpu' && x.what === 'estimator')) {
    for (const o of rows.filter((x) => String(x.impl).startsWith('onnxruntime') && x.frames === r.frames && x.ms)) {
      ratios.push({ ours: `${r.dtype}`, ort: o.impl, frames: r.frames, speedup: +((o.ms as number) / (r.ms as number)).toFixed(2) });
    }
  }
  console.log('[flow bench] speedup (ORT ms / our ms):', ratios);
  mkdirSync(dirname(outPath), { recursive: true });
  writeFileSync(outPath, JSON.stringify({
    suite: 'flow', date: new Date().toISOString(), device, dims: dims.dit,
    notes: 'estimator = one DiT call, CFG batch 2, T total frames (prompt + generated), GPU wall time of the planned dispatch list (ours) / session.run (ORT, converter flow.onnx fp32 with the same weights); solve = FlowModel.inference end to end (wrapper + 10 steps, one submit, mel readback). GFLOP/s from linears + conv-pos + attention. On a shared CPU adapter (lavapipe) timings swing by up to 2x with machine load: compare ours and ORT only within one run (ratios are computed per run).',
    rows, ratios, history,
  }, null, 2) + '\n');
  ctx.dispose();
}

await main();
