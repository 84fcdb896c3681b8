/**
 * A dispatch record is what every kernel wrapper returns: a pipeline, its bind group and a grid. A model step is
 * a flat list of records built once at load (over preallocated scratch), then encoded every step into one pass
 * and one submit. Records hold no per-step state: per-step values live in uniform buffers the model rewrites.
 */
export interface DispatchRecord {
  /** Variant name plus the caller's tag, e.g. `layer3.attn/matmul_gemv_TILE4` — profiles group by it. */
  label: string;
  /**
   * The compiled pipeline. Absent only on a record (or a copy of one) made inside GpuContext.compileBatch before
   * the batch settled: encoders take `GpuContext.pipelineOf(r)`, which then finds it through `variant`.
   */
  pipeline: GPUComputePipeline;
  /** The pipeline cache key (shader, entry, defines). */
  variant?: string;
  bindGroup: GPUBindGroup;
  workgroups: readonly [number, number, number];
}

/** Splits a 1-D workgroup count over x/y when it passes the per-dimension limit (65535 by default). */
export function grid1d(count: number, maxPerDim = 65535): [number, number, number] {
  if (count <= maxPerDim) return [Math.max(1, count), 1, 1];
  const y = Math.ceil(count / maxPerDim);
  return [Math.ceil(count / y), y, 1];
}

export function ceilDiv(a: number, b: number): number {
  return Math.floor((a + b - 1) / b);
}

/**
 * Packs kernel parameters into a Uint32Array for a uniform buffer. Floats are stored by bit pattern so one
 * struct can mix u32/i32/f32 fields; pad to 16 bytes as uniform structs require.
 */
export function packParams(fields: (number | { f32: number } | { i32: number })[]): Uint32Array {
  const n = Math.max(4, Math.ceil(fields.length / 4) * 4);
  const out = new Uint32Array(n);
  const f = new Float32Array(out.buffer);
  const i = new Int32Array(out.buffer);
  fields.forEach((v, k) => {
    if (typeof v === 'number') out[k] = v >>> 0;
    else if ('f32' in v) f[k] = v.f32;
    else i[k] = v.i32;
  });
  return out;
}
