/**
 * Float32 emulation of the AVX2 math PyTorch uses in `normal_fill_16_AVX2` (aten/src/ATen/native/cpu/
 * avx_mathfun.h: Cephes-style `log256_ps` and `sincos256_ps`, after Julien Pommier's sse_mathfun).
 *
 * To be bit-exact with the official x86-64 wheels, every step is rounded to f32 (`Math.fround`) and the
 * multiply-adds that GCC contracts into FMA instructions (-mfma, -ffp-contract=fast) are single-rounded
 * here too (`fmaF32`). Which products got fused was determined empirically: this exact pattern reproduces
 * `torch.manual_seed(0); torch.randn(1, 80, 15000)` bit for bit (all 1.2 M values), while the unfused
 * variant differs in ~1 % of values by 1 ulp.
 */

const f = Math.fround;
const fbuf = new Float32Array(1);
const ibuf = new Int32Array(fbuf.buffer);

/** Next f32 after `x` towards +∞ (dir > 0) or −∞ (dir < 0); x finite. */
function nextF32(x: number, dir: number): number {
  fbuf[0] = x;
  if (x === 0) {
    ibuf[0] = 1;
    return dir > 0 ? fbuf[0] : -fbuf[0];
  }
  ibuf[0] += (x > 0) === dir > 0 ? 1 : -1;
  return fbuf[0];
}

/**
 * Correctly rounded f32 fused multiply-add for f32 inputs. The product is exact in f64 (24+24 bits); the sum
 * is rounded once to f64 and then to f32, and the only case where that double rounding can go wrong — the f64
 * sum landing exactly on an f32 midpoint while the exact sum is not — is repaired with the TwoSum error term.
 */
export function fmaF32(a: number, b: number, c: number): number {
  const p = a * b;
  const s = p + c;
  const r = f(s);
  if (r === s) return r;
  const bb = s - p;
  const err = p - (s - bb) + (c - bb);
  if (err === 0) return r;
  const nb = nextF32(r, s - r);
  if (s !== (r + nb) / 2) return r;
  // s is an f32 midpoint: the exact value lies on the side of err.
  return (err > 0) === nb > r ? nb : r;
}

const P = [
  7.0376836292e-2, -1.151461031e-1, 1.167699874e-1, -1.2420140846e-1, 1.4249322787e-1, -1.6668057665e-1,
  2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1,
].map(f);
const SQRTHF = f(0.707106781186547524);
const LOG_Q1 = f(-2.1219444e-4);
const LOG_Q2 = f(0.693359375);

/** `log256_ps` lane for a positive normal f32 input (the Box–Muller argument 1 − u ∈ (0, 1]). */
export function logF32Avx(x: number): number {
  fbuf[0] = x;
  const bits = ibuf[0];
  let e = f(((bits >>> 23) & 0xff) - 127 + 1);
  ibuf[0] = (bits & ~0x7f800000) | 0x3f000000; // mantissa scaled into [0.5, 1)
  let m = fbuf[0];
  let tmp = 0;
  if (m < SQRTHF) {
    tmp = m;
    e = f(e - 1);
  }
  m = f(f(m - 1) + tmp);
  const z = f(m * m);
  let y = P[0];
  for (let k = 1; k < 9; k++) y = fmaF32(y, m, P[k]);
  y = f(y * m);
  y = fmaF32(y, z, f(e * LOG_Q1));
  y = fmaF32(-z, 0.5, y);
  return fmaF32(e, LOG_Q2, f(m + y));
}

const DP1 = f(-0.78515625);
const DP2 = f(-2.4187564849853515625e-4);
const DP3 = f(-3.77489497744594108e-8);
const SIN0 = f(-1.9515295891e-4);
const SIN1 = f(8.3321608736e-3);
const SIN2 = f(-1.6666654611e-1);
const COS0 = f(2.443315711809948e-5);
const COS1 = f(-1.388731625493765e-3);
const COS2 = f(4.166664568298827e-2);
const FOPI = f(1.27323954473516);

/** `sincos256_ps` lane for x ≥ 0 (θ = 2π·u). Writes [sin, cos] into `out`. */
export function sincosF32Avx(x: number, out: Float64Array | number[]): void {
  let j = Math.trunc(f(x * FOPI));
  j = (j + 1) & ~1;
  const y = j;
  const sinNeg = (j & 4) !== 0;
  const usePolyCosForCos = (j & 2) === 0;
  const cosNeg = ((j - 2) & 4) === 0;
  let r = fmaF32(y, DP1, x);
  r = fmaF32(y, DP2, r);
  r = fmaF32(y, DP3, r);
  const z = f(r * r);
  let yc = fmaF32(COS0, z, COS1);
  yc = fmaF32(yc, z, COS2);
  yc = f(yc * z);
  yc = fmaF32(yc, z, -f(z * 0.5));
  yc = f(yc + 1);
  let ys = fmaF32(SIN0, z, SIN1);
  ys = fmaF32(ys, z, SIN2);
  ys = f(ys * z);
  ys = fmaF32(ys, r, r);
  const s = usePolyCosForCos ? ys : yc;
  const c = usePolyCosForCos ? yc : ys;
  out[0] = sinNeg ? -s : s;
  out[1] = cosNeg ? -c : c;
}
