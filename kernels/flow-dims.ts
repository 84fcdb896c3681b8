/**
 * Shared plumbing of the flow/DiT kernels: the per-call Dims uniform (shaders/flow_dims.wgsl), records whose grid
 * follows the live length, and deduplicated static parameter uniforms (a whole 10-step solve plans ~1600 records;
 * most share their parameter block).
 */
import type { GpuContext } from '../src/gpu/context.js';
import type { DispatchRecord } from '../src/gpu/dispatch.js';

export interface FlowDimsValues {
  /** Frames of the current sequence. */
  T: number;
  /** Batch rows (2 for the CFG pair). */
  B: number;
  /** Static attention chunk in frames; 0 = full attention. */
  chunk: number;
  /**
   * The DiT prefix cache's row ranges (src/models/flow/prefix-cache.ts); all default to a whole-sequence call.
   * q0: absolute frame of live row 0 (rotary position, x/cond/mu columns); full: frames of the whole sequence, the
   * row stride of [C, full] tensors (default T); lead: rows before the ones kept (window rows, or cached frames);
   * keep: frames the call stores into the cache ([q0, keep)).
   */
  q0?: number;
  full?: number;
  lead?: number;
  keep?: number;
}

function dimsWords(v: FlowDimsValues): Uint32Array {
  return new Uint32Array([v.T, v.B, v.B * v.T, v.chunk, v.q0 ?? 0, v.full ?? v.T, v.lead ?? 0, v.keep ?? 0]);
}

/** A 32-byte uniform { T, B, M = B·T, chunk, q0, full, lead, keep } every flow kernel binds at binding 0. */
export function createDims(ctx: GpuContext, v: FlowDimsValues = { T: 1, B: 1, chunk: 0 }): GPUBuffer {
  return ctx.uniform(dimsWords(v), 'flow-dims');
}

export function writeDims(ctx: GpuContext, buf: GPUBuffer, v: FlowDimsValues): void {
  ctx.write(buf, 0, dimsWords(v));
}

/**
 * A record planned for the maximum length; `grid` gives the workgroups for the live (T, B). `keys` (default T) is
 * the attention's key count where its queries are fewer (the flow prefix cache's rows lead on): only a grid over
 * keys (the 3-pass scores) reads it.
 */
export interface DynRecord extends DispatchRecord {
  grid(T: number, B: number, keys?: number): readonly [number, number, number];
}

/** The records with their grids for (T, B[, keys]): plain objects, no GPU object is created. */
export function atLength(records: readonly DynRecord[], T: number, B: number, keys = T): DispatchRecord[] {
  return records.map((r) => ({ label: r.label, variant: r.variant, pipeline: r.pipeline, bindGroup: r.bindGroup, workgroups: r.grid(T, B, keys) }));
}

export function dyn(rec: DispatchRecord, grid: DynRecord['grid']): DynRecord {
  return { ...rec, grid };
}

const cache = new WeakMap<GpuContext, Map<string, GPUBuffer>>();

/** A uniform with these exact 32-bit words, shared with every earlier request for the same words. */
export function sharedUniform(ctx: GpuContext, words: Uint32Array, label = 'flow-params'): GPUBuffer {
  let m = cache.get(ctx);
  if (!m) cache.set(ctx, (m = new Map()));
  // Param structs are up to 8 words; a binding must cover the whole struct, so pad to 32 bytes.
  if (words.length < 8) {
    const w = new Uint32Array(8);
    w.set(words);
    words = w;
  }
  const key = Array.from(words).join(',');
  let buf = m.get(key);
  if (!buf) {
    buf = ctx.uniform(words, label);
    m.set(key, buf);
  }
  return buf;
}

/** Splits a 1-D workgroup count over x/y (kernels recover the index as x + 65535·y). */
export function flatGrid(count: number): [number, number, number] {
  const n = Math.max(1, count);
  if (n <= 65535) return [n, 1, 1];
  return [65535, Math.ceil(n / 65535), 1];
}
