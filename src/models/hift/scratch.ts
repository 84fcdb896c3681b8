/**
 * HiFT activations, preallocated once for a maximum number of mel frames. Stage buffers are shared by all
 * upsampling stages (sized for the largest C·L) and viewed with per-stage shapes at plan time.
 */
import type { GpuContext } from '../../gpu/context.js';
import { GpuTensor } from '../../gpu/tensor.js';
import type { HiftConfig } from './config.js';

export interface HiftScratch {
  maxFrames: number;
  /** [Cin_mel, maxFrames] trunk/F0 mel (row stride = the call's frame count) */
  mel: GpuTensor;
  /** [maxFrames, H+1] per-frame source table */
  frames: GpuTensor;
  /** [spf·maxFrames] harmonic source */
  source: GpuTensor;
  /** [N+2, spf/hop·maxFrames + 1] source STFT */
  spec: GpuTensor;
  /** stage buffers: up output, ResBlock temps, source downsample, source ResBlock output, mean ping-pong */
  x: GpuTensor;
  a: GpuTensor;
  b: GpuTensor;
  /** Snake₁(x) of the current ResBlock iteration */
  sx: GpuTensor;
  d: GpuTensor;
  si: GpuTensor;
  xs: [GpuTensor, GpuTensor];
  /** [N+2, L_last] conv_post output */
  y: GpuTensor;
  /** [spf·maxFrames] waveform */
  wave: GpuTensor;
}

/** Elements of the largest stage activation: max over conv_pre and the stages of C·(L+1). */
export function stageElements(cfg: HiftConfig, frames: number): number {
  let best = cfg.baseChannels * frames;
  let len = frames;
  cfg.upsampleRates.forEach((u, i) => {
    len = len * u + (i === cfg.upsampleRates.length - 1 ? 1 : 0);
    best = Math.max(best, (cfg.baseChannels >> (i + 1)) * (len + 1));
  });
  return best;
}

export function allocHiftScratch(ctx: GpuContext, cfg: HiftConfig, maxFrames: number): HiftScratch {
  const spf = cfg.samplesPerFrame;
  const framesPerMel = spf / cfg.hop;
  const n = stageElements(cfg, maxFrames);
  const stage = (label: string) => ctx.tensor('f32', [n], `hift.${label}`);
  const lastLen = framesPerMel * maxFrames + 1;
  return {
    maxFrames,
    mel: ctx.tensor('f32', [cfg.inChannels * maxFrames], 'hift.mel'),
    frames: ctx.tensor('f32', [maxFrames * (cfg.harmonics + 1)], 'hift.frames'),
    source: ctx.tensor('f32', [spf * maxFrames], 'hift.source'),
    spec: ctx.tensor('f32', [(cfg.nFft + 2) * (framesPerMel * maxFrames + 1)], 'hift.spec'),
    x: stage('x'),
    a: stage('a'),
    b: stage('b'),
    sx: stage('sx'),
    d: stage('d'),
    si: stage('si'),
    xs: [stage('xs0'), stage('xs1')],
    y: ctx.tensor('f32', [(cfg.nFft + 2) * lastLen], 'hift.y'),
    wave: ctx.tensor('f32', [spf * maxFrames], 'hift.wave'),
  };
}

/** A [rows, cols] view over the start of a scratch buffer. */
export function view(t: GpuTensor, shape: readonly number[]): GpuTensor {
  return new GpuTensor(t.buffer, 'f32', shape, 0, undefined, t.label);
}
