// HiFT F0 predictor (CausalConvRNNF0Predictor) in emulated double precision ("double-float", df64):
//
//   f0_conv:  out[co, t] = ELU(bias[co] + Σ_{ci, j} w[co, ci, j]·x[ci, t + j − pad_left])   zeros outside [0, lin)
//   f0_head:  f0[t] = |b + Σ_c cls[c]·h[c, t]|
//
// Upstream casts the predictor and the mel to float64 (spec §5.2). WGSL has no f64, so every value is an
// unevaluated sum hi + lo of two f32 (|lo| ≤ ulp(hi)/2), ≈ 48 significant bits: ≈ 4e-15 relative per operation.
//
// Layouts (all vec2<f32> = (hi, lo)):  x [Cin, Lin]   w [Cout, Cin, K]   bias [Cout]   out [Cout, Lout]
//                                      head: h [C, Lout]   cls [C]   bias [1]   out [Lout]
//
// Why the arithmetic is written the way it is (WGSL gives no NoContraction, and Vulkan's fma need not be fused):
// * Sums use Knuth's TwoSum: adds and subtracts only, so multiply-add contraction cannot touch them. But a
//   compiler allowed to simplify algebraically (WGSL does not forbid it; Mesa's NIR does it to every float op
//   not marked exact, and Tint marks none) rewrites (a + b) − a to b and the error term to 0: measured on
//   lavapipe, df64 collapsed to plain f32 (f0 errors ≈ 3e-7). So each intermediate the algorithm needs rounded
//   as written passes through `opq`, an OR with a uniform that is always 0: an integer no-op the compiler cannot
//   see through, so it must keep the float value it was given.
// * Products never rely on fma. The exact error of p = a·b comes from Dekker's product over 12-bit halves, and
//   the halves come from masking the low 12 mantissa bits (bit operations: no rounding, nothing a compiler may
//   contract or reassociate); the rest, a − a₁, is exact. A 12-bit × 12-bit product has ≤ 24 bits, so it is
//   exact in f32, and a compiler fusing it into the following add (fma) produces the same value. p itself has
//   several uses, which keeps it from being fused into the TwoSum that consumes it (a fused p there would still
//   only cost ≈ 2⁻⁴⁸ relative).
// * Accumulation is the usual "sloppy" df64 sum: the running hi gets TwoSum, the errors (≈ 2⁻²⁴ of each term)
//   collect in one f32, renormalised at the end; over 1536 terms that costs < 1e-13 relative.
// * ELU's expm1 runs in df64 too (range reduction by k·ln2 with an exact 3-part ln2, Taylor to 15 terms).
//
// Tiling (f0_conv): a 16 × 16 workgroup owns [16 couts × 16 times]; per 16-channel slice of Cin it stages the
// weight slice [16, 16, K] and the input window [16, 16 + K − 1] in workgroup memory, already split into
// (a₁, a₂, lo, hi), so the split runs once per staged value rather than once per MAC.

struct Params {
  cin: u32,
  lin: u32,
  cout: u32,
  lout: u32,
  pad_left: u32,
  zero: u32, // always 0 (see opq)
  _p1: u32,
  _p2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<vec2<f32>>;
@group(0) @binding(2) var<storage, read> w: array<vec2<f32>>;
@group(0) @binding(3) var<storage, read> bias: array<vec2<f32>>;
@group(0) @binding(4) var<storage, read_write> out: array<vec2<f32>>;

// ---- df64 primitives ----------------------------------------------------------------------------------------

// v, unchanged, but opaque to algebraic simplification (p.zero is 0 at run time, unknown at compile time).
fn opq(v: f32) -> f32 {
  return bitcast<f32>(bitcast<u32>(v) | p.zero);
}

// (s, e) with s + e = a + b exactly (Knuth; no precondition on magnitudes).
fn two_sum(a: f32, b: f32) -> vec2<f32> {
  let s = opq(a + b);
  let bb = opq(s - a);
  let e = (a - opq(s - bb)) + (b - bb);
  return vec2<f32>(s, e);
}

// (s, e) with s + e = a + b exactly, when |a| ≥ |b| or a = 0.
fn quick_two_sum(a: f32, b: f32) -> vec2<f32> {
  let s = opq(a + b);
  return vec2<f32>(s, b - opq(s - a));
}

// v (f32 hi, f32 lo) → (a₁, a₂, lo, hi): a₁ = hi with its low 12 mantissa bits cleared (12 significant bits),
// a₂ = hi − a₁ exactly (≤ 12 bits). Masking cannot be rounded, contracted or reassociated.
fn split4(v: vec2<f32>) -> vec4<f32> {
  let a1 = bitcast<f32>(bitcast<u32>(v.x) & 0xfffff000u);
  return vec4<f32>(a1, v.x - a1, v.y, v.x);
}

// Product of two split values: (p, err) with p = fl(a.hi·b.hi) and p + err ≈ a·b to ≈ 2⁻⁴⁸ relative.
// a₁b₁, a₁b₂, a₂b₁, a₂b₂ are exact (≤ 24-bit products); the cross terms with the lo parts are ≈ 2⁻²⁴ of p.
fn prod(a: vec4<f32>, b: vec4<f32>) -> vec2<f32> {
  let ph = a.w * b.w;
  let err = (((a.x * b.x - ph) + a.x * b.y) + a.y * b.x) + a.y * b.y;
  return vec2<f32>(ph, err + (a.w * b.z + a.z * b.w));
}

fn dd_mul(a: vec2<f32>, b: vec2<f32>) -> vec2<f32> {
  let q = prod(split4(a), split4(b));
  return quick_two_sum(q.x, q.y);
}

fn dd_add(a: vec2<f32>, b: vec2<f32>) -> vec2<f32> {
  let s = two_sum(a.x, b.x);
  let t = two_sum(a.y, b.y);
  let u = quick_two_sum(s.x, s.y + t.x);
  return quick_two_sum(u.x, u.y + t.y);
}

// acc (hi, err) += a·b: hi by TwoSum, every error term into the f32 err (renormalised by `finish`).
fn mac(acc: vec2<f32>, a: vec4<f32>, b: vec4<f32>) -> vec2<f32> {
  let q = prod(a, b);
  let s = two_sum(acc.x, q.x);
  return vec2<f32>(s.x, acc.y + (s.y + q.y));
}

fn finish(acc: vec2<f32>) -> vec2<f32> {
  return two_sum(acc.x, acc.y);
}

fn dd(h: u32, l: u32) -> vec2<f32> {
  return vec2<f32>(bitcast<f32>(h), bitcast<f32>(l));
}

// expm1(x) for x ≤ 0 in df64. x = k·ln2 + r, |r| ≤ ln2/2 + ε; expm1(r) by its Taylor series (terms to r¹⁵/15!,
// < 2e-19 at |r| = 0.36); expm1(x) = 2^k·(expm1(r) + 1) − 1 (exact scaling by 2^k; for k = 0 the series alone,
// so tiny |x| keep their relative precision).
fn expm1_neg(x: vec2<f32>) -> vec2<f32> {
  if (x.x < -40.0) { return vec2<f32>(-1.0, 0.0); } // e^x < 5e-18: −1 is the nearest double, as in f64
  // ln2 = L1 + L2 + L3; L1 and L2 have 16 significant bits, so k·L1 and k·L2 are exact for |k| ≤ 58.
  let k = round(x.x * 1.4426950408889634);
  let r = dd_add(dd_add(dd_add(x, vec2<f32>(-k * bitcast<f32>(0x3f317200u), 0.0)), vec2<f32>(-k * bitcast<f32>(0x35bfbe00u), 0.0)),
                 vec2<f32>(-k * bitcast<f32>(0x2d8e7bcdu), 0.0));
  // 1/n! for n = 2..15 as (hi, lo) f32 pairs, generated from the doubles 1/n!.
  var c = array<vec2<f32>, 14>(
    dd(0x3f000000u, 0x00000000u), dd(0x3e2aaaabu, 0xb1aaaaabu), dd(0x3d2aaaabu, 0xb0aaaaabu), dd(0x3c088889u, 0xafeeeeefu),
    dd(0x3ab60b61u, 0xae13e93fu), dd(0x39500d01u, 0xac3fcbfdu), dd(0x37d00d01u, 0xaabfcbfdu), dd(0x3638ef1du, 0x292ad8e6u),
    dd(0x3493f27eu, 0xa808760au), dd(0x32d7322bu, 0x25fea89cu), dd(0x310f76c7u, 0x24ff8d8au), dd(0x2f309231u, 0xa2c5792fu),
    dd(0x2d49cba5u, 0x208c07cau), dd(0x2b573f9fu, 0x1e667704u));
  var q = c[13];
  for (var n = 12; n >= 0; n--) { q = dd_add(c[n], dd_mul(r, q)); }
  let em = dd_add(r, dd_mul(r, dd_mul(r, q))); // r + r²·(1/2! + r/3! + …)
  if (k == 0.0) { return em; }
  let e = dd_add(em, vec2<f32>(1.0, 0.0));
  let ki = i32(k);
  return dd_add(vec2<f32>(ldexp(e.x, ki), ldexp(e.y, ki)), vec2<f32>(-1.0, 0.0));
}

fn elu(v: vec2<f32>) -> vec2<f32> {
  if (v.x > 0.0) { return v; }
  return expm1_neg(v);
}

// ---- f0_conv ------------------------------------------------------------------------------------------------

const K: u32 = {{K}}u;
const TT: u32 = 16u; // times per workgroup
const TC: u32 = 16u; // couts per workgroup
const CI: u32 = 16u; // input channels per staged slice
const XW: u32 = TT + K - 1u;

var<workgroup> ws: array<vec4<f32>, TC * CI * K>; // [co_l, ci_l, j], split4
var<workgroup> xs: array<vec4<f32>, CI * XW>;     // [ci_l, u], split4 of x[ci, t0 + u − pad_left]

@compute @workgroup_size(16, 16)
fn f0_conv(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let t0 = wg.x * TT;
  let co0 = wg.y * TC;
  let li = lid.y * TT + lid.x;
  let t = t0 + lid.x;
  let co = co0 + lid.y;
  var acc = vec2<f32>(0.0, 0.0);
  if (co < p.cout) { acc = bias[co]; }
  for (var ci0 = 0u; ci0 < p.cin; ci0 += CI) {
    // Weight slice: row co_l holds CI·K contiguous values w[co0 + co_l, ci0.., 0..K).
    for (var e = li; e < TC * CI * K; e += TT * TC) {
      let col = e / (CI * K);
      let rem = e % (CI * K);
      let ci = ci0 + rem / K;
      var v = vec2<f32>(0.0, 0.0);
      if (co0 + col < p.cout && ci < p.cin) { v = w[((co0 + col) * p.cin + ci0) * K + rem]; }
      ws[e] = split4(v);
    }
    for (var e = li; e < CI * XW; e += TT * TC) {
      let ci = ci0 + e / XW;
      let pos = i32(t0 + e % XW) - i32(p.pad_left);
      var v = vec2<f32>(0.0, 0.0);
      if (ci < p.cin && pos >= 0 && pos < i32(p.lin)) { v = x[ci * p.lin + u32(pos)]; }
      xs[e] = split4(v);
    }
    workgroupBarrier();
    for (var c = 0u; c < CI; c++) {
      for (var j = 0u; j < K; j++) {
        acc = mac(acc, ws[(lid.y * CI + c) * K + j], xs[c * XW + lid.x + j]);
      }
    }
    workgroupBarrier();
  }
  if (co < p.cout && t < p.lout) { out[co * p.lout + t] = elu(finish(acc)); }
}

// ---- f0_head ------------------------------------------------------------------------------------------------

const HW: u32 = 64u;
var<workgroup> part: array<vec2<f32>, HW>;

// One workgroup per output frame t (p.cin = C channels, p.lout frames): 64 lanes split the channels, then a
// df64 tree reduction.
@compute @workgroup_size(64)
fn f0_head(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let t = wg.x;
  var acc = vec2<f32>(0.0, 0.0);
  for (var c = lid.x; c < p.cin; c += HW) {
    acc = mac(acc, split4(w[c]), split4(x[c * p.lout + t]));
  }
  part[lid.x] = finish(acc);
  workgroupBarrier();
  for (var s = HW / 2u; s > 0u; s >>= 1u) {
    if (lid.x < s) { part[lid.x] = dd_add(part[lid.x], part[lid.x + s]); }
    workgroupBarrier();
  }
  if (lid.x == 0u) {
    let v = dd_add(part[0], bias[0]);
    out[t] = select(v, -v, v.x < 0.0);
  }
}
