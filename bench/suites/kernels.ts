/**
 * Kernel suite: every kernel-library kernel at the real model shapes (Qwen2 0.5B decode GEMVs 896→896/128/4864,
 * 4864→896, 896→6761; DiT GEMMs M = 2·T; sampling softmax / top-k over 6761 logits; embedding gather; copies
 * and elementwise at DiT activation sizes), each with its ORT twin where ONNX has one (Gemm, the unfused
 * SwiGLU sequence, Softmax, LogSoftmax, TopK, Gather, Transpose, Add, Sigmoid·Mul, Resize). `--size tiny` keeps the
 * decode shapes (already small) and shrinks the GEMMs and activations so a lavapipe run takes a minute or two.
 *
 *   npx tsx bench/run.ts --suite kernels [--size tiny|full]
 */
import { copy, copyStrided, transpose } from '../../kernels/copy.js';
import { activation, binary } from '../../kernels/elementwise.js';
import { gatherRows } from '../../kernels/gather.js';
import { interpolate } from '../../kernels/interpolate.js';
import { linear } from '../../kernels/matmul.js';
import { packWeightF16, quantizeHost, quantizeWeight } from '../../kernels/quant.js';
import { softmax } from '../../kernels/softmax.js';
import { topk } from '../../kernels/topk.js';
import type { GpuTensor } from '../../src/gpu/tensor.js';
import type { BenchCase, BenchEnv, CasePlan, Suite } from '../harness.js';
import { addBroadcastGraph, f32, gatherGraph, graph, gemmGraph, matmulNBitsGraph, siluGraph, swigluGraph, topkGraph, unaryGraph } from '../ort-graphs.js';

/** Deterministic pseudo-random floats in [-0.5, 0.5)·scale (benchmarks only need non-degenerate data). */
export function rnd(n: number, seed: number, scale = 1): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    a[i] = ((s >>> 0) / 4294967296 - 0.5) * scale;
  }
  return a;
}

type WFmt = 'f32' | 'f16' | 'q8' | 'q4';
const W_BYTES: Record<WFmt, number> = { f32: 4, f16: 2, q8: 1 + 4 / 32, q4: 0.5 + 4 / 32 };

function linearCase(M: number, N: number, K: number, fmt: WFmt, opts: { gateUp?: boolean; ort?: boolean; reps?: number; label?: string } = {}): BenchCase {
  const rows = opts.gateUp ? 2 * N : N;
  const kind = opts.gateUp ? 'swiglu' : M <= 4 ? 'gemv' : 'gemm';
  return {
    name: `${opts.label ?? kind} ${fmt}`,
    shape: opts.gateUp ? `x[${M},${K}] W[2·${N},${K}] → [${M},${N}]` : `x[${M},${K}] W[${N},${K}]`,
    setup: ({ ctx }: BenchEnv): CasePlan => {
      const wf = rnd(rows * K, 7 + N + K, 2 / Math.sqrt(K));
      const x = rnd(M * K, 3);
      let w: GpuTensor, scales: GpuTensor | undefined;
      if (fmt === 'f32') w = ctx.upload(wf, 'f32', [rows, K], 'w');
      else if (fmt === 'f16') w = packWeightF16(ctx, wf, [rows, K]);
      else ({ packed: w, scales } = quantizeWeight(ctx, wf, [rows, K], fmt, 32));
      const tx = ctx.upload(x, 'f32', [M, K], 'x');
      const y = ctx.tensor('f32', [M, N], 'y');
      const rec = linear(ctx, { x: tx, w, scales, y, gateUp: opts.gateUp }, kind);
      const plan: CasePlan = {
        records: [rec],
        bytes: rows * K * W_BYTES[fmt] + 4 * M * (K + N),
        flops: 2 * M * rows * K,
        reps: opts.reps,
        dispose: () => [w, tx, y].forEach((t) => t.buffer.destroy()),
      };
      if (opts.ort) {
        const feeds = { x: { type: 'float32' as const, data: x, dims: [M, K] } };
        if (opts.gateUp) {
          plan.ort = { model: swigluGraph(M, N, K, wf.subarray(0, N * K), wf.subarray(N * K)), feeds, note: 'ORT: Gemm, Gemm, Sigmoid, Mul, Mul (f32)' };
        } else if (fmt === 'q4' || fmt === 'q8') {
          const h = quantizeHost(wf, [N, K], fmt, 32);
          plan.ort = { model: matmulNBitsGraph(M, N, K, fmt === 'q4' ? 4 : 8, 32, h.words, h.scales), feeds, note: `ORT: MatMulNBits ${fmt === 'q4' ? 4 : 8}-bit, block 32` };
        } else if (fmt === 'f32') {
          plan.ort = { model: gemmGraph(M, N, K, wf), feeds };
        }
      }
      return plan;
    },
  };
}

/**
 * Row softmax / log-softmax. ORT's WebGPU EP has no LogSoftmax kernel (the node falls back to its CPU EP), so
 * `ortSoftmaxLog` gives ORT the same result as Softmax → Log, which its GPU does run: the GPU-to-GPU twin.
 */
function softmaxCase(rows: number, cols: number, log = false, ortSoftmaxLog = false): BenchCase {
  const ortModel = () =>
    ortSoftmaxLog
      ? graph({
          inputs: [{ name: 'x', dtype: 'float32', dims: [rows, cols] }],
          outputs: [{ name: 'y', dtype: 'float32', dims: [rows, cols] }],
          nodes: [
            { op: 'Softmax', inputs: ['x'], outputs: ['p'], attrs: { axis: -1 } },
            { op: 'Log', inputs: ['p'], outputs: ['y'] },
          ],
        })
      : unaryGraph(log ? 'LogSoftmax' : 'Softmax', [rows, cols], [rows, cols], { axis: -1 });
  return {
    name: (log ? 'log_softmax' : 'softmax') + (ortSoftmaxLog ? ' (ORT: Softmax→Log)' : ''),
    shape: `[${rows},${cols}]`,
    setup: ({ ctx }) => {
      const x = rnd(rows * cols, 11, 20);
      const tx = ctx.upload(x, 'f32', [rows, cols]), out = ctx.tensor('f32', [rows, cols]);
      return {
        records: [softmax(ctx, { x: tx, out, log })],
        bytes: 8 * rows * cols,
        ort: { model: ortModel(), feeds: { x: { type: 'float32', data: x, dims: [rows, cols] } } },
        dispose: () => [tx, out].forEach((t) => t.buffer.destroy()),
      };
    },
  };
}

function topkCase(rows: number, cols: number, k: number): BenchCase {
  return {
    name: 'topk',
    shape: `[${rows},${cols}] k=${k}`,
    setup: ({ ctx }) => {
      const x = rnd(rows * cols, 13, 20);
      const tx = ctx.upload(x, 'f32', [rows, cols]);
      const v = ctx.tensor('f32', [rows, k]), i = ctx.tensor('i32', [rows, k]);
      return {
        records: [topk(ctx, { x: tx, k, values: v, indices: i })],
        bytes: 4 * rows * cols,
        ort: { model: topkGraph(rows, cols, k), feeds: { x: { type: 'float32', data: x, dims: [rows, cols] } } },
        dispose: () => [tx, v, i].forEach((t) => t.buffer.destroy()),
      };
    },
  };
}

function gatherCase(V: number, D: number, T: number, fmt: 'f32' | 'f16'): BenchCase {
  return {
    name: `gather ${fmt}`,
    shape: `table[${V},${D}] ids[${T}]`,
    setup: ({ ctx }) => {
      const table = rnd(V * D, 17);
      const ids = Int32Array.from({ length: T }, (_, t) => (t * 7919) % V);
      const tt = fmt === 'f32' ? ctx.upload(table, 'f32', [V, D]) : packWeightF16(ctx, table, [V, D]);
      const ti = ctx.upload(ids, 'i32', [T]), out = ctx.tensor('f32', [T, D]);
      return {
        records: [gatherRows(ctx, { table: tt, ids: ti, out })],
        bytes: T * D * (4 + (fmt === 'f32' ? 4 : 2)) + 4 * T,
        ort: fmt === 'f32'
          ? { model: gatherGraph(V, D, T, table), feeds: { ids: { type: 'int64', data: BigInt64Array.from(ids, (v) => BigInt(v)), dims: [T] } } }
          : undefined,
        dispose: () => [tt, ti, out].forEach((t) => t.buffer.destroy()),
      };
    },
  };
}

function transposeCase(R: number, C: number): BenchCase {
  return {
    name: 'transpose',
    shape: `[${R},${C}] → [${C},${R}]`,
    setup: ({ ctx }) => {
      const x = rnd(R * C, 19);
      const tx = ctx.upload(x, 'f32', [R, C]), out = ctx.tensor('f32', [C, R]);
      return {
        records: [transpose(ctx, tx, out, [1, 0])],
        bytes: 8 * R * C,
        ort: { model: unaryGraph('Transpose', [R, C], [C, R], { perm: [1, 0] }), feeds: { x: { type: 'float32', data: x, dims: [R, C] } } },
        dispose: () => [tx, out].forEach((t) => t.buffer.destroy()),
      };
    },
  };
}

function elementwiseCases(T: number, D: number): BenchCase[] {
  const n = T * D;
  return [
    {
      name: 'add row-broadcast',
      shape: `[${T},${D}] + [${D}]`,
      setup: ({ ctx }) => {
        const x = rnd(n, 23), b = rnd(D, 29);
        const tx = ctx.upload(x, 'f32', [T, D]), tb = ctx.upload(b, 'f32', [D]), out = ctx.tensor('f32', [T, D]);
        return {
          records: [binary(ctx, 'add', tx, tb, out)],
          bytes: 8 * n + 4 * D,
          ort: { model: addBroadcastGraph(T, D, b), feeds: { x: { type: 'float32', data: x, dims: [T, D] } } },
          dispose: () => [tx, tb, out].forEach((t) => t.buffer.destroy()),
        };
      },
    },
    {
      name: 'silu',
      shape: `[${n}]`,
      setup: ({ ctx }) => {
        const x = rnd(n, 31, 8);
        const tx = ctx.upload(x, 'f32', [n]), out = ctx.tensor('f32', [n]);
        return {
          records: [activation(ctx, 'silu', tx, out)],
          bytes: 8 * n,
          ort: { model: siluGraph(n), feeds: { x: { type: 'float32', data: x, dims: [n] } }, note: 'ORT: Sigmoid, Mul' },
          dispose: () => [tx, out].forEach((t) => t.buffer.destroy()),
        };
      },
    },
    {
      name: 'copy',
      shape: `[${n}]`,
      setup: ({ ctx }) => {
        const tx = ctx.upload(rnd(n, 37), 'f32', [n]), out = ctx.tensor('f32', [n]);
        return { records: [copy(ctx, tx, out)], bytes: 8 * n, dispose: () => [tx, out].forEach((t) => t.buffer.destroy()) };
      },
    },
  ];
}

/** Linear time interpolation [C, T] → [C, 2T] (align_corners = False, as F.interpolate) against ORT's Resize. */
export function interpolateCase(C: number, T: number): BenchCase {
  return {
    name: 'interpolate linear',
    shape: `[${C},${T}] → [${C},${2 * T}]`,
    setup: ({ ctx }) => {
      const x = rnd(C * T, 107);
      const tx = ctx.upload(x, 'f32', [C, T]), out = ctx.tensor('f32', [C, 2 * T]);
      const model = graph({
        inputs: [{ name: 'x', ...f32([1, C, T]) }],
        outputs: [{ name: 'y', ...f32([1, C, 2 * T]) }],
        inits: [{ name: 'scales', ...f32([3]), data: Float32Array.of(1, 1, 2) }],
        nodes: [{ op: 'Resize', inputs: ['x', '', 'scales'], outputs: ['y'], attrs: { mode: 'linear', coordinate_transformation_mode: 'half_pixel' } }],
      });
      return {
        records: [interpolate(ctx, 'linear', tx, out)],
        bytes: 4 * 3 * C * T,
        flops: 3 * 2 * C * T,
        output: out,
        ort: { model, feeds: { x: { type: 'float32', data: x, dims: [1, C, T] } }, note: 'ORT: Resize(linear)' },
        dispose: () => [tx, out].forEach((t) => t.buffer.destroy()),
      };
    },
  };
}

export const suite: Suite = {
  name: 'kernels',
  description: 'kernel library at real model shapes vs onnxruntime-node one-node graphs',
  cases: ({ size }) => {
    const full = size === 'full';
    const H = 896, I = 4864, KV = 128, SPEECH = 6761; // Qwen2-0.5B decode dims, speech-token head
    const T = full ? 600 : 100; // DiT frames; its GEMMs run on M = 2·T rows (CFG batch)
    const D = full ? 1024 : 256;
    const cases: BenchCase[] = [
      {
        name: 'no-op dispatch',
        shape: '1 workgroup',
        setup: ({ ctx }) => {
          const a = ctx.tensor('f32', [64]), b = ctx.tensor('f32', [64]);
          return { records: [copyStrided(ctx, { src: a, dst: b, shape: [0], srcStrides: [1], dstStrides: [1] })] };
        },
      },
      linearCase(1, H, H, 'f32', { ort: true }),
      linearCase(1, KV, H, 'f32', { ort: true }),
      linearCase(1, I, H, 'f32', { ort: true }),
      linearCase(1, H, I, 'f32', { ort: true }),
      linearCase(1, SPEECH, H, 'f32', { ort: true }),
      linearCase(1, I, H, 'f16'),
      linearCase(1, I, H, 'q8', { ort: true }),
      linearCase(1, I, H, 'q4', { ort: true }),
      linearCase(1, H, I, 'f16'),
      linearCase(1, SPEECH, H, 'f16'),
      linearCase(1, I, H, 'f32', { gateUp: true, ort: true }),
      linearCase(1, I, H, 'f16', { gateUp: true }),
      linearCase(2 * T, D, D, 'f32', { ort: true, reps: full ? 3 : undefined }),
      linearCase(2 * T, D, D, 'f16', { reps: full ? 3 : undefined }),
      softmaxCase(1, SPEECH),
      softmaxCase(1, SPEECH, true),
      softmaxCase(1, SPEECH, true, true),
      softmaxCase(16 * (full ? 8 : 2), 2 * T),
      topkCase(1, SPEECH, 25),
      gatherCase(SPEECH + 3, H, full ? 64 : 16, 'f32'),
      gatherCase(SPEECH + 3, H, full ? 64 : 16, 'f16'),
      transposeCase(D, 2 * T),
      ...elementwiseCases(2 * T, D),
      interpolateCase(80, 2 * T),
    ];
    return cases;
  },
};
