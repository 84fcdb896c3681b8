// Sampling support for the speech-token head: the few numbers ras_sampling needs, so a decode step reads back
// ~200 bytes instead of the whole logits row (src/sampling/topk.ts consumes them).
//
// Over one logits row x[row, :] (x [R, V] f32), both entries write the same words:
//   out[r]      = bits(v_r),  out[K + r] = id_r     r = 0..K−1, the K largest logits in (value desc, id asc)
//                                                   order — the head of a stable descending sort
//   out[2K]     = bits(log Σ_i exp(x_i))            full-row log-sum-exp (max-shifted, f32)
//   out[2K + 1] = bits(x[S])                        logit at index S (the ignore_eos mask target)
// NaN logits are skipped (never selected); −0 and +0 are equal (the smaller id first, the value's own bits
// written); −inf is a value like any other. Should fewer than K logits be numbers, the tail is
// (bits(−3.4028235e38), 0xffffffff). One workgroup of WG threads; grid (1).
//
// The log-sum-exp is two tree reductions (max, then Σ exp(x − max)), the same code in both entries. The top-K
// is shaders/topk_select.wgsl, shared with shaders/topk.wgsl (its header has the algorithms and costs):
//   `topk`         (define PT) the radix select: 2–3 histogram passes over keys held in registers, then a rank
//                  of the K picks; thread lid < K writes pick lid. K ≤ 64.
//   `topk_rounds`  (no PT) K rounds of a full-row argmax, each strictly after the previous pick: K dependent,
//                  latency-bound row scans (H200, K=26, V=6761: ~120 µs). Any K ≤ V.

struct Params {
  V: u32,
  K: u32,
  S: u32,
  row: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<u32>;

const WG: u32 = {{WG}}u; // 256, or 1024 on GPUs (kernels/topk.ts radixWorkgroup)
const NONE: u32 = 0xffffffffu;
const NEG_BIG: f32 = -3.402823e38;
const LOWEST: f32 = -0x1.fffffep+127f;
var<workgroup> red: array<f32, WG>;

#include "topk_select"

// out[2K] and out[2K + 1]; every thread calls it (barriers).
fn lse_and_s(lid: u32, base: u32) {
  var m = NEG_BIG;
  for (var c = lid; c < p.V; c += WG) {
    m = max(m, x[base + c]);
  }
  red[lid] = m;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) {
      red[lid] = max(red[lid], red[lid + s]);
    }
    workgroupBarrier();
  }
  let gmax = red[0];
  workgroupBarrier();
  var sum = 0.0;
  for (var c = lid; c < p.V; c += WG) {
    sum += exp(x[base + c] - gmax);
  }
  red[lid] = sum;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) {
      red[lid] += red[lid + s];
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    out[2u * p.K] = bitcast<u32>(gmax + log(red[0]));
    out[2u * p.K + 1u] = bitcast<u32>(x[base + min(p.S, p.V - 1u)]);
  }
}

#ifdef PT
@compute @workgroup_size(WG)
fn topk(@builtin(local_invocation_index) lid: u32) {
  let base = p.row * p.V;
  lse_and_s(lid, base);
  let sel = radix_select(lid, base, p.V, p.K);
  if (lid < sel.n) {
    out[sel.rank] = bitcast<u32>(x[base + sel.col]);
    out[p.K + sel.rank] = sel.col;
  } else if (lid < p.K) {
    out[lid] = bitcast<u32>(LOWEST);
    out[p.K + lid] = NONE;
  }
}
#else
@compute @workgroup_size(WG)
fn topk_rounds(@builtin(local_invocation_index) lid: u32) {
  let base = p.row * p.V;
  lse_and_s(lid, base);
  var pick = Pick(0.0, NONE);
  for (var r = 0u; r < p.K; r++) {
    pick = round_pick(lid, base, p.V, r, pick);
    if (lid == 0u) {
      out[r] = bitcast<u32>(select(pick.v, LOWEST, pick.i == NONE));
      out[p.K + r] = pick.i;
    }
  }
}
#endif
