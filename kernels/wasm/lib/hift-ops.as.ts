// AssemblyScript (imported by gemm.as.ts, whose memory it works in): HiFT's elementwise steps on time-major
// activations [L, C] kept in the kernels' memory (src/models/cpu/hift.ts). Each does in f64 exactly the operations
// of its TypeScript reference in src/models/cpu/hift-dsp.ts (sinSquared, snake, leakyRelu) and hift.ts (the
// residual sums), two values a vector, so the results are the references' bits.

// sinSquared's constants (hift-dsp.ts): 1.5·2⁵², 2/π, π/2 in two parts.
const ROUND: f64 = 6755399441055744;
const TWO_OVER_PI: f64 = 2 / Math.PI;
const HALF_PI_HI: f64 = Math.PI / 2;
const HALF_PI_LO: f64 = 6.123233995736766e-17;

/** sin²(y) in two f64 lanes, hift-dsp.ts sinSquared's operations in its order; k's parity from ⌊k/2⌋·2 ≠ k. */
@inline function sinSquared2(y: v128): v128 {
  const k = f64x2.sub(f64x2.add(f64x2.mul(y, f64x2.splat(TWO_OVER_PI)), f64x2.splat(ROUND)), f64x2.splat(ROUND));
  const r = f64x2.sub(f64x2.sub(y, f64x2.mul(k, f64x2.splat(HALF_PI_HI))), f64x2.mul(k, f64x2.splat(HALF_PI_LO)));
  const r2 = f64x2.mul(r, r);
  let p = f64x2.add(f64x2.splat(-1.0 / 5040), f64x2.div(r2, f64x2.splat(362880)));
  p = f64x2.add(f64x2.splat(1.0 / 120), f64x2.mul(r2, p));
  p = f64x2.add(f64x2.splat(-1.0 / 6), f64x2.mul(r2, p));
  p = f64x2.add(f64x2.splat(1), f64x2.mul(r2, p));
  const s = f64x2.mul(r, p);
  const s2 = f64x2.mul(s, s);
  const odd = f64x2.ne(f64x2.mul(f64x2.floor(f64x2.mul(k, f64x2.splat(0.5))), f64x2.splat(2)), k);
  return v128.bitselect(f64x2.sub(f64x2.splat(1), s2), s2, odd);
}

/** x + inv·sin²(α·x) for two values (f64 lanes); the product α·x of two f32 is exact in f64. */
@inline function snake2(v: v128, a: v128, inv: v128): v128 {
  return f64x2.add(v, f64x2.mul(inv, sinSquared2(f64x2.mul(a, v))));
}

/** Lanes 2, 3 of an f32x4 in lanes 0, 1. */
@inline function high(v: v128): v128 {
  return i32x4.shuffle(v, v, 2, 3, 0, 1);
}

/** Two f64x2 back to one f32x4 (each lane rounded once, as Math.fround). */
@inline function demote4(lo: v128, hi: v128): v128 {
  return i32x4.shuffle(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 1, 4, 5);
}

/**
 * Snake: y[t, c] = x + inv_c·sin²(α_c·x) over [L, C]; alpha [2, C] (the α row, then inv = 1/(α+1e-9) as
 * kernels/conv1d.ts packSnakeAlpha rounds it). y may be x.
 */
export function snake(x: usize, y: usize, L: i32, C: i32, alpha: usize): void {
  const inv = alpha + (<usize>C << 2);
  const C4 = C & ~3;
  for (let t = 0; t < L; t++) {
    const xr = x + ((<usize>t * <usize>C) << 2), yr = y + ((<usize>t * <usize>C) << 2);
    for (let c = 0; c < C4; c += 4) {
      const o = <usize>c << 2;
      const v = v128.load(xr + o), a = v128.load(alpha + o), iv = v128.load(inv + o);
      const lo = snake2(f64x2.promote_low_f32x4(v), f64x2.promote_low_f32x4(a), f64x2.promote_low_f32x4(iv));
      const hi = snake2(f64x2.promote_low_f32x4(high(v)), f64x2.promote_low_f32x4(high(a)), f64x2.promote_low_f32x4(high(iv)));
      v128.store(yr + o, demote4(lo, hi));
    }
    for (let c = C4; c < C; c++) {
      const o = <usize>c << 2;
      const r = snake2(f64x2.splat(<f64>load<f32>(xr + o)), f64x2.splat(<f64>load<f32>(alpha + o)), f64x2.splat(<f64>load<f32>(inv + o)));
      store<f32>(yr + o, <f32>f64x2.extract_lane(r, 0));
    }
  }
}

/** y = LeakyReLU(x) over n values with a slope given in f64 (v·slope rounded once, as hift-dsp.ts); y may be x. */
export function leakyRelu(x: usize, y: usize, n: i32, slope: f64): void {
  const s = f64x2.splat(slope), zero = f32x4.splat(0);
  const n4 = n & ~3;
  for (let i = 0; i < n4; i += 4) {
    const o = <usize>i << 2;
    const v = v128.load(x + o);
    const m = demote4(f64x2.mul(f64x2.promote_low_f32x4(v), s), f64x2.mul(f64x2.promote_low_f32x4(high(v)), s));
    v128.store(y + o, v128.bitselect(m, v, f32x4.lt(v, zero)));
  }
  for (let i = n4; i < n; i++) {
    const o = <usize>i << 2;
    const v = load<f32>(x + o);
    store<f32>(y + o, v < 0 ? <f32>(<f64>v * slope) : v);
  }
}

/** y += a over n values (an f32 sum: the same bits as rounding the f64 sum once). */
export function addInto(y: usize, a: usize, n: i32): void {
  const n4 = n & ~3;
  for (let i = 0; i < n4; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, f32x4.add(v128.load(y + o), v128.load(a + o)));
  }
  for (let i = n4; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, load<f32>(y + o) + load<f32>(a + o));
  }
}

/** y += a + b over n values, a + b in f64 and the whole rounded once (JavaScript's `y[i] += a[i] + b[i]`). */
export function addSumInto(y: usize, a: usize, b: usize, n: i32): void {
  const n4 = n & ~3;
  for (let i = 0; i < n4; i += 4) {
    const o = <usize>i << 2;
    const yv = v128.load(y + o), av = v128.load(a + o), bv = v128.load(b + o);
    const lo = f64x2.add(f64x2.promote_low_f32x4(yv), f64x2.add(f64x2.promote_low_f32x4(av), f64x2.promote_low_f32x4(bv)));
    const hi = f64x2.add(f64x2.promote_low_f32x4(high(yv)), f64x2.add(f64x2.promote_low_f32x4(high(av)), f64x2.promote_low_f32x4(high(bv))));
    v128.store(y + o, demote4(lo, hi));
  }
  for (let i = n4; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, <f32>(<f64>load<f32>(y + o) + (<f64>load<f32>(a + o) + <f64>load<f32>(b + o))));
  }
}

/** x /= d over n values (d an f32: an f32 quotient has the bits of the f64 one rounded once). */
export function divideBy(x: usize, n: i32, d: f32): void {
  const dv = f32x4.splat(d);
  const n4 = n & ~3;
  for (let i = 0; i < n4; i += 4) {
    const o = <usize>i << 2;
    v128.store(x + o, f32x4.div(v128.load(x + o), dv));
  }
  for (let i = n4; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(x + o, load<f32>(x + o) / d);
  }
}
