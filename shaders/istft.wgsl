// HiFT spectrum head + inverse STFT + output clamp (torch.istft(center=True, onesided) semantics):
//
//   mag[k, f] = min(exp(y[k, f]), clip)        ph[k, f] = sin(y[N/2+1 + k, f])          k = 0..N/2
//   Re = mag·cos(ph), Im = mag·sin(ph)
//   frame_f[j] = (1/N)·(Re₀ + Re_{N/2}·(−1)^j + 2·Σ_{k=1}^{N/2−1} (Re_k cos(2πkj/N) − Im_k sin(2πkj/N)))
//                (the imaginary parts of DC and Nyquist are ignored, as irfft does)
//   wave[n] = clamp(Σ_f w[j]·frame_f[j] / Σ_f w[j]², ±limit),  m = n + N/2, j = m − H·f ∈ [0, N), 0 ≤ f < F
//
// Layouts: y [N+2, F] (conv_post output, row stride F); tables [3, N] as in stft.wgsl (window, cos, sin);
// wave [n_out]. n_out = H·(F−1) − drop (streaming drops the last samples, which still see a zero-padded future).
//
// One workgroup owns S = 64·QS consecutive samples and the NF frames that cover them, in four phases over
// workgroup memory:
//   0. the inverse real DFT as an N×N matrix B (row j: 1/N, 2cos(2πkj/N)/N …, (−1)^j/N, −2sin(2πkj/N)/N …);
//   1. each (frame, bin): exp, and sin/cos of the phase, once, into the frame's spectrum row
//      spec[f] = (Re₀ … Re_{N/2}, Im₁ … Im_{N/2−1}) (N values);
//   2. each (frame, j): frame_f[j] = B[j]·spec[f], N/4 vec4 dot products;
//   3. each sample: overlap-add of its ≤ N/H frames and the window² envelope.
// Why: the one-thread-a-sample form recomputed exp/sin/cos for each of the N/H samples a frame covers and ran
// no faster than ORT's 17 unfused kernels on lavapipe; a scalar DFT loop in phase 2 (four gathered loads a
// term) still cost two thirds of the time there, which the vec4 rows remove.
// The frames at a workgroup's edges are computed by both neighbours (N/H − 1 of every S/H + N/H).

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

const N: u32 = {{N}}u; // a multiple of 4 and of H
const H: u32 = {{H}}u;
const QS: u32 = {{QS}}u;
const NB: u32 = N / 2u + 1u;
const N4: u32 = N / 4u;
const WG: u32 = 64u;
const S: u32 = WG * QS;
const NF: u32 = (S + N) / H + 1u; // frames one workgroup's samples can touch

var<workgroup> dft: array<vec4<f32>, N * N4>;   // B, row j at [j·N4, (j+1)·N4)
var<workgroup> spec: array<vec4<f32>, NF * N4>; // spectrum rows of the frames f_lo … f_hi
var<workgroup> frame: array<f32, NF * N>;

fn set_spec(fl: u32, c: u32, v: f32) {
  spec[fl * N4 + c / 4u][c % 4u] = v;
}

@compute @workgroup_size(64)
fn istft(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let n0 = wid.x * S;
  let m0 = n0 + N / 2u;
  // First frame reaching m0: ceil((m0 − N + 1) / H), at least 0; last frame reaching m0 + S − 1, at most F − 1.
  // The host dispatches only workgroups with n0 < n_out ≤ H·(F − 1), so f_lo ≤ f_hi.
  let f_lo = select(0u, (m0 + H - N) / H, m0 + H >= N);
  let f_hi = min((m0 + S - 1u) / H, p.frames - 1u);
  let nf = f_hi + 1u - f_lo;

  // 0. B[j][c] (tables: window, cos, sin)
  for (var i = lid; i < N * N; i += WG) {
    let j = i / N;
    let c = i - j * N;
    var v: f32;
    if (c == 0u || c == NB - 1u) {
      v = tables[N + ((c * j) % N)];
    } else if (c < NB) {
      v = 2.0 * tables[N + ((c * j) % N)];
    } else {
      v = -2.0 * tables[2u * N + (((c - NB + 1u) * j) % N)];
    }
    dft[j * N4 + c / 4u][c % 4u] = v / f32(N);
  }

  // 1. spectrum head: Re, Im of every (frame, bin)
  for (var i = lid; i < nf * NB; i += WG) {
    let fl = i / NB;
    let k = i - fl * NB;
    let f = f_lo + fl;
    let mag = min(exp(y[k * p.frames + f]), p.clip);
    let ph = precise_sin(y[(NB + k) * p.frames + f]);
    set_spec(fl, k, mag * precise_cos(ph));
    if (k > 0u && k < NB - 1u) { set_spec(fl, NB - 1u + k, mag * precise_sin(ph)); }
  }
  workgroupBarrier();

  // 2. inverse real DFT of every frame, sample j
  for (var i = lid; i < nf * N; i += WG) {
    let fl = i / N;
    let j = i - fl * N;
    var acc = 0.0;
    for (var c = 0u; c < N4; c++) {
      acc += dot(dft[j * N4 + c], spec[fl * N4 + c]);
    }
    frame[i] = acc;
  }
  workgroupBarrier();

  // 3. overlap-add, normalised by the window² envelope, clamped
  for (var q = 0u; q < QS; q++) {
    let n = n0 + q * WG + lid;
    if (n >= p.n_out) { break; }
    let m = n + N / 2u;
    var num = 0.0;
    var env = 0.0;
    let g_hi = min(m / H, f_hi);
    let g_lo = max(select(0u, (m + H - N) / H, m + H >= N), f_lo);
    for (var f = g_lo; f <= g_hi; f++) {
      let j = m - H * f;
      if (j >= N) { continue; }
      let wj = tables[j];
      num += wj * frame[(f - f_lo) * N + j];
      env += wj * wj;
    }
    wave[n] = clamp(num / env, -p.limit, p.limit);
  }
}
