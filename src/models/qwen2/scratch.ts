/**
 * Every activation of the Qwen2 body, preallocated at load for `maxRows` rows (the prefill chunk; decode uses
 * row 0). Plans bind row-prefix views [M, …] of these buffers (offset 0, so no alignment issue), so a plan for
 * any M ≤ maxRows needs no allocation. Names double as forward taps.
 */
import type { GpuContext } from '../../gpu/context.js';
import type { GpuTensor } from '../../gpu/tensor.js';
import { topKWords } from '../../../kernels/sample.js';
import type { LlmConfig } from './config.js';

export interface LlmScratch {
  maxRows: number;
  /** [R, d] layer input / MLP output (ping) */
  x: GpuTensor;
  /** [R, d] attention block output (pong) */
  h: GpuTensor;
  /** [R, d] RMSNorm output feeding a projection */
  xn: GpuTensor;
  /** [R, (Hq + 2·Hkv)·D] fused projection output */
  qkv: GpuTensor;
  /** [R, Hq, D] rotated queries */
  q: GpuTensor;
  /** [R, Hq·D] attention output */
  attn: GpuTensor;
  /** [R, 2F] [gate | up] projections (only for the split SwiGLU form) */
  gu?: GpuTensor;
  /** [R, F] SwiGLU output */
  act: GpuTensor;
  /** [R, d] final RMSNorm output (CosyVoice's `hidden_states[-1]`) */
  hidden: GpuTensor;
  /** [R, S + 200] llm_decoder logits */
  logits: GpuTensor;
  /** [2k + 2] u32 top-k candidates + log-sum-exp + logit at S (kernels/sample.ts) */
  topk: GpuTensor;
  topkK: number;
}

export function allocLlmScratch(ctx: GpuContext, c: LlmConfig, maxRows: number, topkK: number, splitMlp: boolean): LlmScratch {
  const R = maxRows;
  const qd = c.heads * c.headDim;
  return {
    maxRows,
    x: ctx.tensor('f32', [R, c.hidden], 'x'),
    h: ctx.tensor('f32', [R, c.hidden], 'h'),
    xn: ctx.tensor('f32', [R, c.hidden], 'xn'),
    qkv: ctx.tensor('f32', [R, qd + 2 * c.kvHeads * c.headDim], 'qkv'),
    q: ctx.tensor('f32', [R, c.heads, c.headDim], 'q'),
    attn: ctx.tensor('f32', [R, qd], 'attn'),
    gu: splitMlp ? ctx.tensor('f32', [R, 2 * c.intermediate], 'gu') : undefined,
    act: ctx.tensor('f32', [R, c.intermediate], 'act'),
    hidden: ctx.tensor('f32', [R, c.hidden], 'hidden'),
    logits: ctx.tensor('f32', [R, c.speechVocab], 'logits'),
    topk: ctx.tensor('u32', [topKWords(topkK)], 'topk'),
    topkK,
  };
}
