// Sampling support for the speech-token head: the few numbers ras_sampling needs, so a decode step reads back
// ~200 bytes instead of the whole logits row (src/sampling/topk.ts consumes them).
//
// Entry `topk` over one logits row x[row, :] (x [R, V] f32):
//   out[r]      = bits(v_r),  out[K + r] = id_r     r = 0..K−1, the K largest logits in (value desc, id asc)
//                                                   order — the head of a stable descending sort
//   out[2K]     = bits(log Σ_i exp(x_i))            full-row log-sum-exp (max-shifted, f32)
//   out[2K + 1] = bits(x[S])                        logit at index S (the ignore_eos mask target)
// One workgroup of WG threads; each thread strides over the row. The log-sum-exp is two tree reductions
// (max, then Σ exp(x − max)); the top-K is K rounds of an arg-max reduction restricted to elements strictly
// after the previous winner in (value desc, id asc) order, which handles ties exactly like a stable sort.
// Cost K·V/WG reads per thread: ~0.7 M reads for K = 26, V = 6761 — negligible next to the head GEMV.
// NaN logits are skipped (never selected). Grid: (1).

struct Params {
  V: u32,
  K: u32,
  S: u32,
  row: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<u32>;

const WG: u32 = 256u;
const NEG_BIG: f32 = -3.402823e38;
var<workgroup> rv: array<f32, WG>;
var<workgroup> ri: array<u32, WG>;

// (v, i) ranks before (bv, bi) in (value desc, id asc) order.
fn before(v: f32, i: u32, bv: f32, bi: u32) -> bool {
  return v > bv || (v == bv && i < bi);
}

@compute @workgroup_size(WG)
fn topk(@builtin(local_invocation_index) lid: u32) {
  let base = p.row * p.V;
  var m = NEG_BIG;
  for (var c = lid; c < p.V; c += WG) {
    m = max(m, x[base + c]);
  }
  rv[lid] = m;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) {
      rv[lid] = max(rv[lid], rv[lid + s]);
    }
    workgroupBarrier();
  }
  let gmax = rv[0];
  workgroupBarrier();
  var sum = 0.0;
  for (var c = lid; c < p.V; c += WG) {
    sum += exp(x[base + c] - gmax);
  }
  rv[lid] = sum;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) {
      rv[lid] += rv[lid + s];
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    out[2u * p.K] = bitcast<u32>(gmax + log(rv[0]));
    out[2u * p.K + 1u] = bitcast<u32>(x[base + min(p.S, p.V - 1u)]);
  }
  workgroupBarrier();

  var pv = 0.0;
  var pi = 0u;
  for (var r = 0u; r < p.K; r++) {
    var bv = NEG_BIG;
    var bi = 0xffffffffu;
    for (var c = lid; c < p.V; c += WG) {
      let v = x[base + c];
      let eligible = r == 0u || before(pv, pi, v, c);
      if (eligible && before(v, c, bv, bi)) {
        bv = v;
        bi = c;
      }
    }
    rv[lid] = bv;
    ri[lid] = bi;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s >>= 1u) {
      if (lid < s && before(rv[lid + s], ri[lid + s], rv[lid], ri[lid])) {
        rv[lid] = rv[lid + s];
        ri[lid] = ri[lid + s];
      }
      workgroupBarrier();
    }
    pv = rv[0];
    pi = ri[0];
    if (lid == 0u) {
      out[r] = bitcast<u32>(pv);
      out[p.K + r] = pi;
    }
    workgroupBarrier();
  }
}
