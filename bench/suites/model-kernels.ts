/**
 * The model-specific fused kernels at real shapes, each against the unfused op sequence an exporter would give
 * onnxruntime-node (issue 5's "fused ones vs ORT's sequence of unfused ops"):
 *   - Qwen2 RMSNorm [R, 896] (ORT: Mul, ReduceMean, Add, Sqrt, Div, Mul);
 *   - HiFT Snake [C, L] (ORT: Mul, Sin, Mul, Mul, Add);
 *   - HiFT conv1d k=7 with Snake fused on its input and the residual on its output, i.e. one ResBlock half
 *     (ORT: the Snake ops, Pad, Conv, Add).
 * Registered in bench/harness.ts as the `model-kernels` suite: `npx tsx bench/run.ts --suite model-kernels`.
 */
import { conv1d, packConvWeight, packSnakeAlpha } from '../../kernels/conv1d.js';
import { rmsNorm } from '../../kernels/rmsnorm.js';
import { snake } from '../../kernels/snake.js';
import type { BenchCase, Suite } from '../harness.js';
import { graph, type NodeSpec } from '../ort-graphs.js';

function rnd(n: number, seed: number, scale = 1): Float32Array {
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

const f32 = (dims: number[]) => ({ dtype: 'float32' as const, dims });

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
        inits: [{ name: 'w', ...f32([C]), data: w }, { name: 'eps', ...f32([]), data: Float32Array.of(1e-6) }],
        nodes: [
          { op: 'Mul', inputs: ['x', 'x'], outputs: ['x2'] },
          { op: 'ReduceMean', inputs: ['x2'], outputs: ['ms'], attrs: { axes: [-1], keepdims: 1 } },
          { op: 'Add', inputs: ['ms', 'eps'], outputs: ['mse'] },
          { op: 'Sqrt', inputs: ['mse'], outputs: ['rms'] },
          { op: 'Div', inputs: ['x', 'rms'], outputs: ['xn'] },
          { op: 'Mul', inputs: ['xn', 'w'], outputs: ['y'] },
        ],
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

export const suite: Suite = {
  name: 'model-kernels',
  description: 'model-specific fused kernels at real shapes vs the unfused ONNX op sequences on onnxruntime-node',
  cases: ({ size }) => {
    const full = size === 'full';
    // HiFT stage 0 at 1 s of audio: 256 channels × 400 frames (50 mel frames × 8); stage 2: 64 × 6001.
    return [
      rmsCase(1, 896),
      rmsCase(full ? 512 : 64, 896),
      snakeCase(256, full ? 400 : 100),
      snakeCase(64, full ? 6001 : 1501),
      convSnakeCase(256, full ? 400 : 100, 7, 3),
      convSnakeCase(64, full ? 6001 : 1501, 11, 1),
    ];
  },
};
