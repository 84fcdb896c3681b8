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
//
// SG (llvmpipe, subgroups of exactly 8 lanes; C and CPG multiples of 32): the 8 lanes of a subgroup own 32
// consecutive output channels of one group, so they read the same 8 input rows. Lane r loads row r's vec4 and
// subgroupBroadcast hands it to the others: 4 weight + 1 input loads per 32 vec4 dots instead of 4 + 8 (a
// storage load costs several FMAs there whatever its address, bench/adapter-probe.ts).
#ifdef SG
enable subgroups;
#endif
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

// acc + (x·w0, x·w1, x·w2, x·w3): one input vec4 against the 4 output channels' weights.
fn dot4(acc: vec4<f32>, xv: vec4<f32>, w0: vec4<f32>, w1: vec4<f32>, w2: vec4<f32>, w3: vec4<f32>) -> vec4<f32> {
  return acc + vec4<f32>(dot(xv, w0), dot(xv, w1), dot(xv, w2), dot(xv, w3));
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>
#ifdef SG
  , @builtin(subgroup_invocation_id) lane: u32
#endif
) {
  let T = dims.T;
  let b = gid.z;
  let o0 = gid.x * 4u;
  let t0 = gid.y * 8u;
#ifdef SG
  // Subgroup broadcasts need every lane in uniform control flow: a lane past C or T computes a clamped channel
  // quad / rows and skips the write instead of returning.
  let live = o0 < p.C && t0 < T;
  let oq = min(o0, p.C - 4u);
#else
  if (o0 >= p.C || t0 >= T) { return; }
  let live = true;
  let oq = o0;
#endif
  let C4 = p.C / 4u;
  let gcol = (oq / CPG) * CPG4;
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
    let wb = (oq * KS + k) * CPG4;
    for (var i = 0u; i < CPG4; i++) {
      let w0 = w[wb + i];
      let w1 = w[wb + KS * CPG4 + i];
      let w2 = w[wb + 2u * KS * CPG4 + i];
      let w3 = w[wb + 3u * KS * CPG4 + i];
#ifdef SG
      let xl = select(vec4<f32>(0.0), x[rows[lane] + i], ok[lane]);
      acc[0] = dot4(acc[0], subgroupBroadcast(xl, 0u), w0, w1, w2, w3);
      acc[1] = dot4(acc[1], subgroupBroadcast(xl, 1u), w0, w1, w2, w3);
      acc[2] = dot4(acc[2], subgroupBroadcast(xl, 2u), w0, w1, w2, w3);
      acc[3] = dot4(acc[3], subgroupBroadcast(xl, 3u), w0, w1, w2, w3);
      acc[4] = dot4(acc[4], subgroupBroadcast(xl, 4u), w0, w1, w2, w3);
      acc[5] = dot4(acc[5], subgroupBroadcast(xl, 5u), w0, w1, w2, w3);
      acc[6] = dot4(acc[6], subgroupBroadcast(xl, 6u), w0, w1, w2, w3);
      acc[7] = dot4(acc[7], subgroupBroadcast(xl, 7u), w0, w1, w2, w3);
#else
      for (var r = 0u; r < 8u; r++) {
        acc[r] = dot4(acc[r], select(vec4<f32>(0.0), x[rows[r] + i], ok[r]), w0, w1, w2, w3);
      }
#endif
    }
  }
  for (var r = 0u; r < 8u; r++) {
    let t = t0 + r;
    if (!live || t >= T) { break; }
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
