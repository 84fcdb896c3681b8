/**
 * Lookups on a TensorStore with the errors model code wants: a missing tensor names the closest existing names, a
 * wrong shape or dtype names the file, tensor, expected and actual values. Browser-safe.
 */
import type { DType } from './dtype.js';
import { DTypeError, LoaderError, MissingTensorError } from './errors.js';
import type { TensorRecord, TensorStore } from './types.js';

/** A tensor whose dims disagree with what the model config implies. */
export class ShapeMismatchError extends LoaderError {
  constructor(message: string, info: { file?: string; tensor?: string } = {}) {
    super(message, info);
    this.name = 'ShapeMismatchError';
  }
}

/** Names in `store` sharing the longest dotted suffix with `name` (for "did you mean" hints). */
export function similarNames(store: TensorStore, name: string, max = 3): string[] {
  const parts = name.split('.');
  const score = (k: string) => {
    const q = k.split('.');
    let s = 0;
    while (s < parts.length && s < q.length && parts[parts.length - 1 - s] === q[q.length - 1 - s]) s++;
    return s;
  };
  return [...store.keys()]
    .map((k) => [k, score(k)] as const)
    .filter(([, s]) => s > 0)
    .sort((a, b) => b[1] - a[1])
    .slice(0, max)
    .map(([k]) => k);
}

export interface TensorExpectation {
  /** Expected dims; -1 matches any size in that position. */
  dims?: number[];
  dtype?: DType | DType[];
  file?: string;
}

export function getTensor(store: TensorStore, name: string, expect: TensorExpectation = {}): TensorRecord {
  const t = store.get(name);
  const info = { file: expect.file, tensor: name };
  if (!t) {
    const near = similarNames(store, name);
    throw new MissingTensorError(`tensor not found${near.length ? `; similar: ${near.join(', ')}` : ''} (${store.size} tensors in store)`, info);
  }
  if (expect.dims) {
    const ok = t.dims.length === expect.dims.length && t.dims.every((d, i) => expect.dims![i] === -1 || d === expect.dims![i]);
    if (!ok) throw new ShapeMismatchError(`shape [${t.dims.join(', ')}], expected [${expect.dims.join(', ')}]`, info);
  }
  if (expect.dtype) {
    const allowed = Array.isArray(expect.dtype) ? expect.dtype : [expect.dtype];
    if (!allowed.includes(t.dtype)) throw new DTypeError(`dtype ${t.dtype}, expected ${allowed.join(' or ')}`, info);
  }
  return t;
}

/** `t` under another name, lazy (file-backed) records staying lazy: a spread would read their bytes. */
export function renamedRecord(t: TensorRecord, name: string): TensorRecord {
  const r = Object.defineProperties({}, Object.getOwnPropertyDescriptors(t)) as TensorRecord;
  r.name = name;
  return r;
}

/** Names of `store` under `prefix` (e.g. 'decoder.estimator.'), with the prefix removed. */
export function withPrefix(store: TensorStore, prefix: string): TensorStore {
  const out: TensorStore = new Map();
  for (const [k, t] of store) if (k.startsWith(prefix)) out.set(k.slice(prefix.length), t);
  return out;
}

/** Throws MissingTensorError listing every expected name that is absent, and returns names nobody asked for. */
export function checkTensorNames(store: TensorStore, expected: Iterable<string>, file?: string): string[] {
  const want = new Set(expected);
  const missing = [...want].filter((n) => !store.has(n));
  if (missing.length) {
    const shown = missing.slice(0, 10).join(', ') + (missing.length > 10 ? ` and ${missing.length - 10} more` : '');
    throw new MissingTensorError(`${missing.length} tensors missing: ${shown}`, { file });
  }
  return [...store.keys()].filter((k) => !want.has(k));
}
