// Causal grouped Conv1d + Mish of the DiT conv position embedding, on [M, C] rows (time-major):
//
//   y[b, t, o] = mish(bias[o] + Σ_{i<CPG} Σ_{k<KS} w[o, i, k] · x[b, t − (KS−1) + k, g·CPG + i]) (+ res[b, t, o])
//
// g = o / CPG (groups of CPG channels), x rows before t = 0 of the same batch item are the zero left padding
// (KS−1 of them, as upstream's F.pad(x, (KS−1, 0))). w: the Conv1d weight [C, CPG, KS] f32. RESIDUAL adds res
// after the Mish (the second conv closes `conv_pos_embed(x) + x`). Mish = v·tanh(softplus(v)), softplus(v) = v
// for v > 20 as torch; the tanh argument is then ≥ 0 and clamped at 15 (tanh = 1 in f32).
//
// Workgroup: TB = 32 time rows × OCB output channels of one group (OCB = min(CPG, 64)); the input window
// [TB + KS − 1, CPG] is staged in shared memory (≤ 62·64 floats) so each weight read from global feeds TB/slots
// FMAs. Grid: (ceil(T/TB), C/OCB, B). Defines: CPG, KS, OCB (all from the weight shape).
#include "flow_dims"

struct Params {
  C: u32,
  _p0: u32,
  _p1: u32,
  _p2: u32,
}

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<uniform> p: Params;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read> w: array<f32>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;
#ifdef RESIDUAL
@group(0) @binding(6) var<storage, read> res: array<f32>;
#endif

const CPG: u32 = {{CPG}}u;
const KS: u32 = {{KS}}u;
const OCB: u32 = {{OCB}}u;
const TB: u32 = 32u;
const WIN: u32 = TB + KS - 1u;
const SLOTS: u32 = 256u / OCB; // time-row slots per output channel
var<workgroup> xin: array<f32, WIN * CPG>;

fn mish(v: f32) -> f32 {
  let sp = select(log(1.0 + exp(v)), v, v > 20.0);
  return v * tanh(min(sp, 15.0));
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let T = dims.T;
  let b = wid.z;
  let t0 = wid.x * TB;
  let o0 = wid.y * OCB;
  let g = o0 / CPG;
  // Stage x[b, t0 − (KS−1) .. t0 + TB − 1, g·CPG ..] with zeros before t = 0 and after T.
  for (var e = lid; e < WIN * CPG; e += 256u) {
    let r = e / CPG;
    let i = e % CPG;
    let t = i32(t0 + r) - i32(KS - 1u);
    var v = 0.0;
    if (t >= 0 && u32(t) < T) { v = x[(b * T + u32(t)) * p.C + g * CPG + i]; }
    xin[e] = v;
  }
  workgroupBarrier();
  let oc = lid % OCB;
  let slot = lid / OCB;
  let o = o0 + oc;
  const RPT: u32 = (TB + SLOTS - 1u) / SLOTS; // rows per thread
  var acc: array<f32, RPT>;
  for (var i = 0u; i < CPG; i++) {
    let wb = (o * CPG + i) * KS;
    for (var k = 0u; k < KS; k++) {
      let wv = w[wb + k];
      for (var rr = 0u; rr < RPT; rr++) {
        let r = slot + rr * SLOTS;
        if (r < TB) { acc[rr] = fma(wv, xin[(r + k) * CPG + i], acc[rr]); }
      }
    }
  }
  for (var rr = 0u; rr < RPT; rr++) {
    let r = slot + rr * SLOTS;
    let t = t0 + r;
    if (r < TB && t < T) {
      var v = mish(acc[rr] + bias[o]);
#ifdef RESIDUAL
      v += res[(b * T + t) * p.C + o];
#endif
      y[(b * T + t) * p.C + o] = v;
    }
  }
}
