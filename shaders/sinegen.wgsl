// NSF harmonic source merge (SineGen2 causal + SourceModuleHnNSF.l_linear + tanh), per output sample:
//
//   f = ⌊n / up⌋                                   (f0 nearest-upsampled ×up: the source is constant per frame)
//   sw[h] = frames[f, h] + frames[f, H] · U[n0 + n, h]      h = 0..H−1
//           (frames[f, h] = 0.1·sin(Φ[f, h])·uv[f] and frames[f, H] = noise amplitude, both precomputed on the
//            host from the f32 phase with f64 range reduction; U is the fixed uniform table read by absolute
//            sample index n0 + n)
//   s[n] = tanh(Σ_h lw[h]·sw[h] + lb)
//
// Layouts: frames [T_f, H+1]; U [rows, H]; lin [H+1] = (lw[0..H−1], lb); s [L].
// One thread owns one sample. tanh is written out (exp of −2|x|) so large arguments cannot overflow.

struct Params {
  len: u32,
  up: u32,
  n0: u32,
  _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> frames: array<f32>;
@group(0) @binding(2) var<storage, read> noise: array<f32>;
@group(0) @binding(3) var<storage, read> lin: array<f32>;
@group(0) @binding(4) var<storage, read_write> s: array<f32>;

const H: u32 = {{H}}u;

fn tanh_safe(x: f32) -> f32 {
  let t = exp(-2.0 * abs(x));
  return sign(x) * (1.0 - t) / (1.0 + t);
}

@compute @workgroup_size(64)
fn sinegen(@builtin(global_invocation_id) gid: vec3<u32>) {
  let n = gid.x;
  if (n >= p.len) { return; }
  let f = n / p.up;
  let amp = frames[f * (H + 1u) + H];
  let row = (p.n0 + n) * H;
  var acc = 0.0;
  for (var h = 0u; h < H; h++) {
    let sw = frames[f * (H + 1u) + h] + amp * noise[row + h];
    acc += lin[h] * sw;
  }
  s[n] = tanh_safe(acc + lin[H]);
}
