// DiT self-attention (one head of one batch item per workgroup column), flash style, f32 softmax:
//
//   o[b, i, h·DH + d] = Σ_j softmax_j(q_i·k_j · scale + mask(i, j)) · v[b, j, h·DH + d]
//
// qkv: [M, 3C] rows (b·T + t), columns [q | k | v], C = H·DH (fused projection output, biases applied).
// Rotary (dit_rotary) is applied on load to q and k channels < rotDim (head 0 only in the DiT).
// Mask: key j is visible to query i iff keymask[b·T + j] > 0.5 and, when dims.chunk > 0 (streaming), j lies in a
// chunk not after i's: j < (⌊i/chunk⌋ + 1)·chunk. Upstream's "an all-masked row attends everywhere" fix is not
// reproduced: such a row (a batch item with no valid frame) gives o = 0.
// o: [M, C].
//
// Workgroup: 64 threads, one query row each (i = 64·wid.x + lid), head wid.y, batch wid.z. Keys stream through
// shared memory KT at a time; each thread keeps q and the running output in registers and rescales once per tile
// (online softmax, max-subtracted, f32). Tiles past the last chunk any of the 64 queries can see are skipped.
// Defines: DH (head dim), KT (keys per tile; 2·KT·DH·4 + 4·KT ≤ 16384 bytes of workgroup memory).
#include "flow_dims"

struct Params {
  H: u32,
  C: u32,
  rotDim: u32,
  scale: f32,
}

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<uniform> p: Params;
@group(0) @binding(2) var<storage, read> qkv: array<f32>;
@group(0) @binding(3) var<storage, read_write> o: array<f32>;
@group(0) @binding(4) var<storage, read> keymask: array<f32>;
@group(0) @binding(5) var<storage, read> rope_table: array<vec2<f32>>;

#include "dit_rotary"

const DH: u32 = {{DH}}u;
const KT: u32 = {{KT}}u;
const QB: u32 = 64u;
var<workgroup> ks: array<f32, KT * DH>;
var<workgroup> vs: array<f32, KT * DH>;
var<workgroup> kok: array<f32, KT>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let T = dims.T;
  let h = wid.y;
  let b = wid.z;
  let i = wid.x * QB + lid;
  let ld = 3u * p.C;
  let col = h * DH;
  let row0 = b * T;

  var q: array<f32, DH>;
  var acc: array<f32, DH>;
  if (i < T) {
    let qb = (row0 + i) * ld + col;
    for (var d = 0u; d < DH; d++) {
      let a = qkv[qb + d];
      let partner = qkv[qb + (d ^ 1u)];
      q[d] = rope_rotate(a, partner, col + d, i, p.rotDim) * p.scale;
    }
  }
  var mx = -3.0e38;
  var l = 0.0;
  // Query-visible limit for this thread, and the workgroup-uniform key range.
  var lim = T;
  var kEnd = T;
  if (dims.chunk > 0u) {
    lim = min(T, (i / dims.chunk + 1u) * dims.chunk);
    let ilast = min(T - 1u, wid.x * QB + QB - 1u);
    kEnd = min(T, (ilast / dims.chunk + 1u) * dims.chunk);
  }
  for (var j0 = 0u; j0 < kEnd; j0 += KT) {
    for (var e = lid; e < KT * DH; e += QB) {
      let r = e / DH;
      let d = e % DH;
      let j = j0 + r;
      var kv = 0.0;
      var vv = 0.0;
      if (j < T) {
        let kb = (row0 + j) * ld + p.C + col;
        kv = rope_rotate(qkv[kb + d], qkv[kb + (d ^ 1u)], col + d, j, p.rotDim);
        vv = qkv[kb + p.C + d];
      }
      ks[e] = kv;
      vs[e] = vv;
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
    let ob = (row0 + i) * p.C + col;
    for (var d = 0u; d < DH; d++) { o[ob + d] = acc[d] * inv; }
  }
}
