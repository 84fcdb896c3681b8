/**
 * Flow weights: the one place that maps upstream tensor names (flow.pt state_dict names, verbatim) onto the GPU
 * layout, with the load-time transforms: q/k/v fused into one [3C, C] projection, optional f16 packing of every DiT
 * linear (LayerNorm statistics and softmax stay f32 in the kernels), and, for the official
 * `flow.decoder.estimator.fp32.onnx`, the exporter's renamed MatMul weights mapped back and transposed.
 */
import type { GpuContext } from '../../gpu/context.js';
import type { GpuTensor } from '../../gpu/tensor.js';
import { convPosWeightLayout } from '../../../kernels/conv-pos.js';
import { ownFloat32, toF16Bits, toFloat32 } from '../../../loader/dtype.js';
import { recordFill, Staging, type WeightFill } from '../../../loader/fill.js';
import type { OnnxModel } from '../../../loader/onnx.js';
import { renamedRecord } from '../../../loader/store.js';
import type { TensorRecord, TensorStore } from '../../../loader/types.js';
import type { FlowConfig } from './config.js';
import { FlowWeightError } from './errors.js';

export const EST = 'decoder.estimator.';

export interface Linear {
  /** [N, K] f32 or f16 */
  w: GpuTensor;
  /** [N] f32 */
  b: GpuTensor;
}

export interface BlockWeights {
  /** attn_norm.linear: [6C, C] (shift, scale, gate) × (attention, MLP) */
  ada: Linear;
  /** to_q | to_k | to_v fused: [3C, C] */
  qkv: Linear;
  out: Linear;
  ff1: Linear;
  ff2: Linear;
}

export interface FlowWeights {
  /** input_embedding.weight [vocab, Cin] */
  emb: GpuTensor;
  spk: { w: GpuTensor; b: GpuTensor };
  pre1: { w: GpuTensor; b: GpuTensor };
  pre2: { w: GpuTensor; b: GpuTensor };
  time1: Linear;
  time2: Linear;
  inProj: Linear;
  conv1: { w: GpuTensor; b: GpuTensor };
  conv2: { w: GpuTensor; b: GpuTensor };
  invFreq: Float32Array;
  blocks: BlockWeights[];
  normOut: Linear;
  projOut: Linear;
  dtype: 'f32' | 'f16';
}

/**
 * The estimator initializers of the official ONNX export as a store keyed like flow.pt (`decoder.estimator.*`).
 * Constant folding renames every MatMul weight to `onnx::MatMul_<id>` and stores it transposed ([K, N]); each is
 * consumed by a MatMul whose output feeds an Add with the layer's `<path>.bias`, which names it back.
 * Anything else that cannot be mapped is an error listing the names.
 */
export function estimatorStoreFromOnnx(model: OnnxModel, file = 'flow.decoder.estimator.fp32.onnx'): TensorStore {
  const out: TensorStore = new Map();
  const unmapped: string[] = [];
  const consumers = new Map<string, typeof model.graph.nodes>();
  for (const n of model.graph.nodes) for (const i of n.inputs) (consumers.get(i) ?? consumers.set(i, []).get(i)!).push(n);
  for (const [name, rec] of model.tensors) {
    if (!name.startsWith('onnx::')) {
      out.set(EST + name, renamedRecord(rec, EST + name));
      continue;
    }
    const mm = (consumers.get(name) ?? []).find((n) => n.opType === 'MatMul' && n.inputs[1] === name);
    const add = mm && (consumers.get(mm.outputs[0]) ?? []).find((n) => n.opType === 'Add');
    const biasName = add?.inputs.find((i) => i !== mm!.outputs[0] && i.endsWith('.bias') && model.tensors.has(i));
    if (!mm || !biasName || rec.dims.length !== 2) {
      unmapped.push(`${name} [${rec.dims}]`);
      continue;
    }
    const wName = EST + biasName.slice(0, -'.bias'.length) + '.weight';
    const [K, N] = rec.dims;
    const src = toFloat32(rec);
    const t = new Float32Array(N * K);
    for (let k = 0; k < K; k++) for (let n = 0; n < N; n++) t[n * K + k] = src[k * N + n];
    out.set(wName, { name: wName, dtype: 'float32', dims: [N, K], bytes: new Uint8Array(t.buffer) } as TensorRecord);
  }
  if (unmapped.length) {
    throw new FlowWeightError(`${file}: cannot map initializers to estimator weights (not a MatMul weight followed by a bias Add): ${unmapped.join(', ')}`);
  }
  return out;
}

export interface LoadFlowOptions {
  /** Storage of the DiT linear weights. */
  dtype?: 'f32' | 'f16';
  /** Estimator weights from another source (estimatorStoreFromOnnx); then `store` needs only the wrapper tensors. */
  estimator?: TensorStore;
}

/** Uploads every flow weight; unknown or missing names are a load-time error listing them. */
export function loadFlowWeights(ctx: GpuContext, cfg: FlowConfig, store: TensorStore, opts: LoadFlowOptions = {}): FlowWeights {
  const dtype = opts.dtype ?? 'f32';
  const r = new FlowTensorReader(store, opts.estimator);
  // Weights pass through one reused host buffer on their way to the GPU (lazy records are read straight into it).
  const staging = new Staging();
  const get = (name: string, dims: number[]) => r.f32(name, dims);
  const staged = (name: string, dims: number[]) => staging.stage(r.fill(name, dims), dims.reduce((a, b) => a * b, 1));
  const f32 = (name: string, dims: number[]) => ctx.upload(staged(name, dims), 'f32', dims, name);
  const lin = (w: Float32Array, b: Float32Array, N: number, K: number, label: string): Linear => ({
    w: dtype === 'f16' ? ctx.upload(toF16Bits(w), 'f16', [N, K], `${label}.weight`) : ctx.upload(w, 'f32', [N, K], `${label}.weight`),
    b: ctx.upload(b, 'f32', [N], `${label}.bias`),
  });
  const linear = (path: string, N: number, K: number) => lin(staged(`${path}.weight`, [N, K]), get(`${path}.bias`, [N]), N, K, path);
  const { dim: C, ffInner: F, inputSize: Cin, preLookaheadChannels: C1, preLookaheadLen: L } = cfg;
  const cpg = C / cfg.convGroups;
  const blocks: BlockWeights[] = [];
  for (let i = 0; i < cfg.depth; i++) {
    const p = `${EST}transformer_blocks.${i}.`;
    const qkv = fusedQkvFill(r, p, C);
    blocks.push({
      ada: linear(`${p}attn_norm.linear`, 6 * C, C),
      qkv: lin(staging.stage(qkv.w, 3 * C * C), qkv.b, 3 * C, C, `${p}attn.qkv`),
      out: linear(`${p}attn.to_out.0`, C, C),
      ff1: linear(`${p}ff.ff.0.0`, F, C),
      ff2: linear(`${p}ff.ff.2`, C, F),
    });
  }
  // conv-pos weights go to the kernel's [C, KS, CPG] layout (load-time transpose).
  const convW = (c: string) => {
    const n = `${EST}input_embed.conv_pos_embed.${c}.0`;
    const w = convPosWeightLayout(get(`${n}.weight`, [C, cpg, cfg.convKernel]), C, cpg, cfg.convKernel);
    return { w: ctx.upload(w, 'f32', [C, cfg.convKernel, cpg], `${n}.weight`), b: f32(`${n}.bias`, [C]) };
  };
  const inW = 2 * cfg.melDim + cfg.muDim + cfg.spkDim;
  const weights: FlowWeights = {
    emb: f32('input_embedding.weight', [cfg.vocabSize, Cin]),
    spk: { w: f32('spk_embed_affine_layer.weight', [cfg.spkDim, cfg.spkEmbedDim]), b: f32('spk_embed_affine_layer.bias', [cfg.spkDim]) },
    pre1: { w: f32('pre_lookahead_layer.conv1.weight', [C1, Cin, L + 1]), b: f32('pre_lookahead_layer.conv1.bias', [C1]) },
    pre2: { w: f32('pre_lookahead_layer.conv2.weight', [Cin, C1, 3]), b: f32('pre_lookahead_layer.conv2.bias', [Cin]) },
    time1: linear(`${EST}time_embed.time_mlp.0`, C, cfg.freqEmbedDim),
    time2: linear(`${EST}time_embed.time_mlp.2`, C, C),
    inProj: linear(`${EST}input_embed.proj`, C, inW),
    conv1: convW('conv1'),
    conv2: convW('conv2'),
    invFreq: get(`${EST}rotary_embed.inv_freq`, [cfg.rotDim / 2]),
    blocks,
    normOut: linear(`${EST}norm_out.linear`, 2 * C, C),
    projOut: linear(`${EST}proj_out`, cfg.outChannels, C),
    dtype,
  };
  r.finish();
  return weights;
}

/**
 * Host-side reading of flow tensors, shared by the GPU loader above and the CPU flow (src/models/cpu/): every record
 * as f32 (float16/bfloat16 widened) with a shape check; estimator names (`decoder.estimator.*`) come from
 * `estimator` when given. Missing names are collected and reported together by `finish`, which also reports names
 * that nothing asked for.
 */
export class FlowTensorReader {
  private readonly used = new Set<string>();
  private readonly missing: string[] = [];

  constructor(
    private readonly store: TensorStore,
    private readonly estimator?: TensorStore,
  ) {}

  /** The tensor `name` as f32 of shape `dims` (a zero array when missing: `finish` then reports it). */
  f32(name: string, dims: number[]): Float32Array {
    const rec = this.record(name, dims);
    return rec ? ownFloat32(rec) : new Float32Array(dims.reduce((a, b) => a * b, 1));
  }

  /** `f32` as a fill of a caller's array: a record read lazily from its file goes straight there (zeros when missing). */
  fill(name: string, dims: number[]): WeightFill {
    const rec = this.record(name, dims);
    return rec ? recordFill(rec) : (dst) => dst.fill(0);
  }

  private record(name: string, dims: number[]): TensorRecord | undefined {
    const src = this.estimator && name.startsWith(EST) ? this.estimator : this.store;
    const rec = src.get(name);
    this.used.add(name);
    if (!rec) {
      this.missing.push(`${name} [${dims}]`);
      return undefined;
    }
    if (rec.dims.length !== dims.length || rec.dims.some((d, i) => d !== dims[i])) {
      throw new FlowWeightError(`flow weight ${name}: shape [${rec.dims}], expected [${dims}]`);
    }
    return rec;
  }

  /** Throws when any requested tensor was missing, or when the stores hold tensors nothing asked for. */
  finish(): void {
    if (this.missing.length) throw new FlowWeightError(`flow weights missing: ${this.missing.join(', ')}`);
    const unexpected = [...this.store.keys(), ...(this.estimator?.keys() ?? [])].filter((k) => !this.used.has(k));
    if (unexpected.length) throw new FlowWeightError(`flow weights: unexpected tensors ${unexpected.join(', ')}`);
  }
}

/** The DiT's to_q | to_k | to_v as one [3C, C], written by a fill (FlowTensorReader.fill), and its [3C] bias. */
export function fusedQkvFill(r: FlowTensorReader, p: string, C: number): { w: WeightFill; b: Float32Array } {
  const names = ['to_q', 'to_k', 'to_v'];
  const parts = names.map((n) => r.fill(`${p}attn.${n}.weight`, [C, C]));
  const b = new Float32Array(3 * C);
  names.forEach((n, j) => b.set(r.f32(`${p}attn.${n}.bias`, [C]), j * C));
  return { w: (dst) => parts.forEach((fill, j) => fill(dst.subarray(j * C * C, (j + 1) * C * C))), b };
}
