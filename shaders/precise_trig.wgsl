// sin/cos with a guaranteed accuracy (≈ 1 ulp near 0, < 1e-7 absolute in [-π, π]) on every adapter.
//
// Why: WGSL only bounds sin/cos to 2^-11 absolute error, and SwiftShader (Chromium's software WebGPU) uses
// approximations up to 1.9e-4 off; HiFT applies sin in every Snake activation and in the iSTFT phase, so the
// browser's audio drifted ~2.5e-4 from the same model on lavapipe. Range reduction: k = round(x·2/π),
// r = x − k·π/2 with π/2 split in three parts whose leading two have few significant bits (Cody–Waite, as Cephes'
// sinf), so k·part is exact without relying on fma being fused (lavapipe's is not) for |x| < 8192; then
// degree-9/8 Taylor polynomials on |r| ≤ π/4 (truncation < 3e-8) and the quadrant k mod 4.
// Include with `#include "precise_trig"`; call precise_sin / precise_cos, or precise_sin_sq for sin² (Snake).

const PT_2_OVER_PI: f32 = 0.63661977236758134;
const PT_PIO2_1: f32 = 1.5703125;
const PT_PIO2_2: f32 = 4.837512969970703125e-4;
const PT_PIO2_3: f32 = 7.54978995489188216e-8;

fn pt_reduce(x: f32) -> vec2<f32> {
  let k = round(x * PT_2_OVER_PI);
  let r = ((x - k * PT_PIO2_1) - k * PT_PIO2_2) - k * PT_PIO2_3;
  return vec2<f32>(r, k);
}

// (sin r, cos r) for |r| ≤ π/4.
fn pt_kernels(r: f32) -> vec2<f32> {
  let r2 = r * r;
  let s = r + r * r2 * (-1.6666667163e-1 + r2 * (8.3333337680e-3 + r2 * (-1.9841270114e-4 + r2 * 2.7557314297e-6)));
  let c = 1.0 + r2 * (-0.5 + r2 * (4.1666667908e-2 + r2 * (-1.3888889225e-3 + r2 * 2.4801587642e-5)));
  return vec2<f32>(s, c);
}

fn precise_sin(x: f32) -> f32 {
  let rk = pt_reduce(x);
  let sc = pt_kernels(rk.x);
  let q = i32(rk.y) & 3;
  if (q == 0) { return sc.x; }
  if (q == 1) { return sc.y; }
  if (q == 2) { return -sc.x; }
  return -sc.y;
}

fn precise_cos(x: f32) -> f32 {
  let rk = pt_reduce(x);
  let sc = pt_kernels(rk.x);
  let q = i32(rk.y) & 3;
  if (q == 0) { return sc.y; }
  if (q == 1) { return -sc.x; }
  if (q == 2) { return -sc.y; }
  return sc.x;
}

// sin(x)² without the quadrant's sign: s² on even quadrants, c² on odd ones (one select, no branch). Equal to
// precise_sin(x)² bit for bit.
fn precise_sin_sq(x: f32) -> f32 {
  let rk = pt_reduce(x);
  let sc = pt_kernels(rk.x);
  let v = select(sc.x, sc.y, (i32(rk.y) & 1) == 1);
  return v * v;
}
