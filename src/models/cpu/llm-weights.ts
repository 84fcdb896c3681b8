/**
 * CosyVoice3LM weights for the CPU engine: every matrix resident in one CpuKernels (WebAssembly memory), the
 * norms and both embedding tables on the host as f32 (f16/bf16 records are widened on load).
 *
 * q/k/v and gate/up stay separate matrices (the WebGPU path fuses them to save dispatches; here a call costs only
 * a copy of the input rows, and separate outputs need no split afterwards). Full size, f32: 24 × 14.9 M + 6.1 M
 * (head) values ≈ 1.46 GB of the 4 GiB a CpuKernels may hold (q8: 0.41 GB, every matrix and the head as the
 * WebGPU q8 path stores them); the 545 MB text table stays on the host, since only its gathered rows are used.
 */
import { toFloat32, type TensorStore } from '../../../loader/index.js';
import type { CpuKernels, CpuMatrix, CpuWeightDtype } from '../../../kernels/cpu-linear.js';
import type { LlmConfig } from '../qwen2/config.js';
import { checkLlmStore } from '../qwen2/weights.js';

export interface CpuLlmLayer {
  inputNorm: Float32Array;
  postNorm: Float32Array;
  /** [Hq·D, H], [Hkv·D, H], [Hkv·D, H], each with its bias. */
  q: CpuMatrix;
  k: CpuMatrix;
  v: CpuMatrix;
  /** [H, Hq·D], no bias. */
  o: CpuMatrix;
  /** [F, H] each; down [H, F]. */
  gate: CpuMatrix;
  up: CpuMatrix;
  down: CpuMatrix;
}

export interface CpuLlmWeights {
  layers: CpuLlmLayer[];
  norm: Float32Array;
  /** llm_decoder [S + 200, H] (no bias, spec §3.1). */
  head: CpuMatrix;
  /** [textVocab, H] embed_tokens rows. */
  textEmbedding: Float32Array;
  /** [S + 200, H] speech_embedding rows (sos, task_id and speech tokens). */
  speechEmbedding: Float32Array;
}

const P = 'llm.model.model.';

/** Checks names and shapes against the config (qwen2/weights.ts), then copies the matrices into `k` as `dtype`. */
export function loadCpuLlmWeights(k: CpuKernels, store: TensorStore, c: LlmConfig, dtype: CpuWeightDtype = 'f32'): CpuLlmWeights {
  checkLlmStore(store, c);
  const get = (name: string) => toFloat32(store.get(name)!);
  const mat = (name: string, N: number, K: number, bias?: Float32Array) => k.matrix(get(`${name}.weight`), N, K, bias, name, dtype);
  const H = c.hidden, qd = c.heads * c.headDim, kd = c.kvHeads * c.headDim, F = c.intermediate;
  const layers: CpuLlmLayer[] = [];
  for (let l = 0; l < c.layers; l++) {
    const p = `${P}layers.${l}.`;
    layers.push({
      inputNorm: get(`${p}input_layernorm.weight`),
      postNorm: get(`${p}post_attention_layernorm.weight`),
      q: mat(`${p}self_attn.q_proj`, qd, H, get(`${p}self_attn.q_proj.bias`)),
      k: mat(`${p}self_attn.k_proj`, kd, H, get(`${p}self_attn.k_proj.bias`)),
      v: mat(`${p}self_attn.v_proj`, kd, H, get(`${p}self_attn.v_proj.bias`)),
      o: mat(`${p}self_attn.o_proj`, H, qd),
      gate: mat(`${p}mlp.gate_proj`, F, H),
      up: mat(`${p}mlp.up_proj`, F, H),
      down: mat(`${p}mlp.down_proj`, H, F),
    });
  }
  return {
    layers,
    norm: get(`${P}norm.weight`),
    head: mat('llm_decoder', c.speechVocab, H),
    textEmbedding: get(`${P}embed_tokens.weight`),
    speechEmbedding: get('speech_embedding.weight'),
  };
}
