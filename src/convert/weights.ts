/**
 * Float32 view of one checkpoint's state_dict with the checks the converter needs: exact key sets (missing and
 * unexpected keys listed together), shapes against the yaml, and named load-time transforms (weight-norm fold).
 */
import type { WeightSource } from '../onnx/builder.js';
import { ShapeMismatchError, StateDictKeysError } from './errors.js';

export interface F32Tensor {
  dims: number[];
  data: Float32Array;
  /** Unrounded float64 values where a transform computed them (weight-norm fold; the f0 predictor runs in f64). */
  data64?: Float64Array;
}

export class Weights implements WeightSource {
  readonly t = new Map<string, F32Tensor>();

  constructor(readonly file: string, entries: Iterable<[string, F32Tensor]>) {
    for (const [k, v] of entries) this.t.set(k, v);
  }

  get(name: string): F32Tensor {
    const v = this.t.get(name);
    if (!v) throw new StateDictKeysError(this.file, [name], []);
    return v;
  }

  has(name: string): boolean {
    return this.t.has(name);
  }

  /** Asserts the shape; `-1` in `dims` accepts any size there. */
  expect(name: string, dims: number[]): F32Tensor {
    const v = this.get(name);
    if (v.dims.length !== dims.length || v.dims.some((d, i) => dims[i] !== -1 && dims[i] !== d)) {
      throw new ShapeMismatchError(this.file, name, v.dims, dims);
    }
    return v;
  }

  /** Throws StateDictKeysError unless the keys equal `expected` (`ignore` keys may be present or not). */
  checkKeys(expected: Iterable<string>, ignore: (k: string) => boolean = () => false): void {
    const exp = new Set(expected);
    const missing = [...exp].filter((k) => !this.t.has(k));
    const unexpected = [...this.t.keys()].filter((k) => !exp.has(k) && !ignore(k));
    if (missing.length || unexpected.length) throw new StateDictKeysError(this.file, missing, unexpected);
  }

  /** Removes a `prefix.` from every key that has it (hift.pt may carry `generator.`). */
  stripPrefix(prefix: string): void {
    const keys = [...this.t.keys()];
    if (!keys.length || !keys.every((k) => k.startsWith(prefix))) return;
    const copy = [...this.t.entries()];
    this.t.clear();
    for (const [k, v] of copy) this.t.set(k.slice(prefix.length), v);
  }

  /**
   * Weight norm: for every `X.parametrizations.weight.original0/1` (or legacy `X.weight_g/_v`) pair, adds the
   * folded `X.weight = v · (g / ‖v‖₂)` (norm over all dims but 0, computed in f64, no ε — as torch's
   * `_weight_norm`, which the f0 predictor runs in f64 and the rest in f32; the f64 fold rounds once at the end,
   * well inside f32 rounding of the f32 fold) and removes the pair. Returns the folded names.
   */
  foldWeightNorm(): string[] {
    const folded: string[] = [];
    for (const key of [...this.t.keys()]) {
      let base: string | undefined, gk: string | undefined, vk: string | undefined;
      if (key.endsWith('.parametrizations.weight.original0')) {
        base = key.slice(0, -'.parametrizations.weight.original0'.length);
        gk = key;
        vk = `${base}.parametrizations.weight.original1`;
      } else if (key.endsWith('.weight_g')) {
        base = key.slice(0, -'.weight_g'.length);
        gk = key;
        vk = `${base}.weight_v`;
      }
      if (!base || !gk || !vk) continue;
      const g = this.get(gk), v = this.get(vk);
      const rows = v.dims[0], cols = v.data.length / rows;
      if (g.data.length !== rows) throw new ShapeMismatchError(this.file, gk, g.dims, [rows, 1, 1]);
      const w64 = new Float64Array(v.data.length);
      for (let r = 0; r < rows; r++) {
        let s = 0;
        for (let c = 0; c < cols; c++) s += v.data[r * cols + c] ** 2;
        const k = g.data[r] / Math.sqrt(s);
        for (let c = 0; c < cols; c++) w64[r * cols + c] = v.data[r * cols + c] * k;
      }
      this.t.delete(gk);
      this.t.delete(vk);
      this.t.set(`${base}.weight`, { dims: v.dims, data: Float32Array.from(w64), data64: w64 });
      folded.push(`${base}.weight`);
    }
    return folded;
  }
}
