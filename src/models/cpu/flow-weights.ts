/**
 * Host-side reading of flow.pt tensors for the CPU flow: every record as f32 (float16/bfloat16 widened) with a
 * shape check, missing names collected and reported together, and names nothing asked for reported at the end.
 */
import { toFloat32 } from '../../../loader/dtype.js';
import type { TensorStore } from '../../../loader/types.js';
import { FlowWeightError } from '../flow/errors.js';

export class FlowTensorReader {
  private readonly used = new Set<string>();
  private readonly missing: string[] = [];

  constructor(private readonly store: TensorStore) {}

  /** The tensor `name` as f32 of shape `dims` (a zero array when missing: `finish` then reports it). */
  f32(name: string, dims: number[]): Float32Array {
    this.used.add(name);
    const rec = this.store.get(name);
    if (!rec) {
      this.missing.push(`${name} [${dims}]`);
      return new Float32Array(dims.reduce((a, b) => a * b, 1));
    }
    if (rec.dims.length !== dims.length || rec.dims.some((d, i) => d !== dims[i])) {
      throw new FlowWeightError(`flow weight ${name}: shape [${rec.dims}], expected [${dims}]`);
    }
    return toFloat32(rec);
  }

  /** Throws when any requested tensor was missing, or when the store holds tensors nothing asked for. */
  finish(): void {
    if (this.missing.length) throw new FlowWeightError(`flow weights missing: ${this.missing.join(', ')}`);
    const extra = [...this.store.keys()].filter((k) => !this.used.has(k));
    if (extra.length) throw new FlowWeightError(`flow weights: unexpected tensors ${extra.join(', ')}`);
  }
}
