/**
 * The model-specific fused kernels at real shapes, each against the unfused op sequence an exporter would give
 * onnxruntime-node (issue 5's "fused ones vs ORT's sequence of unfused ops"):
 *   - Qwen2 RMSNorm [R, 896] (ORT: Mul, ReduceMean, Add, Sqrt, Div, Mul);
 *   - HiFT Snake [C, L] (ORT: Mul, Sin, Mul, Mul, Add);
 *   - HiFT conv1d k=7 with Snake fused on its input and the residual on its output, i.e. one ResBlock half
 *     (ORT: the Snake ops, Pad, Conv, Add);
 *   - Qwen2 paged decode attention, 14 q / 2 kv heads × 64, as the LLM runs it (split-K, or llvmpipe's
 *     heads_sg) (ORT: MatMul, Mul, Softmax, MatMul on contiguous K/V);
 *   - DiT attention, CFG batch 2 × 16 heads × 64 (ORT: MatMul, Mul, Softmax, MatMul);
 *   - DiT AdaLN: LayerNorm without affine + x·(1+scale)+shift (ORT: LayerNormalization, Add, Mul, Add);
 *   - HiFT source STFT and output iSTFT, n_fft 16 hop 4 (ORT: reflect Pad + strided Conv with the windowed DFT
 *     basis; Slice, Exp, Min, Sin, Cos, Mul, Concat, ConvTranspose, Mul, Slice, Clip).
 *   - Qwen2 input_layernorm + qkv_proj as the LLM runs it (norm fused into the projection, or its own dispatch
 *     where the adapter's subgroup entries make that cheaper), decode row and a 64-row prefill (ORT: the six
 *     RMSNorm ops, then Gemm with bias);
 *   - the Qwen2 MLP block of a decode row (norm, gate_up, SwiGLU, down_proj, residual);
 *   - DiT feed-forward with its GELU and gate·residual epilogues (ORT: the converter's MatMul/Add/GELU ops);
 *   - DiT conv position embedding: two grouped causal convs with Mish, and the residual;
 *   - Qwen2 causal prefill attention over the paged KV cache (ORT: Transpose, MatMul, Mul, Add mask, Softmax,
 *     MatMul, Transpose);
 *   - per model, in their own files: HiFT's upsampling stages and NSF source (hift-cases.ts), the LLM's RoPE +
 *     paged KV append (llm-cases.ts), the DiT solver's CFG Euler step (flow-cases.ts).
 * Registered in bench/harness.ts as the `model-kernels` suite: `npx tsx bench/run.ts --suite model-kernels`.
 */
import { adaLayerNorm } from '../../kernels/adaln.js';
import { conv1d, packConvWeight, packSnakeAlpha } from '../../kernels/conv1d.js';
import { convPosWeightLayout, convPos } from '../../kernels/conv-pos.js';
import { ditAttention, ditAttentionGemm, ditAttentionGpu } from '../../kernels/dit-attention.js';
import { splitScratch } from '../../kernels/flash.js';
import { ditLinear } from '../../kernels/dit-linear.js';
import { atLength, createDims } from '../../kernels/flow-dims.js';
import { istft } from '../../kernels/istft.js';
import { decodeAttention, pagedAttention, prefillAttention } from '../../kernels/paged-attention.js';
import { stft, stftTables } from '../../kernels/stft.js';
import { normGemv, rmsNorm } from '../../kernels/rmsnorm.js';
import { linear } from '../../kernels/matmul.js';
import { normRunsApart, SPLIT_CHUNK } from '../../src/models/qwen2/forward.js';
import type { GpuContext } from '../../src/gpu/context.js';
import type { GpuTensor } from '../../src/gpu/tensor.js';
import { packWeightF16 } from '../../kernels/quant.js';
import { snake } from '../../kernels/snake.js';
import type { BenchCase, Suite } from '../harness.js';
import { f32, graph, i64, type NodeSpec } from '../ort-graphs.js';
import { eulerCase } from './flow-cases.js';
import { nsfSourceCase, upsamplerCase } from './hift-cases.js';
import { rnd } from './kernels.js';
import { ropeAppendCase } from './llm-cases.js';

/** Snake as ONNX ops on x [C, L] with alpha a [C, 1]: x + (1/a)·sin(a·x)². */
function snakeNodes(x: string, out: string): NodeSpec[] {
  return [
    { op: 'Mul', inputs: [x, 'alpha'], outputs: ['ax'] },
    { op: 'Sin', inputs: ['ax'], outputs: ['s'] },
    { op: 'Mul', inputs: ['s', 's'], outputs: ['s2'] },
    { op: 'Mul', inputs: ['s2', 'inv_alpha'], outputs: ['t'] },
    { op: 'Add', inputs: [x, 't'], outputs: [out] },
  ];
}

/** The initializers rmsNodes reads: the norm weight `w` [C] and `eps` (1e-6, as the cases' kernels use). */
function rmsInits(w: Float32Array) {
  return [{ name: 'w', ...f32([w.length]), data: w }, { name: 'eps', ...f32([]), data: Float32Array.of(1e-6) }];
}

/** A [N, K] weight in the case's format: f32, or f16 packed as the LLM loads it. */
function uploadWeight(ctx: GpuContext, w: Float32Array, shape: [number, number], fmt: 'f32' | 'f16'): GpuTensor {
  return fmt === 'f16' ? packWeightF16(ctx, w, shape) : ctx.upload(w, 'f32', shape);
}

/** Qwen2RMSNorm as ONNX ops on x [R, C] with weight w [C] and eps: the exporter's unfused sequence. */
function rmsNodes(x: string, out: string): NodeSpec[] {
  return [
    { op: 'Mul', inputs: [x, x], outputs: ['x2'] },
    { op: 'ReduceMean', inputs: ['x2'], outputs: ['ms'], attrs: { axes: [-1], keepdims: 1 } },
    { op: 'Add', inputs: ['ms', 'eps'], outputs: ['mse'] },
    { op: 'Sqrt', inputs: ['mse'], outputs: ['rms'] },
    { op: 'Div', inputs: [x, 'rms'], outputs: ['xn'] },
    { op: 'Mul', inputs: ['xn', 'w'], outputs: [out] },
  ];
}

function rmsCase(R: number, C: number): BenchCase {
  return {
    name: 'rmsnorm (fused)',
    shape: `[${R},${C}]`,
    setup: ({ ctx }) => {
      const x = rnd(R * C, 3), w = rnd(C, 5, 2);
      const tx = ctx.upload(x, 'f32', [R, C]), tw = ctx.upload(w, 'f32', [C]), y = ctx.tensor('f32', [R, C]);
      const model = graph({
        inputs: [{ name: 'x', ...f32([R, C]) }],
        outputs: [{ name: 'y', ...f32([R, C]) }],
        inits: rmsInits(w),
        nodes: rmsNodes('x', 'y'),
      });
      return {
        records: [rmsNorm(ctx, { x: tx, weight: tw, y, eps: 1e-6 })],
        bytes: 8 * R * C + 4 * C,
        flops: 4 * R * C,
        ort: { model, feeds: { x: { type: 'float32', data: x, dims: [R, C] } }, note: 'ORT: Mul, ReduceMean, Add, Sqrt, Div, Mul' },
        dispose: () => [tx, tw, y].forEach((t) => t.buffer.destroy()),
      };
    },
  };
}

/**
 * Qwen2 input_layernorm + qkv_proj with bias, y = rms(x)·Wᵀ + b (x [M, K], W [N, K] f32 or packed f16), as the
 * LLM runs it: the norm fused into the projection's prologue (on GPUs matmul.wgsl PRENORM, gemv for decode rows
 * and gemm_rt for prefill rows; on CPU adapters rmsnorm.wgsl gemv), or a separate RMSNorm dispatch first (on
 * llvmpipe where forward.ts normRunsApart says so). ORT runs the unfused RMSNorm ops and a Gemm
 * (f32 weights).
 */
function normMatmulCase(M: number, N: number, K: number, fmt: 'f32' | 'f16'): BenchCase {
  return {
    name: `rmsnorm+matmul ${fmt}`,
    shape: `x[${M},${K}] W[${N},${K}]+b`,
    setup: ({ ctx }) => {
      // GPUs run the plan of matmul.wgsl linears (Qwen2Runtime.plan): the norm as the prologue of the gemv (decode
      // rows) or of gemm_rt (prefill rows, whose tile loaders sum the squares).
      const gpuPlan = !ctx.isCpuAdapter;
      const apart = gpuPlan ? false : normRunsApart(ctx, M, fmt);
      const x = rnd(M * K, 21), nw = rnd(K, 22, 2), w = rnd(N * K, 23, 0.05), b = rnd(N, 24);
      const tx = ctx.upload(x, 'f32', [M, K]), tn = ctx.upload(nw, 'f32', [K]), tb = ctx.upload(b, 'f32', [N]);
      const tw = uploadWeight(ctx, w, [N, K], fmt);
      const y = ctx.tensor('f32', [M, N]), xn = ctx.tensor('f32', [M, K]);
      const model = graph({
        inputs: [{ name: 'x', ...f32([M, K]) }],
        outputs: [{ name: 'y', ...f32([M, N]) }],
        inits: [
          ...rmsInits(nw),
          { name: 'W', ...f32([N, K]), data: w },
          { name: 'b', ...f32([N]), data: b },
        ],
        nodes: [...rmsNodes('x', 'xn_w'), { op: 'Gemm', inputs: ['xn_w', 'W', 'b'], outputs: ['y'], attrs: { transB: 1 } }],
      });
      return {
        records: apart
          ? [rmsNorm(ctx, { x: tx, weight: tn, y: xn, eps: 1e-6 }), gpuPlan ? linear(ctx, { x: xn, w: tw, y, bias: tb }) : normGemv(ctx, { x: xn, w: tw, y, bias: tb })]
          : [gpuPlan ? linear(ctx, { x: tx, w: tw, y, norm: tn, eps: 1e-6, bias: tb }) : normGemv(ctx, { x: tx, w: tw, y, norm: tn, eps: 1e-6, bias: tb })],
        bytes: (fmt === 'f16' ? 2 : 4) * N * K + 4 * (M * K + M * N + K + N),
        flops: 2 * M * N * K + 4 * M * K,
        ort: {
          model,
          feeds: { x: { type: 'float32', data: x, dims: [M, K] } },
          note: `ours: ${apart ? 'RMSNorm dispatch, then the projection' : 'norm fused into the projection'}; ORT: Mul, ReduceMean, Add, Sqrt, Div, Mul, Gemm (f32 weights${fmt === 'f16' ? '; ours f16' : ''})`,
        },
        output: y,
        dispose: () => [tx, tn, tb, tw, y, xn].forEach((t) => t.buffer.destroy()),
      };
    },
  };
}

/**
 * The Qwen2 MLP block of a decode row, x [M, K] → x + down(SiLU(gate(xn)) ⊙ up(xn)) with xn = RMSNorm(x), as the
 * LLM runs it: on GPUs two dispatches (gate_up with the norm as prologue and SwiGLU as epilogue, then down_proj
 * with the residual), on CPU adapters the rmsnorm.wgsl gemvs (norm into gate_up, SwiGLU into down_proj). Its
 * output has its input's shape, so --ort-chain gives ORT's per-op cost of the unfused sequence (RMSNorm ops, two
 * Gemms, Sigmoid, two Muls, Gemm, Add).
 */
function mlpCase(M: number, F: number, K: number, fmt: 'f32' | 'f16'): BenchCase {
  return {
    name: `rmsnorm+SwiGLU MLP ${fmt}`,
    shape: `x[${M},${K}] Wgu[2·${F},${K}] Wd[${K},${F}]`,
    setup: ({ ctx }) => {
      const gpuPlan = !ctx.isCpuAdapter;
      const x = rnd(M * K, 41), nw = rnd(K, 42, 2), wgu = rnd(2 * F * K, 43, 0.05), wd = rnd(K * F, 44, 0.05);
      const tx = ctx.upload(x, 'f32', [M, K]), tn = ctx.upload(nw, 'f32', [K]);
      const tgu = uploadWeight(ctx, wgu, [2 * F, K], fmt), td = uploadWeight(ctx, wd, [K, F], fmt);
      const act = ctx.tensor('f32', [M, gpuPlan ? F : 2 * F]), y = ctx.tensor('f32', [M, K]);
      const model = graph({
        inputs: [{ name: 'x', ...f32([M, K]) }],
        outputs: [{ name: 'y', ...f32([M, K]) }],
        inits: [
          ...rmsInits(nw),
          { name: 'Wg', ...f32([F, K]), data: wgu.subarray(0, F * K) },
          { name: 'Wu', ...f32([F, K]), data: wgu.subarray(F * K) },
          { name: 'Wd', ...f32([K, F]), data: wd },
        ],
        nodes: [
          ...rmsNodes('x', 'xn_w'),
          { op: 'Gemm', inputs: ['xn_w', 'Wg'], outputs: ['g'], attrs: { transB: 1 } },
          { op: 'Gemm', inputs: ['xn_w', 'Wu'], outputs: ['u'], attrs: { transB: 1 } },
          { op: 'Sigmoid', inputs: ['g'], outputs: ['sg'] },
          { op: 'Mul', inputs: ['g', 'sg'], outputs: ['silu'] },
          { op: 'Mul', inputs: ['silu', 'u'], outputs: ['a'] },
          { op: 'Gemm', inputs: ['a', 'Wd'], outputs: ['d'], attrs: { transB: 1 } },
          { op: 'Add', inputs: ['d', 'x'], outputs: ['y'] },
        ],
      });
      return {
        records: gpuPlan
          ? [linear(ctx, { x: tx, w: tgu, y: act, gateUp: true, norm: tn, eps: 1e-6 }), linear(ctx, { x: act, w: td, y, residual: tx })]
          : [normGemv(ctx, { x: tx, w: tgu, y: act, norm: tn, eps: 1e-6 }), normGemv(ctx, { x: act, w: td, y, swigluInput: true, residual: tx })],
        bytes: (fmt === 'f16' ? 2 : 4) * 3 * F * K + 4 * (2 * M * K + M * (gpuPlan ? F : 2 * F) + K),
        flops: 2 * M * 3 * F * K + 4 * M * K + 4 * M * F,
        ort: {
          model,
          feeds: { x: { type: 'float32', data: x, dims: [M, K] } },
          note: `ours: ${gpuPlan ? 'gate_up (norm prologue, SwiGLU epilogue), down_proj + residual' : 'norm+gate_up gemv, SwiGLU+down_proj+residual gemv'}; ORT: RMSNorm ops, Gemm ×2, Sigmoid, Mul ×2, Gemm, Add (f32 weights${fmt === 'f16' ? '; ours f16' : ''})`,
        },
        output: y,
        dispose: () => [tx, tn, tgu, td, act, y].forEach((t) => t.buffer.destroy()),
      };
    },
  };
}

function snakeCase(C: number, L: number): BenchCase {
  return {
    name: 'snake',
    shape: `[${C},${L}]`,
    setup: ({ ctx }) => {
      const x = rnd(C * L, 7, 4), a = Float32Array.from(rnd(C, 9), (v) => 1 + v);
      const tx = ctx.upload(x, 'f32', [C, L]), ta = ctx.upload(packSnakeAlpha(a), 'f32', [C, 2]), out = ctx.tensor('f32', [C, L]);
      const model = graph({
        inputs: [{ name: 'x', ...f32([C, L]) }],
        outputs: [{ name: 'y', ...f32([C, L]) }],
        inits: [{ name: 'alpha', ...f32([C, 1]), data: a }, { name: 'inv_alpha', ...f32([C, 1]), data: a.map((v) => 1 / (v + 1e-9)) }],
        nodes: snakeNodes('x', 'y'),
      });
      return {
        records: [snake(ctx, { x: tx, alpha: ta, out })],
        bytes: 8 * C * L,
        flops: 5 * C * L,
        ort: { model, feeds: { x: { type: 'float32', data: x, dims: [C, L] } }, note: 'ORT: Mul, Sin, Mul, Mul, Add' },
        dispose: () => [tx, ta, out].forEach((t) => t.buffer.destroy()),
      };
    },
  };
}

/** One ResBlock half: y = x + Conv1d_k,dil(Snake(x)) with causal left padding (k−1)·dil. */
function convSnakeCase(C: number, L: number, k: number, dil: number): BenchCase {
  return {
    name: 'snake+conv1d+residual (fused)',
    shape: `[${C},${L}] k${k} d${dil}`,
    setup: ({ ctx }) => {
      const x = rnd(C * L, 11, 2), w = rnd(C * C * k, 13, 2 / Math.sqrt(C * k)), b = rnd(C, 17, 0.1);
      const a = Float32Array.from(rnd(C, 19), (v) => 1 + v);
      const pad = (k - 1) * dil;
      const tx = ctx.upload(x, 'f32', [C, L]);
      const tw = ctx.upload(packConvWeight(w, C, C, k), 'f32', [C * C * k]);
      const tb = ctx.upload(b, 'f32', [C]), ta = ctx.upload(packSnakeAlpha(a), 'f32', [C, 2]);
      const out = ctx.tensor('f32', [C, L]);
      const model = graph({
        inputs: [{ name: 'x', ...f32([1, C, L]) }],
        outputs: [{ name: 'y', ...f32([1, C, L]) }],
        inits: [
          { name: 'alpha', ...f32([1, C, 1]), data: a },
          { name: 'inv_alpha', ...f32([1, C, 1]), data: a.map((v) => 1 / (v + 1e-9)) },
          { name: 'w', ...f32([C, C, k]), data: w },
          { name: 'b', ...f32([C]), data: b },
        ],
        nodes: [
          ...snakeNodes('x', 'sx'),
          { op: 'Conv', inputs: ['sx', 'w', 'b'], outputs: ['c'], attrs: { dilations: [dil], pads: [pad, 0], kernel_shape: [k] } },
          { op: 'Add', inputs: ['x', 'c'], outputs: ['y'] },
        ],
      });
      return {
        records: [conv1d(ctx, { x: tx, w: tw, bias: tb, out, cout: C, k, lout: L, dilation: dil, padLeft: pad, snakeIn: ta, residual: tx })],
        bytes: 8 * C * L + 4 * C * C * k,
        flops: 2 * C * C * k * L,
        ort: { model, feeds: { x: { type: 'float32', data: x, dims: [1, C, L] } }, note: 'ORT: Mul, Sin, Mul, Mul, Add, Conv, Add' },
        dispose: () => [tx, tw, tb, ta, out].forEach((t) => t.buffer.destroy()),
      };
    },
  };
}

/** Qwen2-0.5B attention dims and the KV page size the LLM runs with. */
const ATTN = { Hq: 14, Hkv: 2, D: 64, page: 16 };

/**
 * n cached positions of random K/V in a paged pool (pages 0, 1, … in order; block-table row 0), and the same keys
 * and values contiguous per kv head for ORT: K as [Hkv, 1, D, n], V as [Hkv, 1, n, D].
 */
function pagedKv(ctx: GpuContext, n: number, seed: number): { pool: GpuTensor; blockTable: GpuTensor; K: Float32Array; V: Float32Array } {
  const { Hkv, D, page } = ATTN;
  const pages = Math.ceil(n / page);
  const data = rnd(pages * 2 * page * Hkv * D, seed);
  const K = new Float32Array(Hkv * D * n), V = new Float32Array(Hkv * n * D);
  for (let t = 0; t < n; t++) {
    const pg = Math.floor(t / page), r = t % page;
    for (let h = 0; h < Hkv; h++) {
      for (let d = 0; d < D; d++) {
        K[(h * D + d) * n + t] = data[(((pg * 2 + 0) * page + r) * Hkv + h) * D + d];
        V[(h * n + t) * D + d] = data[(((pg * 2 + 1) * page + r) * Hkv + h) * D + d];
      }
    }
  }
  return {
    pool: ctx.upload(data, 'f32', [pages, 2, page, Hkv, D]),
    blockTable: ctx.upload(Uint32Array.from({ length: pages }, (_, i) => i), 'u32', [1, pages]),
    K,
    V,
  };
}

function pagedAttentionCase(ctxLen: number): BenchCase {
  const { Hq, Hkv, D, page } = ATTN, G = Hq / Hkv;
  return {
    name: 'paged decode attention (GQA)',
    shape: `q[1,${Hq},${D}] ctx ${ctxLen} kv[${Hkv},${D}] page ${page}`,
    setup: ({ ctx }) => {
      const q = rnd(Hq * D, 23);
      const tq = ctx.upload(q, 'f32', [1, Hq, D]);
      const { pool: tpool, blockTable: tbt, K, V } = pagedKv(ctx, ctxLen, 29);
      const out = ctx.tensor('f32', [1, Hq * D]);
      const chunk = SPLIT_CHUNK; // as the LLM runs it
      const partials = ctx.tensor('f32', [1, Hq, Math.ceil(ctxLen / chunk), D + 2]);
      // The query sits at position ctxLen − 1, so it attends to all ctxLen cached keys.
      const step = ctx.uniform(new Uint32Array([ctxLen - 1, 0, 0, 0]));
      const model = graph({
        inputs: [{ name: 'q', ...f32([Hkv, G, 1, D]) }, { name: 'k', ...f32([Hkv, 1, D, ctxLen]) }, { name: 'v', ...f32([Hkv, 1, ctxLen, D]) }],
        outputs: [{ name: 'o', ...f32([Hkv, G, 1, D]) }],
        inits: [{ name: 'scale', ...f32([]), data: Float32Array.of(1 / Math.sqrt(D)) }],
        nodes: [
          { op: 'MatMul', inputs: ['q', 'k'], outputs: ['s'] },
          { op: 'Mul', inputs: ['s', 'scale'], outputs: ['ss'] },
          { op: 'Softmax', inputs: ['ss'], outputs: ['p'], attrs: { axis: -1 } },
          { op: 'MatMul', inputs: ['p', 'v'], outputs: ['o'] },
        ],
      });
      return {
        records: decodeAttention(ctx, { q: tq, pool: tpool, blockTable: tbt, out, step, partials, chunk }),
        bytes: 4 * (2 * Hkv * D * ctxLen + 2 * Hq * D),
        flops: 4 * Hq * D * ctxLen,
        ort: {
          model,
          feeds: { q: { type: 'float32', data: q, dims: [Hkv, G, 1, D] }, k: { type: 'float32', data: K, dims: [Hkv, 1, D, ctxLen] }, v: { type: 'float32', data: V, dims: [Hkv, 1, ctxLen, D] } },
          note: 'ORT: MatMul, Mul, Softmax, MatMul (K/V fed contiguous)',
        },
        dispose: () => [tq, tpool, tbt, out, partials].forEach((t) => t.buffer.destroy()),
      };
    },
  };
}

/**
 * `form`: what the flow model runs on this adapter (`model`), or, to compare on GPUs, the scores / softmax / P·v
 * form (shaders/dit_attn_gemm.wgsl, `3-pass`) or the one-row-per-thread fused entry (`tiled`).
 */
function ditAttentionCase(T: number, form: 'model' | '3-pass' | 'tiled' = 'model'): BenchCase {
  const B = 2, H = 16, DH = 64, C = H * DH;
  const threePass = form === '3-pass';
  return {
    name: form === 'model' ? 'DiT attention (CFG batch)' : `DiT attention, ${form} form (CFG batch)`,
    shape: `[${B},${T}] × ${H}×${DH}`,
    setup: ({ ctx }) => {
      const qkv = rnd(B * T * 3 * C, 31);
      const tqkv = ctx.upload(qkv, 'f32', [B * T, 3 * C]), o = ctx.tensor('f32', [B * T, C]);
      const mask = ctx.upload(new Float32Array(B * T).fill(1), 'f32', [B * T]);
      const dims = createDims(ctx, { T, B, chunk: 0 });
      const split = (part: number) => {
        const out = new Float32Array(B * H * T * DH);
        for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) for (let h = 0; h < H; h++) for (let d = 0; d < DH; d++) {
          out[((b * H + h) * T + t) * DH + d] = qkv[(b * T + t) * 3 * C + part * C + h * DH + d];
        }
        return out;
      };
      const bhtd = [B, H, T, DH];
      const model = graph({
        inputs: [{ name: 'q', ...f32(bhtd) }, { name: 'k', ...f32(bhtd) }, { name: 'v', ...f32(bhtd) }],
        outputs: [{ name: 'o', ...f32(bhtd) }],
        inits: [{ name: 'scale', ...f32([]), data: Float32Array.of(1 / Math.sqrt(DH)) }],
        nodes: [
          { op: 'Transpose', inputs: ['k'], outputs: ['kt'], attrs: { perm: [0, 1, 3, 2] } },
          { op: 'MatMul', inputs: ['q', 'kt'], outputs: ['s'] },
          { op: 'Mul', inputs: ['s', 'scale'], outputs: ['ss'] },
          { op: 'Softmax', inputs: ['ss'], outputs: ['p'], attrs: { axis: -1 } },
          { op: 'MatMul', inputs: ['p', 'v'], outputs: ['o'] },
        ],
      });
      // What the flow model runs: on CPU adapters the 3-pass form (scores, softmax, P·v) when B·H·T² fits.
      const scores = ctx.isCpuAdapter || threePass ? ctx.tensor('f32', [B * H * T * T]) : undefined;
      // GPUs, model form: the flow's entry (ditAttentionGpu: flash, or what a tuning table / --tune chose, key-split
      // forms included, whose scratch is made only if built).
      const splitTmp = splitScratch(ctx, B * T, H, DH, 'bench.split');
      const recs = scores
        ? ditAttentionGemm(ctx, { dims, qkv: tqkv, o, keymask: mask, heads: H, scores })
        : form === 'tiled'
          ? [ditAttention(ctx, { dims, qkv: tqkv, o, keymask: mask, heads: H, impl: 'tiled' })]
          : ditAttentionGpu(ctx, { dims, qkv: tqkv, o, keymask: mask, heads: H }, splitTmp, 'attn');
      return {
        records: atLength(recs, T, B),
        bytes: 4 * B * T * 4 * C,
        flops: 4 * B * H * T * T * DH,
        reps: 3,
        ort: {
          model,
          feeds: { q: { type: 'float32', data: split(0), dims: bhtd }, k: { type: 'float32', data: split(1), dims: bhtd }, v: { type: 'float32', data: split(2), dims: bhtd } },
          note: 'ORT: Transpose, MatMul, Mul, Softmax, MatMul',
          // 20 MB of feeds and output per run: on an H200 their copies' jitter swamped 10 chained copies (0–230 µs).
          minChain: 50,
        },
        dispose: () => [tqkv, o, mask, ...(scores ? [scores] : [])].forEach((t) => t.buffer.destroy()),
      };
    },
  };
}

function adalnCase(T: number): BenchCase {
  const B = 2, C = 1024;
  return {
    name: 'DiT AdaLN (LayerNorm + modulation)',
    shape: `[${B},${T},${C}]`,
    setup: ({ ctx }) => {
      const x = rnd(B * T * C, 37, 4), mod = rnd(B * 6 * C, 41);
      const tx = ctx.upload(x, 'f32', [B * T, C]), y = ctx.tensor('f32', [B * T, C]);
      const tmod = ctx.upload(mod, 'f32', [B, 6 * C]);
      const dims = createDims(ctx, { T, B, chunk: 0 });
      // Per batch row b: shift = mod[b, 0:C], scale = mod[b, C:2C] (AdaLN-zero chunk order shift, scale, gate, …).
      const shift = new Float32Array(B * C), scale1 = new Float32Array(B * C);
      for (let b = 0; b < B; b++) for (let c = 0; c < C; c++) {
        shift[b * C + c] = mod[b * 6 * C + c];
        scale1[b * C + c] = 1 + mod[b * 6 * C + C + c];
      }
      const model = graph({
        inputs: [{ name: 'x', ...f32([B, T, C]) }],
        outputs: [{ name: 'y', ...f32([B, T, C]) }],
        inits: [
          { name: 'ones', ...f32([C]), data: new Float32Array(C).fill(1) },
          { name: 'zeros', ...f32([C]), data: new Float32Array(C) },
          { name: 'scale1', ...f32([B, 1, C]), data: scale1 },
          { name: 'shift', ...f32([B, 1, C]), data: shift },
        ],
        nodes: [
          { op: 'LayerNormalization', inputs: ['x', 'ones', 'zeros'], outputs: ['n'], attrs: { axis: -1, epsilon: { f: 1e-6 } } },
          { op: 'Mul', inputs: ['n', 'scale1'], outputs: ['m'] },
          { op: 'Add', inputs: ['m', 'shift'], outputs: ['y'] },
        ],
      });
      return {
        records: atLength([adaLayerNorm(ctx, { dims, x: tx, y, mod: tmod, shiftBase: 0, scaleBase: C, modStride: 6 * C, eps: 1e-6 })], T, B),
        bytes: 8 * B * T * C,
        flops: 8 * B * T * C,
        ort: { model, feeds: { x: { type: 'float32', data: x, dims: [B, T, C] } }, note: 'ORT: LayerNormalization, Mul, Add' },
        dispose: () => [tx, y, tmod].forEach((t) => t.buffer.destroy()),
      };
    },
  };
}

/** Windowed DFT basis for n_fft N as a Conv weight [2·(N/2+1), 1, N]: real rows w·cos, imaginary rows −w·sin. */
function dftBasis(N: number): Float32Array {
  const nb = N / 2 + 1, w = new Float32Array(2 * nb * N);
  for (let k = 0; k < nb; k++) for (let r = 0; r < N; r++) {
    const win = 0.5 - 0.5 * Math.cos((2 * Math.PI * r) / N), a = (2 * Math.PI * k * r) / N;
    w[k * N + r] = win * Math.cos(a);
    w[(nb + k) * N + r] = -win * Math.sin(a);
  }
  return w;
}

function stftCase(L: number): BenchCase {
  const N = 16, hop = 4, nb = N / 2 + 1, frames = Math.floor(L / hop) + 1;
  return {
    name: 'STFT (HiFT source)',
    shape: `[${L}] n_fft ${N} hop ${hop}`,
    setup: ({ ctx }) => {
      const x = rnd(L, 43);
      const tx = ctx.upload(x, 'f32', [L]), tables = ctx.upload(stftTables(N), 'f32', [3, N]);
      const out = ctx.tensor('f32', [2 * nb, frames]);
      const model = graph({
        inputs: [{ name: 'x', ...f32([1, 1, L]) }],
        outputs: [{ name: 'y', ...f32([1, 2 * nb, frames]) }],
        inits: [
          { name: 'pads', ...i64(0, 0, N / 2, 0, 0, N / 2) },
          { name: 'basis', ...f32([2 * nb, 1, N]), data: dftBasis(N) },
        ],
        nodes: [
          { op: 'Pad', inputs: ['x', 'pads'], outputs: ['xp'], attrs: { mode: 'reflect' } },
          { op: 'Conv', inputs: ['xp', 'basis'], outputs: ['y'], attrs: { strides: [hop], kernel_shape: [N] } },
        ],
      });
      return {
        records: [stft(ctx, { s: tx, len: L, tables, out, nFft: N, hop, frames })],
        bytes: 4 * (L + 2 * nb * frames),
        flops: 2 * 2 * nb * N * frames,
        ort: { model, feeds: { x: { type: 'float32', data: x, dims: [1, 1, L] } }, note: 'ORT: Pad(reflect), Conv' },
        dispose: () => [tx, tables, out].forEach((t) => t.buffer.destroy()),
      };
    },
  };
}

function istftCase(frames: number): BenchCase {
  const N = 16, hop = 4, nb = N / 2 + 1, nOut = hop * (frames - 1);
  return {
    name: 'iSTFT (HiFT output)',
    shape: `[${2 * nb},${frames}] n_fft ${N} hop ${hop}`,
    setup: ({ ctx }) => {
      const y = rnd(2 * nb * frames, 47, 2);
      const ty = ctx.upload(y, 'f32', [2 * nb, frames]), tables = ctx.upload(stftTables(N), 'f32', [3, N]);
      const wave = ctx.tensor('f32', [nOut]);
      // Inverse real DFT as ConvTranspose over [Re; Im] with the synthesis basis (window · (1/N)(2 − δ) cos / sin).
      const basis = new Float32Array(2 * nb * N);
      for (let k = 0; k < nb; k++) for (let r = 0; r < N; r++) {
        const win = 0.5 - 0.5 * Math.cos((2 * Math.PI * r) / N), a = (2 * Math.PI * k * r) / N;
        const c = (k === 0 || k === nb - 1 ? 1 : 2) / N;
        basis[k * N + r] = win * c * Math.cos(a);
        basis[(nb + k) * N + r] = -win * c * Math.sin(a);
      }
      const full = hop * (frames - 1) + N;
      const env = new Float32Array(full);
      for (let f = 0; f < frames; f++) for (let r = 0; r < N; r++) env[f * hop + r] += (0.5 - 0.5 * Math.cos((2 * Math.PI * r) / N)) ** 2;
      const invEnv = env.map((v) => (v > 1e-11 ? 1 / v : 0));
      const model = graph({
        inputs: [{ name: 'y', ...f32([1, 2 * nb, frames]) }],
        outputs: [{ name: 'wave', ...f32([1, 1, nOut]) }],
        inits: [
          { name: 'basis', ...f32([2 * nb, 1, N]), data: basis },
          { name: 'inv_env', ...f32([1, 1, full]), data: invEnv },
          { name: 'clip', ...f32([]), data: Float32Array.of(100) },
          { name: 'lo', ...f32([]), data: Float32Array.of(-0.99) },
          { name: 'hi', ...f32([]), data: Float32Array.of(0.99) },
          { name: 's0', ...i64(0) }, { name: 's1', ...i64(nb) }, { name: 's2', ...i64(2 * nb) }, { name: 'ax1', ...i64(1) },
          { name: 'w0', ...i64(N / 2) }, { name: 'w1', ...i64(N / 2 + nOut) }, { name: 'ax2', ...i64(2) },
        ],
        nodes: [
          { op: 'Slice', inputs: ['y', 's0', 's1', 'ax1'], outputs: ['logmag'] },
          { op: 'Slice', inputs: ['y', 's1', 's2', 'ax1'], outputs: ['ph0'] },
          { op: 'Exp', inputs: ['logmag'], outputs: ['mag0'] },
          { op: 'Min', inputs: ['mag0', 'clip'], outputs: ['mag'] },
          { op: 'Sin', inputs: ['ph0'], outputs: ['ph'] },
          { op: 'Cos', inputs: ['ph'], outputs: ['c'] },
          { op: 'Sin', inputs: ['ph'], outputs: ['s'] },
          { op: 'Mul', inputs: ['mag', 'c'], outputs: ['re'] },
          { op: 'Mul', inputs: ['mag', 's'], outputs: ['im'] },
          { op: 'Concat', inputs: ['re', 'im'], outputs: ['spec'], attrs: { axis: 1 } },
          { op: 'ConvTranspose', inputs: ['spec', 'basis'], outputs: ['ola'], attrs: { strides: [hop], kernel_shape: [N] } },
          { op: 'Mul', inputs: ['ola', 'inv_env'], outputs: ['norm'] },
          { op: 'Slice', inputs: ['norm', 'w0', 'w1', 'ax2'], outputs: ['cut'] },
          { op: 'Clip', inputs: ['cut', 'lo', 'hi'], outputs: ['wave'] },
        ],
      });
      return {
        records: [istft(ctx, { y: ty, frames, tables, wave, nFft: N, hop, nOut, clip: 100, limit: 0.99 })],
        bytes: 4 * (2 * nb * frames + nOut),
        flops: 2 * 2 * nb * N * frames,
        ort: { model, feeds: { y: { type: 'float32', data: y, dims: [1, 2 * nb, frames] } }, note: 'ORT: Slice, Exp, Min, Sin, Cos, Mul, Concat, ConvTranspose, Mul, Slice, Clip' },
        dispose: () => [ty, tables, wave].forEach((t) => t.buffer.destroy()),
      };
    },
  };
}

/**
 * One DiT feed-forward branch with its gated residual, y = x + g ⊙ (GELU_tanh(x·W1ᵀ + b1)·W2ᵀ + b2) on [B·T, C]
 * rows (g per batch row, taken from the AdaLN table as the flow model does), as the flow runs it: ff1 with the
 * GELU epilogue, ff2 with the gate·residual epilogue accumulating into y in place. ORT runs the converter's
 * sequence (src/convert/dit.ts: MatMul, Add, the eight GELU ops, MatMul, Add, Mul, Add); its output has its
 * input's shape, so --ort-chain gives ORT's per-op cost. Here x is both the branch input and the residual (in the
 * model they are norm2(h1) and h1: the same work).
 */
function ditFeedForwardCase(T: number): BenchCase {
  const B = 2, C = 1024, F = 2048, M = B * T;
  return {
    name: 'DiT feed-forward + gated residual (fused epilogues)',
    shape: `[${B},${T},${C}] W1[${F},${C}] W2[${C},${F}]`,
    setup: ({ ctx }) => {
      const x = rnd(M * C, 51, 2), w1 = rnd(F * C, 52, 1 / 32), b1 = rnd(F, 53, 0.1), w2 = rnd(C * F, 54, 1 / 45), b2 = rnd(C, 55, 0.1);
      const mod = rnd(B * 6 * C, 56);
      const gate = new Float32Array(B * C);
      for (let b = 0; b < B; b++) gate.set(mod.subarray(b * 6 * C + 5 * C, b * 6 * C + 6 * C), b * C);
      const tx = ctx.upload(x, 'f32', [M, C]), y = ctx.upload(x, 'f32', [M, C]), ff = ctx.tensor('f32', [M, F]);
      const tw1 = ctx.upload(w1, 'f32', [F, C]), tb1 = ctx.upload(b1, 'f32', [F]);
      const tw2 = ctx.upload(w2, 'f32', [C, F]), tb2 = ctx.upload(b2, 'f32', [C]);
      const tmod = ctx.upload(mod, 'f32', [B, 6 * C]);
      const dims = createDims(ctx, { T, B, chunk: 0 });
      const transposed = (w: Float32Array, n: number, k: number) => Float32Array.from({ length: n * k }, (_, i) => w[(i % n) * k + Math.floor(i / n)]);
      const c = (name: string, v: number) => ({ name, ...f32([]), data: Float32Array.of(v) });
      const model = graph({
        inputs: [{ name: 'x', ...f32([B, T, C]) }],
        outputs: [{ name: 'y', ...f32([B, T, C]) }],
        inits: [
          { name: 'W1t', ...f32([C, F]), data: transposed(w1, F, C) },
          { name: 'b1', ...f32([F]), data: b1 },
          { name: 'W2t', ...f32([F, C]), data: transposed(w2, C, F) },
          { name: 'b2', ...f32([C]), data: b2 },
          { name: 'g', ...f32([B, 1, C]), data: gate },
          c('k0', 0.044715), c('k1', Math.sqrt(2 / Math.PI)), c('half', 0.5), c('one', 1),
        ],
        nodes: [
          { op: 'MatMul', inputs: ['x', 'W1t'], outputs: ['h0'] },
          { op: 'Add', inputs: ['h0', 'b1'], outputs: ['h'] },
          // src/convert/dit.ts gelu(): 0.5·h·(1 + tanh(√(2/π)·(h + 0.044715·h³)))
          { op: 'Mul', inputs: ['h', 'h'], outputs: ['h2'] },
          { op: 'Mul', inputs: ['h2', 'h'], outputs: ['h3'] },
          { op: 'Mul', inputs: ['h3', 'k0'], outputs: ['h3k'] },
          { op: 'Add', inputs: ['h', 'h3k'], outputs: ['u'] },
          { op: 'Mul', inputs: ['u', 'k1'], outputs: ['uk'] },
          { op: 'Tanh', inputs: ['uk'], outputs: ['th'] },
          { op: 'Mul', inputs: ['h', 'half'], outputs: ['hh'] },
          { op: 'Add', inputs: ['th', 'one'], outputs: ['th1'] },
          { op: 'Mul', inputs: ['hh', 'th1'], outputs: ['a'] },
          { op: 'MatMul', inputs: ['a', 'W2t'], outputs: ['f0'] },
          { op: 'Add', inputs: ['f0', 'b2'], outputs: ['f'] },
          { op: 'Mul', inputs: ['g', 'f'], outputs: ['gf'] },
          { op: 'Add', inputs: ['x', 'gf'], outputs: ['y'] },
        ],
      });
      return {
        records: atLength([
          ditLinear(ctx, { dims, x: tx, w: tw1, bias: tb1, y: ff, act: 'gelu_tanh' }, 'ff1'),
          ditLinear(ctx, { dims, x: ff, w: tw2, bias: tb2, y, gate: { mod: tmod, base: 5 * C, stride: 6 * C } }, 'ff2'),
        ], T, B),
        bytes: 4 * (2 * F * C + 3 * M * C + 2 * M * F),
        flops: 4 * M * F * C,
        reps: 3,
        ort: {
          model,
          feeds: { x: { type: 'float32', data: x, dims: [B, T, C] } },
          note: 'ours: ff1 (GELU epilogue), ff2 (gate·residual epilogue, in place); ORT: MatMul, Add, 8 GELU ops, MatMul, Add, Mul, Add',
        },
        output: y,
        dispose: () => [tx, y, ff, tw1, tb1, tw2, tb2, tmod].forEach((t) => t.buffer.destroy()),
      };
    },
  };
}

/**
 * Qwen2 prefill attention, T new rows from position 0 over the paged KV cache (causal, 14 q / 2 kv heads × 64),
 * as the LLM runs it (kernels/paged-attention.ts pagedAttention: a thread per (row, head) on CPU adapters, the
 * flash tiles on GPUs; `attend` = the workgroup-per-(row, head) form GPUs ran before, a second row there). ORT runs the converter's sequence (src/convert/llm.ts): Transpose of q to
 * [KV, g, T, D], MatMul with Kᵀ, Mul, Add of the causal mask, Softmax, MatMul with V, Transpose back; K/V fed
 * contiguous. Output and q share a shape, so --ort-chain gives ORT's per-op cost.
 */
function prefillAttentionCase(T: number, form: 'model' | 'attend' = 'model'): BenchCase {
  const { Hq, Hkv, D, page } = ATTN, G = Hq / Hkv;
  return {
    name: form === 'model' ? 'prefill attention (causal GQA)' : 'prefill attention, attend form (causal GQA)',
    shape: `q[${T},${Hq},${D}] kv[${Hkv},${D}] page ${page}`,
    setup: ({ ctx }) => {
      const q = rnd(T * Hq * D, 61);
      const tq = ctx.upload(q, 'f32', [T, Hq, D]);
      const { pool: tpool, blockTable: tbt, K, V } = pagedKv(ctx, T, 62);
      const out = ctx.tensor('f32', [T, Hq * D]);
      const step = ctx.uniform(new Uint32Array([0, 0, 0, 0])); // rows are positions 0..T−1
      const mask = new Float32Array(T * T);
      for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) mask[i * T + j] = -Infinity;
      const model = graph({
        inputs: [{ name: 'q', ...f32([T, Hkv, G, D]) }, { name: 'k', ...f32([Hkv, 1, D, T]) }, { name: 'v', ...f32([Hkv, 1, T, D]) }],
        outputs: [{ name: 'o', ...f32([T, Hkv, G, D]) }],
        inits: [{ name: 'scale', ...f32([]), data: Float32Array.of(1 / Math.sqrt(D)) }, { name: 'mask', ...f32([T, T]), data: mask }],
        nodes: [
          { op: 'Transpose', inputs: ['q'], outputs: ['qh'], attrs: { perm: [1, 2, 0, 3] } },
          { op: 'MatMul', inputs: ['qh', 'k'], outputs: ['s'] },
          { op: 'Mul', inputs: ['s', 'scale'], outputs: ['ss'] },
          { op: 'Add', inputs: ['ss', 'mask'], outputs: ['sm'] },
          { op: 'Softmax', inputs: ['sm'], outputs: ['p'], attrs: { axis: -1 } },
          { op: 'MatMul', inputs: ['p', 'v'], outputs: ['oh'] },
          { op: 'Transpose', inputs: ['oh'], outputs: ['o'], attrs: { perm: [2, 0, 1, 3] } },
        ],
      });
      return {
        // The model form is the LLM's entry (prefillAttention: a tuning table / --tune may choose the key-split walk).
        records: form === 'attend'
          ? [pagedAttention(ctx, { q: tq, pool: tpool, blockTable: tbt, out, step, mode: 'chunked' })]
          : prefillAttention(ctx, { q: tq, pool: tpool, blockTable: tbt, out, step }, splitScratch(ctx, T, Hq, D, 'bench.split'), 'attn'),
        bytes: 4 * (2 * Hkv * D * T + 2 * T * Hq * D),
        flops: 2 * Hq * D * T * (T + 1), // causal: (T + 1)/2 keys a row on average, 4 flops per key and channel
        ort: {
          model,
          feeds: { q: { type: 'float32', data: q, dims: [T, Hkv, G, D] }, k: { type: 'float32', data: K, dims: [Hkv, 1, D, T] }, v: { type: 'float32', data: V, dims: [Hkv, 1, T, D] } },
          note: 'ORT: Transpose, MatMul, Mul, Add (causal mask), Softmax, MatMul, Transpose (K/V fed contiguous)',
        },
        output: out,
        dispose: () => [tq, tpool, tbt, out].forEach((t) => t.buffer.destroy()),
      };
    },
  };
}

/**
 * The DiT conv position embedding on [B·T, C] time-major rows: two causal grouped Conv1d (k 31, 16 groups), each
 * followed by Mish, plus the residual, as the flow runs it (kernels/conv-pos.ts: two dispatches, Mish and the
 * residual fused). ORT runs the converter's sequence (src/convert/dit.ts): Transpose, Conv, Softplus, Tanh, Mul,
 * Conv, Softplus, Tanh, Mul, Transpose, Add. Chainable through x.
 */
function convPosCase(T: number, form: 'model' | 'regblock' = 'model'): BenchCase {
  const B = 2, C = 1024, KS = 31, groups = 16, CPG = C / groups, M = B * T;
  return {
    name: form === 'model' ? 'DiT conv position embedding (conv+Mish ×2 + residual)' : 'DiT conv position embedding, register form',
    // GPUs run the tiled form; `regblock` is the register form they ran before (a second row there).
    shape: `[${B},${T},${C}] k${KS} groups ${groups}`,
    setup: ({ ctx }) => {
      const impl = form === 'regblock' ? ('regblock' as const) : undefined;
      const x = rnd(M * C, 71, 2), w1 = rnd(C * CPG * KS, 72, 1 / Math.sqrt(CPG * KS)), w2 = rnd(C * CPG * KS, 73, 1 / Math.sqrt(CPG * KS));
      const b1 = rnd(C, 74, 0.1), b2 = rnd(C, 75, 0.1);
      const tx = ctx.upload(x, 'f32', [M, C]), c1 = ctx.tensor('f32', [M, C]), y = ctx.tensor('f32', [M, C]);
      const tw1 = ctx.upload(convPosWeightLayout(w1, C, CPG, KS), 'f32', [C, KS, CPG]), tw2 = ctx.upload(convPosWeightLayout(w2, C, CPG, KS), 'f32', [C, KS, CPG]);
      const tb1 = ctx.upload(b1, 'f32', [C]), tb2 = ctx.upload(b2, 'f32', [C]);
      const dims = createDims(ctx, { T, B, chunk: 0 });
      const conv = (i: string, w: string, b: string, o: string): NodeSpec[] => [
        { op: 'Conv', inputs: [i, w, b], outputs: [`${o}_c`], attrs: { group: groups, kernel_shape: [KS], pads: [KS - 1, 0] } },
        { op: 'Softplus', inputs: [`${o}_c`], outputs: [`${o}_sp`] },
        { op: 'Tanh', inputs: [`${o}_sp`], outputs: [`${o}_t`] },
        { op: 'Mul', inputs: [`${o}_c`, `${o}_t`], outputs: [o] },
      ];
      const model = graph({
        inputs: [{ name: 'x', ...f32([B, T, C]) }],
        outputs: [{ name: 'y', ...f32([B, T, C]) }],
        inits: [
          { name: 'w1', ...f32([C, CPG, KS]), data: w1 }, { name: 'b1', ...f32([C]), data: b1 },
          { name: 'w2', ...f32([C, CPG, KS]), data: w2 }, { name: 'b2', ...f32([C]), data: b2 },
        ],
        nodes: [
          { op: 'Transpose', inputs: ['x'], outputs: ['xc'], attrs: { perm: [0, 2, 1] } },
          ...conv('xc', 'w1', 'b1', 'm1'),
          ...conv('m1', 'w2', 'b2', 'm2'),
          { op: 'Transpose', inputs: ['m2'], outputs: ['mt'], attrs: { perm: [0, 2, 1] } },
          { op: 'Add', inputs: ['mt', 'x'], outputs: ['y'] },
        ],
      });
      return {
        records: atLength([
          convPos(ctx, { dims, x: tx, w: tw1, bias: tb1, y: c1, impl }, 'conv_pos1'),
          convPos(ctx, { dims, x: c1, w: tw2, bias: tb2, y, res: tx, impl }, 'conv_pos2'),
        ], T, B),
        bytes: 4 * (2 * C * CPG * KS + 4 * M * C),
        flops: 2 * 2 * M * C * CPG * KS,
        ort: {
          model,
          feeds: { x: { type: 'float32', data: x, dims: [B, T, C] } },
          note: 'ours: two conv_pos dispatches (Mish, residual fused); ORT: Transpose, (Conv, Softplus, Tanh, Mul) ×2, Transpose, Add',
        },
        output: y,
        dispose: () => [tx, c1, y, tw1, tw2, tb1, tb2].forEach((t) => t.buffer.destroy()),
      };
    },
  };
}

export const suite: Suite = {
  name: 'model-kernels',
  description: 'model-specific fused kernels at real shapes vs the unfused ONNX op sequences on onnxruntime-node',
  cases: ({ size, ctx }) => {
    const full = size === 'full';
    // HiFT stage 0 at 1 s of audio: 256 channels × 400 frames (50 mel frames × 8); stage 2: 64 × 6001.
    return [
      rmsCase(1, 896),
      rmsCase(full ? 512 : 64, 896),
      normMatmulCase(1, 1152, 896, 'f32'),
      normMatmulCase(1, 1152, 896, 'f16'),
      normMatmulCase(full ? 64 : 16, 1152, 896, 'f32'),
      // A square projection: its output can feed its input, so --ort-chain measures ORT's per-op cost too.
      normMatmulCase(1, 896, 896, 'f32'),
      mlpCase(1, full ? 4864 : 1216, 896, 'f32'),
      mlpCase(1, full ? 4864 : 1216, 896, 'f16'),
      snakeCase(256, full ? 400 : 100),
      snakeCase(64, full ? 6001 : 1501),
      convSnakeCase(256, full ? 400 : 100, 7, 3),
      convSnakeCase(64, full ? 6001 : 1501, 11, 1),
      pagedAttentionCase(full ? 1024 : 128),
      ditAttentionCase(full ? 600 : 100),
      ...(ctx?.isCpuAdapter === false ? [ditAttentionCase(full ? 600 : 100, '3-pass'), ditAttentionCase(full ? 600 : 100, 'tiled')] : []),
      adalnCase(full ? 600 : 100),
      ditFeedForwardCase(full ? 600 : 16),
      convPosCase(full ? 600 : 100),
      ...(ctx?.isCpuAdapter === false ? [convPosCase(full ? 600 : 100, 'regblock')] : []),
      prefillAttentionCase(full ? 512 : 64),
      ...(ctx?.isCpuAdapter === false ? [prefillAttentionCase(full ? 512 : 64, 'attend')] : []),
      stftCase(full ? 24000 : 4800), // 1 s of source at 24 kHz
      istftCase(full ? 6001 : 1201),
      // HiFT's first two upsampling stages at 1 s of audio (512×50 ×8 k16, 256×400 ×5 k11), and its NSF source.
      upsamplerCase(full ? 512 : 64, full ? 50 : 20, 8, 16),
      upsamplerCase(full ? 256 : 32, full ? 400 : 160, 5, 11),
      nsfSourceCase(full ? 24000 : 4800),
      // The LLM's RoPE + KV append: a decode row at the end of a 1024 context, and a 512-row prefill.
      ropeAppendCase(1, full ? 1023 : 127),
      ropeAppendCase(full ? 512 : 64, 0),
      eulerCase(full ? 600 : 100),
    ];
  },
};
