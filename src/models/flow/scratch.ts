/**
 * Every activation of the flow, preallocated for `maxFrames` frames (prompt + generated) and the CFG batch of 2.
 * Shapes in PyTorch order; rows are (b·T + t) with the live T from the dims uniform, so a shorter call uses a prefix.
 */
import type { GpuContext } from '../../gpu/context.js';
import type { GpuTensor } from '../../gpu/tensor.js';
import { createDims } from '../../../kernels/flow-dims.js';
import type { FlowConfig } from './config.js';

export interface FlowScratch {
  maxFrames: number;
  maxTokens: number;
  batch: number;
  /** Solver steps × batch: rows of the modulation tables. */
  modRows: number;
  dims: GPUBuffer;
  /** wrapper */
  tok: GpuTensor; // i32 [maxTokens]
  y1: GpuTensor; // [maxTokens, C1]
  embedding: GpuTensor; // [spk_embed_dim]
  spks: GpuTensor; // [spk]
  mu: GpuTensor; // [Cin, maxFrames]
  cond: GpuTensor; // [mel, maxFrames]
  x: GpuTensor; // [mel, maxFrames] the Euler state
  /** estimator-alone inputs (batched, [B, ·, T] live layouts) */
  xb: GpuTensor;
  condb: GpuTensor;
  mub: GpuTensor;
  spksb: GpuTensor;
  keymask: GpuTensor; // [B·maxFrames]
  /** DiT activations [B·maxFrames, ·] */
  inp: GpuTensor; // [M, 2·mel + mu + spk]
  h: GpuTensor; // input projection
  c1: GpuTensor; // first conv-pos output
  hs: GpuTensor; // residual stream
  n: GpuTensor; // normalised + modulated
  qkv: GpuTensor; // [M, 3C]
  att: GpuTensor; // [M, C]
  ff: GpuTensor; // [M, F]
  v: GpuTensor; // [M, out]
  out: GpuTensor; // [B, out, maxFrames]
  /** timestep → modulation tables */
  tsin: GpuTensor; // [R, freq]
  t1: GpuTensor; // [R, C]
  tsilu: GpuTensor; // [R, C]  SiLU(time embedding)
  mod: GpuTensor[]; // per block [R, 6C]
  modOut: GpuTensor; // [R, 2C]
  rope: GpuTensor; // [maxFrames, rot/2, 2]
  /** attention scores [B·H·maxFrames²] for the 3-pass CPU-adapter attention, absent when it does not fit */
  scores?: GpuTensor;
  /** taps */
  tapInp: GpuTensor;
  tapV: GpuTensor;
}

export function allocFlowScratch(ctx: GpuContext, cfg: FlowConfig, maxFrames: number, withScores = false): FlowScratch {
  const B = 2;
  const M = B * maxFrames;
  const R = cfg.nTimesteps * B;
  const C = cfg.dim;
  const inW = 2 * cfg.melDim + cfg.muDim + cfg.spkDim;
  const maxTokens = Math.ceil(maxFrames / cfg.tokenMelRatio) + cfg.preLookaheadLen;
  const t = (shape: number[], label: string) => ctx.tensor('f32', shape, `flow.${label}`);
  return {
    maxFrames,
    maxTokens,
    batch: B,
    modRows: R,
    dims: createDims(ctx),
    tok: ctx.tensor('i32', [maxTokens], 'flow.tok'),
    y1: t([maxTokens, cfg.preLookaheadChannels], 'y1'),
    embedding: t([cfg.spkEmbedDim], 'embedding'),
    spks: t([cfg.spkDim], 'spks'),
    mu: t([cfg.inputSize, maxFrames], 'mu'),
    cond: t([cfg.melDim, maxFrames], 'cond'),
    x: t([cfg.melDim, maxFrames], 'x'),
    xb: t([B, cfg.melDim, maxFrames], 'xb'),
    condb: t([B, cfg.melDim, maxFrames], 'condb'),
    mub: t([B, cfg.muDim, maxFrames], 'mub'),
    spksb: t([B, cfg.spkDim], 'spksb'),
    keymask: t([M], 'keymask'),
    inp: t([M, inW], 'inp'),
    h: t([M, C], 'h'),
    c1: t([M, C], 'c1'),
    hs: t([M, C], 'hs'),
    n: t([M, C], 'n'),
    qkv: t([M, 3 * C], 'qkv'),
    att: t([M, C], 'att'),
    ff: t([M, cfg.ffInner], 'ff'),
    v: t([M, cfg.outChannels], 'v'),
    out: t([B, cfg.outChannels, maxFrames], 'out'),
    tsin: t([R, cfg.freqEmbedDim], 'tsin'),
    t1: t([R, C], 't1'),
    tsilu: t([R, C], 'tsilu'),
    mod: Array.from({ length: cfg.depth }, (_, i) => t([R, 6 * C], `mod${i}`)),
    modOut: t([R, 2 * C], 'modOut'),
    rope: t([maxFrames, cfg.rotDim / 2, 2], 'rope'),
    // Rounded up to whole vec4s: the softmax pass views the scores as vec4s (shaders/dit_attn_gemm.wgsl).
    scores: withScores ? t([Math.ceil((B * cfg.heads * maxFrames * maxFrames) / 4) * 4], 'scores') : undefined,
    tapInp: t([M, inW], 'tapInp'),
    tapV: t([M, cfg.outChannels], 'tapV'),
  };
}
