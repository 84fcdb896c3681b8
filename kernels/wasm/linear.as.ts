// AssemblyScript: the CPU fallback of the matrix family, y[M, N] = x[M, K] · W[N, K]ᵀ (+ bias[N]), f32 in,
// f64 accumulation (the WASM path also serves as a higher-precision reference). Pointers are byte offsets into
// this module's linear memory; the host (kernels/wasm-linear.ts) copies operands in and the result out.

export function linear(x: usize, w: usize, bias: usize, y: usize, M: i32, N: i32, K: i32): void {
  for (let m = 0; m < M; m++) {
    const xr = x + (<usize>m * <usize>K << 2);
    for (let n = 0; n < N; n++) {
      const wr = w + (<usize>n * <usize>K << 2);
      let acc: f64 = 0;
      for (let k = 0; k < K; k++) {
        acc += <f64>load<f32>(xr + (<usize>k << 2)) * <f64>load<f32>(wr + (<usize>k << 2));
      }
      if (bias != 0) acc += <f64>load<f32>(bias + (<usize>n << 2));
      store<f32>(y + ((<usize>m * <usize>N + <usize>n) << 2), <f32>acc);
    }
  }
}

/** Grows memory so that `bytes` fit; returns the byte offset of the free area (after static data). */
export function reserve(bytes: usize): usize {
  const base = (__heap_base + 15) & ~15;
  const need = <i32>((base + bytes + 0xffff) >>> 16) - memory.size();
  if (need > 0 && memory.grow(need) < 0) return 0;
  return base;
}
