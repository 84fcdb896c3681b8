/**
 * Resize of the CPU ONNX interpreter, as torch.onnx.export writes F.interpolate: modes nearest and linear (N-D, one
 * axis at a time: both are separable), output sizes from `sizes` or ⌊in·scale⌋, and the coordinate transformations
 * half_pixel, pytorch_half_pixel, align_corners and asymmetric with the four nearest_modes. Cubic, crop-and-resize,
 * antialias and the opset-18 axes / keep_aspect_ratio_policy are refused by name.
 */
import { OnnxRunError, UnsupportedOpError, alloc, numel, type Value } from './tensor.js';

type Transform = (xr: number, scale: number, lenIn: number, lenOut: number) => number;
const TRANSFORMS: Record<string, Transform> = {
  half_pixel: (xr, s) => (xr + 0.5) / s - 0.5,
  pytorch_half_pixel: (xr, s, _i, lo) => (lo > 1 ? (xr + 0.5) / s - 0.5 : 0),
  align_corners: (xr, _s, li, lo) => (lo === 1 ? 0 : (xr * (li - 1)) / (lo - 1)),
  asymmetric: (xr, s) => xr / s,
};

const NEAREST: Record<string, (x: number) => number> = {
  round_prefer_floor: (x) => (x - Math.floor(x) === 0.5 ? Math.floor(x) : Math.round(x)),
  round_prefer_ceil: (x) => (x - Math.floor(x) === 0.5 ? Math.ceil(x) : Math.round(x)),
  floor: Math.floor,
  ceil: Math.ceil,
};

export function resize(x: Value, scales: Value | undefined, sizes: Value | undefined, attrs: Record<string, unknown>, what: string): Value {
  const mode = String(attrs.mode ?? 'nearest');
  const ctm = String(attrs.coordinate_transformation_mode ?? 'half_pixel');
  const nearestMode = String(attrs.nearest_mode ?? 'round_prefer_floor');
  if (mode !== 'nearest' && mode !== 'linear') throw new UnsupportedOpError(`${what}: Resize mode ${mode} (nearest and linear run)`);
  if (!(ctm in TRANSFORMS)) throw new UnsupportedOpError(`${what}: Resize coordinate_transformation_mode ${ctm} (${Object.keys(TRANSFORMS).join(', ')} run)`);
  if (!(nearestMode in NEAREST)) throw new UnsupportedOpError(`${what}: Resize nearest_mode ${nearestMode}`);
  if (Number(attrs.antialias ?? 0) || attrs.axes !== undefined || (attrs.keep_aspect_ratio_policy ?? 'stretch') !== 'stretch') {
    throw new UnsupportedOpError(`${what}: Resize with antialias, axes or keep_aspect_ratio_policy`);
  }
  const r = x.dims.length;
  const useSizes = sizes !== undefined && sizes.data.length > 0;
  if (!useSizes && (!scales || scales.data.length !== r)) throw new OnnxRunError(`${what}: Resize needs ${r} scales or sizes, got scales [${scales?.dims ?? ''}] sizes [${sizes?.dims ?? ''}]`);
  if (useSizes && sizes.data.length !== r) throw new OnnxRunError(`${what}: Resize sizes [${Array.from(sizes.data)}] for a rank-${r} input`);
  const outDims = x.dims.map((d, i) => (useSizes ? sizes.data[i] : Math.floor(d * scales!.data[i])));
  const scaleOf = (i: number) => (useSizes ? outDims[i] / x.dims[i] : scales!.data[i]);
  let v = x;
  for (let a = 0; a < r; a++) {
    if (outDims[a] === x.dims[a] && scaleOf(a) === 1) continue;
    v = resizeAxis(v, a, outDims[a], scaleOf(a), TRANSFORMS[ctm], mode === 'linear' ? undefined : NEAREST[nearestMode]);
  }
  return v === x ? { ...x, dims: [...x.dims] } : v;
}

/** One axis to `lenOut`: linear (nearest undefined) between the two source samples around each mapped coordinate. */
function resizeAxis(x: Value, a: number, lenOut: number, scale: number, tf: Transform, nearest?: (x: number) => number): Value {
  const lenIn = x.dims[a], outer = numel(x.dims.slice(0, a)), inner = numel(x.dims.slice(a + 1));
  const dims = x.dims.map((d, i) => (i === a ? lenOut : d));
  const out = alloc(x.dtype, numel(dims));
  for (let j = 0; j < lenOut; j++) {
    const xo = tf(j, scale, lenIn, lenOut);
    let i0: number, i1: number, t: number;
    if (nearest) {
      i0 = i1 = Math.min(Math.max(nearest(xo), 0), lenIn - 1);
      t = 0;
    } else {
      const c = Math.min(Math.max(xo, 0), lenIn - 1);
      i0 = Math.floor(c);
      i1 = Math.min(i0 + 1, lenIn - 1);
      t = c - i0;
    }
    for (let b = 0; b < outer; b++) {
      const s0 = (b * lenIn + i0) * inner, s1 = (b * lenIn + i1) * inner, o = (b * lenOut + j) * inner;
      for (let k = 0; k < inner; k++) out[o + k] = t ? x.data[s0 + k] * (1 - t) + x.data[s1 + k] * t : x.data[s0 + k];
    }
  }
  return { dtype: x.dtype, dims, data: out };
}
