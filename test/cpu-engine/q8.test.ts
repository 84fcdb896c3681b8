/**
 * The CPU fallback with q8 weights (WasmEngine dtype 'q8': the LLM's projections and head, the DiT's linears as
 * int8 with a scale per 32 values). Two questions, two bounds:
 *   - does it hold exactly kernels/quant.ts's q8 values and compute with them as f32 would? The f32 engine on a
 *     store whose same matrices were replaced by quantizeHost's dequantised values is the reference, to f32
 *     rounding (rel-L2 1e-5) for products of several rows; one-row products (decode steps, the DiT's time MLP and
 *     modulation) take their input as int16 with a scale per 32 values (CpuKernels.quantizeRow16), which moves
 *     them by up to ~5e-5 here: bound 2e-4 for decode logits, 1e-4 for the estimator;
 *   - what does q8 cost against the official fixtures? Stated bounds on the tiny random weights (rel-L2 5e-2).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Q8_GROUP } from '../../kernels/cpu-linear.js';
import { quantizeHost } from '../../kernels/quant.js';
import { toFloat32, type TensorStore } from '../../loader/index.js';
import { EST } from '../../src/models/flow/weights.js';
import type { ModelFiles } from '../../src/pipeline/model-files.js';
import { loadModelFolder } from '../../src/pipeline/node-model-files.js';
import { WasmEngine } from '../../src/pipeline/wasm-engine.js';
import { compareArrays, expectClose } from '../helpers/compare.js';
import { TINY_DIR, requireFixtures } from '../helpers/fixtures.js';
import { SeededRng } from '../helpers/rng.js';

/** The matrices WasmEngine stores as q8. */
const quantised = (store: 'llm' | 'flow', name: string, dims: number[]) =>
  store === 'llm'
    ? (name.startsWith('llm.model.model.layers.') && name.endsWith('_proj.weight')) || name === 'llm_decoder.weight'
    : name.startsWith(EST) && name.endsWith('.weight') && dims.length === 2;

function dequantised(store: TensorStore, which: 'llm' | 'flow'): { store: TensorStore; count: number } {
  const out: TensorStore = new Map();
  let count = 0;
  for (const [name, r] of store) {
    if (!quantised(which, name, r.dims)) {
      out.set(name, r);
      continue;
    }
    const [N, K] = r.dims;
    const d = quantizeHost(toFloat32(r), [N, K], 'q8', Q8_GROUP).dequant;
    out.set(name, { name, dtype: 'float32', dims: r.dims, bytes: new Uint8Array(d.buffer) });
    count++;
  }
  return { store: out, count };
}

const relL2 = (a: Float32Array, b: Float32Array) => compareArrays(a, b).relL2;

describe('wasm engine, q8 weights (tiny official weights)', () => {
  let files: ModelFiles;
  let q8: WasmEngine, f32: WasmEngine, ref: WasmEngine;

  beforeAll(async () => {
    requireFixtures();
    files = await loadModelFolder(TINY_DIR);
    const llm = dequantised(files.llm, 'llm'), flow = dequantised(files.flow, 'flow');
    // 2 layers × 7 projections + the head; 2 blocks × 7 linears + time MLP ×2, input proj, norm_out, proj_out.
    expect([llm.count, flow.count]).toEqual([15, 2 * 7 + 5]);
    [q8, f32, ref] = await Promise.all([
      WasmEngine.create(files, { dtype: 'q8', threads: 2 }),
      WasmEngine.create(files),
      WasmEngine.create({ ...files, llm: llm.store, flow: flow.store }),
    ]);
  });

  it('LLM: prefill and one-row decode steps equal the f32 engine on the dequantised weights; within 5e-2 of f32', async () => {
    const H = files.config.llm.hidden;
    const rng = new SeededRng(3);
    const prompt = rng.f32(40 * H);
    const steps = Array.from({ length: 6 }, () => rng.f32(H));
    const run = async (e: WasmEngine) => {
      const s = await e.llmSession();
      const out = [(await s.step(prompt, 40)).logits];
      for (const x of steps) out.push((await s.step(x, 1)).logits);
      s.dispose();
      return out;
    };
    const [a, b, c] = [await run(q8), await run(ref), await run(f32)];
    const worst: number[] = [];
    a.forEach((l, i) => {
      expectClose(l, b[i], { relL2: i === 0 ? 1e-5 : 2e-4, label: `q8 vs f32(dequantised) logits, call ${i}` });
      worst.push(relL2(l, c[i]));
    });
    console.log(`q8 LLM logits vs f32 weights: rel-L2 ≤ ${Math.max(...worst).toExponential(2)}`);
    expect(Math.max(...worst)).toBeLessThan(5e-2);
  });

  it('DiT estimator: equals the f32 engine on the dequantised weights; within 5e-2 of f32', async () => {
    const c = files.config.flow.dit, B = 2, T = 70;
    const rng = new SeededRng(4);
    const inp = {
      x: rng.f32(B * c.melDim * T), mask: new Float32Array(B * T).fill(1), mu: rng.f32(B * c.muDim * T), t: Float32Array.of(0.3, 0.3),
      spks: rng.f32(B * c.spkDim), cond: rng.f32(B * c.melDim * T), batch: B, frames: T, streaming: true,
    };
    const got = await q8.flowEstimator(inp);
    expectClose(got, await ref.flowEstimator(inp), { relL2: 1e-4, label: 'q8 vs f32(dequantised) estimator' });
    const e = relL2(got, await f32.flowEstimator(inp));
    console.log(`q8 DiT estimator vs f32 weights: rel-L2 ${e.toExponential(2)}`);
    expect(e).toBeLessThan(5e-2);
  });

  afterAll(async () => Promise.all([q8, f32, ref].map((e) => e?.dispose())));
});
