/**
 * A small ONNX interpreter on the CPU, for the graphs the runtime does not hand-write: upstream's prompt models
 * (`campplus.onnx`, the speaker embedding, and `speech_tokenizer_v3.onnx`, the prompt speech tokens), which a
 * zero-shot voice needs once per prompt. It runs any standard-domain graph made of the operators below, in the
 * file's node order, eagerly: shapes are whatever the values have (exported graphs compute them with Shape, Gather,
 * Concat…), so one session serves every input length. Float32 products run on the CPU fallback's WebAssembly SIMD
 * GEMM (ops-nn.ts), with MatMul/Gemm weights resident and transposed once; everything else is plain TypeScript.
 *
 * What it refuses, each with the node's name and op: operators outside the list (UnsupportedOpError, all of them
 * named at creation, before any run), other domains, control flow, a graph whose nodes are not in topological
 * order, feeds of the wrong dtype or a fixed dim that differs. ONNX Runtime is the oracle of every op's tests
 * (test/onnx-run), never a dependency of this code.
 */
import { CpuKernels, type CpuMatrix } from '../../kernels/cpu-linear.js';
import { nextTurn } from '../event-loop.js';
import { copyFloat32Into, toFloat32 } from '../../loader/dtype.js';
import type { OnnxModel, OnnxNode, ValueInfo } from '../../loader/onnx.js';
import type { TensorRecord } from '../../loader/types.js';
import { fuse, GELU_ERF } from './fuse.js';
import * as E from './ops-elementwise.js';
import * as I from './ops-index.js';
import * as Z from './ops-resize.js';
import * as N from './ops-nn.js';
import * as R from './ops-reduce.js';
import * as S from './ops-shape.js';
import {
  BufferPool, CODE_OF, OnnxRunError, UnsupportedOpError, fromRecord, inDefaultDomain, intsOf, numel, scalarOf, value, withPool, type Value,
} from './tensor.js';

/** Longest stretch of nodes run without giving the event loop a turn. */
const YIELD_MS = 20;

const NN_OPS = ['MatMul', 'Gemm', 'Einsum', 'Conv', 'ConvTranspose', 'AveragePool', 'MaxPool', 'GlobalAveragePool', 'GlobalMaxPool', 'Resize'];
const INDEX_OPS = ['ScatterND', 'ScatterElements', 'NonZero', 'TopK', 'OneHot'];
const SHAPE_OPS = [
  'Shape', 'Size', 'Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Transpose', 'Concat', 'Split', 'Slice', 'Gather',
  'GatherElements', 'Expand', 'Tile', 'Range', 'ConstantOfShape', 'Pad', 'Trilu', 'CumSum', 'Identity', 'Constant',
  'Dropout',
];
const OTHER_OPS = [
  'Where', 'Cast', 'CastLike', 'Clip', 'Sum', 'Mean', 'Softmax', 'LogSoftmax', 'LayerNormalization',
  'BatchNormalization', 'InstanceNormalization', 'ArgMax', 'ArgMin', 'LeakyRelu', 'Elu', 'Selu', 'HardSigmoid', 'Gelu',
  'PRelu',
];
/** Every operator type the interpreter runs (default domain). */
export const SUPPORTED_OPS: ReadonlySet<string> = new Set([
  ...Object.keys(E.UNARY), ...E.BINARY_OPS, ...R.REDUCE_OPS, ...NN_OPS, ...INDEX_OPS, ...SHAPE_OPS, ...OTHER_OPS,
]);

/**
 * The op types of a graph the interpreter does not run (`domain.Op` outside the default domain), each with the
 * first node using it, in first-use order.
 */
export function unsupportedOps(graph: { nodes: readonly OnnxNode[] }): { op: string; node: string }[] {
  const bad = new Map<string, string>();
  for (const n of graph.nodes) {
    const op = !inDefaultDomain(n) ? `${n.domain}.${n.opType}` : SUPPORTED_OPS.has(n.opType) ? undefined : n.opType;
    if (op && !bad.has(op)) bad.set(op, n.name);
  }
  return [...bad].map(([op, node]) => ({ op, node }));
}

export interface OnnxSessionOptions {
  /** Threads of the float32 GEMM (default: the CPU fallback's default). */
  threads?: number;
  /** Named in errors (the file the graph came from). */
  label?: string;
}

export class OnnxSession {
  readonly inputs: readonly ValueInfo[];
  readonly outputs: readonly ValueInfo[];
  /** Default-domain opset the graph was exported with. */
  readonly opset: number;
  private readonly constants = new Map<string, Value>();
  /** For each value, how many node inputs (and graph outputs) read it: freed after its last reader. */
  private readonly readers = new Map<string, number>();
  /** Initializers read only as a MatMul/Gemm right operand of 2 dims: kept resident as [N, K], never as Values. */
  private readonly residentB = new Set<string>();
  private readonly products: N.Products;
  /** Freed value buffers, reused by later values of the same size (this run's and the next runs'). */
  private readonly pool = new BufferPool();
  /** A MatMul weight on its way into the GEMM's memory (residentMatrix); dropped after each run. */
  private staging = new Float32Array(0);
  /** The nodes that run: the graph's, with fuse.ts's fusions. */
  private nodes: readonly OnnxNode[] = [];

  /** The graph's initializers. */
  private readonly records: ReadonlyMap<string, TensorRecord>;

  private constructor(
    private readonly model: OnnxModel,
    kernels: CpuKernels,
    readonly label: string,
  ) {
    const g = model.graph;
    this.records = model.tensors;
    this.inputs = g.inputs.filter((i) => !this.records.has(i.name));
    this.outputs = g.outputs;
    this.opset = model.opsetImport.find(inDefaultDomain)?.version ?? 13;
    this.products = new N.Products(kernels);
    this.check();
  }

  /** Checks the graph and prepares its GEMM (the float32 weights are copied when first used). */
  static async create(model: OnnxModel, opts: OnnxSessionOptions = {}): Promise<OnnxSession> {
    const kernels = await CpuKernels.create(opts.threads === undefined ? {} : { threads: opts.threads });
    try {
      return new OnnxSession(model, kernels, opts.label ?? (model.graph.name || 'graph'));
    } catch (e) {
      kernels.dispose();
      throw e;
    }
  }

  /** Nodes that run: the graph's less those fused into another (fuse.ts). */
  get runNodeCount(): number {
    return this.nodes.length;
  }

  /** Stops the GEMM's worker threads. */
  dispose(): void {
    this.pool.clear();
    this.products.kernels.dispose();
  }

  private where(n: OnnxNode): string {
    return `${this.label}: node ${n.name || '(unnamed)'} (${n.opType})`;
  }

  /** Every op supported, default domain, nodes in topological order; then the fusions and each value's readers. */
  private check(): void {
    const g = this.model.graph;
    const bad = unsupportedOps(g);
    if (bad.length) {
      const list = bad.map((u) => `${u.op} (first at node ${u.node || '(unnamed)'})`).join(', ');
      throw new UnsupportedOpError(`${this.label}: operators the CPU ONNX interpreter does not run: ${list}`);
    }
    const defined = new Set<string>([...g.inputs.map((i) => i.name), ...this.records.keys()]);
    for (const n of g.nodes) {
      for (const i of n.inputs) {
        if (i && !defined.has(i)) throw new OnnxRunError(`${this.where(n)}: input ${i} is not defined before it (nodes out of topological order, or a missing tensor)`);
      }
      for (const o of n.outputs) if (o) defined.add(o);
    }
    for (const o of g.outputs) {
      if (!defined.has(o.name)) throw new OnnxRunError(`${this.label}: graph output ${o.name} is never computed`);
    }
    this.nodes = fuse(g.nodes, this.records, new Set(g.outputs.map((o) => o.name)));
    const bReads = new Map<string, number>();
    for (const n of this.nodes) {
      for (const i of n.inputs) if (i) this.readers.set(i, (this.readers.get(i) ?? 0) + 1);
      if ((n.opType === 'MatMul' || n.opType === 'Gemm') && this.records.has(n.inputs[1])) bReads.set(n.inputs[1], (bReads.get(n.inputs[1]) ?? 0) + 1);
    }
    for (const o of g.outputs) this.readers.set(o.name, (this.readers.get(o.name) ?? 0) + 1);
    for (const [name, reads] of bReads) {
      const t = this.records.get(name)!;
      if (reads === this.readers.get(name) && t.dims.length === 2 && (t.dtype === 'float32' || t.dtype === 'float16' || t.dtype === 'bfloat16')) this.residentB.add(name);
    }
  }

  /** An initializer as a Value (converted once). */
  private initializer(name: string): Value {
    let v = this.constants.get(name);
    if (!v) {
      v = fromRecord(this.records.get(name)!);
      this.constants.set(name, v);
    }
    return v;
  }

  /** The resident [N, K] form of a MatMul's [K, N] (or a transB Gemm's [N, K]) initializer, with a fused bias initializer. */
  private residentMatrix(name: string, transposed: boolean, bias?: string): CpuMatrix {
    const t = this.records.get(name)!;
    const [r, c] = t.dims;
    const N0 = transposed ? r : c, K0 = transposed ? c : r;
    const b = bias ? toFloat32(this.records.get(bias)!) : undefined;
    return this.products.constant(`${name}${transposed ? '' : 'ᵀ'}${bias ? `+${bias}` : ''}`, N0, K0, (dst) => {
      if (transposed) return copyFloat32Into(t, dst);
      // Through one reused staging array: a fresh one per weight would fault in ~1 GB of new pages on the
      // tokenizer's first run, beside the GEMM memory's own.
      const n = N0 * K0;
      if (this.staging.length < n) this.staging = new Float32Array(n);
      const src = this.staging.subarray(0, n);
      copyFloat32Into(t, src);
      N.transpose2(src, K0, N0, dst);
    }, b);
  }

  /**
   * Runs the graph on `feeds` (by graph input name); returns every graph output by name. `profile`, when given,
   * gets each op type's milliseconds added to it (fused ops under their own names).
   */
  async run(feeds: Record<string, Value>, profile?: Record<string, number>): Promise<Record<string, Value>> {
    const vals = new Map<string, Value>();
    for (const i of this.inputs) {
      const v = feeds[i.name];
      if (!v) throw new OnnxRunError(`${this.label}: input ${i.name} not fed (inputs: ${this.inputs.map((x) => x.name).join(', ')})`);
      checkFeed(i, v, this.label);
      vals.set(i.name, v);
    }
    const left = new Map(this.readers);
    // How many live values view each buffer the pool made: at 0 the buffer goes back to the pool.
    const views = new Map<ArrayBufferLike, number>();
    const pool = this.pool;
    const get = (name: string, n: OnnxNode): Value | undefined => {
      if (name === '') return undefined;
      const v = vals.get(name) ?? (this.records.has(name) ? this.initializer(name) : undefined);
      if (!v) throw new OnnxRunError(`${this.where(n)}: input ${name} has no value`);
      return v;
    };
    let turn = performance.now();
    for (const n of this.nodes) {
      // The graph runs on this thread: every ~20 ms give the event loop a turn (a server's streams, a page's UI).
      if (performance.now() - turn > YIELD_MS) {
        await nextTurn();
        turn = performance.now();
      }
      const ins = n.inputs.map((i) => (this.residentB.has(i) ? undefined : get(i, n)));
      let outs: Value[];
      const t0 = profile ? performance.now() : 0;
      try {
        outs = withPool(pool, () => this.runNode(n, ins));
        if (profile) profile[n.opType] = (profile[n.opType] ?? 0) + performance.now() - t0;
      } catch (e) {
        if (e instanceof OnnxRunError) throw e;
        throw new OnnxRunError(`${this.where(n)}: ${(e as Error).message}`);
      }
      n.outputs.forEach((o, k) => {
        const v = outs[k];
        if (!o || !v) return;
        vals.set(o, v);
        if (pool.owns(v.data.buffer)) views.set(v.data.buffer, (views.get(v.data.buffer) ?? 0) + 1);
      });
      for (const i of n.inputs) {
        const r = (left.get(i) ?? 0) - 1;
        left.set(i, r);
        const v = r <= 0 ? vals.get(i) : undefined;
        if (!v) continue;
        vals.delete(i);
        const b = v.data.buffer, c = (views.get(b) ?? 0) - 1;
        if (c > 0) views.set(b, c);
        else if (views.delete(b)) pool.give(b);
      }
    }
    this.staging = new Float32Array(0);
    const result: Record<string, Value> = {};
    for (const o of this.outputs) {
      const v = vals.get(o.name) ?? (this.records.has(o.name) ? this.initializer(o.name) : undefined);
      if (!v) throw new OnnxRunError(`${this.label}: output ${o.name} was not computed`);
      result[o.name] = v;
    }
    return result;
  }

  private runNode(n: OnnxNode, x: (Value | undefined)[]): Value[] {
    const a = n.attributes;
    const w = this.where(n);
    const op = n.opType;
    const need = (i: number): Value => {
      const v = x[i];
      if (!v) throw new OnnxRunError(`${w}: input ${i} is missing`);
      return v;
    };
    const ints = (k: string): number[] | undefined => (a[k] === undefined ? undefined : (a[k] as unknown[]).map(Number));
    const fromInputOrAttr = (i: number, k: string): number[] | undefined => (x[i] ? intsOf(x[i]!) : ints(k));
    if (op in E.UNARY || op === GELU_ERF) return [E.unaryOp(op, need(0), this.products.kernels)];
    const withAttrs = E.unaryWithAttrs(op, a);
    if (withAttrs) return [E.unary(need(0), withAttrs)];
    if (E.BINARY_OPS.has(op) && op !== 'Max' && op !== 'Min') return [E.binary(op, need(0), need(1), a, w)];
    if (R.REDUCE_OPS.has(op)) {
      const axes = ints('axes') ?? (x[1] ? intsOf(x[1]) : undefined);
      return [R.reduce(op, need(0), axes, Number(a.keepdims ?? 1) === 1, Number(a.noop_with_empty_axes ?? 0) === 1, w)];
    }
    switch (op) {
      case 'Max':
      case 'Min':
      case 'Sum':
      case 'Mean':
        return [E.variadic(op, x.filter((v): v is Value => !!v), w)];
      case 'PRelu':
        return [E.broadcastMap([need(0), need(1)], need(0).dtype, (v) => (v[0] >= 0 ? v[0] : v[0] * v[1]), w)];
      case 'Where':
        return [E.where(need(0), need(1), need(2), w)];
      case 'Cast':
        return [E.cast(need(0), Number(a.to), w)];
      case 'CastLike':
        return [E.cast(need(0), CODE_OF[need(1).dtype], w)];
      case 'Clip': {
        const lo = x[1] ? scalarOf(x[1], w) : a.min !== undefined ? Number(a.min) : -Infinity;
        const hi = x[2] ? scalarOf(x[2], w) : a.max !== undefined ? Number(a.max) : Infinity;
        return [E.clip(need(0), lo, hi)];
      }
      case 'Identity':
      case 'Dropout':
        return [need(0)];
      case 'Constant':
        return [constantValue(a, w)];
      case 'Shape':
        return [S.shapeOf(need(0), a)];
      case 'Size':
        return [value('int64', [], Float64Array.of(need(0).data.length))];
      case 'Reshape':
        return [S.reshape(need(0), intsOf(need(1)), Number(a.allowzero ?? 0) === 1, w)];
      case 'Flatten':
        return [S.flatten(need(0), Number(a.axis ?? 1), w)];
      case 'Squeeze':
        return [S.squeeze(need(0), fromInputOrAttr(1, 'axes'), w)];
      case 'Unsqueeze':
        return [S.unsqueeze(need(0), fromInputOrAttr(1, 'axes') ?? [], w)];
      case 'Transpose':
        return [S.transpose(need(0), ints('perm'))];
      case 'Concat':
        return [S.concat(x.filter((v): v is Value => !!v), Number(a.axis), w)];
      case 'Split':
        return S.split(need(0), Number(a.axis ?? 0), fromInputOrAttr(1, 'split'), n.outputs.length, a.num_outputs === undefined ? undefined : Number(a.num_outputs), w);
      case 'Slice': {
        if (this.opset < 10) return [S.slice(need(0), ints('starts')!, ints('ends')!, ints('axes'), undefined, w)];
        return [S.slice(need(0), intsOf(need(1)), intsOf(need(2)), x[3] ? intsOf(x[3]) : undefined, x[4] ? intsOf(x[4]) : undefined, w)];
      }
      case 'Gather':
        return [S.gather(need(0), need(1), Number(a.axis ?? 0), w)];
      case 'GatherElements':
        return [S.gatherElements(need(0), need(1), Number(a.axis ?? 0), w)];
      case 'Expand':
        return [S.expand(need(0), intsOf(need(1)), w)];
      case 'Tile':
        return [S.tile(need(0), intsOf(need(1)), w)];
      case 'Range':
        return [S.range(need(0), need(1), need(2), w)];
      case 'ConstantOfShape':
        return [S.constantOfShape(intsOf(need(0)), a.value ? fromRecord(a.value as TensorRecord) : undefined)];
      case 'Pad': {
        const pads = fromInputOrAttr(1, 'pads') ?? [];
        const cval = x[2] ? scalarOf(x[2], w) : Number(a.value ?? 0);
        return [S.pad(need(0), pads, String(a.mode ?? 'constant'), cval, x[3] ? intsOf(x[3]) : undefined, w)];
      }
      case 'Trilu':
        return [S.trilu(need(0), x[1] ? scalarOf(x[1], w) : 0, Number(a.upper ?? 1) === 1)];
      case 'CumSum':
        return [S.cumsum(need(0), scalarOf(need(1), w), Number(a.exclusive ?? 0) === 1, Number(a.reverse ?? 0) === 1, w)];
      case 'Softmax':
      case 'LogSoftmax':
        return [R.softmax(need(0), a.axis === undefined ? undefined : Number(a.axis), this.opset, op === 'LogSoftmax', w, this.products.kernels)];
      case 'LayerNormalization':
        return R.layerNorm(need(0), need(1), x[2], Number(a.axis ?? -1), Number(a.epsilon ?? 1e-5), w);
      case 'BatchNormalization':
        return [R.batchNorm(need(0), need(1), need(2), need(3), need(4), Number(a.epsilon ?? 1e-5), w)];
      case 'InstanceNormalization':
        return [R.instanceNorm(need(0), need(1), need(2), Number(a.epsilon ?? 1e-5))];
      case 'ArgMax':
      case 'ArgMin':
        return [R.argReduce(op, need(0), Number(a.axis ?? 0), Number(a.keepdims ?? 1) === 1, Number(a.select_last_index ?? 0) === 1, w)];
      case 'MatMul': {
        // A third input is a bias fused from the Add after it (fuse.ts).
        const resident = this.residentB.has(n.inputs[1]);
        const b = resident ? shapeOnly(this.records.get(n.inputs[1])!) : need(1);
        const y = N.matmul(this.products, need(0), b, resident ? this.residentMatrix(n.inputs[1], false, n.inputs[2]) : undefined, w);
        return [n.inputs[2] && !resident ? E.binary('Add', y, this.initializer(n.inputs[2]), {}, w) : y];
      }
      case 'Gemm': {
        const resident = this.residentB.has(n.inputs[1]);
        const b = resident ? shapeOnly(this.records.get(n.inputs[1])!) : need(1);
        const m = resident ? this.residentMatrix(n.inputs[1], Number(a.transB ?? 0) === 1) : undefined;
        return [N.gemm(this.products, need(0), b, x[2], a, m, w)];
      }
      case 'Einsum':
        return [N.einsum(String(a.equation ?? ''), x.filter((v): v is Value => !!v), w)];
      case 'Conv':
        return [N.conv(this.products, need(0), need(1), x[2], a, w)];
      case 'ConvTranspose':
        return [N.convTranspose(need(0), need(1), x[2], a, w)];
      case 'Resize':
        if (this.opset < 11) return [Z.resize(need(0), need(1), undefined, a, w)];
        return [Z.resize(need(0), x[2], x[3], a, w)];
      case 'ScatterND':
        return [I.scatterND(need(0), need(1), need(2), String(a.reduction ?? 'none'), w)];
      case 'ScatterElements':
        return [I.scatterElements(need(0), need(1), need(2), Number(a.axis ?? 0), String(a.reduction ?? 'none'), w)];
      case 'NonZero':
        return [I.nonZero(need(0))];
      case 'TopK':
        return I.topK(need(0), this.opset < 10 ? Number(a.k) : scalarOf(need(1), w), Number(a.axis ?? -1), Number(a.largest ?? 1) === 1, w);
      case 'OneHot':
        return [I.oneHot(need(0), scalarOf(need(1), w), need(2), Number(a.axis ?? -1), w)];
      case 'AveragePool':
      case 'MaxPool':
      case 'GlobalAveragePool':
      case 'GlobalMaxPool':
        return [N.pool(op, need(0), a, w)];
      default:
        throw new UnsupportedOpError(`${w}: not supported`);
    }
  }
}

/** A resident initializer's dims and dtype, with no data (its values live in the GEMM's memory). */
function shapeOnly(t: TensorRecord): Value {
  return { dtype: 'float32', dims: [...t.dims], data: new Float32Array(0) };
}

function constantValue(a: Record<string, unknown>, what: string): Value {
  if (a.value !== undefined) return fromRecord(a.value as TensorRecord);
  if (a.value_float !== undefined) return value('float32', [], Float32Array.of(Number(a.value_float)));
  if (a.value_floats !== undefined) return value('float32', [(a.value_floats as number[]).length], Float32Array.from(a.value_floats as number[]));
  if (a.value_int !== undefined) return value('int64', [], Float64Array.of(Number(a.value_int)));
  if (a.value_ints !== undefined) return value('int64', [(a.value_ints as unknown[]).length], Float64Array.from((a.value_ints as unknown[]).map(Number)));
  throw new UnsupportedOpError(`${what}: Constant without a tensor, float(s) or int(s) value`);
}

function checkFeed(info: ValueInfo, v: Value, label: string): void {
  const want = info.elemType;
  if (want && want !== v.dtype && !(want === 'bfloat16' && v.dtype === 'float32')) {
    throw new OnnxRunError(`${label}: input ${info.name} is ${want}, fed ${v.dtype}`);
  }
  if (info.dims.length && info.dims.length !== v.dims.length) {
    throw new OnnxRunError(`${label}: input ${info.name} has rank ${info.dims.length} ([${info.dims.join(',')}]), fed [${v.dims.join(',')}]`);
  }
  info.dims.forEach((d, i) => {
    if (typeof d === 'number' && d > 0 && v.dims[i] !== d) {
      throw new OnnxRunError(`${label}: input ${info.name} dim ${i} is ${d}, fed [${v.dims.join(',')}]`);
    }
  });
  if (v.data.length !== numel(v.dims)) {
    throw new OnnxRunError(`${label}: input ${info.name} has ${v.data.length} elements for [${v.dims.join(',')}]`);
  }
}
