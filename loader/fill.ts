/**
 * Weights written in place: a fill writes a tensor's f32 values into a destination it is handed (a WebAssembly
 * memory, a reused upload buffer), so that a weight read lazily from its file (loader/node.ts `lazy`) crosses no
 * buffer of its own. On the CI VM every fresh host buffer costs ~3 s a GB in page faults, 30× the copy, and the
 * whole model would otherwise sit in host memory once more. Browser-safe.
 */
import { copyFloat32Into } from './dtype.js';
import { ShapeMismatchError } from './store.js';
import type { TensorRecord } from './types.js';

/** Writes a matrix's values into `dst` (exactly its length, row-major). */
export type WeightFill = (dst: Float32Array) => void;

/** The fill that copies `a`. */
export function fillFrom(a: Float32Array, name = 'matrix'): WeightFill {
  return (dst) => {
    if (a.length !== dst.length) throw new ShapeMismatchError(`${name}: ${a.length} values for ${dst.length}`);
    dst.set(a);
  };
}

/** The fill of a record's values (copyFloat32Into: a file-backed f32 record is read straight into dst). */
export function recordFill(t: TensorRecord): WeightFill {
  return (dst) => copyFloat32Into(t, dst);
}

/** Parts' rows one after another (q | k | v, gate | up): each part fills its `values` in place. */
export function stackedRows(parts: { values: number; fill: WeightFill }[]): WeightFill {
  return (dst) => {
    let o = 0;
    for (const p of parts) {
      p.fill(dst.subarray(o, o + p.values));
      o += p.values;
    }
    if (o !== dst.length) throw new ShapeMismatchError(`stackedRows: parts hold ${o} values, the matrix ${dst.length}`);
  };
}

/**
 * One host buffer reused for every weight of a load: `stage` fills the first n values and returns them, valid until
 * the next call. For uploads that copy at once (GPUQueue.writeBuffer takes a snapshot).
 */
export class Staging {
  private buf = new Float32Array(0);

  stage(fill: WeightFill, n: number): Float32Array {
    if (this.buf.length < n) this.buf = new Float32Array(n);
    const v = this.buf.subarray(0, n);
    fill(v);
    return v;
  }
}
