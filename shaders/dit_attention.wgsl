// DiT self-attention over one head of one batch item, f32 online softmax:
//
//   o[b, i, h·DH + d] = Σ_j softmax_j(q_i·k_j · scale + mask(i, j)) · v[b, j, h·DH + d]
//
// qkv: [M, 3C] rows (b·T + t), columns [q | k | v], C = H·DH: the fused projection output, biases and the
// interleaved rotary already applied by its epilogue (dit_linear ROPE). o: [M, C].
// Mask: key j is visible to query i iff keymask[b·T + j] > 0.5 and, when dims.chunk > 0 (streaming), j lies in a
// chunk not after i's: j < (⌊i/chunk⌋ + 1)·chunk. Upstream turns an all-masked row into "attend everywhere"; that
// case (a batch item without a single valid frame) is not reproduced here: such a row gives o = 0.
//
// Entry `main` (GPUs): 64 threads, one query row each (i = 64·wid.x + lid), head wid.y, batch wid.z. Keys stream
//   through shared memory KT at a time; each thread keeps q and the running output in registers and rescales once
//   per tile. Tiles past the last chunk any of the 64 queries can see are skipped.
// Entry `rowwise` (CPU adapters): no shared memory, no barriers; keys are read straight from qkv (the same row for
//   every lane), q and the output live in DH/4 vec4 registers, the rescale happens once per block of 4 keys.
// Queries are rows dims.lead on (the prefix cache's new frames; 0 otherwise): grid for both (ceil((T − lead)/64), H, B). Defines: DH (head dim, multiple of 4), KT (keys per tile of `main`;
// 2·KT·DH·4 + 4·KT ≤ 16384 bytes of workgroup memory).
// The GPU form, flash attention in key tiles, is shaders/dit_flash.wgsl; the 3-pass CPU form dit_attn_gemm.wgsl.
#include "dit_attn_common"
@group(0) @binding(2) var<storage, read> qkv: array<f32>;
@group(0) @binding(3) var<storage, read_write> o: array<f32>;
@group(0) @binding(4) var<storage, read> keymask: array<f32>;

const DH: u32 = {{DH}}u;
const DH4: u32 = DH / 4u;
const QB: u32 = 64u;


fn load4(base: u32) -> vec4<f32> {
  return vec4<f32>(qkv[base], qkv[base + 1u], qkv[base + 2u], qkv[base + 3u]);
}


#ifdef TILED
const KT: u32 = {{KT}}u;
var<workgroup> ks: array<f32, KT * DH>;
var<workgroup> vs: array<f32, KT * DH>;
var<workgroup> kok: array<f32, KT>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let T = dims.T;
  let h = wid.y;
  let b = wid.z;
  let i = dims.lead + wid.x * QB + lid;
  let ld = 3u * p.C;
  let col = h * DH;
  let row0 = b * T;
  var q: array<f32, DH>;
  var acc: array<f32, DH>;
  if (i < T) {
    for (var d = 0u; d < DH; d++) { q[d] = qkv[(row0 + i) * ld + col + d] * p.scale; }
  }
  var mx = -3.0e38;
  var l = 0.0;
  let lim = key_limit(i);
  let kEnd = key_limit(min(T - 1u, dims.lead + wid.x * QB + QB - 1u));
  for (var j0 = 0u; j0 < kEnd; j0 += KT) {
    for (var e = lid; e < KT * DH; e += QB) {
      let j = j0 + e / DH;
      let kb = (row0 + min(j, T - 1u)) * ld + p.C + col + e % DH;
      ks[e] = select(0.0, qkv[kb], j < T);
      vs[e] = select(0.0, qkv[kb + p.C], j < T);
    }
    for (var r = lid; r < KT; r += QB) {
      let j = j0 + r;
      kok[r] = select(0.0, keymask[row0 + min(j, T - 1u)], j < T);
    }
    workgroupBarrier();
    var s: array<f32, KT>;
    var tmax = -3.0e38;
    for (var r = 0u; r < KT; r++) {
      var sc = -3.0e38;
      if (kok[r] > 0.5 && j0 + r < lim) {
        var dot = 0.0;
        for (var d = 0u; d < DH; d++) { dot = fma(q[d], ks[r * DH + d], dot); }
        sc = dot;
        tmax = max(tmax, dot);
      }
      s[r] = sc;
    }
    if (tmax > -1.0e38) {
      let mnew = max(mx, tmax);
      let corr = exp(mx - mnew);
      l *= corr;
      for (var d = 0u; d < DH; d++) { acc[d] *= corr; }
      for (var r = 0u; r < KT; r++) {
        if (s[r] > -1.0e38) {
          let pr = exp(s[r] - mnew);
          l += pr;
          for (var d = 0u; d < DH; d++) { acc[d] = fma(pr, vs[r * DH + d], acc[d]); }
        }
      }
      mx = mnew;
    }
    workgroupBarrier();
  }
  if (i < T) {
    let inv = select(0.0, 1.0 / l, l > 0.0);
    for (var d = 0u; d < DH; d++) { o[(row0 + i) * p.C + col + d] = acc[d] * inv; }
  }
}
#endif

#ifdef ROWWISE
@compute @workgroup_size(64)
fn rowwise(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let T = dims.T;
  let h = wid.y;
  let b = wid.z;
  let i = min(dims.lead + wid.x * QB + lid, T - 1u);
  let ld = 3u * p.C;
  let col = h * DH;
  let row0 = b * T;
  var q: array<vec4<f32>, DH4>;
  var acc: array<vec4<f32>, DH4>;
  for (var c = 0u; c < DH4; c++) { q[c] = load4((row0 + i) * ld + col + 4u * c) * p.scale; }
  let lim = key_limit(i);
  let kEnd = key_limit(min(T - 1u, dims.lead + wid.x * QB + QB - 1u));
  var mx = -3.0e38;
  var l = 0.0;
  for (var j0 = 0u; j0 < kEnd; j0 += 4u) {
    var s = vec4<f32>(-3.0e38);
    for (var r = 0u; r < 4u; r++) {
      let j = j0 + r;
      if (j < lim && keymask[row0 + j] > 0.5) {
        let kb = (row0 + j) * ld + p.C + col;
        var d4 = vec4<f32>(0.0);
        for (var c = 0u; c < DH4; c++) { d4 = fma(q[c], load4(kb + 4u * c), d4); }
        s[r] = d4.x + d4.y + d4.z + d4.w;
      }
    }
    let bmax = max(max(s.x, s.y), max(s.z, s.w));
    if (bmax > -1.0e38) {
      let mnew = max(mx, bmax);
      let corr = exp(mx - mnew);
      let pr = select(vec4<f32>(0.0), exp(s - vec4<f32>(mnew)), s > vec4<f32>(-1.0e38));
      l = l * corr + (pr.x + pr.y + pr.z + pr.w);
      let v0 = (row0 + min(j0, T - 1u)) * ld + 2u * p.C + col;
      let v1 = (row0 + min(j0 + 1u, T - 1u)) * ld + 2u * p.C + col;
      let v2 = (row0 + min(j0 + 2u, T - 1u)) * ld + 2u * p.C + col;
      let v3 = (row0 + min(j0 + 3u, T - 1u)) * ld + 2u * p.C + col;
      for (var c = 0u; c < DH4; c++) {
        var a = acc[c] * corr;
        a = fma(vec4<f32>(pr.x), load4(v0 + 4u * c), a);
        a = fma(vec4<f32>(pr.y), load4(v1 + 4u * c), a);
        a = fma(vec4<f32>(pr.z), load4(v2 + 4u * c), a);
        a = fma(vec4<f32>(pr.w), load4(v3 + 4u * c), a);
        acc[c] = a;
      }
      mx = mnew;
    }
  }
  if (wid.x * QB + lid < T) {
    let inv = select(0.0, 1.0 / l, l > 0.0);
    let ob = (row0 + i) * p.C + col;
    for (var c = 0u; c < DH4; c++) {
      let v = acc[c] * inv;
      o[ob + 4u * c] = v.x;
      o[ob + 4u * c + 1u] = v.y;
      o[ob + 4u * c + 2u] = v.z;
      o[ob + 4u * c + 3u] = v.w;
    }
  }
}
#endif
