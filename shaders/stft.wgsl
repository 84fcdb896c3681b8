// Source STFT of the HiFT generator: torch.stft(s, n_fft=N, hop=H, win_length=N, window=w, center=True,
// pad_mode='reflect', onesided) with real and imaginary parts concatenated on the channel axis:
//
//   X[f, k] = Σ_j w[j] · s_pad[H·f + j] · e^{−2πi·k·j/N},   s_pad[m] = s[reflect(m − N/2)]
//   out[k, f] = Re X[f, k],  out[N/2+1 + k, f] = Im X[f, k]      (k = 0..N/2)
//
// reflect(i) = −i for i < 0, 2(L−1) − i for i ≥ L (torch 'reflect', edge sample not repeated).
// Layouts: s [L] at element offset s_off; out [2·(N/2+1), frames_kept] (row stride frames_kept);
// tables [3, N]: periodic Hann window, cos(2π·r/N), sin(2π·r/N) (computed on the host in f64, stored f32).
// One thread owns one frame (all bins). frames_kept may be smaller than L/H + 1 (streaming drops the tail).
// Limits: N ≤ 64 (fixed-size frame array).

struct Params {
  len: u32,
  frames: u32, // frames kept
  s_off: u32,
  _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> s: array<f32>;
@group(0) @binding(2) var<storage, read> tables: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

const N: u32 = {{N}}u;
const H: u32 = {{H}}u;
const NB: u32 = N / 2u + 1u;

@compute @workgroup_size(64)
fn stft(@builtin(global_invocation_id) gid: vec3<u32>) {
  let f = gid.x;
  if (f >= p.frames) { return; }
  var fr: array<f32, N>;
  let L = i32(p.len);
  for (var j = 0u; j < N; j++) {
    var i = i32(f * H + j) - i32(N / 2u);
    if (i < 0) { i = -i; }
    if (i >= L) { i = 2 * (L - 1) - i; }
    fr[j] = tables[j] * s[p.s_off + u32(i)];
  }
  for (var k = 0u; k < NB; k++) {
    var re = 0.0;
    var im = 0.0;
    for (var j = 0u; j < N; j++) {
      let r = (k * j) % N;
      re += fr[j] * tables[N + r];
      im -= fr[j] * tables[2u * N + r];
    }
    out[k * p.frames + f] = re;
    out[(NB + k) * p.frames + f] = im;
  }
}
