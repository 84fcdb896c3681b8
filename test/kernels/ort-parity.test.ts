/**
 * Cross-checks against onnxruntime-node (CPU EP) on the one-node graphs the benchmark uses: our packed q4/q8
 * weights are byte-compatible with ORT's MatMulNBits (so a converted model can feed either), and our GEMM,
 * softmax and top-k agree with ORT's Gemm, Softmax and TopK on the same data.
 */
import ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { ortTensors, SUITES } from '../../bench/harness.js';
import { gemmGraph, matmulNBitsGraph, topkGraph, unaryGraph } from '../../bench/ort-graphs.js';
import { linear } from '../../kernels/matmul.js';
import { quantizeHost, quantizeWeight } from '../../kernels/quant.js';
import { softmax } from '../../kernels/softmax.js';
import { topk } from '../../kernels/topk.js';
import { expectClose } from '../helpers/compare.js';
import { testContext } from '../helpers/gpu.js';
import { SeededRng } from '../helpers/rng.js';

async function ortRun(model: Uint8Array, feeds: Record<string, InstanceType<typeof ort.Tensor>>): Promise<Record<string, ArrayLike<number | bigint>>> {
  const s = await ort.InferenceSession.create(model, { executionProviders: ['cpu'] });
  const out = await s.run(feeds);
  await s.release();
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.data as ArrayLike<number | bigint>]));
}

describe('parity with onnxruntime-node (cpu EP)', () => {
  it.each([['q4'], ['q8']] as const)('%s GEMV equals ORT MatMulNBits on the same packed bytes (N=130, K=896, block 32)', async (kind) => {
    const ctx = await testContext();
    const [M, N, K] = [3, 130, 896];
    const rng = new SeededRng(kind.length * 17);
    const w = rng.normalF32(N * K, 0.05), x = rng.f32(M * K);
    const h = quantizeHost(w, [N, K], kind, 32);
    const ref = (await ortRun(matmulNBitsGraph(M, N, K, kind === 'q4' ? 4 : 8, 32, h.words, h.scales), { x: new ort.Tensor('float32', x, [M, K]) })).y;
    const q = quantizeWeight(ctx, w, [N, K], kind, 32);
    const y = ctx.tensor('f32', [M, N]);
    ctx.run([linear(ctx, { x: ctx.upload(x, 'f32', [M, K]), w: q.packed, scales: q.scales, y })]);
    // Both are f32 sums of the same dequantised products in different orders.
    expectClose(await ctx.readF32(y), ref as ArrayLike<number>, { atol: 2e-5, rtol: 1e-5, label: `${kind} vs MatMulNBits` });
  });

  it('GEMM equals ORT Gemm(transB) at a DiT-like shape', async () => {
    const ctx = await testContext();
    const [M, N, K] = [70, 96, 256];
    const rng = new SeededRng(71);
    const w = rng.normalF32(N * K, 1 / 16), x = rng.f32(M * K);
    const ref = (await ortRun(gemmGraph(M, N, K, w), { x: new ort.Tensor('float32', x, [M, K]) })).y;
    const y = ctx.tensor('f32', [M, N]);
    ctx.run([linear(ctx, { x: ctx.upload(x, 'f32', [M, K]), w: ctx.upload(w, 'f32', [N, K]), y })]);
    expectClose(await ctx.readF32(y), ref as ArrayLike<number>, { atol: 2e-5, rtol: 1e-5, label: 'gemm vs ORT' });
  });

  it('softmax and top-k (k=25 of 6761) equal ORT Softmax and TopK', async () => {
    const ctx = await testContext();
    const cols = 6761;
    const x = new SeededRng(5).f32(cols, -10, 10);
    const tx = ctx.upload(x, 'f32', [1, cols]);
    const p = ctx.tensor('f32', [1, cols]), v = ctx.tensor('f32', [1, 25]), i = ctx.tensor('i32', [1, 25]);
    ctx.run([softmax(ctx, { x: tx, out: p }), topk(ctx, { x: tx, k: 25, values: v, indices: i })]);
    const feeds = { x: new ort.Tensor('float32', x, [1, cols]) };
    const sm = (await ortRun(unaryGraph('Softmax', [1, cols], [1, cols], { axis: -1 }), feeds)).y as Float32Array;
    expectClose(await ctx.readF32(p), sm, { atol: 1e-8, rtol: 1e-5, label: 'softmax vs ORT' });
    const tk = await ortRun(topkGraph(1, cols, 25), feeds);
    expectClose(await ctx.readF32(v), tk.v as Float32Array, { label: 'topk values vs ORT' });
    expect([...((await ctx.read(i)) as Int32Array)]).toEqual(Array.from(tk.i as BigInt64Array, Number));
  });
});

/** Sets a bench case up at the tiny size, runs its dispatches once and runs its ORT graph on the cpu EP. */
async function runCase(suiteName: string, name: string, shape: string) {
  const ctx = await testContext();
  const suite = await SUITES[suiteName]();
  const cases = await suite.cases({ ctx, size: 'tiny' } as never);
  const c = cases.find((k) => k.name === name && (!shape || k.shape === shape));
  expect(c, `${name} ${shape}`).toBeDefined();
  const plan = await c!.setup({ ctx, size: 'tiny' } as never);
  ctx.run(plan.records!);
  const ref = Object.values(await ortRun(plan.ort!.model, ortTensors(ort, plan.ort!.feeds)))[0] as ArrayLike<number>;
  return { ctx, plan, ref };
}

describe('bench cases compute what their ORT graphs compute (ORT cpu EP)', () => {
  // The fused rows of the model-kernels suite that --ort-chain compares per op: the square RMSNorm+projection, the
  // whole MLP block (norm, gate_up, SwiGLU, down_proj, residual) with f32 and f16 weights, the DiT feed-forward
  // with its gated residual, the DiT conv position embedding and the causal prefill attention, at the tiny size;
  // and the cases whose ORT graphs are sequences of several kinds of node (Resize, Pad, Split, Slice, Transpose):
  // HiFT's upsampling stages and NSF source, the Euler step, the linear interpolation.
  it.each([
    ['model-kernels', 'rmsnorm+matmul f32', 'x[1,896] W[896,896]+b'],
    ['model-kernels', 'rmsnorm+SwiGLU MLP f32', ''],
    ['model-kernels', 'rmsnorm+SwiGLU MLP f16', ''],
    ['model-kernels', 'DiT feed-forward + gated residual (fused epilogues)', ''],
    ['model-kernels', 'DiT conv position embedding (conv+Mish ×2 + residual)', ''],
    ['model-kernels', 'prefill attention (causal GQA)', ''],
    ['model-kernels', 'HiFT upsampler (LeakyReLU + nearest ×u + causal conv + source add)', '[64,20] ×8 k16 → [32,160]'],
    ['model-kernels', 'HiFT upsampler (LeakyReLU + nearest ×u + causal conv + source add)', '[32,160] ×5 k11 → [16,800]'],
    ['model-kernels', 'HiFT NSF source (upsample + noise + l_linear + tanh)', ''],
    ['model-kernels', 'DiT Euler CFG step (fused)', ''],
    ['kernels', 'interpolate linear', ''],
  ])('%s: %s %s', async (suiteName, name, shape) => {
    const { ctx, plan, ref } = await runCase(suiteName, name, shape);
    const got = await ctx.readF32(plan.output!);
    // f16 weights: ours rounds W to half precision, ORT's graph keeps f32.
    const f16 = name.endsWith('f16');
    expectClose(got, ref, { atol: f16 ? 2e-3 : 2e-5, rtol: f16 ? 2e-3 : 1e-4, label: `${name} vs its ORT graph` });
    plan.dispose?.();
  });

  it.each([['qkv[1,1152] at 127 page 16'], ['qkv[64,1152] at 0 page 16']])('RoPE q/k + paged KV append %s: q and the pool\'s K/V equal ORT\'s rotary sequence', async (shape) => {
    const { ctx, plan, ref } = await runCase('model-kernels', 'RoPE q/k + paged KV append (fused)', shape);
    const [M, Hq, D] = plan.output!.shape;
    const [, , page, Hkv] = plan.taps!.pool.shape;
    const W = (Hq + 2 * Hkv) * D, start = Number(/at (\d+)/.exec(shape)![1]);
    const q = await ctx.readF32(plan.output!), pool = await ctx.readF32(plan.taps!.pool);
    // Ours in ORT's row layout [q | k | v]: q from q_out, K/V from the pool (pages in order from position 0).
    const got = new Float32Array(M * W);
    for (let m = 0; m < M; m++) {
      got.set(q.subarray(m * Hq * D, (m + 1) * Hq * D), m * W);
      const pos = start + m, pg = Math.floor(pos / page), off = pos % page;
      for (let which = 0; which < 2; which++) {
        const src = ((pg * 2 + which) * page + off) * Hkv * D;
        got.set(pool.subarray(src, src + Hkv * D), m * W + (Hq + which * Hkv) * D);
      }
    }
    expectClose(got, ref, { atol: 1e-6, rtol: 1e-5, label: `RoPE + KV append ${shape} vs ORT` });
    plan.dispose?.();
  });
});
