// AssemblyScript: the HiFT F0 predictor's float64 layers (CausalConvRNNF0Predictor runs in float64 upstream;
// WGSL has no f64). All operands are f64 in this module's linear memory (byte offsets); the host
// (src/models/hift/f0-wasm.ts) keeps the folded weights resident and copies the mel in / f0 out.
//
//   conv:  out[co, t] = bias[co] + Σ_ci Σ_j w[co, ci, j] · x[ci, t + j − padLeft]   (zero outside [0, lin)),
//          t < lout, then ELU(α=1) in place when `elu` is set. The t loop runs two lanes at a time (f64x2).
//   head:  f0[t] = |b + Σ_c cls[c] · h[c, t]|

export function conv(x: usize, cin: i32, lin: i32, w: usize, bias: usize, cout: i32, k: i32, padLeft: i32, lout: i32, out: usize, elu: i32): void {
  for (let co = 0; co < cout; co++) {
    const o = out + (<usize>co * <usize>lout << 3);
    const b = load<f64>(bias + (<usize>co << 3));
    for (let t = 0; t < lout; t++) store<f64>(o + (<usize>t << 3), b);
    for (let ci = 0; ci < cin; ci++) {
      const xr = x + (<usize>ci * <usize>lin << 3);
      const wr = w + ((<usize>co * <usize>cin + <usize>ci) * <usize>k << 3);
      for (let j = 0; j < k; j++) {
        const wv = load<f64>(wr + (<usize>j << 3));
        const shift = j - padLeft;
        const t0 = max(0, -shift);
        const t1 = min(lout, lin - shift);
        const wv2 = f64x2.splat(wv);
        let t = t0;
        for (; t + 2 <= t1; t += 2) {
          const po = o + (<usize>t << 3);
          const px = xr + (<usize>(t + shift) << 3);
          v128.store(po, f64x2.add(v128.load(po), f64x2.mul(wv2, v128.load(px))));
        }
        for (; t < t1; t++) {
          const po = o + (<usize>t << 3);
          store<f64>(po, load<f64>(po) + wv * load<f64>(xr + (<usize>(t + shift) << 3)));
        }
      }
    }
    if (elu) {
      for (let t = 0; t < lout; t++) {
        const p = o + (<usize>t << 3);
        const v = load<f64>(p);
        if (v <= 0) store<f64>(p, Math.expm1(v));
      }
    }
  }
}

export function head(h: usize, c: i32, lout: i32, cls: usize, b: f64, out: usize): void {
  for (let t = 0; t < lout; t++) {
    let acc: f64 = 0;
    for (let ch = 0; ch < c; ch++) acc += load<f64>(cls + (<usize>ch << 3)) * load<f64>(h + ((<usize>ch * <usize>lout + <usize>t) << 3));
    store<f64>(out + (<usize>t << 3), Math.abs(acc + b));
  }
}

/** Grows memory so that `bytes` fit after static data; returns the 16-aligned byte offset of the free area. */
export function reserve(bytes: usize): usize {
  const base = (__heap_base + 15) & ~15;
  const need = <i32>((base + bytes + 0xffff) >>> 16) - memory.size();
  if (need > 0 && memory.grow(need) < 0) return 0;
  return base;
}
