// The flash-attention tile walk that the GPU attention entries share (included, not a kernel family of its own):
// the DiT's bidirectional attention (dit_flash.wgsl) and the LLM's causal prefill over the paged KV cache
// (paged_flash.wgsl). One workgroup of 128 threads owns BQ = 16·RQ query rows of one head:
//
//   o[i, :] = Σ_{j < keyEnd(i), keyOk(j)} softmax_j(scale · q_i·k_j) · v_j        (a row that sees no key gives 0)
//
// Three small register-blocked GEMM steps per tile of KT keys, so that a GPU gets many workgroups and few
// registers per thread (one query row per thread keeps 2·DH + KT floats a thread: 4 TFLOP/s on an H200 for the
// DiT). q is staged once, pre-scaled; K and V tiles go through workgroup memory, the next tile's loads issued
// before this tile's math (held in registers, stored after the tile's last barrier) so their latency overlaps it.
// Thread roles:
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
// (RQ 2, KT 8, DH 64: 14.4 KiB; KT 32: 30.4 KiB); kernels/flash.ts flashBytes.
// Defines: DH (multiple of 32), KT (8, 16 or 32), RQ (2 or 4), SG, FL_SPLIT.
//
// The including shader supplies, at module scope (WGSL declarations may come in any order):
//   fl_q(i, c) -> vec4<f32>     vec4 c of query row i (i < rows), unscaled
//   fl_k(j, c), fl_v(j, c)      vec4 c of key / value row j (j < the tile's key end)
//   fl_key_ok(j) -> f32         > 0.5 where key j may be seen at all (key padding), else 0
//   fl_key_end(i) -> u32        keys j < fl_key_end(i) are visible to row i (a chunk mask or causality)
//   fl_store(i, c, v)           write vec4 c of output row i
// and calls flash_tiles(lid, i0, rows, scale) from a @workgroup_size(128) entry. With SG it must begin with
// `enable subgroups;` (directives precede every declaration, so the include cannot carry it).
// FL_SPLIT (needs SG): flash_tiles takes a fifth argument, the keys [begin, end) this workgroup walks (begin a
//   multiple of KT; computed from workgroup ids so that it stays uniform), and, instead of fl_store, leaves the split's partial: fl_store_part(i, c, v) the unnormalised vec4 c of row i,
//   fl_store_ml(i, m, l) its running max and sum (m = −3e38, l = 0 where the split saw no key); a combine pass
//   rescales the splits by e^(m − max) and divides by the rescaled sum (flash_merge, over the includer's storage
//   arrays `part` of vec4 and `ml` of vec2). More workgroups per row block hide the tile walk's latency where a
//   GPU has few of them per SM.

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

// Query rows i0 .. i0 + BQ − 1 (those < rows are real) against keys 0 .. fl_key_end(last real row) − 1.
fn flash_tiles(lid: u32, i0: u32, rows: u32, scale: f32,
#ifdef FL_SPLIT
               span: vec2<u32>, // this workgroup's keys [span.x, span.y) (uniform: the barriers sit in its loop)
#endif
) {
  for (var e = lid; e < BQ * DH4; e += 128u) {
    let i = i0 + e / DH4;
    var v = vec4<f32>(0.0);
    if (i < rows) { v = fl_q(i, e % DH4) * scale; }
    qs[(e / DH4) * QP + e % DH4] = v;
  }
  let ra = RQ * (lid / 8u);
  let kg = lid % 8u;
  var lim: array<u32, RQ>;
  for (var q = 0u; q < RQ; q++) { lim[q] = fl_key_end(i0 + ra + q); }
#ifdef FL_SPLIT
  let kBeg = span.x;
  let kEnd = min(fl_key_end(min(rows - 1u, i0 + BQ - 1u)), span.y);
#else
  let kBeg = 0u;
  let kEnd = fl_key_end(min(rows - 1u, i0 + BQ - 1u));
#endif
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
    let j = kBeg + e / DH4;
    if (e < KT * DH4 && j < kEnd) {
      pk[u] = fl_k(j, e % DH4);
      pv[u] = fl_v(j, e % DH4);
    }
  }
  if (lid < KT && kBeg + lid < kEnd) { pm = fl_key_ok(kBeg + lid); }
  for (var j0 = kBeg; j0 < kEnd; j0 += KT) {
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
        pk[u] = fl_k(j, e % DH4);
        pv[u] = fl_v(j, e % DH4);
      }
    }
    pm = 0.0;
    if (lid < KT && j1 + lid < kEnd) { pm = fl_key_ok(j1 + lid); }

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
#ifdef FL_SPLIT
  // A key split's partial: the unnormalised rows with their max and sum (lane 0 of each octet writes those).
  for (var q = 0u; q < RQ; q++) {
    let l = oct_sum(lsum[q]);
    if (i0 + ra + q < rows) {
      if (kg == 0u) { fl_store_ml(i0 + ra + q, m[q], l); }
      for (var n = 0u; n < NV; n++) { fl_store_part(i0 + ra + q, kg + 8u * n, acc[q * NV + n]); }
    }
  }
#else
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
    if (i0 + ra + q < rows) {
      for (var n = 0u; n < NV; n++) { fl_store(i0 + ra + q, kg + 8u * n, acc[q * NV + n] * inv); }
    }
  }
#endif
}

#ifdef FL_SPLIT
// Vec4 c of a row merged from its S split partials, at ml slots s0, s0 + stride, … (part: DH4 vec4s a slot).
fn flash_merge(s0: u32, stride: u32, S: u32, c: u32) -> vec4<f32> {
  var mx = NEG;
  for (var s = 0u; s < S; s++) { mx = max(mx, ml[s0 + s * stride].x); }
  var l = 0.0;
  var a = vec4<f32>(0.0);
  for (var s = 0u; s < S; s++) {
    let r = ml[s0 + s * stride];
    let f = exp(r.x - mx); // 1 for a split that saw no key, whose sum and rows are 0
    l += f * r.y;
    a += f * part[(s0 + s * stride) * DH4 + c];
  }
  return select(vec4<f32>(0.0), a / l, l > 0.0);
}
#endif
