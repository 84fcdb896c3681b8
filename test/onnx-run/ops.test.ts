/**
 * Every operator of the CPU ONNX interpreter (src/onnx-run) against ONNX Runtime's cpu EP on seeded random
 * inputs: one small graph per case, including the edge cases exported graphs hit (broadcasting, negative axes and
 * indices, Reshape's 0 and −1, Slice with negative steps and INT64_MAX ends, integer division of negatives, Cast
 * rounding to float16, pools with ceil_mode and count_include_pad, grouped, strided, dilated and depthwise convs).
 * Tolerances: integers and bools exact; floats |a − b| ≤ 1e-6 + 1e-5·|b| (the interpreter sums in float64, ORT in
 * float32), looser where a case says so.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Builder } from '../../src/onnx/builder.js';
import { Graph, type Attrs, type DTName } from '../../src/onnx/graph.js';
import type { ValueType } from '../../src/onnx-run/tensor.js';
import { SeededRng } from '../helpers/rng.js';
import { CpuKernels } from '../../kernels/cpu-linear.js';
import { GELU_ERF } from '../../src/onnx-run/fuse.js';
import { erfTableParams, geluErf, unary, unaryOp } from '../../src/onnx-run/ops-elementwise.js';
import { runBoth, type Feed } from './oracle.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cv-onnx-run-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const DT: Record<ValueType, DTName> = { float32: 'float', float64: 'double', int64: 'int64', int32: 'int32', bool: 'bool', float16: 'float16', int8: 'int8', uint8: 'uint8' };
const rng = new SeededRng(20261205);
const numel = (d: number[]) => d.reduce((a, b) => a * b, 1);
const rand = (dims: number[], lo = -2, hi = 2): Feed => ({ dtype: 'float32', dims, data: rng.f32(numel(dims), lo, hi) });
const ints = (dims: number[], lo: number, hi: number): Feed => ({ dtype: 'int64', dims, data: Array.from({ length: numel(dims) }, () => lo + rng.int(hi - lo)) });
const bools = (dims: number[]): Feed => ({ dtype: 'bool', dims, data: Array.from({ length: numel(dims) }, () => rng.int(2)) });

interface Case {
  name: string;
  /** Graph inputs (fed), in order. */
  inputs: Record<string, Feed>;
  /** Builds the nodes; returns the output values with their dtype. */
  body: (g: Graph, b: Builder, x: string[]) => [string, ValueType][];
  tol?: { atol?: number; rtol?: number };
  opset?: number;
  /** Nodes the interpreter runs after its fusions (fuse.ts), where the case is about them. */
  ranNodes?: number;
}

function node(g: Graph, op: string, inputs: string[], attrs: Attrs = {}, n = 1): string[] {
  return g.node(op, inputs, attrs, n);
}
const one = (g: Graph, op: string, inputs: string[], attrs: Attrs = {}, t: ValueType = 'float32'): [string, ValueType][] => [[node(g, op, inputs, attrs)[0], t]];

const unaryCases: Case[] = [
  ...['Abs', 'Neg', 'Exp', 'Sin', 'Cos', 'Tanh', 'Erf', 'Floor', 'Ceil', 'Round', 'Sign', 'Relu', 'Sigmoid', 'Softplus'].map((op): Case => ({
    name: op, inputs: { x: rand([3, 7], -4, 4) }, body: (g, _b, x) => one(g, op, x),
  })),
  { name: 'Round halves to even', inputs: { x: { dtype: 'float32', dims: [6], data: [0.5, 1.5, 2.5, -0.5, -1.5, 3.49] } }, body: (g, _b, x) => one(g, 'Round', x) },
  ...['Sqrt', 'Log', 'Reciprocal'].map((op): Case => ({ name: op, inputs: { x: rand([4, 5], 0.1, 3) }, body: (g, _b, x) => one(g, op, x) })),
  { name: 'Not', inputs: { x: bools([9]) }, body: (g, _b, x) => one(g, 'Not', x, {}, 'bool') },
  { name: 'LeakyRelu', inputs: { x: rand([10]) }, body: (g, _b, x) => one(g, 'LeakyRelu', x, { alpha: { f: 0.2 } }) },
  { name: 'Elu', inputs: { x: rand([10]) }, body: (g, _b, x) => one(g, 'Elu', x, { alpha: { f: 0.7 } }) },
  { name: 'HardSigmoid', inputs: { x: rand([10], -5, 5) }, body: (g, _b, x) => one(g, 'HardSigmoid', x) },
  { name: 'Gelu (erf)', inputs: { x: rand([12], -4, 4) }, body: (g, _b, x) => one(g, 'Gelu', x), opset: 20 },
  { name: 'Gelu (tanh)', inputs: { x: rand([12], -4, 4) }, body: (g, _b, x) => one(g, 'Gelu', x, { approximate: 'tanh' }), opset: 20 },
];

const binaryCases: Case[] = [
  ...['Add', 'Sub', 'Mul', 'Div'].map((op): Case => ({
    name: `${op} broadcast [2,3,4]·[3,1]`, inputs: { a: rand([2, 3, 4]), b: rand([3, 1], 0.5, 2) }, body: (g, _b, x) => one(g, op, x),
  })),
  { name: 'Pow (float exponent)', inputs: { a: rand([2, 5], 0.1, 3), b: rand([5], -2, 2) }, body: (g, _b, x) => one(g, 'Pow', x) },
  { name: 'Max/Min/Sum/Mean of three', inputs: { a: rand([2, 3]), b: rand([3]), c: rand([2, 1]) }, body: (g, _b, x) => [...one(g, 'Max', x), ...one(g, 'Min', x), ...one(g, 'Sum', x), ...one(g, 'Mean', x)] },
  { name: 'Div int64 truncates towards zero', inputs: { a: ints([8], -20, 20), b: { dtype: 'int64', dims: [8], data: [3, -3, 4, -4, 7, 2, -5, 6] } }, body: (g, _b, x) => one(g, 'Div', x, {}, 'int64') },
  { name: 'Mod int64 (fmod 0 and 1)', inputs: { a: ints([8], -20, 20), b: { dtype: 'int64', dims: [8], data: [3, -3, 4, -4, 7, 2, -5, 6] } }, body: (g, _b, x) => [...one(g, 'Mod', x, {}, 'int64'), ...one(g, 'Mod', x, { fmod: 1 }, 'int64')] },
  ...['Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual'].map((op): Case => ({
    name: op, inputs: { a: ints([3, 4], 0, 4), b: ints([4], 0, 4) }, body: (g, _b, x) => one(g, op, x, {}, 'bool'),
  })),
  { name: 'And/Or/Xor', inputs: { a: bools([2, 5]), b: bools([5]) }, body: (g, _b, x) => [...one(g, 'And', x, {}, 'bool'), ...one(g, 'Or', x, {}, 'bool'), ...one(g, 'Xor', x, {}, 'bool')] },
  { name: 'Where broadcast', inputs: { c: bools([2, 1, 4]), a: rand([3, 4]), b: rand([1]) }, body: (g, _b, x) => one(g, 'Where', x) },
  { name: 'PRelu', inputs: { a: rand([2, 3, 4]), s: rand([3, 1]) }, body: (g, _b, x) => one(g, 'PRelu', x) },
];

const castCases: Case[] = [
  { name: 'Cast float→int64 (truncates), →bool, →float16→float', inputs: { x: { dtype: 'float32', dims: [8], data: [-2.7, -0.5, 0, 0.4, 1.5, 2.9, 1e-5, 65519.9] } },
    body: (g, b, x) => [
      ...one(g, 'Cast', x, { to: 7 }, 'int64'),
      ...one(g, 'Cast', x, { to: 9 }, 'bool'),
      [b.op('Cast', [b.op('Cast', x, { to: 10 })], { to: 1 }), 'float32'],
    ] },
  { name: 'Cast float16 rounding of random values', inputs: { x: rand([64], -70000, 70000) }, body: (_g, b, x) => [[b.op('Cast', [b.op('Cast', x, { to: 10 })], { to: 1 }), 'float32']] },
  { name: 'Cast int64→float, bool→int32', inputs: { x: ints([6], -50, 50), y: bools([6]) }, body: (g, _b, x) => [...one(g, 'Cast', [x[0]], { to: 1 }), ...one(g, 'Cast', [x[1]], { to: 6 }, 'int32')] },
  { name: 'Clip with min/max inputs and without max', inputs: { x: rand([10], -3, 3) }, body: (g, b, x) => [...one(g, 'Clip', [x[0], b.f32(-1), b.f32(0.5)]), ...one(g, 'Clip', [x[0], b.f32(0)])] },
];

const shapeCases: Case[] = [
  { name: 'Shape (start/end), Size', inputs: { x: rand([2, 3, 4, 5]) }, body: (g, _b, x) => [...one(g, 'Shape', x, {}, 'int64'), ...one(g, 'Shape', x, { start: 1, end: -1 }, 'int64'), ...one(g, 'Size', x, {}, 'int64')] },
  { name: 'Reshape with 0 and −1', inputs: { x: rand([2, 3, 4]) }, body: (g, b, x) => one(g, 'Reshape', [x[0], b.i64([0, -1, 2])]) },
  { name: 'Flatten axis 2', inputs: { x: rand([2, 3, 4, 5]) }, body: (g, _b, x) => one(g, 'Flatten', x, { axis: 2 }) },
  { name: 'Squeeze / Unsqueeze (axes inputs, negative)', inputs: { x: rand([2, 1, 3, 1]) }, body: (g, b, x) => [...one(g, 'Squeeze', [x[0], b.i64([-1, 1])]), ...one(g, 'Unsqueeze', [x[0], b.i64([0, -1])])] },
  { name: 'Transpose perm and default', inputs: { x: rand([2, 3, 4]) }, body: (g, _b, x) => [...one(g, 'Transpose', x, { perm: [1, 2, 0] }), ...one(g, 'Transpose', x)] },
  { name: 'Concat axis −1 of three', inputs: { a: rand([2, 3]), b: rand([2, 1]), c: rand([2, 4]) }, body: (g, _b, x) => one(g, 'Concat', x, { axis: -1 }) },
  { name: 'Split by sizes and equally', inputs: { x: rand([2, 7]) }, body: (g, b, x) => {
    const s = node(g, 'Split', [x[0], b.i64([2, 5])], { axis: 1 }, 2);
    const e = node(g, 'Split', [x[0]], { axis: 0 }, 2);
    return [...s, ...e].map((v): [string, ValueType] => [v, 'float32']);
  } },
  { name: 'Slice: negative steps, INT64_MAX ends, axes', inputs: { x: rand([4, 6, 5]) },
    body: (g, b, x) => [
      ...one(g, 'Slice', [x[0], b.i64([1, -1]), b.i64([9223372036854775807, -7]), b.i64([0, 1]), b.i64([1, -2])]),
      ...one(g, 'Slice', [x[0], b.i64([-2]), b.i64([10]), b.i64([-1])]),
      ...one(g, 'Slice', [x[0], b.i64([0, 0]), b.i64([3, 100]), b.i64([2, 1]), b.i64([2, 3])]),
    ] },
  { name: 'Gather axis 1, negative and scalar indices', inputs: { x: rand([3, 5, 2]) },
    body: (g, b, x) => [...one(g, 'Gather', [x[0], b.i64([4, -1, 0, 2], [2, 2])], { axis: 1 }), ...one(g, 'Gather', [x[0], b.i64(-2)], { axis: 0 })] },
  { name: 'GatherElements axis 1', inputs: { x: rand([3, 4]), i: ints([3, 2], 0, 4) }, body: (g, _b, x) => one(g, 'GatherElements', x, { axis: 1 }) },
  { name: 'Expand / Tile', inputs: { x: rand([3, 1]) }, body: (g, b, x) => [...one(g, 'Expand', [x[0], b.i64([2, 1, 4])]), ...one(g, 'Tile', [x[0], b.i64([2, 3])])] },
  { name: 'Range int64 and float', inputs: {}, body: (g, b) => [...one(g, 'Range', [b.i64(2), b.i64(-9), b.i64(-3)], {}, 'int64'), ...one(g, 'Range', [b.f32(0.5), b.f32(3), b.f32(0.75)])] },
  { name: 'ConstantOfShape', inputs: { s: { dtype: 'int64', dims: [2], data: [2, 3] } },
    body: (g, _b, x) => one(g, 'ConstantOfShape', x, { value: { t: { name: 'v', dtype: 'float', dims: [1], bytes: new Uint8Array(Float32Array.of(1.5).buffer) } } }) },
  { name: 'Pad constant / reflect / edge, negative pad', inputs: { x: rand([2, 3, 5]) },
    body: (g, b, x) => [
      ...one(g, 'Pad', [x[0], b.i64([0, 1, 2, 0, 0, 1]), b.f32(0.25)]),
      ...one(g, 'Pad', [x[0], b.i64([0, 0, 3, 0, 0, 2])], { mode: 'reflect' }),
      ...one(g, 'Pad', [x[0], b.i64([0, 2, 1, 0, 0, -1])], { mode: 'edge' }),
    ] },
  { name: 'Pad on every axis: reflect, edge, constant cropping both ends, 1-D', inputs: { x: rand([3, 4, 6]), y: rand([7]) },
    body: (g, b, x) => [
      ...one(g, 'Pad', [x[0], b.i64([1, 2, 2, 1, 1, 3])], { mode: 'reflect' }),
      ...one(g, 'Pad', [x[0], b.i64([2, 0, 0, 0, 3, 1])], { mode: 'edge' }),
      ...one(g, 'Pad', [x[0], b.i64([-1, 1, -2, 0, 1, -1]), b.f32(-3)]),
      ...one(g, 'Pad', [x[1], b.i64([2, 3])], { mode: 'reflect' }),
    ] },
  { name: 'Trilu upper/lower with k', inputs: { x: rand([2, 4, 5]) }, body: (g, b, x) => [...one(g, 'Trilu', [x[0], b.i64(1)]), ...one(g, 'Trilu', [x[0], b.i64(-1)], { upper: 0 })] },
  { name: 'CumSum exclusive / reverse', inputs: { x: rand([3, 4]) }, body: (g, b, x) => [...one(g, 'CumSum', [x[0], b.i64(1)]), ...one(g, 'CumSum', [x[0], b.i64(0)], { exclusive: 1, reverse: 1 })] },
  { name: 'Constant nodes (tensor, ints, float)', inputs: {},
    body: (g) => [...one(g, 'Constant', [], { value_ints: [3, -1, 4] }, 'int64'), ...one(g, 'Constant', [], { value_float: { f: 2.5 } })] },
];

const reduceCases: Case[] = [
  ...['ReduceMean', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceSumSquare', 'ReduceL1', 'ReduceL2', 'ReduceLogSumExp'].map((op): Case => ({
    name: `${op} axes [0, −1] keepdims 0, all axes, trailing axes [−1] and [1, 2]`, inputs: { x: rand([3, 4, 5], 0.2, 1.5) },
    body: (g, _b, x) => [...one(g, op, x, { axes: [0, -1], keepdims: 0 }), ...one(g, op, x), ...one(g, op, x, { axes: [-1] }), ...one(g, op, x, { axes: [2, 1], keepdims: 0 })],
  })),
  { name: 'ReduceSum (axes input), keepdims', inputs: { x: rand([3, 4, 5]) }, body: (g, b, x) => one(g, 'ReduceSum', [x[0], b.i64([1])]) },
  { name: 'ArgMax / ArgMin', inputs: { x: rand([3, 6]) }, body: (g, _b, x) => [...one(g, 'ArgMax', x, { axis: 1, keepdims: 0 }, 'int64'), ...one(g, 'ArgMin', x, { axis: 0 }, 'int64')] },
  { name: 'Softmax / LogSoftmax axis 1 of rank 3', inputs: { x: rand([2, 5, 3], -6, 6) }, body: (g, _b, x) => [...one(g, 'Softmax', x, { axis: 1 }), ...one(g, 'LogSoftmax', x, { axis: 1 })] },
  { name: 'Softmax / LogSoftmax over the last axis (WebAssembly rows), rows of 250 and 7', inputs: { x: rand([2, 3, 250], -9, 9), y: rand([5, 7], -30, 30) },
    body: (g, _b, x) => [...one(g, 'Softmax', [x[0]], { axis: -1 }), ...one(g, 'LogSoftmax', [x[0]], { axis: 2 }), ...one(g, 'Softmax', [x[1]]), ...one(g, 'LogSoftmax', [x[1]], { axis: -1 })] },
  { name: 'Softmax opset 11 (flattened from axis)', inputs: { x: rand([2, 3, 4], -6, 6) }, body: (g, _b, x) => one(g, 'Softmax', x, { axis: 1 }), opset: 11 },
  { name: 'LayerNormalization axis −1 and −2', inputs: { x: rand([2, 3, 8], -3, 3), s: rand([8]), b: rand([8]), s2: rand([3, 8]) },
    body: (g, _b, x) => [...one(g, 'LayerNormalization', [x[0], x[1], x[2]], { epsilon: { f: 1e-5 } }), ...one(g, 'LayerNormalization', [x[0], x[3]], { axis: -2 })], tol: { atol: 1e-5 } },
  { name: 'BatchNormalization (inference)', inputs: { x: rand([2, 4, 6]), s: rand([4]), b: rand([4]), m: rand([4]), v: rand([4], 0.1, 2) },
    body: (g, _b, x) => one(g, 'BatchNormalization', x, { epsilon: { f: 1e-3 } }), tol: { atol: 1e-5 } },
  { name: 'InstanceNormalization', inputs: { x: rand([2, 3, 7]), s: rand([3]), b: rand([3]) }, body: (g, _b, x) => one(g, 'InstanceNormalization', x), tol: { atol: 1e-5 } },
];

const nnCases: Case[] = [
  { name: 'MatMul [2,5,24]·W[24,40] (resident W) + bias Add', inputs: { a: rand([2, 5, 24]) },
    body: (g, b, x) => [[b.op('Add', [b.op('MatMul', [x[0], b.table('W', rng.f32(24 * 40), [24, 40])]), b.table('bias', rng.f32(40), [40])]), 'float32']], tol: { atol: 1e-5 } },
  { name: 'MatMul + bias Add fused; a product also read elsewhere stays unfused', inputs: { a: rand([3, 16]) },
    body: (g, b, x) => {
      const W = b.table('W2', rng.f32(16 * 8), [16, 8]), bias = b.table('b2', rng.f32(8), [8]);
      const fused = b.op('Add', [b.op('MatMul', [x[0], W]), bias]);
      const p = b.op('MatMul', [x[0], b.table('W3', rng.f32(16 * 8), [16, 8])]);
      // A product that is itself a graph output, read once: kept.
      const q = g.node('MatMul', [x[0], b.table('W4', rng.f32(16 * 8), [16, 8])], {}, ['q_out'])[0];
      g.outputs.push({ name: q, dtype: 'float', shape: [] });
      return [[fused, 'float32'], [b.op('Add', [p, bias]), 'float32'], [b.op('Relu', [p]), 'float32'], [b.op('Add', [q, bias]), 'float32']];
    }, tol: { atol: 1e-5 }, ranNodes: 10 },
  { name: 'exact GELU as torch exports it (five nodes → one), and the same chain with an intermediate read twice', inputs: { x: rand([4, 33], -5, 5) },
    body: (g, b, x) => {
      const gelu = (v: string) => {
        const e = b.op('Erf', [b.op('Div', [v, b.f32(Math.SQRT2)])]);
        const a = b.op('Add', [e, b.f32(1)]);
        return { out: b.op('Mul', [b.op('Mul', [v, a]), b.f32(0.5)]), a };
      };
      const one = gelu(x[0]);
      const two = gelu(b.op('Neg', [x[0]]));
      return [[one.out, 'float32'], [two.out, 'float32'], [b.op('Sub', [two.a, b.f32(1)]), 'float32']];
    }, tol: { atol: 2e-6 }, ranNodes: 11 },
  { name: 'MatMul of activations, broadcast batch [2,3,5,8]·[3,8,7]', inputs: { a: rand([2, 3, 5, 8]), b: rand([3, 8, 7]) }, body: (g, _b, x) => one(g, 'MatMul', x), tol: { atol: 1e-5 } },
  { name: 'MatMul of activations with K not a multiple of 4 (rows padded for the vector GEMM): K 250, 5', inputs: { a: rand([2, 9, 250]), b: rand([2, 250, 6]), c: rand([4, 5]), d: rand([5, 3]) },
    body: (g, _b, x) => [...one(g, 'MatMul', [x[0], x[1]]), ...one(g, 'MatMul', [x[2], x[3]])], tol: { atol: 1e-5 } },
  { name: 'MatMul 1-D operands', inputs: { a: rand([6]), b: rand([2, 6, 3]), c: rand([3]) },
    body: (g, _b, x) => [...one(g, 'MatMul', [x[0], x[1]]), ...one(g, 'MatMul', [x[1], x[2]])], tol: { atol: 1e-5 } },
  { name: 'Einsum: outer product, batched contraction, implicit output, a trace', inputs: { a: rand([5]), b: rand([7]), x: rand([2, 3, 4]), y: rand([2, 4, 6]), m: rand([4, 4]) },
    body: (g, _b, x) => [
      ...one(g, 'Einsum', [x[0], x[1]], { equation: 'i,j->ij' }),
      ...one(g, 'Einsum', [x[2], x[3]], { equation: 'bij, bjk -> bik' }),
      ...one(g, 'Einsum', [x[3], x[2]], { equation: 'bjk,bij' }),
      ...one(g, 'Einsum', [x[4]], { equation: 'ii->' }),
    ], tol: { atol: 1e-5 } },
  { name: 'Gemm transB (resident) with C, alpha, beta', inputs: { a: rand([4, 9]), c: rand([7]) },
    body: (g, b, x) => one(g, 'Gemm', [x[0], b.table('G', rng.f32(7 * 9), [7, 9]), x[1]], { transB: 1, alpha: { f: 0.5 }, beta: { f: 2 } }), tol: { atol: 1e-5 } },
  { name: 'Gemm transA of activations', inputs: { a: rand([9, 4]), w: rand([9, 5]) }, body: (g, _b, x) => one(g, 'Gemm', x, { transA: 1 }), tol: { atol: 1e-5 } },
  { name: 'Conv1d stride 2, pad 1, dilation 2, bias', inputs: { x: rand([2, 6, 23]), w: rand([10, 6, 3]), b: rand([10]) },
    body: (g, _b, x) => one(g, 'Conv', x, { strides: [2], pads: [1, 1], dilations: [2] }), tol: { atol: 1e-5 } },
  { name: 'Conv2d groups 2, stride (2,1), asymmetric pads', inputs: { x: rand([1, 4, 9, 11]), w: rand([6, 2, 3, 3]) },
    body: (g, _b, x) => one(g, 'Conv', x, { group: 2, strides: [2, 1], pads: [1, 0, 0, 2] }), tol: { atol: 1e-5 } },
  { name: 'Conv1d depthwise, k 31, pad 15', inputs: { x: rand([1, 8, 40]), w: rand([8, 1, 31]) },
    body: (g, _b, x) => one(g, 'Conv', x, { group: 8, pads: [15, 15] }), tol: { atol: 1e-5 } },
  { name: 'Conv1d depthwise, batch 2, causal pad 30 and odd lengths (WebAssembly lines)', inputs: { x: rand([2, 5, 33]), w: rand([5, 1, 31]), b: rand([5]) },
    body: (g, _b, x) => one(g, 'Conv', x, { group: 5, pads: [30, 0] }), tol: { atol: 1e-5 } },
  { name: 'Conv2d auto_pad SAME_UPPER, 1×1 conv', inputs: { x: rand([1, 3, 7, 8]), w: rand([5, 3, 3, 2]), w1: rand([4, 3, 1, 1]) },
    body: (g, _b, x) => [...one(g, 'Conv', [x[0], x[1]], { auto_pad: 'SAME_UPPER', strides: [2, 2] }), ...one(g, 'Conv', [x[0], x[2]])], tol: { atol: 1e-5 } },
  { name: 'AveragePool 1-D ceil_mode (a short last window)', inputs: { x: rand([1, 3, 23]) },
    body: (g, _b, x) => [...one(g, 'AveragePool', x, { kernel_shape: [5], strides: [5], ceil_mode: 1 }), ...one(g, 'AveragePool', x, { kernel_shape: [4], strides: [3], pads: [1, 2], count_include_pad: 1 })] },
  { name: 'MaxPool 2-D with pads, GlobalAveragePool', inputs: { x: rand([1, 2, 7, 6]) },
    body: (g, _b, x) => [...one(g, 'MaxPool', x, { kernel_shape: [3, 2], strides: [2, 2], pads: [1, 0, 1, 1] }), ...one(g, 'GlobalAveragePool', x)] },
];

const indexCases: Case[] = [
  { name: 'ScatterND: rows, elements (a negative index), add reduction', inputs: { x: rand([4, 5, 3]), u: rand([2, 5, 3]), v: rand([3, 3]), w: rand([2, 5, 3]) },
    body: (g, b, x) => [
      ...one(g, 'ScatterND', [x[0], b.i64([1, 3], [2, 1]), x[1]]),
      ...one(g, 'ScatterND', [x[0], b.i64([0, 0, 2, 3, -1, 1], [3, 2]), x[2]]),
      ...one(g, 'ScatterND', [x[0], b.i64([2, 2], [2, 1]), x[3]], { reduction: 'add' }),
    ] },
  { name: 'ScatterElements axis 1 (negative indices), add reduction with repeats', inputs: { x: rand([3, 6]), u: rand([3, 2]) },
    body: (g, b, x) => [
      ...one(g, 'ScatterElements', [x[0], b.i64([0, 5, -1, 2, 3, 1], [3, 2]), x[1]], { axis: 1 }),
      ...one(g, 'ScatterElements', [x[0], b.i64([4, 4, 0, 0, 2, 2], [3, 2]), x[1]], { axis: -1, reduction: 'add' }),
    ] },
  { name: 'NonZero of floats and of bools', inputs: { x: { dtype: 'float32', dims: [3, 4], data: [0, 1.5, 0, -2, 0, 0, 0, 0, 3, 0, 0.25, 0] }, y: bools([2, 3, 2]) },
    body: (g, _b, x) => [...one(g, 'NonZero', [x[0]], {}, 'int64'), ...one(g, 'NonZero', [x[1]], {}, 'int64')] },
  { name: 'TopK largest on the last axis, smallest on axis 0, ties by lower index', inputs: { x: rand([3, 7]), t: { dtype: 'float32', dims: [6], data: [2, 5, 5, 1, 5, 2] } },
    body: (g, b, x) => {
      const [v1, i1] = g.node('TopK', [x[0], b.i64([3])], {}, 2);
      const [v2, i2] = g.node('TopK', [x[0], b.i64([2])], { axis: 0, largest: 0 }, 2);
      const [v3, i3] = g.node('TopK', [x[1], b.i64([4])], {}, 2);
      return [[v1, 'float32'], [i1, 'int64'], [v2, 'float32'], [i2, 'int64'], [v3, 'float32'], [i3, 'int64']];
    } },
  { name: 'OneHot on the last axis and axis 0, negative and out-of-range indices', inputs: { i: { dtype: 'int64', dims: [2, 3], data: [0, 3, -1, 2, 7, -4] } },
    body: (g, b, x) => [...one(g, 'OneHot', [x[0], b.i64(4), b.f32([0.5, 2])]), ...one(g, 'OneHot', [x[0], b.i64(4), b.f32([-1, 1])], { axis: 0 })] },
];

const resizeCases: Case[] = [
  { name: 'ConvTranspose 1-D: stride 2, pads, output_padding, bias', inputs: { x: rand([2, 4, 7]), w: rand([4, 3, 5]), b: rand([3]) },
    body: (g, _b, x) => one(g, 'ConvTranspose', x, { strides: [2], pads: [1, 2], output_padding: [1] }), tol: { atol: 1e-5 } },
  { name: 'ConvTranspose 2-D grouped with dilation; output_shape; SAME_UPPER', inputs: { x: rand([1, 4, 5, 6]), w: rand([4, 2, 3, 3]) },
    body: (g, _b, x) => [
      ...one(g, 'ConvTranspose', x, { group: 2, strides: [2, 1], dilations: [1, 2] }),
      ...one(g, 'ConvTranspose', x, { group: 2, strides: [2, 2], output_shape: [10, 12] }),
      ...one(g, 'ConvTranspose', x, { strides: [2, 2], auto_pad: 'SAME_UPPER', group: 2 }),
    ], tol: { atol: 1e-5 } },
  { name: 'Resize nearest: asymmetric floor ×2 (F.interpolate), half_pixel round_prefer_ceil ×1.5', inputs: { x: rand([1, 2, 3, 4]) },
    body: (g, b, x) => [
      ...one(g, 'Resize', [x[0], '', b.f32([1, 1, 2, 2])], { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' }),
      ...one(g, 'Resize', [x[0], '', b.f32([1, 1, 1.5, 1.5])], { mode: 'nearest', nearest_mode: 'round_prefer_ceil' }),
    ] },
  { name: 'Resize linear: half_pixel by sizes, align_corners, pytorch_half_pixel down to 1', inputs: { x: rand([1, 2, 5, 4]) },
    body: (g, b, x) => [
      ...one(g, 'Resize', [x[0], '', '', b.i64([1, 2, 8, 7])], { mode: 'linear' }),
      ...one(g, 'Resize', [x[0], '', b.f32([1, 1, 2, 0.5])], { mode: 'linear', coordinate_transformation_mode: 'align_corners' }),
      ...one(g, 'Resize', [x[0], '', '', b.i64([1, 2, 1, 3])], { mode: 'linear', coordinate_transformation_mode: 'pytorch_half_pixel' }),
    ], tol: { atol: 1e-5 } },
];

const groups: [string, Case[]][] = [
  ['unary', unaryCases], ['binary', binaryCases], ['cast', castCases], ['shape', shapeCases], ['reduce', reduceCases], ['nn', nnCases],
  ['index', indexCases], ['resize and transposed conv', resizeCases],
];

for (const [group, cases] of groups) {
  describe(`onnx-run ops vs ORT cpu: ${group}`, () => {
    for (const c of cases) {
      it(c.name, async () => {
        const g = new Graph('case');
        const b = new Builder(g, { get: () => { throw new Error('no weights'); } });
        const names = Object.entries(c.inputs).map(([k, f]) => g.input(k, DT[f.dtype], f.dims));
        const outs = c.body(g, b, names);
        outs.forEach(([v, t], i) => g.output(`out${i}`, v, DT[t], []));
        const r = await runBoth(dir, g, c.inputs, c.tol, c.opset);
        if (c.ranNodes !== undefined) expect(r.ranNodes, 'nodes run after fusion').toBe(c.ranNodes);
        for (const o of r.outputs) {
          expect(o.mismatches, `${c.name} ${o.name}: first mismatches`).toEqual([]);
          expect(o.dims, `${c.name} ${o.name} dims`).toEqual(o.ortDims);
        }
      });
    }
  });
}

describe('onnx-run: the WebAssembly GELU against its TypeScript form', () => {
  it('unaryOp(GeluErf) on the kernels gives geluErf\'s float32 bits: near 0, across the table\'s end, far out, ±0, ±∞, NaN', async () => {
    const kernels = await CpuKernels.create({ threads: 1 });
    try {
      const { limit } = erfTableParams();
      const edge = limit * Math.SQRT2; // |x| where |x/√2| reaches the table's end
      const special = [0, -0, 1e-30, -1e-30, edge, -edge, Math.fround(edge * (1 - 1e-7)), -Math.fround(edge * (1 + 1e-7)), 40, -40, Infinity, -Infinity, NaN];
      const x = Float32Array.from([...special, ...rng.f32(20000, -12, 12)]);
      const got = unaryOp(GELU_ERF, { dtype: 'float32', dims: [x.length], data: x }, kernels).data;
      const want = unary({ dtype: 'float32', dims: [x.length], data: x }, geluErf).data;
      const bad: string[] = [];
      for (let i = 0; i < x.length && bad.length < 5; i++) if (!Object.is(got[i], want[i])) bad.push(`gelu(${x[i]}): ${got[i]} vs ${want[i]}`);
      expect(bad, 'first differing values').toEqual([]);
    } finally {
      kernels.dispose();
    }
  });
});
