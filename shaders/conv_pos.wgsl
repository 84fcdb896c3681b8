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
// Entry `tiled` (TILED; GPUs): the conv of one batch item and one group is a GEMM y[t, o] = Σ_r X[t, r]·W[o, r]
// over r = k·CPG + i (KS·CPG long; W's [C, KS, CPG] rows are contiguous in r), X[t, r] = x[t − (KS−1) + k,
// g·CPG + i] read in place (implicit im2col). A workgroup owns BT = 64 time rows × BN output channels of one group
// (BN = 64, 32 or 16 dividing CPG) and advances r 16 at a time (one tap, 16 input channels): the x and W tiles
// are staged k-major in workgroup memory (rows padded by 4 floats against bank conflicts), each of the 4·BN
// threads owns 4 time rows × 4 channels, 256 FMAs between two barriers. The register form above re-reads each
// x row from cache for all KS taps and every output quad: 6.2 TFLOP/s on an H200 ([2,600,1024] k31, both convs
// 1583 µs, ORT 1503). Grid (C/BN, ceil(T/64), B). Needs CPG % 16 == 0.
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

// Output row t, channels o..o+3 of batch item b: bias, Mish, then the residual. The accumulators arrive by value
// so that every caller indexes its accumulator array with constants only: an epilogue loop over a dynamically
// indexed array (16 or 32 inlined Mish calls, which compilers may not unroll) would put the array in local memory
// for the whole kernel.
fn store_quad(b: u32, t: u32, o: u32, a: vec4<f32>) {
  if (t >= dims.T) { return; }
  let row = (b * dims.T + t) * p.C;
  for (var j = 0u; j < 4u; j++) {
    var v = act_mish(a[j] + bias[o + j]);
#ifdef RESIDUAL
    v += res[row + o + j];
#endif
    y[row + o + j] = v;
  }
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
  if (live) {
    store_quad(b, t0, o0, acc[0]);
    store_quad(b, t0 + 1u, o0, acc[1]);
    store_quad(b, t0 + 2u, o0, acc[2]);
    store_quad(b, t0 + 3u, o0, acc[3]);
    store_quad(b, t0 + 4u, o0, acc[4]);
    store_quad(b, t0 + 5u, o0, acc[5]);
    store_quad(b, t0 + 6u, o0, acc[6]);
    store_quad(b, t0 + 7u, o0, acc[7]);
  }
}

#ifdef TILED
const BT: u32 = 64u;
const BN: u32 = {{BN}}u;
const RK: u32 = 16u;       // reductions a step: one tap, 16 input channels
const XP: u32 = BT + 4u;   // padded row of the x tile
const WP: u32 = BN + 4u;   // padded row of the W tile
const TW: u32 = 4u * BN;   // threads: (BT/4) × (BN/4)
var<workgroup> xs: array<f32, RK * XP>; // [kk][t]
var<workgroup> ws: array<f32, RK * WP>; // [kk][o]

@compute @workgroup_size(TW)
fn tiled(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let T = dims.T;
  let b = wid.z;
  let o0 = wid.x * BN;           // inside one group: BN divides CPG
  let t0 = wid.y * BT;
  let C4 = p.C / 4u;
  let gcol4 = (o0 / CPG) * CPG4; // the group's first input vec4
  let tx = lid % (BN / 4u);      // channels o0 + 4·tx .. +3
  let ty = lid / (BN / 4u);      // rows t0 + 4·ty .. +3
  var acc: array<vec4<f32>, 4>;
  for (var r0 = 0u; r0 < KS * CPG; r0 += RK) {
    let k = r0 / CPG;
    let i04 = (r0 % CPG) / 4u;
    // x tile: 64 rows × 4 vec4 (one a thread at BN = 64), row t0 + tt at tap k reads input row t0 + tt − (KS−1) + k.
    for (var e = lid; e < BT * 4u; e += TW) {
      let tt = e / 4u;
      let q = e % 4u;
      let ts = i32(t0 + tt + k) - i32(KS - 1u);
      var v = vec4<f32>(0.0);
      if (ts >= 0 && u32(ts) < T) { v = x[(b * T + u32(ts)) * C4 + gcol4 + i04 + q]; }
      xs[(4u * q) * XP + tt] = v.x;
      xs[(4u * q + 1u) * XP + tt] = v.y;
      xs[(4u * q + 2u) * XP + tt] = v.z;
      xs[(4u * q + 3u) * XP + tt] = v.w;
    }
    for (var e = lid; e < BN * 4u; e += TW) {
      let o = e / 4u;
      let q = e % 4u;
      let v = w[((o0 + o) * KS + k) * CPG4 + i04 + q];
      ws[(4u * q) * WP + o] = v.x;
      ws[(4u * q + 1u) * WP + o] = v.y;
      ws[(4u * q + 2u) * WP + o] = v.z;
      ws[(4u * q + 3u) * WP + o] = v.w;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < RK; kk++) {
      let xb = kk * XP + 4u * ty;
      let wb = kk * WP + 4u * tx;
      let wv = vec4<f32>(ws[wb], ws[wb + 1u], ws[wb + 2u], ws[wb + 3u]);
      acc[0] = fma(vec4<f32>(xs[xb]), wv, acc[0]);
      acc[1] = fma(vec4<f32>(xs[xb + 1u]), wv, acc[1]);
      acc[2] = fma(vec4<f32>(xs[xb + 2u]), wv, acc[2]);
      acc[3] = fma(vec4<f32>(xs[xb + 3u]), wv, acc[3]);
    }
    workgroupBarrier();
  }
  let o = o0 + 4u * tx;
  let t = t0 + 4u * ty;
  store_quad(b, t, o, acc[0]);
  store_quad(b, t + 1u, o, acc[1]);
  store_quad(b, t + 2u, o, acc[2]);
  store_quad(b, t + 3u, o, acc[3]);
}
#endif
