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
// otherwise lose 3 digits to the rounding of 1 + e^−9).

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

// log(1 + u) accurate for small u (WGSL has no log1p): the rounding of 1 + u is cancelled by dividing by the
// u that 1 + u really represents (Goldberg's trick).
fn act_log1p(u: f32) -> f32 {
  let w = 1.0 + u;
  if (w == 1.0) { return u; }
  return log(w) * u / (w - 1.0);
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
