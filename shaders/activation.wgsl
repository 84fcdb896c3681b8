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
// (ln(1 + e^20) − 20 ≈ 2e−9, below f32 resolution at 20).

fn act_tanh(v: f32) -> f32 {
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

fn act_softplus(v: f32) -> f32 {
  if (v > 20.0) { return v; }
  // log(1 + e^v) loses everything below 1e−7 for very negative v; e^v itself is the better value there.
  if (v < -15.0) { return exp(v); }
  return log(1.0 + exp(v));
}

fn act_mish(v: f32) -> f32 {
  return v * act_tanh(act_softplus(v));
}

fn act_leaky_relu(v: f32, alpha: f32) -> f32 {
  return select(alpha * v, v, v >= 0.0);
}
