// Flow wrapper and DiT glue kernels (CausalMaskedDiffWithDiT.inference and the DiT input/output layouts).
//
// Entries (one thread per output element unless stated):
//   prelook_conv1   Y1[t, o] = leaky_relu(b1[o] + Σ_{k<KL} Σ_i w1[o, i, k] · X[t + k, i]),  t < Nout
//                   X[j] = emb[tok[j]] for j < N, 0 beyond (the zero look-ahead pad when finalize, the real
//                   context tokens when not: then Nout = N − KL + 1 and X simply runs on into the context).
//                   w1: Conv1d weight [C1, Cin, KL]; emb: [vocab, Cin]; tok: i32 [N] (negative ids read row 0).
//                   Leaky slope 0.01 (torch default).
//   prelook_conv2   H[t, o] = b2[o] + Σ_{k<K2} Σ_i w2[o, i, k] · Y1[t − (K2−1) + k, i] + X[t, o] (causal, left zeros),
//                   written ×ratio along time, channel-first: mu[o, ratio·t + r] = H[t, o]   (mu: [Cin, T]).
//   spk_affine      spks[o] = bs[o] + Σ_i Ws[o, i] · e[i] / max(‖e‖₂, 1e-12); one workgroup, 256 threads.
//   pack_input      A[b·T + t, :] = [x, cond, mu, spks] of batch row b at frame q0 + t (the DiT input concat order;
//                   [C, full] inputs, dims.q0 = 0 and full = T but under the prefix cache).
//                   CFG: x is the single Euler state [mel, T]; cond/mu/spks are the conditional inputs
//                   ([C, T], [C, T], [S]) for b = 0 and zeros for b ≥ 1. Without CFG all four are batched
//                   ([B, C, T] and [B, S]).
//   to_channels     out[b, c, t] = v[b·T + t, c]  (the estimator output in PyTorch layout [B, Cout, T]).
#include "flow_dims"

struct Params {
  a: u32,
  b: u32,
  c: u32,
  d: u32,
  e: u32,
  f: u32,
  g: u32,
  h: u32,
}

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<uniform> p: Params;

#ifdef PRELOOK1
// p: a = N tokens, b = Nout, c = Cin, d = C1, e = KL
@group(0) @binding(2) var<storage, read> tok: array<i32>;
@group(0) @binding(3) var<storage, read> emb: array<f32>;
@group(0) @binding(4) var<storage, read> w1: array<f32>;
@group(0) @binding(5) var<storage, read> b1: array<f32>;
@group(0) @binding(6) var<storage, read_write> y1: array<f32>;

@compute @workgroup_size(256)
fn prelook_conv1(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let g = flat_gid(wid, lid);
  if (g >= p.b * p.d) { return; }
  let t = g / p.d;
  let o = g % p.d;
  var acc = 0.0;
  for (var k = 0u; k < p.e; k++) {
    let j = t + k;
    if (j >= p.a) { continue; }
    let row = u32(max(tok[j], 0)) * p.c;
    for (var i = 0u; i < p.c; i++) { acc = fma(w1[(o * p.c + i) * p.e + k], emb[row + i], acc); }
  }
  let v = acc + b1[o];
  y1[t * p.d + o] = select(0.01 * v, v, v >= 0.0);
}
#endif

#ifdef PRELOOK2
// p: a = Nout, b = Cin, c = C1, d = K2, e = ratio
@group(0) @binding(2) var<storage, read> tok: array<i32>;
@group(0) @binding(3) var<storage, read> emb: array<f32>;
@group(0) @binding(4) var<storage, read> w2: array<f32>;
@group(0) @binding(5) var<storage, read> b2: array<f32>;
@group(0) @binding(6) var<storage, read> y1: array<f32>;
@group(0) @binding(7) var<storage, read_write> mu: array<f32>;

@compute @workgroup_size(256)
fn prelook_conv2(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let g = flat_gid(wid, lid);
  if (g >= p.a * p.b) { return; }
  let t = g / p.b;
  let o = g % p.b;
  var acc = 0.0;
  for (var k = 0u; k < p.d; k++) {
    let ti = i32(t + k) - i32(p.d - 1u);
    if (ti < 0) { continue; }
    let yb = u32(ti) * p.c;
    for (var i = 0u; i < p.c; i++) { acc = fma(w2[(o * p.c + i) * p.d + k], y1[yb + i], acc); }
  }
  let hv = (acc + b2[o]) + emb[u32(max(tok[t], 0)) * p.b + o];
  for (var r = 0u; r < p.e; r++) { mu[o * dims.T + p.e * t + r] = hv; }
}
#endif

#ifdef SPK
// p: a = E (embedding length), b = S (output width)
@group(0) @binding(2) var<storage, read> e: array<f32>;
@group(0) @binding(3) var<storage, read> ws: array<f32>;
@group(0) @binding(4) var<storage, read> bs: array<f32>;
@group(0) @binding(5) var<storage, read_write> spks: array<f32>;
var<workgroup> red: array<f32, 256>;

@compute @workgroup_size(256)
fn spk_affine(@builtin(local_invocation_index) lid: u32) {
  var s = 0.0;
  for (var i = lid; i < p.a; i += 256u) { s += e[i] * e[i]; }
  red[lid] = s;
  workgroupBarrier();
  for (var k = 128u; k > 0u; k >>= 1u) {
    if (lid < k) { red[lid] += red[lid + k]; }
    workgroupBarrier();
  }
  let denom = max(sqrt(red[0]), 1e-12);
  for (var o = lid; o < p.b; o += 256u) {
    var acc = 0.0;
    for (var i = 0u; i < p.a; i++) { acc = fma(ws[o * p.a + i], e[i] / denom, acc); }
    spks[o] = acc + bs[o];
  }
}
#endif

#ifdef PACK
// p: a = mel channels (x and cond), b = mu channels, c = spk width, d = Cin = 2a + b + c
@group(0) @binding(2) var<storage, read> xs: array<f32>;
@group(0) @binding(3) var<storage, read> cond: array<f32>;
@group(0) @binding(4) var<storage, read> mu: array<f32>;
@group(0) @binding(5) var<storage, read> spks: array<f32>;
@group(0) @binding(6) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256)
fn pack_input(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let g = flat_gid(wid, lid);
  let T = dims.T;
  if (g >= dims.M * p.d) { return; }
  let m = g / p.d;
  var c = g % p.d;
  let b = m / T;
  // Column of frame t in the [C, full] inputs: live rows may start at frame q0 (the prefix cache's window).
  let t = dims.q0 + m % T;
  let F = dims.full;
  var v = 0.0;
#ifdef CFG
  if (c < p.a) {
    v = xs[c * F + t];
  } else if (b == 0u) {
    c -= p.a;
    if (c < p.a) { v = cond[c * F + t]; }
    else if (c < p.a + p.b) { v = mu[(c - p.a) * F + t]; }
    else { v = spks[c - p.a - p.b]; }
  }
#else
  if (c < p.a) { v = xs[(b * p.a + c) * F + t]; }
  else if (c < 2u * p.a) { v = cond[(b * p.a + c - p.a) * F + t]; }
  else if (c < 2u * p.a + p.b) { v = mu[(b * p.b + c - 2u * p.a) * F + t]; }
  else { v = spks[b * p.c + c - 2u * p.a - p.b]; }
#endif
  out[g] = v;
}
#endif

#ifdef TOCH
// p: a = Cout
@group(0) @binding(2) var<storage, read> v: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256)
fn to_channels(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let g = flat_gid(wid, lid);
  let T = dims.T;
  if (g >= dims.M * p.a) { return; }
  // g enumerates the output [B, Cout, T] so writes are contiguous.
  let t = g % T;
  let bc = g / T;
  let b = bc / p.a;
  let c = bc % p.a;
  out[g] = v[(b * T + t) * p.a + c];
}
#endif
