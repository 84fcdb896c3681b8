/**
 * Tuning a model's plan: build the model with the context collecting its tunable decisions, run it once at the
 * lengths to tune for (so that its buffers hold a real call's data and its step / dims uniforms that call's
 * shape), then tune the decisions on those buffers (src/tune/tuner.ts). The model built here keeps its default
 * plan; models built after `useTuning(ctx, table)` take the table's choices.
 */
import type { GpuContext } from '../gpu/context.js';
import { TuningTable } from '../gpu/tuning.js';
import { atLength, type DynRecord } from '../../kernels/flow-dims.js';
import type { FlowModel } from '../models/flow/forward.js';
import type { HiftGenerator } from '../models/hift/forward.js';
import type { Qwen2Runtime } from '../models/qwen2/forward.js';
import type { ModelFiles } from '../pipeline/model-files.js';
import { PIPELINE_DEFAULTS, pipelineModelBuilders } from '../pipeline/webgpu.js';
import { collectTunePoints, tunePoints, type TuneOptions, type TuneReport } from './tuner.js';

/** Seeded values in [−scale, scale) (a 32-bit LCG: the data only has to be finite and varied). */
function values(n: number, seed: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = ((s / 2 ** 32) * 2 - 1) * scale;
  }
  return out;
}

export interface LlmTuneOptions extends TuneOptions {
  /** Prefill row counts to tune the prefill plan at (each tunes its power-of-two row bucket). */
  prefillRows: readonly number[];
  /** Context length at which the decode step is tuned (its attention's cost grows with it). */
  context: number;
}

/**
 * Tunes the LLM: `make` builds the runtime (its decode plan is planned in the constructor, so it must be built
 * here, while the context collects). Each prefill size runs on a fresh sequence; the decode step runs at
 * `context` positions.
 */
export async function tuneLlm(ctx: GpuContext, make: () => Qwen2Runtime, table: TuningTable, o: LlmTuneOptions): Promise<TuneReport[]> {
  const { value: rt, points: decodePoints } = await collectTunePoints(ctx, make);
  const d = rt.cfg.hidden;
  const reports: TuneReport[] = [];
  for (const M of o.prefillRows) {
    if (M < 5 || M > rt.scratch.maxRows || M > rt.maxContext) {
      o.log?.(`prefill ${M} rows: skipped (tunable plans have 5 … ${Math.min(rt.scratch.maxRows, rt.maxContext)} rows: maxPrefill, maxContext)`);
      continue;
    }
    const seq = rt.createSequence();
    try {
      const { points } = await collectTunePoints(ctx, () => rt.prefill(seq, values(M * d, M, 0.5)));
      reports.push(...(await tunePoints(ctx, points, table, o)));
    } finally {
      rt.free(seq);
    }
  }
  const C = Math.min(o.context, rt.maxContext);
  const seq = rt.createSequence();
  try {
    if (C > 1) await rt.prefill(seq, values((C - 1) * d, 7, 0.5));
    await rt.decode(seq, values(d, 8, 0.5));
    reports.push(...(await tunePoints(ctx, decodePoints, table, o)));
  } finally {
    rt.free(seq);
  }
  return reports;
}

export interface FlowTuneOptions extends TuneOptions {
  /** Frames of the estimator call to tune at (prompt + generated), CFG batch 2. */
  frames: number;
}

/** Tunes the flow's DiT estimator: `make` loads the model (it plans at load), then one call at `frames` frames. */
export async function tuneFlow(ctx: GpuContext, make: () => Promise<FlowModel>, table: TuningTable, o: FlowTuneOptions): Promise<TuneReport[]> {
  const { value: flow, points } = await collectTunePoints(ctx, make);
  const B = 2, T = o.frames, cfg = flow.cfg;
  await flow.estimator({
    x: values(B * cfg.melDim * T, 1), mu: values(B * cfg.muDim * T, 2), cond: values(B * cfg.melDim * T, 3), spks: values(B * cfg.spkDim, 4),
    mask: new Float32Array(B * T).fill(1), t: new Float32Array(B).fill(0.5), streaming: false,
  });
  // The DiT's records follow the live length: resolve each candidate's grid for this call's (T, B).
  const sized = points.map((p) => ({ ...p, build: (c: Parameters<typeof p.build>[0]) => atLength(p.build(c) as DynRecord[], T, B) }));
  return tunePoints(ctx, sized, table, o);
}

export interface HiftTuneOptions extends TuneOptions {
  /** Mel frames of the tuned call (finalized: the whole utterance at once). */
  frames: number;
}

/** Tunes HiFT: `make` builds the generator, then one finalized call at `frames` mel frames plans and runs. */
export async function tuneHift(ctx: GpuContext, make: () => HiftGenerator, table: TuningTable, o: HiftTuneOptions): Promise<TuneReport[]> {
  const hift = make();
  const mel = values(hift.cfg.inChannels * o.frames, 9);
  const { points } = await collectTunePoints(ctx, () => hift.inference(mel, o.frames, true));
  return tunePoints(ctx, points, table, o);
}

export interface ModelTuneOptions extends TuneOptions {
  /** Weight storage, as the pipeline will run it. */
  dtype: 'f32' | 'f16';
  kvDtype?: 'f32' | 'f16';
  /** Which models (default all three). */
  models?: readonly ('llm' | 'flow' | 'hift')[];
  /** LLM prefill row counts (default 64, 128, 256). */
  prefillRows?: readonly number[];
  /** LLM decode context (default 1024). */
  context?: number;
  /** DiT frames of the tuned estimator call, and HiFT's mel frames (default 600, at most maxFrames). */
  frames?: number;
  /** The pipeline's limits (default PIPELINE_DEFAULTS): the tuned shapes follow them. */
  maxContext?: number;
  maxFrames?: number;
}

/**
 * Tunes the models of a model folder for the WebGPU pipeline (createWebGpuPipeline) on `ctx`, building them as
 * the pipeline does (same limits, so the same shapes). The models built here are left on `ctx`: tune on a context
 * of its own and dispose it after (`cosyvoice-webgpu tune`, the Worker's `tune`).
 */
export async function tuneModelFiles(ctx: GpuContext, files: ModelFiles, o: ModelTuneOptions): Promise<{ table: TuningTable; reports: TuneReport[] }> {
  const table = TuningTable.forContext(ctx);
  const reports: TuneReport[] = [];
  const models = o.models ?? ['llm', 'flow', 'hift'];
  const maxFrames = o.maxFrames ?? PIPELINE_DEFAULTS.maxFrames;
  const frames = Math.min(o.frames ?? 600, maxFrames);
  const make = pipelineModelBuilders(ctx, files, { dtype: o.dtype, kvDtype: o.kvDtype, maxContext: o.maxContext, maxFrames });
  if (models.includes('llm')) reports.push(...(await tuneLlm(ctx, () => make.lm().rt, table, { ...o, prefillRows: o.prefillRows ?? [64, 128, 256], context: o.context ?? 1024 })));
  if (models.includes('flow')) reports.push(...(await tuneFlow(ctx, make.flow, table, { ...o, frames })));
  if (models.includes('hift')) reports.push(...(await tuneHift(ctx, make.hift, table, { ...o, frames })));
  return { table, reports };
}
