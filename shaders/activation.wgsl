// Activation functions shared by fused epilogues (matmul) and elementwise kernels. Include-only: no bindings,
// no entry points. All math in f32.
//
//   silu(v)        = v · σ(v) = v / (1 + e^(−v))
//   gelu_tanh(v)   = ½·v·(1 + tanh(√(2/π)·(v + 0.044715·v³)))        (PyTorch approximate='tanh')
//   mish(v)        = v · tanh(softplus(v)),  softplus(v) = ln(1 + e^v)
//   leaky_relu(v)  = v ≥ 0 ? v : α·v
//
// Numerics: some WGSL backends compute tanh as (e^2x − 1)/(e^2x + 1), which is inf/inf = NaN for |x| ≳ 44, so
// tanh arguments are clamped to ±15 (tanh(15) rounds to 1 in f32). softplus switches to the identity above 20
// (ln(1 + e^20) − 20 ≈ 2e−9, below f32 resolution at 20) and uses an accurate log1p below (mish(−9) would
// otherwise lose 3 digits to the rounding of 1 + e^−9, or to an absolute-error log).

fn act_tanh(v: f32) -> f32 {
  // The exp-based form also cancels catastrophically near 0 (lavapipe: 1 % off at 1e−5, which mish(−11)
  // needs); the Taylor series to v⁷ is within 2e−9 relative for |v| < 1/8.
  if (abs(v) < 0.125) {
    let v2 = v * v;
    return v * (1.0 + v2 * (-1.0 / 3.0 + v2 * (2.0 / 15.0 + v2 * (-17.0 / 315.0))));
  }
  return tanh(clamp(v, -15.0, 15.0));
}

fn act_silu(v: f32) -> f32 {
  // e^(−v) overflows to +inf for v < −88; v / inf = −0, the correct limit.
  return v / (1.0 + exp(-v));
}

fn act_gelu_tanh(v: f32) -> f32 {
  let c = 0.7978845608028654; // √(2/π)
  return 0.5 * v * (1.0 + act_tanh(c * (v + 0.044715 * v * v * v)));
}

// log(1 + u) for u ≥ 0, accurate to a few ulp relative also for small u (WGSL has no log1p). Below u = 1 it
// sums the series of 2·atanh(z), z = u / (2 + u) ≤ 1/3, instead of calling log: WGSL only bounds log's error
// absolutely (2^−21) on [0.5, 2], and NVIDIA's log does use that freedom (mish(−9) came out 0.1 % off, where
// log(1 + 1.2e−4) needs a relative bound). Nine odd terms reach z¹⁷/17 < 1e−10 relative at z = 1/3.
fn act_log1p(u: f32) -> f32 {
  if (u >= 1.0) { return log(1.0 + u); }
  let z = u / (2.0 + u);
  let z2 = z * z;
  var s = 1.0 / 17.0;
  s = 1.0 / 15.0 + z2 * s;
  s = 1.0 / 13.0 + z2 * s;
  s = 1.0 / 11.0 + z2 * s;
  s = 1.0 / 9.0 + z2 * s;
  s = 1.0 / 7.0 + z2 * s;
  s = 1.0 / 5.0 + z2 * s;
  s = 1.0 / 3.0 + z2 * s;
  return 2.0 * z * (1.0 + z2 * s);
}

fn act_softplus(v: f32) -> f32 {
  if (v > 20.0) { return v; }
  return act_log1p(exp(v));
}

fn act_mish(v: f32) -> f32 {
  return v * act_tanh(act_softplus(v));
}

fn act_leaky_relu(v: f32, alpha: f32) -> f32 {
  return select(alpha * v, v, v >= 0.0);
}
