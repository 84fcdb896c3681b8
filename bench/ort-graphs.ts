/**
 * Tiny ONNX graphs (one node, or a short unfused sequence) for the ORT side of benchmarks: the same op as one
 * of our kernels, written as a ModelProto with onnx-proto's protobufjs classes, weights as raw_data
 * initializers, and run by onnxruntime-node in the same process (bench/harness.ts `ortTime`).
 *
 * Build a graph with `graph()`: inputs (name, dtype, dims), initializers (name, typed array, dims), nodes
 * (op, inputs, outputs, attributes), outputs. Opset 17 unless a node needs newer.
 */
// onnx-proto is CommonJS: under plain Node ESM (tsx) only its default export exists.
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

export type OrtDType = 'float32' | 'int64' | 'int32' | 'float16' | 'uint8';

const ELEM: Record<OrtDType, number> = { float32: 1, uint8: 2, int32: 6, int64: 7, float16: 10 };

export interface ValueSpec {
  name: string;
  dtype: OrtDType;
  dims: number[];
}

export interface InitSpec {
  name: string;
  dtype: OrtDType;
  dims: number[];
  /** Raw little-endian bytes of the tensor (Float32Array, BigInt64Array, Uint16Array for float16…). */
  data: ArrayBufferView;
}

export type AttrValue = number | number[] | string | { f: number };

export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  attrs?: Record<string, AttrValue>;
  domain?: string;
}

export interface GraphSpec {
  inputs: ValueSpec[];
  outputs: ValueSpec[];
  inits?: InitSpec[];
  nodes: NodeSpec[];
  opset?: number;
}

function valueInfo(v: ValueSpec) {
  return { name: v.name, type: { tensorType: { elemType: ELEM[v.dtype], shape: { dim: v.dims.map((d) => ({ dimValue: d })) } } } };
}

function attribute(name: string, v: AttrValue) {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof v === 'number') return { name, type: T.INT, i: v };
  if (typeof v === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: T.INTS, ints: v };
  return { name, type: T.FLOAT, f: v.f };
}

/** A float32 value's dtype and dims, to spread into a ValueSpec or InitSpec: `{ name: 'x', ...f32([M, K]) }`. */
export const f32 = (dims: number[]) => ({ dtype: 'float32' as const, dims });

/** A 1-D int64 initializer's dtype, dims and data (Slice starts, Pad pads, Reshape shapes…): `{ name, ...i64(0, 2) }`. */
export const i64 = (...values: number[]) => ({ dtype: 'int64' as const, dims: [values.length], data: BigInt64Array.from(values.map(BigInt)) });

/** The spec each `graph()` result was built from, so that `repeatGraph` can rebuild it. */
const specs = new WeakMap<Uint8Array, GraphSpec>();

/** Serialised ModelProto bytes for `g`. */
export function graph(g: GraphSpec): Uint8Array {
  const bytes = encode(g);
  specs.set(bytes, g);
  return bytes;
}

/**
 * The graph of `model` with its nodes run `n` times in a chain, or null when it cannot chain: the single output
 * must have the dims and dtype of one input, which copy r > 0 reads from copy r − 1's output (other inputs and
 * the initializers are shared). Timing n copies against one gives ORT's marginal cost per op on the device, with
 * its per-run overhead and host↔device copies cancelled out (bench/harness.ts --ort-chain).
 */
export function repeatGraph(model: Uint8Array, n: number): Uint8Array | null {
  const g = specs.get(model);
  if (!g || g.outputs.length !== 1 || n < 1) return null;
  const out = g.outputs[0];
  const chain = g.inputs.find((i) => i.dtype === out.dtype && i.dims.length === out.dims.length && i.dims.every((d, k) => d === out.dims[k]));
  if (!chain) return null;
  const produced = new Set(g.nodes.flatMap((nd) => nd.outputs));
  const nodes: NodeSpec[] = [];
  for (let r = 0; r < n; r++) {
    const name = (t: string): string => {
      if (produced.has(t)) return r === n - 1 && t === out.name ? t : `${t}@${r}`;
      if (t === chain.name && r > 0) return `${out.name}@${r - 1}`;
      return t;
    };
    for (const nd of g.nodes) nodes.push({ ...nd, inputs: nd.inputs.map(name), outputs: nd.outputs.map(name) });
  }
  return encode({ ...g, nodes });
}

function encode(g: GraphSpec): Uint8Array {
  const domains = new Set(g.nodes.map((n) => n.domain ?? ''));
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'cosyvoice-webgpu bench',
    opsetImport: [...domains].map((d) => ({ domain: d, version: d === '' ? g.opset ?? 17 : 1 })),
    graph: {
      name: 'bench',
      node: g.nodes.map((n, i) => ({
        name: `n${i}_${n.op}`,
        opType: n.op,
        domain: n.domain ?? '',
        input: n.inputs,
        output: n.outputs,
        attribute: Object.entries(n.attrs ?? {}).map(([k, v]) => attribute(k, v)),
      })),
      initializer: (g.inits ?? []).map((t) => ({
        name: t.name,
        dataType: ELEM[t.dtype],
        dims: t.dims,
        rawData: new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength),
      })),
      input: g.inputs.map(valueInfo),
      output: g.outputs.map(valueInfo),
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

// ---- the graphs the kernel suite uses ----

/** y[M, N] = x[M, K] · W[N, K]ᵀ (+ bias): one Gemm node (transB = 1), the nn.Linear layout. */
export function gemmGraph(M: number, N: number, K: number, w: Float32Array, bias?: Float32Array): Uint8Array {
  const inits: InitSpec[] = [{ name: 'w', dtype: 'float32', dims: [N, K], data: w }];
  if (bias) inits.push({ name: 'b', dtype: 'float32', dims: [N], data: bias });
  return graph({
    inputs: [{ name: 'x', dtype: 'float32', dims: [M, K] }],
    outputs: [{ name: 'y', dtype: 'float32', dims: [M, N] }],
    inits,
    nodes: [{ op: 'Gemm', inputs: bias ? ['x', 'w', 'b'] : ['x', 'w'], outputs: ['y'], attrs: { transB: 1 } }],
  });
}

/** Qwen2 MLP gate/up half, unfused as ORT would run an exported model: Gemm, Gemm, Sigmoid, Mul, Mul. */
export function swigluGraph(M: number, F: number, K: number, wg: Float32Array, wu: Float32Array): Uint8Array {
  return graph({
    inputs: [{ name: 'x', dtype: 'float32', dims: [M, K] }],
    outputs: [{ name: 'y', dtype: 'float32', dims: [M, F] }],
    inits: [
      { name: 'wg', dtype: 'float32', dims: [F, K], data: wg },
      { name: 'wu', dtype: 'float32', dims: [F, K], data: wu },
    ],
    nodes: [
      { op: 'Gemm', inputs: ['x', 'wg'], outputs: ['g'], attrs: { transB: 1 } },
      { op: 'Gemm', inputs: ['x', 'wu'], outputs: ['u'], attrs: { transB: 1 } },
      { op: 'Sigmoid', inputs: ['g'], outputs: ['s'] },
      { op: 'Mul', inputs: ['g', 's'], outputs: ['a'] },
      { op: 'Mul', inputs: ['a', 'u'], outputs: ['y'] },
    ],
  });
}

/** One-input elementwise / row op: Softmax, LogSoftmax (axis −1), Sigmoid·x (SiLU), Transpose, … */
export function unaryGraph(op: string, dims: number[], outDims = dims, attrs?: Record<string, AttrValue>): Uint8Array {
  return graph({
    inputs: [{ name: 'x', dtype: 'float32', dims }],
    outputs: [{ name: 'y', dtype: 'float32', dims: outDims }],
    nodes: [{ op, inputs: ['x'], outputs: ['y'], attrs }],
  });
}

/** SiLU as exported models have it: x · Sigmoid(x). */
export function siluGraph(n: number): Uint8Array {
  return graph({
    inputs: [{ name: 'x', dtype: 'float32', dims: [n] }],
    outputs: [{ name: 'y', dtype: 'float32', dims: [n] }],
    nodes: [
      { op: 'Sigmoid', inputs: ['x'], outputs: ['s'] },
      { op: 'Mul', inputs: ['x', 's'], outputs: ['y'] },
    ],
  });
}

/** y = a + b with b one [D] row broadcast over a [T, D]. */
export function addBroadcastGraph(T: number, D: number, b: Float32Array): Uint8Array {
  return graph({
    inputs: [{ name: 'x', dtype: 'float32', dims: [T, D] }],
    outputs: [{ name: 'y', dtype: 'float32', dims: [T, D] }],
    inits: [{ name: 'b', dtype: 'float32', dims: [D], data: b }],
    nodes: [{ op: 'Add', inputs: ['x', 'b'], outputs: ['y'] }],
  });
}

/** TopK (largest, sorted) over the last axis: values float32 and indices int64. */
export function topkGraph(rows: number, cols: number, k: number): Uint8Array {
  return graph({
    inputs: [{ name: 'x', dtype: 'float32', dims: [rows, cols] }],
    outputs: [
      { name: 'v', dtype: 'float32', dims: [rows, k] },
      { name: 'i', dtype: 'int64', dims: [rows, k] },
    ],
    inits: [{ name: 'k', dtype: 'int64', dims: [1], data: BigInt64Array.of(BigInt(k)) }],
    nodes: [{ op: 'TopK', inputs: ['x', 'k'], outputs: ['v', 'i'], attrs: { axis: -1 } }],
  });
}

/** Embedding lookup: Gather(table[V, D], ids int64 [T]) → [T, D]. */
export function gatherGraph(V: number, D: number, T: number, table: Float32Array): Uint8Array {
  return graph({
    inputs: [{ name: 'ids', dtype: 'int64', dims: [T] }],
    outputs: [{ name: 'y', dtype: 'float32', dims: [T, D] }],
    inits: [{ name: 'table', dtype: 'float32', dims: [V, D], data: table }],
    nodes: [{ op: 'Gather', inputs: ['table', 'ids'], outputs: ['y'], attrs: { axis: 0 } }],
  });
}

/**
 * Block-quantised GEMV/GEMM as ORT runs it: com.microsoft MatMulNBits (y = x · dequant(B)ᵀ), bits 4 or 8,
 * B uint8 [N, K/bs, bs·bits/8] with element k in the low bits first, scales f32 [N·K/bs], zero point
 * 2^(bits−1) by default. Our q4 words already have that byte layout (nibble = q + 8); our signed q8 bytes get
 * +128 here. `packed` is the words buffer of kernels/quant.ts quantizeHost.
 */
export function matmulNBitsGraph(M: number, N: number, K: number, bits: 4 | 8, block: number, packed: Uint32Array, scales: Float32Array): Uint8Array {
  let bytes = new Uint8Array(packed.buffer, packed.byteOffset, packed.byteLength);
  if (bits === 8) bytes = Uint8Array.from(bytes, (b) => (b + 128) & 0xff);
  return graph({
    inputs: [{ name: 'x', dtype: 'float32', dims: [M, K] }],
    outputs: [{ name: 'y', dtype: 'float32', dims: [M, N] }],
    inits: [
      { name: 'b', dtype: 'uint8', dims: [N, K / block, (block * bits) / 8], data: bytes },
      { name: 's', dtype: 'float32', dims: [(N * K) / block], data: scales },
    ],
    nodes: [{ op: 'MatMulNBits', domain: 'com.microsoft', inputs: ['x', 'b', 's'], outputs: ['y'], attrs: { K, N, bits, block_size: block } }],
  });
}
