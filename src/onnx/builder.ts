/**
 * Typed graph builder: `b.matmul(a, w)`, `b.add(x, y)`, … each returns the output value name, so converter code
 * reads like the PyTorch forward. Constants become small initializers, deduplicated by value.
 *
 * Weights: `b.weight(name)` returns a float32 value for an upstream tensor, honouring the storage dtype:
 *  - fp32: the initializer itself;
 *  - fp16: an fp16 initializer + Cast(to float) (ORT folds the Cast at load; our runtime reads the fp16 bytes);
 *  - int8: only for Linear weights (`b.linear`): per-output-channel symmetric int8 + `<name>_scale` through
 *    DequantizeLinear(axis 0); everything else as fp32.
 */
import { toF16Bits } from '../../loader/dtype.js';
import { DT, Graph, bytesOf, type Attrs, type DTName } from './graph.js';

export type StoreDType = 'fp32' | 'fp16' | 'int8';

export interface WeightSource {
  /** Float32 values and dims of an upstream tensor (already transformed, e.g. weight norm folded). */
  get(name: string): { dims: number[]; data: Float32Array; data64?: Float64Array };
}

export class Builder {
  private consts = new Map<string, string>();
  private weights = new Map<string, string>();

  constructor(readonly g: Graph, readonly src: WeightSource, readonly dtype: StoreDType = 'fp32') {}

  op(type: string, inputs: string[], attrs: Attrs = {}): string {
    return this.g.node(type, inputs, attrs)[0];
  }
  ops(type: string, inputs: string[], n: number, attrs: Attrs = {}): string[] {
    return this.g.node(type, inputs, attrs, n);
  }

  // ---- constants ------------------------------------------------------------------------------------------
  private konst(dtype: DTName, dims: number[], bytes: Uint8Array, key: string): string {
    const k = `${dtype}:${dims}:${key}`;
    let name = this.consts.get(k);
    if (!name) {
      name = `const_${this.consts.size}`;
      this.g.initializer({ name, dtype, dims, bytes: new Uint8Array(bytes) });
      this.consts.set(k, name);
    }
    return name;
  }
  /** float32 constant; scalar when `dims` is []. */
  f32(values: number | number[] | Float32Array, dims?: number[]): string {
    const a = typeof values === 'number' ? Float32Array.of(values) : Float32Array.from(values);
    const d = dims ?? (typeof values === 'number' ? [] : [a.length]);
    return this.konst('float', d, bytesOf(a), Array.from(a).join(','));
  }
  f64(values: number | number[], dims?: number[]): string {
    const a = typeof values === 'number' ? Float64Array.of(values) : Float64Array.from(values);
    const d = dims ?? (typeof values === 'number' ? [] : [a.length]);
    return this.konst('double', d, bytesOf(a), Array.from(a).join(','));
  }
  i64(values: number | number[], dims?: number[]): string {
    const a = typeof values === 'number' ? BigInt64Array.of(BigInt(values)) : BigInt64Array.from(values.map(BigInt));
    const d = dims ?? (typeof values === 'number' ? [] : [a.length]);
    return this.konst('int64', d, bytesOf(a), Array.from(a).join(','));
  }
  /** A float32 tensor computed at conversion time (tables such as windows or DFT bases). */
  table(name: string, data: Float32Array | Float64Array, dims: number[]): string {
    if (!this.g.hasInitializer(name)) {
      this.g.initializer({ name, dtype: data instanceof Float64Array ? 'double' : 'float', dims, bytes: bytesOf(data) });
    }
    return name;
  }

  // ---- weights --------------------------------------------------------------------------------------------
  /** Float value for an upstream tensor (fp32 or fp16+Cast). `asDouble` stores it as float64 (F0 predictor). */
  weight(name: string, asDouble = false): string {
    const key = asDouble ? name + '#f64' : name;
    const hit = this.weights.get(key);
    if (hit) return hit;
    const { dims, data, data64 } = this.src.get(name);
    let value: string;
    if (asDouble) {
      value = this.g.initializer({ name, dtype: 'double', dims, bytes: bytesOf(data64 ?? Float64Array.from(data)) });
    } else if (this.dtype === 'fp16') {
      this.g.initializer({ name, dtype: 'float16', dims, bytes: bytesOf(toF16Bits(data)) });
      value = this.op('Cast', [name], { to: DT.float });
    } else {
      value = this.g.initializer({ name, dtype: 'float', dims, bytes: bytesOf(data) });
    }
    this.weights.set(key, value);
    return value;
  }

  /** Weight [out, in] as a MatMul right operand [in, out]; int8 mode quantises per output channel. */
  linearWeightT(name: string): string {
    const key = name + '#T';
    const hit = this.weights.get(key);
    if (hit) return hit;
    let w: string;
    if (this.dtype === 'int8') {
      const { dims, data } = this.src.get(name);
      const [rows, cols] = [dims[0], dims.slice(1).reduce((a, b) => a * b, 1)];
      const q = new Int8Array(data.length);
      const scale = new Float32Array(rows);
      for (let r = 0; r < rows; r++) {
        let m = 0;
        for (let c = 0; c < cols; c++) m = Math.max(m, Math.abs(data[r * cols + c]));
        const s = m > 0 ? m / 127 : 1;
        scale[r] = s;
        for (let c = 0; c < cols; c++) q[r * cols + c] = Math.round(data[r * cols + c] / s);
      }
      this.g.initializer({ name, dtype: 'int8', dims, bytes: bytesOf(q) });
      const sname = this.g.initializer({ name: name + '_scale', dtype: 'float', dims: [rows], bytes: bytesOf(scale) });
      w = this.op('DequantizeLinear', [name, sname], { axis: 0 });
    } else {
      w = this.weight(name);
    }
    const t = this.op('Transpose', [w], { perm: [1, 0] });
    this.weights.set(key, t);
    return t;
  }

  /** y = x·Wᵀ + b for an upstream nn.Linear (weight [out, in]). */
  linear(x: string, prefix: string, bias = true): string {
    const y = this.matmul(x, this.linearWeightT(`${prefix}.weight`));
    return bias ? this.add(y, this.weight(`${prefix}.bias`)) : y;
  }

  // ---- elementwise and shape ops --------------------------------------------------------------------------
  add(a: string, b: string) { return this.op('Add', [a, b]); }
  sub(a: string, b: string) { return this.op('Sub', [a, b]); }
  mul(a: string, b: string) { return this.op('Mul', [a, b]); }
  div(a: string, b: string) { return this.op('Div', [a, b]); }
  matmul(a: string, b: string) { return this.op('MatMul', [a, b]); }
  neg(a: string) { return this.op('Neg', [a]); }
  exp(a: string) { return this.op('Exp', [a]); }
  sin(a: string) { return this.op('Sin', [a]); }
  cos(a: string) { return this.op('Cos', [a]); }
  tanh(a: string) { return this.op('Tanh', [a]); }
  sigmoid(a: string) { return this.op('Sigmoid', [a]); }
  sqrt(a: string) { return this.op('Sqrt', [a]); }
  abs(a: string) { return this.op('Abs', [a]); }
  silu(a: string) { return this.mul(a, this.sigmoid(a)); }
  leakyRelu(a: string, alpha: number) { return this.op('LeakyRelu', [a], { alpha: { f: alpha } }); }
  softmax(a: string, axis = -1) { return this.op('Softmax', [a], { axis }); }
  cast(a: string, to: DTName) { return this.op('Cast', [a], { to: DT[to] }); }
  transpose(a: string, perm: number[]) { return this.op('Transpose', [a], { perm }); }
  reshape(a: string, shape: number[] | string) {
    return this.op('Reshape', [a, typeof shape === 'string' ? shape : this.i64(shape)]);
  }
  concat(xs: string[], axis: number) { return this.op('Concat', xs, { axis }); }
  unsqueeze(a: string, axes: number[]) { return this.op('Unsqueeze', [a, this.i64(axes)]); }
  squeeze(a: string, axes: number[]) { return this.op('Squeeze', [a, this.i64(axes)]); }
  shape(a: string, start?: number, end?: number) {
    const attrs: Attrs = {};
    if (start !== undefined) attrs.start = start;
    if (end !== undefined) attrs.end = end;
    return this.op('Shape', [a], attrs);
  }
  /** Static slice along `axes` (ends may be large sentinels such as 2**62). */
  slice(a: string, starts: number[], ends: number[], axes: number[], steps?: number[]) {
    const ins = [a, this.i64(starts), this.i64(ends), this.i64(axes)];
    if (steps) ins.push(this.i64(steps));
    return this.op('Slice', ins);
  }
  /** Slice with dynamic (value-name) starts/ends. */
  sliceDyn(a: string, starts: string, ends: string, axes: number[]) {
    return this.op('Slice', [a, starts, ends, this.i64(axes)]);
  }
  split(a: string, sizes: number[], axis: number) {
    return this.ops('Split', [a, this.i64(sizes)], sizes.length, { axis });
  }
  gather(a: string, idx: string, axis = 0) { return this.op('Gather', [a, idx], { axis }); }
  where(c: string, a: string, b: string) { return this.op('Where', [c, a, b]); }
  reduceMean(a: string, axes: number[], keepdims = 1) {
    return this.op('ReduceMean', [a], { axes, keepdims }); // opset 17: axes is an attribute
  }
  reduceSum(a: string, axes: number[], keepdims = 1) {
    return this.op('ReduceSum', [a, this.i64(axes)], { keepdims });
  }
  /** LayerNorm without affine (DiT: eps 1e-6). */
  layerNormNoAffine(x: string, dim: number, eps: number) {
    return this.op('LayerNormalization', [x, this.f32(new Array(dim).fill(1)), this.f32(new Array(dim).fill(0))],
      { axis: -1, epsilon: { f: eps } });
  }
  conv1d(x: string, w: string, b: string | undefined, attrs: Attrs) {
    return this.op('Conv', b ? [x, w, b] : [x, w], attrs);
  }
  pad(x: string, pads: number[], mode: 'constant' | 'reflect' = 'constant') {
    return this.op('Pad', [x, this.i64(pads)], { mode });
  }
}
