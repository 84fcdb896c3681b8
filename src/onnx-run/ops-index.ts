/**
 * Index operators of the CPU ONNX interpreter, the ones torch.onnx.export writes for in-place index assignment
 * (ScatterND, ScatterElements), boolean indexing (NonZero), torch.topk (TopK) and F.one_hot (OneHot). Negative
 * indices count from the end of their axis; an index outside it is an OnnxRunError naming the node.
 */
import { OnnxRunError, alloc, axisOf, numel, stridesOf, type Value } from './tensor.js';

type Reduce = (a: number, b: number) => number;
const REDUCTIONS: Record<string, Reduce | undefined> = {
  none: undefined, add: (a, b) => a + b, mul: (a, b) => a * b, max: (a, b) => (b > a ? b : a), min: (a, b) => (b < a ? b : a),
};

function reduction(name: string, what: string): Reduce | undefined {
  if (!(name in REDUCTIONS)) throw new OnnxRunError(`${what}: reduction ${name} (none, add, mul, max, min)`);
  return REDUCTIONS[name];
}

function inAxis(i: number, D: number, what: string): number {
  const k = i < 0 ? i + D : i;
  if (!(k >= 0 && k < D)) throw new OnnxRunError(`${what}: index ${i} outside an axis of ${D}`);
  return k;
}

/** ScatterND: a copy of data with the slices indices[…, :] (each the first k coordinates) set to updates (or reduced). */
export function scatterND(data: Value, indices: Value, updates: Value, reductionName: string, what: string): Value {
  const red = reduction(reductionName, what);
  const k = indices.dims[indices.dims.length - 1];
  if (!(k >= 1 && k <= data.dims.length)) throw new OnnxRunError(`${what}: ScatterND indices [${indices.dims}] for data [${data.dims}]`);
  const slice = numel(data.dims.slice(k)), count = indices.data.length / k;
  const want = [...indices.dims.slice(0, -1), ...data.dims.slice(k)];
  if (updates.data.length !== count * slice || updates.dims.length !== want.length) throw new OnnxRunError(`${what}: ScatterND updates [${updates.dims}], expected [${want}]`);
  const out = alloc(data.dtype, data.data.length);
  out.set(data.data);
  const st = stridesOf(data.dims);
  for (let j = 0; j < count; j++) {
    let off = 0;
    for (let d = 0; d < k; d++) off += inAxis(indices.data[j * k + d], data.dims[d], what) * st[d];
    for (let e = 0; e < slice; e++) out[off + e] = red ? red(out[off + e], updates.data[j * slice + e]) : updates.data[j * slice + e];
  }
  return { dtype: data.dtype, dims: [...data.dims], data: out };
}

/** ScatterElements: out[… indices[i] (on `axis`) …] = updates[i] (or reduced), everything else from data. */
export function scatterElements(data: Value, indices: Value, updates: Value, axis: number, reductionName: string, what: string): Value {
  const red = reduction(reductionName, what);
  const r = data.dims.length, a = axisOf(axis, r, what);
  if (indices.dims.length !== r || updates.data.length !== indices.data.length) throw new OnnxRunError(`${what}: ScatterElements indices [${indices.dims}], updates [${updates.dims}] for data [${data.dims}]`);
  const out = alloc(data.dtype, data.data.length);
  out.set(data.data);
  const ds = stridesOf(data.dims), is = stridesOf(indices.dims);
  for (let i = 0; i < indices.data.length; i++) {
    let off = 0, rem = i;
    for (let d = 0; d < r; d++) {
      const c = Math.floor(rem / is[d]);
      rem -= c * is[d];
      off += (d === a ? inAxis(indices.data[i], data.dims[a], what) : c) * ds[d];
    }
    out[off] = red ? red(out[off], updates.data[i]) : updates.data[i];
  }
  return { dtype: data.dtype, dims: [...data.dims], data: out };
}

/** NonZero: the coordinates of the non-zero elements, [rank, count] int64, in row-major order. */
export function nonZero(x: Value): Value {
  const r = x.dims.length, st = stridesOf(x.dims);
  const hits: number[] = [];
  x.data.forEach((v, i) => {
    if (v !== 0) hits.push(i);
  });
  const out = new Float64Array(Math.max(r, 1) * hits.length);
  hits.forEach((i, j) => {
    let rem = i;
    for (let d = 0; d < r; d++) {
      const c = Math.floor(rem / st[d]);
      rem -= c * st[d];
      out[d * hits.length + j] = c;
    }
  });
  return { dtype: 'int64', dims: [Math.max(r, 1), hits.length], data: r ? out : new Float64Array(hits.length) };
}

/**
 * TopK: the k largest (or smallest) values along `axis` and their indices (int64). Sorted, or not, either way
 * in order of value, equal values by lower index first (what ONNX Runtime gives).
 */
export function topK(x: Value, k: number, axis: number, largest: boolean, what: string): Value[] {
  const a = axisOf(axis, x.dims.length, what);
  const D = x.dims[a];
  if (!(Number.isInteger(k) && k >= 0 && k <= D)) throw new OnnxRunError(`${what}: TopK k ${k} for an axis of ${D}`);
  const outer = numel(x.dims.slice(0, a)), inner = numel(x.dims.slice(a + 1));
  const dims = x.dims.map((d, i) => (i === a ? k : d));
  const values = alloc(x.dtype, numel(dims)), idx = new Float64Array(numel(dims));
  const order = new Array<number>(D);
  for (let b = 0; b < outer; b++) {
    for (let j = 0; j < inner; j++) {
      const at = (t: number) => x.data[(b * D + t) * inner + j];
      for (let t = 0; t < D; t++) order[t] = t;
      order.sort((p, q) => (at(p) === at(q) ? p - q : largest ? at(q) - at(p) : at(p) - at(q)));
      for (let t = 0; t < k; t++) {
        const o = (b * k + t) * inner + j;
        values[o] = at(order[t]);
        idx[o] = order[t];
      }
    }
  }
  return [{ dtype: x.dtype, dims, data: values }, { dtype: 'int64', dims, data: idx }];
}

/** OneHot: a new axis of `depth` at `axis`, values[1] where the index points, values[0] elsewhere. */
export function oneHot(indices: Value, depth: number, values: Value, axis: number, what: string): Value {
  if (!(Number.isInteger(depth) && depth >= 1) || values.data.length !== 2) throw new OnnxRunError(`${what}: OneHot depth ${depth}, values [${values.dims}]`);
  const r = indices.dims.length + 1, a = axisOf(axis, r, what);
  const outer = numel(indices.dims.slice(0, a)), inner = numel(indices.dims.slice(a));
  const out = alloc(values.dtype, outer * depth * inner).fill(values.data[0]);
  for (let b = 0; b < outer; b++) {
    for (let j = 0; j < inner; j++) {
      let i = Math.trunc(indices.data[b * inner + j]);
      if (i < 0) i += depth;
      if (i >= 0 && i < depth) out[(b * depth + i) * inner + j] = values.data[1];
    }
  }
  return { dtype: values.dtype, dims: [...indices.dims.slice(0, a), depth, ...indices.dims.slice(a)], data: out };
}
