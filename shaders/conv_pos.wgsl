// Causal grouped Conv1d + Mish of the DiT conv position embedding, on [M, C] rows (time-major):
//
//   y[b, t, o] = mish(bias[o] + Σ_{k<KS} Σ_{i<CPG} w[o, k, i] · x[b, t − (KS−1) + k, g·CPG + i]) (+ res[b, t, o])
//
// g = o / CPG (groups of CPG channels); rows before t = 0 of the same batch item are the zero left padding (KS−1
// of them, as upstream's F.pad(x, (KS−1, 0))). w is the Conv1d weight transposed at load to [C, KS, CPG]
// (weights.ts) so the reduction runs as an implicit-im2col GEMM with vec4 loads along the input channels of both
// operands. RESIDUAL adds res after the Mish (the second conv closes `conv_pos_embed(x) + x`). Mish =
// v·tanh(softplus(v)), softplus(v) = v for v > 20 as torch; the tanh argument is ≥ 0 and clamped at 15.
//
// Each thread owns 8 time rows × 4 consecutive output channels (one group) in registers; no shared memory and no
// barriers (cheap on CPU adapters; on GPUs the x window is re-read from cache KS times). Grid: (ceil(C/256),
// ceil(T/8), B). Defines: CPG, KS. Needs CPG % 4 == 0.
#include "flow_dims"

struct Params {
  C: u32,
  _p0: u32,
  _p1: u32,
  _p2: u32,
}

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<uniform> p: Params;
@group(0) @binding(2) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> w: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;
#ifdef RESIDUAL
@group(0) @binding(6) var<storage, read> res: array<f32>;
#endif

const CPG: u32 = {{CPG}}u;
const KS: u32 = {{KS}}u;
const CPG4: u32 = CPG / 4u;

#include "activation"

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let T = dims.T;
  let b = gid.z;
  let o0 = gid.x * 4u;
  let t0 = gid.y * 8u;
  if (o0 >= p.C || t0 >= T) { return; }
  let C4 = p.C / 4u;
  let gcol = (o0 / CPG) * CPG4;
  var acc: array<vec4<f32>, 8>;
  for (var k = 0u; k < KS; k++) {
    // Input row of output row r at tap k: t0 + r − (KS−1) + k; negative = left padding, past T = unused tail.
    let base = i32(t0 + k) - i32(KS - 1u);
    var rows: array<u32, 8>;
    var ok: array<bool, 8>;
    for (var r = 0u; r < 8u; r++) {
      let tr = base + i32(r);
      ok[r] = tr >= 0;
      rows[r] = (b * T + u32(clamp(tr, 0, i32(T) - 1))) * C4 + gcol;
    }
    let wb = (o0 * KS + k) * CPG4;
    for (var i = 0u; i < CPG4; i++) {
      let w0 = w[wb + i];
      let w1 = w[wb + KS * CPG4 + i];
      let w2 = w[wb + 2u * KS * CPG4 + i];
      let w3 = w[wb + 3u * KS * CPG4 + i];
      for (var r = 0u; r < 8u; r++) {
        let xv = select(vec4<f32>(0.0), x[rows[r] + i], ok[r]);
        acc[r] += vec4<f32>(dot(xv, w0), dot(xv, w1), dot(xv, w2), dot(xv, w3));
      }
    }
  }
  for (var r = 0u; r < 8u; r++) {
    let t = t0 + r;
    if (t >= T) { break; }
    for (var j = 0u; j < 4u; j++) {
      let o = o0 + j;
      var v = act_mish(acc[r][j] + bias[o]);
#ifdef RESIDUAL
      v += res[(b * T + t) * p.C + o];
#endif
      y[(b * T + t) * p.C + o] = v;
    }
  }
}
