// HiFT spectrum head + inverse STFT + output clamp (torch.istft(center=True, onesided) semantics):
//
//   mag[k, f] = min(exp(y[k, f]), clip)        ph[k, f] = sin(y[N/2+1 + k, f])          k = 0..N/2
//   Re = mag·cos(ph), Im = mag·sin(ph)
//   frame_f[j] = (1/N)·(Re₀ + Re_{N/2}·(−1)^j + 2·Σ_{k=1}^{N/2−1} (Re_k cos(2πkj/N) − Im_k sin(2πkj/N)))
//                (the imaginary parts of DC and Nyquist are ignored, as irfft does)
//   wave[n] = clamp(Σ_f w[j]·frame_f[j] / Σ_f w[j]², ±limit),  m = n + N/2, j = m − H·f ∈ [0, N), 0 ≤ f < F
//
// Layouts: y [N+2, F] (conv_post output, row stride F); tables [3, N] as in stft.wgsl; wave [n_out].
// One thread owns one output sample and recomputes the ≤ N/H frames covering it (each bin's exp/sin/cos is
// recomputed N/H times: cheaper than a second pass at these sizes).
// n_out = H·(F−1) − drop (streaming drops the last samples, which still see a zero-padded future).

#include "precise_trig"

struct Params {
  frames: u32,
  n_out: u32,
  _p0: u32,
  _p1: u32,
  clip: f32,
  limit: f32,
  _p2: u32,
  _p3: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> y: array<f32>;
@group(0) @binding(2) var<storage, read> tables: array<f32>;
@group(0) @binding(3) var<storage, read_write> wave: array<f32>;

const N: u32 = {{N}}u;
const H: u32 = {{H}}u;
const NB: u32 = N / 2u + 1u;

@compute @workgroup_size(64)
fn istft(@builtin(global_invocation_id) gid: vec3<u32>) {
  let n = gid.x;
  if (n >= p.n_out) { return; }
  let m = n + N / 2u;
  var num = 0.0;
  var env = 0.0;
  let f_hi = min(m / H, p.frames - 1u);
  let f_lo = select(0u, (m - N + H) / H, m + H >= N);
  for (var f = f_lo; f <= f_hi; f++) {
    let j = m - H * f;
    if (j >= N) { continue; }
    var acc = 0.0;
    for (var k = 0u; k < NB; k++) {
      let mag = min(exp(y[k * p.frames + f]), p.clip);
      let ph = precise_sin(y[(NB + k) * p.frames + f]);
      let r = (k * j) % N;
      if (k == 0u || k == NB - 1u) {
        acc += mag * precise_cos(ph) * tables[N + r];
      } else {
        acc += 2.0 * mag * (precise_cos(ph) * tables[N + r] - precise_sin(ph) * tables[2u * N + r]);
      }
    }
    let wj = tables[j];
    num += wj * (acc / f32(N));
    env += wj * wj;
  }
  wave[n] = clamp(num / env, -p.limit, p.limit);
}
