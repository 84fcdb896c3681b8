/**
 * CosyVoice3LM weights: the one place that maps llm.pt state_dict names (kept verbatim) to runtime tensors.
 *
 * Load-time transforms:
 * - q/k/v projections fused into one [(Hq + 2·Hkv)·D, d] weight (+ one bias) — one GEMV per layer instead of 3;
 * - gate/up fused into one [2F, d] weight for the SwiGLU form of kernels/matmul.ts;
 * - matrices stored as f32, f16 (packed halves) or q8 (int8, per-group scales), per `dtype`;
 * - the two input embeddings stay on the host as f32 (the text table is 545 MB at full size, above the 128 MiB
 *   storage-binding limit of some adapters; rows are gathered on the CPU — only a prefill needs them).
 * `llm.model.lm_head.weight` is tied to embed_tokens and never used by CosyVoice (spec §3.1): accepted, ignored.
 */
import { ownFloat32 } from '../../../loader/dtype.js';
import { recordFill, stackedRows, Staging } from '../../../loader/fill.js';
import type { TensorStore } from '../../../loader/types.js';
import { packWeightF16, quantizeWeight, roundToF16 } from '../../../kernels/quant.js';
import type { GpuContext } from '../../gpu/context.js';
import type { GpuTensor } from '../../gpu/tensor.js';
import type { LlmConfig } from './config.js';
import { EmbeddingTable } from './embedding.js';

export type LlmWeightDtype = 'f32' | 'f16' | 'q8';

export class LlmWeightError extends Error {
  override name = 'LlmWeightError';
}

/** A matrix in whatever storage `linear` takes. */
export interface LinearWeight {
  w: GpuTensor;
  scales?: GpuTensor;
  /** Relative L2 error of the stored matrix against the f32 one (0 for f32). */
  relErr: number;
}

export interface LayerWeights {
  inputNorm: GpuTensor;
  postNorm: GpuTensor;
  qkv: LinearWeight;
  qkvBias: GpuTensor;
  o: LinearWeight;
  gateUp: LinearWeight;
  down: LinearWeight;
}

export interface LlmWeights {
  dtype: LlmWeightDtype;
  layers: LayerWeights[];
  norm: GpuTensor;
  head: LinearWeight;
  /** [textVocab, d] rows of embed_tokens, on the host (or left in their file: EmbeddingTable). */
  textEmbedding: EmbeddingTable;
  /** [S + 200, d] host rows of speech_embedding (sos, task_id and speech tokens). */
  speechEmbedding: Float32Array;
}

const P = 'llm.model.model.';
const layerKeys = [
  'self_attn.q_proj.weight', 'self_attn.q_proj.bias', 'self_attn.k_proj.weight', 'self_attn.k_proj.bias',
  'self_attn.v_proj.weight', 'self_attn.v_proj.bias', 'self_attn.o_proj.weight', 'mlp.gate_proj.weight',
  'mlp.up_proj.weight', 'mlp.down_proj.weight', 'input_layernorm.weight', 'post_attention_layernorm.weight',
];

/** Every state_dict key CosyVoice3LM has, with its shape, for a config. */
export function expectedLlmKeys(c: LlmConfig): Map<string, number[]> {
  const d = c.hidden, qd = c.heads * c.headDim, kd = c.kvHeads * c.headDim, f = c.intermediate;
  const shapes: Record<string, number[]> = {
    'self_attn.q_proj.weight': [qd, d], 'self_attn.q_proj.bias': [qd], 'self_attn.k_proj.weight': [kd, d],
    'self_attn.k_proj.bias': [kd], 'self_attn.v_proj.weight': [kd, d], 'self_attn.v_proj.bias': [kd],
    'self_attn.o_proj.weight': [d, qd], 'mlp.gate_proj.weight': [f, d], 'mlp.up_proj.weight': [f, d],
    'mlp.down_proj.weight': [d, f], 'input_layernorm.weight': [d], 'post_attention_layernorm.weight': [d],
  };
  const m = new Map<string, number[]>();
  m.set(`${P}embed_tokens.weight`, [c.textVocab, d]);
  for (let l = 0; l < c.layers; l++) for (const k of layerKeys) m.set(`${P}layers.${l}.${k}`, shapes[k]);
  m.set(`${P}norm.weight`, [d]);
  m.set('llm_decoder.weight', [c.speechVocab, d]);
  m.set('speech_embedding.weight', [c.speechVocab, d]);
  return m;
}

const OPTIONAL = new Set(['llm.model.lm_head.weight']);

/** Checks names and shapes; throws one error listing every missing, unexpected or mis-shaped tensor. */
export function checkLlmStore(store: TensorStore, c: LlmConfig): void {
  const want = expectedLlmKeys(c);
  const missing = [...want.keys()].filter((k) => !store.has(k));
  const unexpected = [...store.keys()].filter((k) => !want.has(k) && !OPTIONAL.has(k));
  const badShape = [...want].filter(([k, s]) => store.has(k) && store.get(k)!.dims.join('x') !== s.join('x'))
    .map(([k, s]) => `${k}: [${store.get(k)!.dims}] (expected [${s}])`);
  if (missing.length || unexpected.length || badShape.length) {
    const parts = [];
    if (missing.length) parts.push(`missing: ${missing.slice(0, 20).join(', ')}${missing.length > 20 ? ` … (${missing.length})` : ''}`);
    if (unexpected.length) parts.push(`unexpected: ${unexpected.slice(0, 20).join(', ')}${unexpected.length > 20 ? ` … (${unexpected.length})` : ''}`);
    if (badShape.length) parts.push(`wrong shape: ${badShape.join('; ')}`);
    throw new LlmWeightError(`llm.pt does not match the config: ${parts.join(' | ')}`);
  }
}

/** The rows of each part, one after another (fused projections). */
export function concatRows(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function relErrOf(ref: Float32Array, got: ArrayLike<number>): number {
  let d = 0, r = 0;
  for (let i = 0; i < ref.length; i++) {
    d += (ref[i] - got[i]) ** 2;
    r += ref[i] ** 2;
  }
  return r > 0 ? Math.sqrt(d / r) : 0;
}

function matrix(ctx: GpuContext, data: Float32Array, shape: [number, number], dtype: LlmWeightDtype, label: string): LinearWeight {
  if (dtype === 'f32') return { w: ctx.upload(data, 'f32', shape, label), relErr: 0 };
  if (dtype === 'f16') {
    // The error is measured on a strided sample of ≤ 2^18 elements: the full f16 round trip in JS doubles the
    // load time of the full-size model (f16 rounding error is uniform over elements, so a sample is accurate).
    const stride = Math.max(1, Math.floor(data.length / 2 ** 18));
    const sample = stride === 1 ? data : Float32Array.from({ length: Math.floor(data.length / stride) }, (_, i) => data[i * stride]);
    return { w: packWeightF16(ctx, data, shape, label), relErr: relErrOf(sample, roundToF16(sample)) };
  }
  const q = quantizeWeight(ctx, data, shape, 'q8', 32, label);
  return { w: q.packed, scales: q.scales, relErr: q.relL2Err };
}

export function uploadLlmWeights(ctx: GpuContext, store: TensorStore, c: LlmConfig, dtype: LlmWeightDtype = 'f32'): LlmWeights {
  checkLlmStore(store, c);
  const get = (k: string) => ownFloat32(store.get(k)!);
  const d = c.hidden, f = c.intermediate;
  const nqkv = (c.heads + 2 * c.kvHeads) * c.headDim;
  // Matrices pass through one reused host buffer on their way to the GPU (lazy records are read straight into it).
  const staging = new Staging();
  const part = (name: string, rows: number) => ({ values: rows * d, fill: recordFill(store.get(name)!) });
  const stacked = (...parts: ReturnType<typeof part>[]) => staging.stage(stackedRows(parts), parts.reduce((a, q) => a + q.values, 0));
  const staged = (name: string) => {
    const t = store.get(name)!;
    return staging.stage(recordFill(t), t.dims.reduce((a, b) => a * b, 1));
  };
  const layers: LayerWeights[] = [];
  for (let l = 0; l < c.layers; l++) {
    const p = `${P}layers.${l}.`;
    const k = (s: string) => get(p + s);
    const qd = c.heads * c.headDim, kd = c.kvHeads * c.headDim;
    const qkvBias = concatRows([k('self_attn.q_proj.bias'), k('self_attn.k_proj.bias'), k('self_attn.v_proj.bias')]);
    layers.push({
      inputNorm: ctx.upload(k('input_layernorm.weight'), 'f32', [d], `layers.${l}.input_layernorm`),
      postNorm: ctx.upload(k('post_attention_layernorm.weight'), 'f32', [d], `layers.${l}.post_attention_layernorm`),
      qkv: matrix(ctx, stacked(part(`${p}self_attn.q_proj.weight`, qd), part(`${p}self_attn.k_proj.weight`, kd), part(`${p}self_attn.v_proj.weight`, kd)), [nqkv, d], dtype, `layers.${l}.qkv_proj`),
      qkvBias: ctx.upload(qkvBias, 'f32', [nqkv], `layers.${l}.qkv_bias`),
      o: matrix(ctx, staged(`${p}self_attn.o_proj.weight`), [d, qd], dtype, `layers.${l}.o_proj`),
      gateUp: matrix(ctx, stacked(part(`${p}mlp.gate_proj.weight`, f), part(`${p}mlp.up_proj.weight`, f)), [2 * f, d], dtype, `layers.${l}.gate_up_proj`),
      down: matrix(ctx, staged(`${p}mlp.down_proj.weight`), [d, f], dtype, `layers.${l}.down_proj`),
    });
  }
  return {
    dtype,
    layers,
    norm: ctx.upload(get(`${P}norm.weight`), 'f32', [d], 'norm'),
    head: matrix(ctx, staged('llm_decoder.weight'), [c.speechVocab, d], dtype, 'llm_decoder'),
    textEmbedding: EmbeddingTable.of(store.get(`${P}embed_tokens.weight`)!),
    speechEmbedding: get('speech_embedding.weight'),
  };
}

/** Worst relative L2 error of any stored matrix against f32 (0 for f32 weights). */
export function maxWeightRelErr(w: LlmWeights): number {
  let m = w.head.relErr;
  for (const l of w.layers) m = Math.max(m, l.qkv.relErr, l.o.relErr, l.gateUp.relErr, l.down.relErr);
  return m;
}
