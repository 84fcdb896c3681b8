/**
 * CosyVoice3LM weights for the CPU engine: every matrix resident in one CpuKernels (WebAssembly memory), the
 * norms and the speech embedding on the host as f32 (f16/bf16 records are widened on load; EmbeddingTable for the
 * text table).
 *
 * q/k/v are one matrix (rows q | k | v) and gate/up one with their rows interleaved, so that the GEMM's SwiGLU
 * epilogue pairs them on every thread: a decode step makes 4 matrix calls a layer instead of 7, each wide enough to
 * split over the threads. Full size, f32: 24 × 14.9 M + 6.1 M (head) values ≈ 1.46 GB of the 4 GiB a CpuKernels may
 * hold (q8: 0.41 GB, every matrix and the head as the WebGPU q8 path stores them); the 545 MB text table stays out
 * of it (only its gathered rows are used): on the host, or in its file when the store was read lazily.
 */
import { ownFloat32, recordFill, stackedRows, type TensorStore } from '../../../loader/index.js';
import { interleavedRows, type CpuKernels, type CpuMatrix, type CpuWeightDtype } from '../../../kernels/cpu-linear.js';
import type { LlmConfig } from '../qwen2/config.js';
import { EmbeddingTable } from '../qwen2/embedding.js';
import { checkLlmStore, concatRows } from '../qwen2/weights.js';

export interface CpuLlmLayer {
  inputNorm: Float32Array;
  postNorm: Float32Array;
  /** [(Hq + 2·Hkv)·D, H]: q_proj | k_proj | v_proj rows, with their biases. */
  qkv: CpuMatrix;
  /** [H, Hq·D], no bias. */
  o: CpuMatrix;
  /** [2F, H]: gate_proj and up_proj rows interleaved (for the 'swiglu' epilogue); down [H, F]. */
  gateUp: CpuMatrix;
  down: CpuMatrix;
}

export interface CpuLlmWeights {
  layers: CpuLlmLayer[];
  norm: Float32Array;
  /** llm_decoder [S + 200, H] (no bias, spec §3.1). */
  head: CpuMatrix;
  /** [textVocab, H] embed_tokens rows. */
  textEmbedding: EmbeddingTable;
  /** [S + 200, H] speech_embedding rows (sos, task_id and speech tokens). */
  speechEmbedding: EmbeddingTable;
}

const P = 'llm.model.model.';

/** Checks names and shapes against the config (qwen2/weights.ts), then copies the matrices into `k` as `dtype`. */
export function loadCpuLlmWeights(k: CpuKernels, store: TensorStore, c: LlmConfig, dtype: CpuWeightDtype = 'f32'): CpuLlmWeights {
  checkLlmStore(store, c);
  const get = (name: string) => ownFloat32(store.get(name)!);
  // Matrices go from their records straight into `k` (no host copy when the store reads lazily from files).
  const fill = (name: string) => recordFill(store.get(name)!);
  const mat = (name: string, N: number, K: number, bias?: Float32Array) => k.matrix(fill(`${name}.weight`), N, K, bias, name, dtype);
  const rows = (...names: string[]) => concatRows(names.map(get));
  const part = (name: string, rows: number) => ({ values: rows * c.hidden, fill: fill(name) });
  const H = c.hidden, qd = c.heads * c.headDim, kd = c.kvHeads * c.headDim, F = c.intermediate;
  const layers: CpuLlmLayer[] = [];
  for (let l = 0; l < c.layers; l++) {
    const p = `${P}layers.${l}.`;
    const a = `${p}self_attn.`;
    layers.push({
      inputNorm: get(`${p}input_layernorm.weight`),
      postNorm: get(`${p}post_attention_layernorm.weight`),
      qkv: k.matrix(stackedRows([part(`${a}q_proj.weight`, qd), part(`${a}k_proj.weight`, kd), part(`${a}v_proj.weight`, kd)]), qd + 2 * kd, H, rows(`${a}q_proj.bias`, `${a}k_proj.bias`, `${a}v_proj.bias`), `${a}qkv`, dtype),
      o: mat(`${a}o_proj`, H, qd),
      gateUp: k.matrix(interleavedRows(fill(`${p}mlp.gate_proj.weight`), fill(`${p}mlp.up_proj.weight`), F, H), 2 * F, H, undefined, `${p}mlp.gate_up`, dtype),
      down: mat(`${p}mlp.down_proj`, H, F),
    });
  }
  return {
    layers,
    norm: get(`${P}norm.weight`),
    head: mat('llm_decoder', c.speechVocab, H),
    textEmbedding: EmbeddingTable.of(store.get(`${P}embed_tokens.weight`)!),
    speechEmbedding: EmbeddingTable.inMemory(get('speech_embedding.weight'), c.speechVocab, H),
  };
}
