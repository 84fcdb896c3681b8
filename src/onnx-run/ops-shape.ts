/**
 * Shape and data-movement operators of the CPU ONNX interpreter: Shape, Reshape, Flatten, Squeeze, Unsqueeze,
 * Transpose, Concat, Split, Slice, Gather, GatherElements, Expand, Tile, Range, ConstantOfShape, Pad, Trilu, CumSum.
 * Exported graphs compute their dynamic shapes with these (Shape → Gather → Unsqueeze → Concat → Reshape), so each
 * follows the ONNX spec's edge cases: negative axes and indices, 0 and −1 in Reshape, clamped Slice bounds with
 * negative steps.
 */
import {
  OnnxRunError, alloc, axisOf, broadcastDims, broadcastStrides, nextOffset, numel, stridesOf, value, type Value, type ValueType,
} from './tensor.js';

export function shapeOf(x: Value, a: Record<string, unknown>): Value {
  const r = x.dims.length;
  let start = Number(a.start ?? 0), end = a.end === undefined ? r : Number(a.end);
  if (start < 0) start += r;
  if (end < 0) end += r;
  start = Math.max(0, Math.min(r, start));
  end = Math.max(start, Math.min(r, end));
  const dims = x.dims.slice(start, end);
  return value('int64', [dims.length], Float64Array.from(dims));
}

export function reshape(x: Value, shape: readonly number[], allowzero: boolean, what: string): Value {
  const dims = shape.map((d, i) => (d === 0 && !allowzero ? x.dims[i] : d));
  const minus = dims.indexOf(-1);
  const known = dims.reduce((p, d) => (d === -1 ? p : p * d), 1);
  if (minus >= 0) {
    if (dims.indexOf(-1, minus + 1) >= 0) throw new OnnxRunError(`${what}: Reshape to [${shape}] has two −1`);
    if (known === 0 || x.data.length % known) throw new OnnxRunError(`${what}: cannot reshape [${x.dims}] to [${shape}]`);
    dims[minus] = x.data.length / known;
  }
  if (numel(dims) !== x.data.length || dims.some((d) => d === undefined || d < 0)) throw new OnnxRunError(`${what}: cannot reshape [${x.dims}] to [${shape}]`);
  return { dtype: x.dtype, dims, data: x.data };
}

export function flatten(x: Value, axis: number, what: string): Value {
  const a = axis < 0 ? axis + x.dims.length : axis;
  if (a < 0 || a > x.dims.length) throw new OnnxRunError(`${what}: Flatten axis ${axis} of rank ${x.dims.length}`);
  return { dtype: x.dtype, dims: [numel(x.dims.slice(0, a)), numel(x.dims.slice(a))], data: x.data };
}

export function squeeze(x: Value, axes: readonly number[] | undefined, what: string): Value {
  const r = x.dims.length;
  const drop = new Set(axes ? axes.map((a) => axisOf(a, r, what)) : x.dims.flatMap((d, i) => (d === 1 ? [i] : [])));
  for (const a of drop) if (x.dims[a] !== 1) throw new OnnxRunError(`${what}: Squeeze of axis ${a} with size ${x.dims[a]}`);
  return { dtype: x.dtype, dims: x.dims.filter((_, i) => !drop.has(i)), data: x.data };
}

export function unsqueeze(x: Value, axes: readonly number[], what: string): Value {
  const r = x.dims.length + axes.length;
  const at = new Set(axes.map((a) => axisOf(a, r, what)));
  if (at.size !== axes.length) throw new OnnxRunError(`${what}: Unsqueeze axes [${axes}] repeat`);
  const dims: number[] = [];
  let k = 0;
  for (let i = 0; i < r; i++) dims.push(at.has(i) ? 1 : x.dims[k++]);
  return { dtype: x.dtype, dims, data: x.data };
}

export function transpose(x: Value, perm: readonly number[] | undefined): Value {
  const r = x.dims.length;
  const p = perm ?? Array.from({ length: r }, (_, i) => r - 1 - i);
  const dims = p.map((i) => x.dims[i]);
  const src = stridesOf(x.dims);
  const st = p.map((i) => src[i]);
  const out = alloc(x.dtype, x.data.length);
  if (r >= 2 && p[r - 1] === r - 1 && dims[r - 1] > 1) {
    // The last axis stays: copy whole rows of it ([1, T, H, D] → [1, H, T, D] moves runs of D).
    const D = dims[r - 1], rows = x.data.length / D;
    const idx = new Array<number>(r - 1).fill(0);
    let off = 0;
    for (let i = 0; i < rows; i++) {
      out.set(x.data.subarray(off, off + D), i * D);
      off = nextOffset(idx, off, dims, st, r - 2);
    }
    return { dtype: x.dtype, dims, data: out };
  }
  return strided(x, dims, st);
}

/**
 * x read in the row-major order of `dims`, element idx at x[start + Σ idx_d·st_d]: a transpose (permuted strides),
 * a broadcast (stride 0 on broadcast dims), a slice (stepped strides from its first element).
 */
function strided(x: Value, dims: readonly number[], st: readonly number[], start = 0): Value {
  const r = dims.length;
  const out = alloc(x.dtype, numel(dims));
  const idx = new Array<number>(r).fill(0);
  let off = start;
  for (let i = 0; i < out.length; i++) {
    out[i] = x.data[off];
    off = nextOffset(idx, off, dims, st, r - 1);
  }
  return { dtype: x.dtype, dims: [...dims], data: out };
}

export function concat(xs: readonly Value[], axis: number, what: string): Value {
  const r = xs[0].dims.length;
  const a = axisOf(axis, r, what);
  for (const x of xs) {
    if (x.dims.length !== r || x.dims.some((d, i) => i !== a && d !== xs[0].dims[i])) {
      throw new OnnxRunError(`${what}: Concat on axis ${axis} of ${xs.map((v) => `[${v.dims}]`).join(', ')}`);
    }
  }
  const dims = [...xs[0].dims];
  dims[a] = xs.reduce((s, x) => s + x.dims[a], 0);
  const outer = numel(dims.slice(0, a)), inner = numel(dims.slice(a + 1));
  const out = alloc(xs[0].dtype, numel(dims));
  let o = 0;
  for (let b = 0; b < outer; b++) {
    for (const x of xs) {
      const n = x.dims[a] * inner;
      out.set(x.data.subarray(b * n, (b + 1) * n), o);
      o += n;
    }
  }
  return { dtype: xs[0].dtype, dims, data: out };
}

/** Copies a block [outer, len·inner] starting at `start` along the axis. */
function takeAlong(x: Value, a: number, start: number, len: number): Value {
  const dims = [...x.dims];
  dims[a] = len;
  const outer = numel(x.dims.slice(0, a)), inner = numel(x.dims.slice(a + 1));
  const out = alloc(x.dtype, numel(dims));
  for (let b = 0; b < outer; b++) {
    const from = (b * x.dims[a] + start) * inner;
    out.set(x.data.subarray(from, from + len * inner), b * len * inner);
  }
  return { dtype: x.dtype, dims, data: out };
}

export function split(x: Value, axis: number, sizes: readonly number[] | undefined, outputs: number, numOutputs: number | undefined, what: string): Value[] {
  const a = axisOf(axis, x.dims.length, what);
  const L = x.dims[a];
  let s = sizes ? [...sizes] : undefined;
  if (!s) {
    const n = numOutputs ?? outputs;
    const each = Math.ceil(L / n);
    s = Array.from({ length: n }, (_, i) => Math.max(0, Math.min(each, L - i * each)));
  }
  if (s.reduce((p, q) => p + q, 0) !== L) throw new OnnxRunError(`${what}: Split sizes [${s}] do not sum to ${L}`);
  let at = 0;
  return s.map((n) => {
    const v = takeAlong(x, a, at, n);
    at += n;
    return v;
  });
}

export function slice(x: Value, starts: readonly number[], ends: readonly number[], axes: readonly number[] | undefined, steps: readonly number[] | undefined, what: string): Value {
  const r = x.dims.length;
  const st = new Array<number>(r).fill(0), step = new Array<number>(r).fill(1), cnt = [...x.dims];
  const ax = axes ?? starts.map((_, i) => i);
  ax.forEach((axis, i) => {
    const a = axisOf(axis, r, what);
    const D = x.dims[a];
    const k = steps?.[i] ?? 1;
    if (k === 0) throw new OnnxRunError(`${what}: Slice step 0`);
    let s = starts[i], e = ends[i];
    if (s < 0) s += D;
    if (e < 0) e += D;
    if (k > 0) {
      s = Math.max(0, Math.min(D, s));
      e = Math.max(0, Math.min(D, e));
      cnt[a] = Math.max(0, Math.ceil((e - s) / k));
    } else {
      s = Math.max(-1, Math.min(D - 1, s));
      e = Math.max(-1, Math.min(D - 1, e));
      cnt[a] = Math.max(0, Math.ceil((s - e) / -k));
    }
    st[a] = s;
    step[a] = k;
  });
  const src = stridesOf(x.dims);
  return strided(x, cnt, src.map((s, d) => s * step[d]), st.reduce((p, s, d) => p + s * src[d], 0));
}

export function gather(x: Value, indices: Value, axis: number, what: string): Value {
  const a = axisOf(axis, x.dims.length, what);
  const D = x.dims[a];
  const outer = numel(x.dims.slice(0, a)), inner = numel(x.dims.slice(a + 1));
  const dims = [...x.dims.slice(0, a), ...indices.dims, ...x.dims.slice(a + 1)];
  const n = indices.data.length;
  const out = alloc(x.dtype, numel(dims));
  for (let b = 0; b < outer; b++) {
    for (let j = 0; j < n; j++) {
      let i = indices.data[j];
      if (i < 0) i += D;
      if (!(i >= 0 && i < D)) throw new OnnxRunError(`${what}: Gather index ${indices.data[j]} outside [${-D}, ${D})`);
      const from = (b * D + i) * inner;
      out.set(x.data.subarray(from, from + inner), (b * n + j) * inner);
    }
  }
  return { dtype: x.dtype, dims, data: out };
}

export function gatherElements(x: Value, indices: Value, axis: number, what: string): Value {
  const r = x.dims.length;
  const a = axisOf(axis, r, what);
  const xs = stridesOf(x.dims), is = stridesOf(indices.dims);
  const out = alloc(x.dtype, indices.data.length);
  for (let i = 0; i < out.length; i++) {
    let off = 0, rem = i;
    for (let d = 0; d < r; d++) {
      const c = Math.floor(rem / is[d]);
      rem -= c * is[d];
      let k = d === a ? indices.data[i] : c;
      if (d === a && k < 0) k += x.dims[a];
      if (d === a && !(k >= 0 && k < x.dims[a])) throw new OnnxRunError(`${what}: GatherElements index ${indices.data[i]} outside axis of ${x.dims[a]}`);
      off += k * xs[d];
    }
    out[i] = x.data[off];
  }
  return { dtype: x.dtype, dims: [...indices.dims], data: out };
}

export function expand(x: Value, shape: readonly number[], what: string): Value {
  const dims = broadcastDims([x.dims, shape], what);
  return materialise(x, dims);
}

/** x read with broadcasting as `dims`. */
export function materialise(x: Value, dims: readonly number[]): Value {
  return strided(x, dims, broadcastStrides(x.dims, dims));
}

export function tile(x: Value, repeats: readonly number[], what: string): Value {
  if (repeats.length !== x.dims.length) throw new OnnxRunError(`${what}: Tile repeats [${repeats}] for rank ${x.dims.length}`);
  const dims = x.dims.map((d, i) => d * repeats[i]);
  const st = stridesOf(x.dims);
  const out = alloc(x.dtype, numel(dims));
  const os = stridesOf(dims);
  for (let i = 0; i < out.length; i++) {
    let off = 0, rem = i;
    for (let d = 0; d < dims.length; d++) {
      const c = Math.floor(rem / os[d]);
      rem -= c * os[d];
      off += (c % x.dims[d]) * st[d];
    }
    out[i] = x.data[off];
  }
  return { dtype: x.dtype, dims, data: out };
}

export function range(start: Value, limit: Value, delta: Value, what: string): Value {
  const s = start.data[0], l = limit.data[0], d = delta.data[0];
  if (d === 0) throw new OnnxRunError(`${what}: Range delta 0`);
  const n = Math.max(0, Math.ceil((l - s) / d));
  const out = alloc(start.dtype, n);
  for (let i = 0; i < n; i++) out[i] = s + i * d;
  return { dtype: start.dtype, dims: [n], data: out };
}

export function constantOfShape(shape: readonly number[], fill: Value | undefined): Value {
  const dtype: ValueType = fill?.dtype ?? 'float32';
  const out = alloc(dtype, numel(shape));
  if (fill) out.fill(fill.data[0]);
  return { dtype, dims: [...shape], data: out };
}

/** Pad (opset ≥ 11 form: pads as [begin…, end…] over `axes`); modes constant, reflect, edge. Negative pads crop. */
export function pad(x: Value, pads: readonly number[], mode: string, cval: number, axes: readonly number[] | undefined, what: string): Value {
  const r = x.dims.length;
  const ax = (axes ?? Array.from({ length: r }, (_, i) => i)).map((a) => axisOf(a, r, what));
  if (pads.length !== 2 * ax.length) throw new OnnxRunError(`${what}: Pad with ${pads.length} pads for ${ax.length} axes`);
  const begin = new Array<number>(r).fill(0), end = new Array<number>(r).fill(0);
  ax.forEach((a, i) => {
    begin[a] = pads[i];
    end[a] = pads[i + ax.length];
  });
  const dims = x.dims.map((d, i) => d + begin[i] + end[i]);
  if (dims.some((d) => d < 0)) throw new OnnxRunError(`${what}: Pad of [${x.dims}] by [${pads}]`);
  if (mode === 'reflect' && x.dims.some((d, i) => (begin[i] > 0 || end[i] > 0) && (begin[i] >= d || end[i] >= d))) {
    throw new OnnxRunError(`${what}: reflect Pad [${pads}] is not smaller than [${x.dims}]`);
  }
  if (mode !== 'constant' && mode !== 'reflect' && mode !== 'edge') throw new OnnxRunError(`${what}: Pad mode ${mode} is not supported`);
  // Row by row (the last axis): the source row of each output row, then its pad values and one copy of the rest.
  const out = alloc(x.dtype, numel(dims));
  const L = r ? x.dims[r - 1] : 1, Lo = r ? dims[r - 1] : 1, b0 = r ? begin[r - 1] : 0;
  const rows = numel(dims.slice(0, -1)), st = stridesOf(x.dims), rs = stridesOf(dims.slice(0, -1));
  /** The source index of output index c along an axis of D values padded by b before (−1: constant padding). */
  const source = (c: number, b: number, D: number): number => {
    const k = c - b;
    if (k >= 0 && k < D) return k;
    if (mode === 'constant') return -1;
    return mode === 'edge' ? (k < 0 ? 0 : D - 1) : k < 0 ? -k : 2 * (D - 1) - k;
  };
  const lo = Math.min(Math.max(b0, 0), Lo), hi = Math.max(lo, Math.min(b0 + L, Lo)); // output columns copied as a run
  for (let row = 0; row < rows; row++) {
    let off = 0, inside = true;
    for (let d = 0, rem = row; d < r - 1; d++) {
      const c = Math.floor(rem / rs[d]);
      rem -= c * rs[d];
      const k = source(c, begin[d], x.dims[d]);
      if (k < 0) inside = false;
      off += k * st[d];
    }
    const o = row * Lo;
    if (!inside) {
      out.fill(cval, o, o + Lo);
      continue;
    }
    for (let j = 0; j < lo; j++) {
      const k = source(j, b0, L);
      out[o + j] = k < 0 ? cval : x.data[off + k];
    }
    if (hi > lo) out.set(x.data.subarray(off + lo - b0, off + hi - b0), o + lo);
    for (let j = hi; j < Lo; j++) {
      const k = source(j, b0, L);
      out[o + j] = k < 0 ? cval : x.data[off + k];
    }
  }
  return { dtype: x.dtype, dims, data: out };
}

export function trilu(x: Value, k: number, upper: boolean): Value {
  const r = x.dims.length;
  const R = x.dims[r - 2], C = x.dims[r - 1];
  const out = alloc(x.dtype, x.data.length);
  out.set(x.data);
  for (let b = 0; b < x.data.length / (R * C); b++) {
    for (let i = 0; i < R; i++) {
      for (let j = 0; j < C; j++) {
        const keep = upper ? j - i >= k : j - i <= k;
        if (!keep) out[b * R * C + i * C + j] = 0;
      }
    }
  }
  return { dtype: x.dtype, dims: [...x.dims], data: out };
}

export function cumsum(x: Value, axis: number, exclusive: boolean, reverse: boolean, what: string): Value {
  const a = axisOf(axis, x.dims.length, what);
  const D = x.dims[a];
  const outer = numel(x.dims.slice(0, a)), inner = numel(x.dims.slice(a + 1));
  const out = alloc(x.dtype, x.data.length);
  for (let b = 0; b < outer; b++) {
    for (let j = 0; j < inner; j++) {
      let s = 0;
      for (let t = 0; t < D; t++) {
        const i = reverse ? D - 1 - t : t;
        const at = (b * D + i) * inner + j;
        if (exclusive) {
          out[at] = s;
          s += x.data[at];
        } else {
          s += x.data[at];
          out[at] = s;
        }
      }
    }
  }
  return { dtype: x.dtype, dims: [...x.dims], data: out };
}
