// Resampling along time of a [C, Tin] f32 tensor to [C, Tout], as torch.nn.functional.interpolate on [1, C, T]:
//
//   NEAREST:  out[c, t] = x[c, min(⌊t·s⌋, Tin−1)]                                      s = Tin / Tout
//   LINEAR:   u = max((t + 0.5)·s − 0.5, 0), i = ⌊u⌋, λ = u − i    (align_corners = False)
//             out[c, t] = (1 − λ)·x[c, i] + λ·x[c, min(i + 1, Tin − 1)]
//
// LINEAR takes u exactly, as the fraction ((2t + 1)·Tin − Tout) / (2·Tout) in integers: i is the quotient and λ
// the remainder over the divisor, so λ is off by a division's rounding only. Computed in f32, u's own rounding
// (up to an ulp of u, 8e−6 near 100) moves λ by as much, and whether it does depends on the backend contracting
// the multiply-add (NVIDIA does); torch's f32 formula differs from the exact u by that same amount. The wrapper
// keeps 2·Tin·Tout below 2³² so the integers fit.
//
// Used for upstream's speed ≠ 1 (the mel is linearly resampled to ⌊T/speed⌋ frames before HiFT). One thread owns
// one output element; grid (⌈Tout/256⌉, C). NEAREST's scale is passed from the host as f32, as torch computes it.

struct Params {
  tin: u32,
  tout: u32,
  scale: f32,
  _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256)
fn interpolate(@builtin(global_invocation_id) gid: vec3<u32>) {
  let t = gid.x;
  let c = gid.y;
  if (t >= p.tout) { return; }
  let row = c * p.tin;
#ifdef LINEAR
  let num = (2u * t + 1u) * p.tin;
  let den = 2u * p.tout;
  let n = select(0u, num - p.tout, num > p.tout);
  let i = min(n / den, p.tin - 1u);
  let lambda = f32(n - (n / den) * den) / f32(den);
  let j = min(i + 1u, p.tin - 1u);
  out[c * p.tout + t] = (1.0 - lambda) * x[row + i] + lambda * x[row + j];
#else
  let i = min(u32(floor(f32(t) * p.scale)), p.tin - 1u);
  out[c * p.tout + t] = x[row + i];
#endif
}
