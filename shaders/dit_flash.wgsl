// DiT self-attention for GPUs, flash form: the same math, layouts and mask as shaders/dit_attention.wgsl
//
//   o[b, i, h·DH + d] = Σ_j softmax_j(q_i·k_j · scale + mask(i, j)) · v[b, j, h·DH + d]
//
// qkv [M, 3C] (columns q | k | v, rotary applied), o [M, C], keymask [M]; key j visible to query i iff
// keymask[b·T + j] > 0.5 and, with dims.chunk > 0, j < (⌊i/chunk⌋ + 1)·chunk. A row that sees no key gives 0.
//
// Three small register-blocked GEMM steps per tile of KT keys, so that a GPU gets many workgroups and few
// registers per thread (one query row per thread, dit_attention.wgsl `main`, keeps 2·DH + KT floats a thread and
// gives a CFG batch of 600 frames 320 workgroups of 64 threads: 4 TFLOP/s on an H200). 128 threads own
// BQ = 16·RQ query rows of one head (RQ = 2 or 4 rows a thread); grid (ceil(T/BQ), H, B). q is staged once,
// pre-scaled; K and V tiles go through workgroup memory, the next tile's loads issued before this tile's math
// (held in registers, stored after the tile's last barrier) so their latency overlaps it. Thread roles:
//   scores  rows RQ·(lid/8) + q, key group kg = lid%8: S[row, kg + 8r], r < KT/8;
//   softmax SG (subgroups of ≥ 8 lanes, lane = lid mod size): the same thread; the row's 8 key groups are 8
//           neighbouring lanes, so the tile max and, at the end, the row sum are 3 shuffle-xor steps; P = e^(S−m)
//           goes to `ss`, and the rescale factor stays in registers for the same thread's P·V.
//           Without SG: thread (row lid/TPR, part lid%TPR, TPR = 128/BQ) reduces through `red` after a barrier
//           and hands the rescale factor over in `corr` (one more barrier a tile);
//   P·V     rows as in scores, vec4 columns kg + 8n of DH/4: rescale, add P·V.
// Each thread keeps a partial row sum over its own keys (all of a row's threads rescale by the same factor);
// the parts are summed once at the end. Padded rows (QP = DH/4 + 1 vec4) put the 8 key rows a score step reads
// in different banks. Workgroup memory: 16·(BQ·QP + KT·QP + KT·DH/4) + 4·(BQ·(KT + 1) + 128 + BQ + KT) bytes
// (RQ 2, KT 32, DH 64: 30.4 KiB); the wrapper picks KT ∈ {32, 16, 8} under the device's limit.
// Defines: DH (multiple of 32), KT, RQ, SG.
#ifdef SG
enable subgroups;
#endif
#include "dit_attn_common"
@group(0) @binding(2) var<storage, read> qkv: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> o: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> keymask: array<f32>;

const DH: u32 = {{DH}}u;
const DH4: u32 = DH / 4u;
const KT: u32 = {{KT}}u;
const RQ: u32 = {{RQ}}u;
const BQ: u32 = 16u * RQ;
const QP: u32 = DH4 + 1u;
const SP: u32 = KT + 1u;
const KPR: u32 = KT / 8u;
const NV: u32 = DH4 / 8u;
const LPT: u32 = (KT * DH4 + 127u) / 128u; // K (and V) vec4 loads per thread per tile
const NEG: f32 = -3.0e38;

var<workgroup> qs: array<vec4<f32>, BQ * QP>;
var<workgroup> ks: array<vec4<f32>, KT * QP>;
var<workgroup> vs: array<vec4<f32>, KT * DH4>;
var<workgroup> ss: array<f32, BQ * SP>;
var<workgroup> kok: array<f32, KT>;
#ifndef SG
const TPR: u32 = 128u / BQ;
const SPR: u32 = KT / TPR;
var<workgroup> red: array<f32, 128u>;
var<workgroup> corr: array<f32, BQ>;
#endif


#ifdef SG
// Across the 8 lanes of a key-group octet (lanes differing in bits 0..2).
fn oct_max(v: f32) -> f32 {
  var x = max(v, subgroupShuffleXor(v, 1u));
  x = max(x, subgroupShuffleXor(x, 2u));
  return max(x, subgroupShuffleXor(x, 4u));
}
fn oct_sum(v: f32) -> f32 {
  var x = v + subgroupShuffleXor(v, 1u);
  x += subgroupShuffleXor(x, 2u);
  return x + subgroupShuffleXor(x, 4u);
}
#endif

@compute @workgroup_size(128)
fn flash(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let T = dims.T;
  let h = wid.y;
  let b = wid.z;
  let i0 = wid.x * BQ;
  let ld4 = 3u * p.C / 4u;       // qkv row stride in vec4
  let col4 = h * DH4;
  let row0 = b * T;
  for (var e = lid; e < BQ * DH4; e += 128u) {
    let i = i0 + e / DH4;
    var v = vec4<f32>(0.0);
    if (i < T) { v = qkv[(row0 + i) * ld4 + col4 + e % DH4] * p.scale; }
    qs[(e / DH4) * QP + e % DH4] = v;
  }
  let ra = RQ * (lid / 8u);
  let kg = lid % 8u;
  var lim: array<u32, RQ>;
  for (var q = 0u; q < RQ; q++) { lim[q] = key_limit(i0 + ra + q); }
  let kEnd = key_limit(min(T - 1u, i0 + BQ - 1u));
  var acc: array<vec4<f32>, RQ * NV>;
#ifdef SG
  var m: array<f32, RQ>;
  var lsum: array<f32, RQ>;
  for (var q = 0u; q < RQ; q++) { m[q] = NEG; }
#else
  let sr = lid / TPR;
  let part = lid % TPR;
  var ms = NEG;
  var ls = 0.0;
#endif
  // Tile 0's K/V rows into registers; each iteration stores them, then loads the next tile's.
  var pk: array<vec4<f32>, LPT>;
  var pv: array<vec4<f32>, LPT>;
  var pm = 0.0;
  for (var u = 0u; u < LPT; u++) {
    let e = lid + 128u * u;
    let j = e / DH4;
    if (e < KT * DH4 && j < T) {
      let kb = (row0 + j) * ld4 + p.C / 4u + col4 + e % DH4;
      pk[u] = qkv[kb];
      pv[u] = qkv[kb + p.C / 4u];
    }
  }
  if (lid < KT && lid < T) { pm = keymask[row0 + lid]; }
  for (var j0 = 0u; j0 < kEnd; j0 += KT) {
    for (var u = 0u; u < LPT; u++) {
      let e = lid + 128u * u;
      if (e < KT * DH4) {
        ks[(e / DH4) * QP + e % DH4] = pk[u];
        vs[e] = pv[u];
      }
    }
    if (lid < KT) { kok[lid] = pm; }
    workgroupBarrier();
    let j1 = j0 + KT;
    for (var u = 0u; u < LPT; u++) {
      let e = lid + 128u * u;
      let j = j1 + e / DH4;
      pk[u] = vec4<f32>(0.0);
      pv[u] = vec4<f32>(0.0);
      if (e < KT * DH4 && j < kEnd) {
        let kb = (row0 + j) * ld4 + p.C / 4u + col4 + e % DH4;
        pk[u] = qkv[kb];
        pv[u] = qkv[kb + p.C / 4u];
      }
    }
    pm = 0.0;
    if (lid < KT && j1 + lid < kEnd) { pm = keymask[row0 + j1 + lid]; }

    // Zeroed by hand: on lavapipe (Dawn 2026) the implicit zero value of a var declared in a loop body was applied
    // once, not per iteration, and the second tile's scores started from the first tile's.
    var sc: array<f32, RQ * KPR>;
    for (var x = 0u; x < RQ * KPR; x++) { sc[x] = 0.0; }
    for (var c = 0u; c < DH4; c++) {
      var qv: array<vec4<f32>, RQ>;
      for (var q = 0u; q < RQ; q++) { qv[q] = qs[(ra + q) * QP + c]; }
      for (var r = 0u; r < KPR; r++) {
        let kv = ks[(kg + 8u * r) * QP + c];
        for (var q = 0u; q < RQ; q++) { sc[q * KPR + r] += dot(qv[q], kv); }
      }
    }
#ifdef SG
    for (var q = 0u; q < RQ; q++) {
      var lm = NEG;
      for (var r = 0u; r < KPR; r++) {
        let jj = kg + 8u * r;
        let s = select(NEG, sc[q * KPR + r], kok[jj] > 0.5 && j0 + jj < lim[q]);
        sc[q * KPR + r] = s;
        lm = max(lm, s);
      }
      let mnew = max(m[q], oct_max(lm));
      // m = NEG and mnew = NEG (nothing visible yet) gives 1, harmless on zero sums; a real mnew gives 0.
      let cr = exp(m[q] - mnew);
      m[q] = mnew;
      var ps = 0.0;
      for (var r = 0u; r < KPR; r++) {
        let s = sc[q * KPR + r];
        let pe = select(0.0, exp(s - mnew), s > -1.0e38);
        ps += pe;
        ss[(ra + q) * SP + kg + 8u * r] = pe;
      }
      lsum[q] = lsum[q] * cr + ps;
      for (var n = 0u; n < NV; n++) { acc[q * NV + n] *= cr; }
    }
    workgroupBarrier();
#else
    for (var r = 0u; r < KPR; r++) {
      let jj = kg + 8u * r;
      let ok = kok[jj] > 0.5;
      for (var q = 0u; q < RQ; q++) { ss[(ra + q) * SP + jj] = select(NEG, sc[q * KPR + r], ok && j0 + jj < lim[q]); }
    }
    workgroupBarrier();
    var lm = NEG;
    for (var r = 0u; r < SPR; r++) { lm = max(lm, ss[sr * SP + part * SPR + r]); }
    red[lid] = lm;
    workgroupBarrier();
    var tmax = NEG;
    for (var t = 0u; t < TPR; t++) { tmax = max(tmax, red[sr * TPR + t]); }
    let mnew = max(ms, tmax);
    let cr = exp(ms - mnew);
    ls *= cr;
    for (var r = 0u; r < SPR; r++) {
      let idx = sr * SP + part * SPR + r;
      let s = ss[idx];
      let pe = select(0.0, exp(s - mnew), s > -1.0e38);
      ls += pe;
      ss[idx] = pe;
    }
    ms = mnew;
    if (part == 0u) { corr[sr] = cr; }
    workgroupBarrier();
    for (var q = 0u; q < RQ; q++) {
      let cq = corr[ra + q];
      for (var n = 0u; n < NV; n++) { acc[q * NV + n] *= cq; }
    }
#endif

    for (var j = 0u; j < KT; j++) {
      var pq: array<f32, RQ>;
      for (var q = 0u; q < RQ; q++) { pq[q] = ss[(ra + q) * SP + j]; }
      for (var n = 0u; n < NV; n++) {
        let v = vs[j * DH4 + kg + 8u * n];
        for (var q = 0u; q < RQ; q++) { acc[q * NV + n] = fma(vec4<f32>(pq[q]), v, acc[q * NV + n]); }
      }
    }
    workgroupBarrier();
  }
  // Row sums, then the normalised rows (constant trip counts throughout, so compilers keep sc / acc in registers).
#ifdef SG
  var l: array<f32, RQ>;
  for (var q = 0u; q < RQ; q++) { l[q] = oct_sum(lsum[q]); }
#else
  red[lid] = ls;
  workgroupBarrier();
  var l: array<f32, RQ>;
  for (var q = 0u; q < RQ; q++) {
    for (var t = 0u; t < TPR; t++) { l[q] += red[(ra + q) * TPR + t]; }
  }
#endif
  for (var q = 0u; q < RQ; q++) {
    let inv = select(0.0, 1.0 / l[q], l[q] > 0.0);
    if (i0 + ra + q < T) {
      for (var n = 0u; n < NV; n++) { o[(row0 + i0 + ra + q) * (p.C / 4u) + col4 + kg + 8u * n] = acc[q * NV + n] * inv; }
    }
  }
}
