// Causal attention over a paged KV cache with grouped-query heads (Qwen2 SDPA path), for prefill and decode.
//
//   o[m, h, :] = Σ_{j ≤ pos} softmax_j(scale · q[m, h, :]·K[j, g, :]) · V[j, g, :]
// with pos = step.start + m (absolute position of query row m), g = h / (Hq / Hkv) (HF repeat_kv: each kv head
// serves Hq/Hkv consecutive q heads), scale = 1/sqrt(D). K/V of position j live in the layer's pool at
// page = block_table[step.slot, j / pageSize], slot j % pageSize (layout in kv_cache.wgsl); they must already
// hold positions 0..start+M−1 (the fused append runs first), so a prefill can also continue a sequence whose
// prefix pages are shared with another sequence.
//
// q [M, Hq, D] f32 (already rotated), o [M, Hq·D] f32. The pool is f32, or packed halves with F16KV (see
// kv_cache.wgsl); every read goes through kv2/kv1, so the arithmetic is f32 either way.
// One workgroup (WG = 64 threads) owns one (q head, query row): keys are processed in chunks of WG with an
// online ("flash") softmax: thread t scores key c0+t (a D-long dot against q in workgroup memory), the chunk
// max updates the running max, every accumulator is rescaled by exp(old − new), and thread t owns output dims
// t, t+WG, … (DPT of them). Softmax statistics and accumulation in f32. Grid: (Hq, M). No sliding window.
// Variants: D (head dim) and DPT = ceil(D / WG) are compile-time constants.
//
// Entry `attend_rows` (prefill, many rows): one thread owns one (query row, q head) and walks its keys one by
// one with the same online softmax, q and the D accumulators in registers: no workgroup memory and no barriers,
// which suits CPU-like adapters (lavapipe) and long prefills where M·Hq threads fill the device. Consecutive
// threads are the q heads of one row, so they read the same K/V rows (GQA reuse through the cache).
// Grid: ceil(M·Hq / WG) split over x/y (rowStride in Params._p0).
//
// Entries `attend_split` + `attend_combine` (define SPLIT; decode at long contexts, "flash decoding"): the keys
// of each (row, head) are cut into splits of CH keys; `attend_split` gives one thread per (row, head, split) the
// same register online softmax over its CH keys and writes the partial (acc[D], max, sum) to
// part [M, Hq, maxSplits, D + 2]; `attend_combine` gives one thread per (row, head, d) the rescaled merge
// o = Σ_s e^{m_s − m} acc_s[d] / Σ_s e^{m_s − m} l_s over the ceil(n / CH) splits in use. No barriers; the grid
// covers maxSplits (fixed at plan time), threads past the context exit at once. Grid (split): ceil(M·Hq·maxSplits
// / WG); (combine): ceil(M·Hq·D / WG), both over x/y with rowStride.
//
// Entry `attend_split_wg` (defines SPLIT + SPLIT_WG, CH ≤ WG = 64; GPUs): the same partials, one workgroup per
// (row, kv head, split) for all GQ = Hq/Hkv q heads of that kv head, so each K/V row is read once for GQ heads
// instead of GQ times. Thread t scores key j0 + t against the GQ scaled q rows held in workgroup memory; threads
// 0..GQ−1 take each head's max, every thread exponentiates its key's GQ scores, and thread d then owns output
// dim d (d + WG, … for DPT > 1) of all GQ heads, reading V rows across the threads (coalesced). A one-thread-per
// (head, split) walk leaves a GPU with 14·32 threads at context 1024, each on a 32-key serial loop; this gives
// it Hkv·maxSplits workgroups of 64. Grid (maxSplits, Hkv, M); `attend_combine` is unchanged.
//
// Entries `attend_split_wide` (SPLIT_WIDE) and `attend_combine_wg` (COMBINE_WG): the same partials, each pass
// cut down to a few dependent memory round trips and barriers, for GPUs, where one decode row is latency bound
// (headers below). With SG they reduce through subgroup shuffles / subgroupMax / subgroupAdd; without, through
// workgroup memory. Either pairs with either combine: the partials layout is the same.

#ifdef SG
enable subgroups;
#endif
#include "paged_attn_params"

#ifdef SPLIT
const CH: u32 = {{CH}}u;
const MAXS: u32 = {{MAXS}}u;
#endif
#ifdef GQ
const GQ: u32 = {{GQ}}u;
#endif

#include "llm_step"

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<uniform> step: Step;
@group(0) @binding(2) var<storage, read> q: array<f32>;
#ifdef F16KV
@group(0) @binding(3) var<storage, read> pool: array<u32>;
#else
@group(0) @binding(3) var<storage, read> pool: array<f32>;
#endif
@group(0) @binding(4) var<storage, read> block_table: array<u32>;
@group(0) @binding(5) var<storage, read_write> o: array<f32>;
#ifdef SPLIT
@group(0) @binding(6) var<storage, read_write> part: array<f32>;
#endif

const WG: u32 = 64u;
const D: u32 = {{D}}u;
const DPT: u32 = {{DPT}}u;
const NEG_BIG: f32 = -3.402823e38;

var<workgroup> qs: array<f32, D>;
var<workgroup> pr: array<f32, WG>;
var<workgroup> sc: array<f32, WG>;
var<workgroup> vbase: array<u32, WG>;

// Pool elements e, e + 1 (e even), and element e.
#ifdef F16KV
fn kv2(e: u32) -> vec2<f32> {
  return unpack2x16float(pool[e >> 1u]);
}
fn kv1(e: u32) -> f32 {
  let v = unpack2x16float(pool[e >> 1u]);
  return select(v.x, v.y, (e & 1u) == 1u);
}
#else
fn kv2(e: u32) -> vec2<f32> {
  return vec2<f32>(pool[e], pool[e + 1u]);
}
fn kv1(e: u32) -> f32 {
  return pool[e];
}
#endif

fn row_base(j: u32, which: u32, g: u32) -> u32 {
  let page = block_table[step.slot * p.maxPages + j / p.pageSize];
  return (((page * 2u + which) * p.pageSize + j % p.pageSize) * p.Hkv + g) * D;
}

@compute @workgroup_size(WG)
fn attend(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let h = wid.x;
  let m = wid.y;
  let g = h / (p.Hq / p.Hkv);
  let n = step.start + m + 1u;
  let qb = (m * p.Hq + h) * D;
  for (var d = lid; d < D; d += WG) {
    qs[d] = q[qb + d];
  }
  workgroupBarrier();
  var mx = NEG_BIG;
  var l = 0.0;
  var acc: array<f32, DPT>;
  for (var c0 = 0u; c0 < n; c0 += WG) {
    let j = c0 + lid;
    var s = NEG_BIG;
    if (j < n) {
      let kb = row_base(j, 0u, g);
      var dot = 0.0;
      for (var d = 0u; d < D; d += 2u) {
        let k = kv2(kb + d);
        dot = fma(qs[d], k.x, dot);
        dot = fma(qs[d + 1u], k.y, dot);
      }
      s = dot * p.scale;
      vbase[lid] = row_base(j, 1u, g);
    }
    sc[lid] = s;
    workgroupBarrier();
    let cn = min(WG, n - c0);
    var cmax = mx;
    for (var t = 0u; t < cn; t++) {
      cmax = max(cmax, sc[t]);
    }
    let alpha = exp(mx - cmax);
    pr[lid] = select(0.0, exp(s - cmax), j < n);
    workgroupBarrier();
    var psum = 0.0;
    for (var t = 0u; t < cn; t++) {
      psum += pr[t];
    }
    l = l * alpha + psum;
    for (var e = 0u; e < DPT; e++) {
      let d = lid + e * WG;
      if (d < D) {
        var a = acc[e] * alpha;
        for (var t = 0u; t < cn; t++) {
          a = fma(pr[t], kv1(vbase[t] + d), a);
        }
        acc[e] = a;
      }
    }
    mx = cmax;
    // sc/pr/vbase are rewritten by the next chunk.
    workgroupBarrier();
  }
  for (var e = 0u; e < DPT; e++) {
    let d = lid + e * WG;
    if (d < D) {
      o[qb + d] = acc[e] / l;
    }
  }
}

@compute @workgroup_size(WG)
fn attend_rows(@builtin(global_invocation_id) gid: vec3<u32>) {
  let t = gid.y * p.rowStride + gid.x;
  if (t >= p.M * p.Hq) { return; }
  let m = t / p.Hq;
  let h = t % p.Hq;
  let g = h / (p.Hq / p.Hkv);
  let n = step.start + m + 1u;
  let qb = (m * p.Hq + h) * D;
  var qr: array<f32, D>;
  var acc: array<f32, D>;
  for (var d = 0u; d < D; d++) {
    qr[d] = q[qb + d] * p.scale;
  }
  var mx = NEG_BIG;
  var l = 0.0;
  for (var j = 0u; j < n; j++) {
    let kb = row_base(j, 0u, g);
    var s = 0.0;
    for (var d = 0u; d < D; d += 2u) {
      let k = kv2(kb + d);
      s = fma(qr[d], k.x, s);
      s = fma(qr[d + 1u], k.y, s);
    }
    if (s > mx) {
      let alpha = exp(mx - s);
      l *= alpha;
      for (var d = 0u; d < D; d++) {
        acc[d] *= alpha;
      }
      mx = s;
    }
    let pj = exp(s - mx);
    l += pj;
    let vb = kb + p.pageSize * p.Hkv * D;
    for (var d = 0u; d < D; d += 2u) {
      let v = kv2(vb + d);
      acc[d] = fma(pj, v.x, acc[d]);
      acc[d + 1u] = fma(pj, v.y, acc[d + 1u]);
    }
  }
  for (var d = 0u; d < D; d++) {
    o[qb + d] = acc[d] / l;
  }
}

#ifdef SPLIT
@compute @workgroup_size(WG)
fn attend_split(@builtin(global_invocation_id) gid: vec3<u32>) {
  let t = gid.y * p.rowStride + gid.x;
  if (t >= p.M * p.Hq * MAXS) { return; }
  let sp = t % MAXS;
  let mh = t / MAXS;
  let m = mh / p.Hq;
  let h = mh % p.Hq;
  let g = h / (p.Hq / p.Hkv);
  let n = step.start + m + 1u;
  let j0 = sp * CH;
  if (j0 >= n) { return; }
  let j1 = min(j0 + CH, n);
  let qb = mh * D;
  var qr: array<f32, D>;
  var acc: array<f32, D>;
  for (var d = 0u; d < D; d++) {
    qr[d] = q[qb + d] * p.scale;
  }
  var mx = NEG_BIG;
  var l = 0.0;
  for (var j = j0; j < j1; j++) {
    let kb = row_base(j, 0u, g);
    var s = 0.0;
    for (var d = 0u; d < D; d += 2u) {
      let k = kv2(kb + d);
      s = fma(qr[d], k.x, s);
      s = fma(qr[d + 1u], k.y, s);
    }
    if (s > mx) {
      let alpha = exp(mx - s);
      l *= alpha;
      for (var d = 0u; d < D; d++) {
        acc[d] *= alpha;
      }
      mx = s;
    }
    let pj = exp(s - mx);
    l += pj;
    let vb = kb + p.pageSize * p.Hkv * D;
    for (var d = 0u; d < D; d += 2u) {
      let v = kv2(vb + d);
      acc[d] = fma(pj, v.x, acc[d]);
      acc[d + 1u] = fma(pj, v.y, acc[d + 1u]);
    }
  }
  let pb = (mh * MAXS + sp) * (D + 2u);
  for (var d = 0u; d < D; d++) {
    part[pb + d] = acc[d];
  }
  part[pb + D] = mx;
  part[pb + D + 1u] = l;
}

#ifdef SPLIT_WG
var<workgroup> qg: array<f32, GQ * D>;
var<workgroup> wsc: array<f32, GQ * CH>;
var<workgroup> vrow: array<u32, CH>;
var<workgroup> hmax: array<f32, GQ>;

@compute @workgroup_size(WG)
fn attend_split_wg(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let sp = wid.x;
  let g = wid.y;
  let m = wid.z;
  let n = step.start + m + 1u;
  let j0 = sp * CH;
  if (j0 >= n) { return; } // uniform: the whole workgroup leaves
  let cn = min(CH, n - j0);
  let h0 = g * GQ; // first q head of this kv head (HF repeat_kv order)
  let qb = (m * p.Hq + h0) * D; // the GQ heads' rows are consecutive in q
  for (var e = lid; e < GQ * D; e += WG) {
    qg[e] = q[qb + e] * p.scale;
  }
  workgroupBarrier();
  if (lid < cn) {
    let kb = row_base(j0 + lid, 0u, g);
    var dots: array<f32, GQ>;
    for (var d = 0u; d < D; d += 2u) {
      let k = kv2(kb + d);
      for (var i = 0u; i < GQ; i++) {
        dots[i] = fma(qg[i * D + d + 1u], k.y, fma(qg[i * D + d], k.x, dots[i]));
      }
    }
    for (var i = 0u; i < GQ; i++) {
      wsc[i * CH + lid] = dots[i];
    }
    vrow[lid] = kb + p.pageSize * p.Hkv * D;
  }
  workgroupBarrier();
  if (lid < GQ) {
    var mx = NEG_BIG;
    for (var t = 0u; t < cn; t++) {
      mx = max(mx, wsc[lid * CH + t]);
    }
    hmax[lid] = mx;
  }
  workgroupBarrier();
  if (lid < cn) {
    for (var i = 0u; i < GQ; i++) {
      wsc[i * CH + lid] = exp(wsc[i * CH + lid] - hmax[i]);
    }
  }
  workgroupBarrier();
  let pb0 = ((m * p.Hq + h0) * MAXS + sp) * (D + 2u);
  let hstride = MAXS * (D + 2u); // next q head's partial of the same split
  if (lid < GQ) {
    var l = 0.0;
    for (var t = 0u; t < cn; t++) {
      l += wsc[lid * CH + t];
    }
    part[pb0 + lid * hstride + D] = hmax[lid];
    part[pb0 + lid * hstride + D + 1u] = l;
  }
  var acc: array<f32, GQ * DPT>;
  for (var t = 0u; t < cn; t++) {
    let vb = vrow[t];
    for (var e = 0u; e < DPT; e++) {
      let v = kv1(vb + min(lid + e * WG, D - 1u)); // dims past D (D < WG) are computed, not stored
      for (var i = 0u; i < GQ; i++) {
        acc[e * GQ + i] = fma(wsc[i * CH + t], v, acc[e * GQ + i]);
      }
    }
  }
  for (var e = 0u; e < DPT; e++) {
    let d = lid + e * WG;
    if (d < D) {
      for (var i = 0u; i < GQ; i++) {
        part[pb0 + i * hstride + d] = acc[e * GQ + i];
      }
    }
  }
}
#endif

#ifdef SPLIT_WIDE
// Entry `attend_split_wide`: one workgroup of SWG = 128 threads per (split of CH = 32, 64 or 128 keys, kv head g,
// row m), for all GQ q heads of g at once (each K/V row read once for GQ heads). Grid (maxSplits, Hkv, M).
// `attend_split_wg` spends its time waiting: a thread walks a key's 64 dims, then one loop walks the split's keys
// for P·V with a V load per iteration, behind a chain of barriers. Here every global load is issued up front,
// independent of the others, so a pass costs about two memory latencies (block table, then K/V) plus four barriers:
//   A. thread (k = lid / TPK, s = lid % TPK) looks up key j0 + k's page and loads its slice of the K row (dim pairs
//      s, s + TPK, …; TPK = SWG / CH threads per key, neighbours read neighbouring pairs), publishes the key's V
//      row base, and all threads stage the GQ scaled q rows. Barrier. Thread (vp = lid % NP, vs = lid / NP) then
//      loads dim pair vp of the V rows of keys vs, vs + KS, … (KS = SWG / NP key slices, NP = D / 2): the V
//      latency runs under the scores and the softmax.
//   B. GQ dots over the slice, summed across the key's TPK lanes (SG: subgroupShuffleXor; else workgroup memory +
//      a barrier); keys past the context score −∞ (their loads read the last key's row, so none is conditional).
//      Each subgroup's maximum per head goes to workgroup memory (SG: subgroupMax; else every key's score). Barrier.
//   C. the head maxima (one pass over those group maxima), and p = e^{s − max}: lane s of key k takes heads
//      i ≡ s (mod TPK). Barrier.
//   D. P·V: thread (vp, vs) adds p·V over its keys for the GQ heads (and Σ p); key slices 1..KS−1 leave their sums
//      in workgroup memory. Barrier. Slice 0 adds them and writes the partials (the max and sum: thread 0).
// Workgroup memory (f32 words): wq max(GQ·D, (KS−1)·GQ·D) (q, then the P·V slices: q is dead after B), wp GQ·CH
// (without SG GQ·SWG: the TPK dot partials first), wm GQ·NGRP, wv CH (u32), wl max(KS−1, 1)·GQ; GQ = 7, D = 64,
// CH = 32 with SG: 7.3 KB. kernels/paged-attention.ts wideSplitBytes checks it against the device limit.
// Needs NP ≤ SWG (D ≤ 256); TPK ≤ 4 ≤ any subgroup, whose lanes are taken to be consecutive local indices.
const SWG: u32 = 128u;
const TPK: u32 = SWG / CH;
const NP: u32 = D / 2u;
const PPT: u32 = (NP + TPK - 1u) / TPK; // K pairs per scoring thread
const KS: u32 = SWG / NP;
const KPT: u32 = (CH + KS - 1u) / KS;   // V rows per P·V thread
#ifdef SG
const NGRP: u32 = SWG / 4u; // subgroups of a workgroup at most (WebGPU subgroups have at least 4 lanes)
const WPN: u32 = GQ * CH;
#else
const NGRP: u32 = CH;        // without subgroups each key is its own group
const WPN: u32 = GQ * SWG;
#endif
var<workgroup> wq: array<vec2<f32>, max(GQ * NP, (KS - 1u) * GQ * NP)>;
var<workgroup> wp: array<f32, WPN>;
var<workgroup> wm: array<f32, GQ * NGRP>;
var<workgroup> wv: array<u32, CH>;
var<workgroup> wl: array<f32, max(KS - 1u, 1u) * GQ>;

// Maximum of head i's scores in the split, from the ng group maxima.
fn wide_head_max(i: u32, ng: u32) -> f32 {
  var mx = NEG_BIG;
  for (var t = 0u; t < ng; t++) {
    mx = max(mx, wm[i * NGRP + t]);
  }
  return mx;
}

@compute @workgroup_size(SWG)
fn attend_split_wide(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
#ifdef SG
  @builtin(subgroup_size) sgs: u32,
#endif
) {
  let sp = wid.x;
  let g = wid.y;
  let m = wid.z;
  let n = step.start + m + 1u;
  let j0 = sp * CH;
  if (j0 >= n) { return; } // uniform: the whole workgroup leaves
  let cn = min(CH, n - j0);
  let h0 = g * GQ;
  // A: the K slice, the V row base, the q rows.
  let k = lid / TPK;
  let s = lid % TPK;
  let kb = row_base(j0 + min(k, cn - 1u), 0u, g);
  var kr: array<vec2<f32>, PPT>;
  for (var t = 0u; t < PPT; t++) {
    kr[t] = kv2(kb + 2u * min(s + t * TPK, NP - 1u));
  }
  if (s == 0u) {
    wv[k] = kb + p.pageSize * p.Hkv * D;
  }
  let qb = (m * p.Hq + h0) * D;
  for (var e = lid; e < GQ * NP; e += SWG) {
    wq[e] = vec2<f32>(q[qb + 2u * e], q[qb + 2u * e + 1u]) * p.scale;
  }
  workgroupBarrier();
  let vp = lid % NP;
  let vs = lid / NP; // KS or more: idle in D (threads past NP·KS when NP does not divide SWG)
  var vr: array<vec2<f32>, KPT>;
  for (var t = 0u; t < KPT; t++) {
    vr[t] = kv2(wv[min(vs + t * KS, CH - 1u)] + 2u * vp);
  }
  // B: scores.
  var dot: array<f32, GQ>;
  for (var t = 0u; t < PPT; t++) {
    let pp = s + t * TPK;
    if (pp < NP) {
      for (var i = 0u; i < GQ; i++) {
        let qv = wq[i * NP + pp];
        dot[i] = fma(qv.x, kr[t].x, fma(qv.y, kr[t].y, dot[i]));
      }
    }
  }
#ifdef SG
  for (var i = 0u; i < GQ; i++) {
    var x = dot[i];
    for (var o = 1u; o < TPK; o <<= 1u) {
      x += subgroupShuffleXor(x, o);
    }
    dot[i] = select(NEG_BIG, x, k < cn);
    let mx = subgroupMax(dot[i]);
    if (lid % sgs == 0u) {
      wm[i * NGRP + lid / sgs] = mx;
    }
  }
  let ng = SWG / sgs;
#else
  for (var i = 0u; i < GQ; i++) {
    wp[(i * CH + k) * TPK + s] = dot[i];
  }
  workgroupBarrier();
  for (var i = 0u; i < GQ; i++) {
    var x = 0.0;
    for (var u = 0u; u < TPK; u++) {
      x += wp[(i * CH + k) * TPK + u];
    }
    dot[i] = select(NEG_BIG, x, k < cn);
    if (s == 0u) {
      wm[i * NGRP + k] = dot[i];
    }
  }
  let ng = CH;
#endif
  workgroupBarrier();
  // C: probabilities (wp's dot partials, without SG, were all read before the barrier).
  for (var i = 0u; i < GQ; i++) {
    if (i % TPK == s) {
      wp[i * CH + k] = exp(dot[i] - wide_head_max(i, ng));
    }
  }
  workgroupBarrier();
  // D: P·V over this thread's keys.
  var acc: array<vec2<f32>, GQ>;
  var l: array<f32, GQ>;
  for (var t = 0u; t < KPT; t++) {
    let kk = vs + t * KS;
    if (kk < CH) {
      for (var i = 0u; i < GQ; i++) {
        let pw = wp[i * CH + kk];
        acc[i] = fma(vec2<f32>(pw), vr[t], acc[i]);
        l[i] += pw;
      }
    }
  }
  if (vs > 0u && vs < KS) {
    for (var i = 0u; i < GQ; i++) {
      wq[((vs - 1u) * GQ + i) * NP + vp] = acc[i];
    }
    if (vp == 0u) {
      for (var i = 0u; i < GQ; i++) {
        wl[(vs - 1u) * GQ + i] = l[i];
      }
    }
  }
  workgroupBarrier();
  if (vs == 0u) {
    let pb0 = ((m * p.Hq + h0) * MAXS + sp) * (D + 2u);
    let hstride = MAXS * (D + 2u); // next q head's partial of the same split
    for (var i = 0u; i < GQ; i++) {
      var a = acc[i];
      for (var u = 1u; u < KS; u++) {
        a += wq[((u - 1u) * GQ + i) * NP + vp];
      }
      part[pb0 + i * hstride + 2u * vp] = a.x;
      part[pb0 + i * hstride + 2u * vp + 1u] = a.y;
    }
    if (vp == 0u) {
      for (var i = 0u; i < GQ; i++) {
        var li = l[i];
        for (var u = 1u; u < KS; u++) {
          li += wl[(u - 1u) * GQ + i];
        }
        part[pb0 + i * hstride + D] = wide_head_max(i, ng);
        part[pb0 + i * hstride + D + 1u] = li;
      }
    }
  }
}
#endif

@compute @workgroup_size(WG)
fn attend_combine(@builtin(global_invocation_id) gid: vec3<u32>) {
  let t = gid.y * p.rowStride + gid.x;
  if (t >= p.M * p.Hq * D) { return; }
  let d = t % D;
  let mh = t / D;
  let m = mh / p.Hq;
  let n = step.start + m + 1u;
  let ns = (n + CH - 1u) / CH;
  let base = mh * MAXS * (D + 2u);
  var mx = NEG_BIG;
  for (var s = 0u; s < ns; s++) {
    mx = max(mx, part[base + s * (D + 2u) + D]);
  }
  var l = 0.0;
  var a = 0.0;
  for (var s = 0u; s < ns; s++) {
    let pb = base + s * (D + 2u);
    let f = exp(part[pb + D] - mx);
    l = fma(f, part[pb + D + 1u], l);
    a = fma(f, part[pb + d], a);
  }
  o[mh * D + d] = a / l;
}

#ifdef COMBINE_WG
// Entry `attend_combine_wg`: one workgroup of CWG = 256 threads per (q head, row); grid (Hq, M). `attend_combine`
// gives a thread one output and two serial loops over the splits, each iteration waiting for its own load (at 32
// splits, 64 memory latencies). Here all loads are independent and issued at the start:
//   thread lid loads split lid's (max, sum) (lid + CWG, … past CWG splits); thread (d = lid % D, cs = lid / D)
//   loads dim d of splits cs, cs + CS, … (CS = CWG / D slices), the first UB of them before any barrier.
//   The maximum m over splits: subgroupMax (SG) or one value per thread, into workgroup memory. Barrier.
//   Each split's weight e^{m_s − m} into workgroup memory, and L = Σ_s e^{m_s − m} l_s per group. Barrier.
//   Thread (d, cs) adds its weighted values (more blocks of UB loads past UB·CS splits: 64 at D = 64); slices
//   1..CS−1 leave their sums in workgroup memory. Barrier. Slice 0 writes o = Σ / L.
// Workgroup memory (f32 words): cw MAXS, cm and cl CNG each (SG: CWG / 4, else CWG), co max(CS − 1, 1)·D.
// Needs D ≤ CWG. kernels/paged-attention.ts combineWgBytes checks the size against the device limit.
const CWG: u32 = 256u;
const SPW: u32 = (MAXS + CWG - 1u) / CWG; // splits per thread in the statistics
const CS: u32 = CWG / D;
const UB: u32 = 16u;
#ifdef SG
const CNG: u32 = CWG / 4u;
#else
const CNG: u32 = CWG;
#endif
var<workgroup> cw: array<f32, MAXS>;
var<workgroup> cm: array<f32, CNG>;
var<workgroup> cl: array<f32, CNG>;
var<workgroup> co: array<f32, max(CS - 1u, 1u) * D>;

@compute @workgroup_size(CWG)
fn attend_combine_wg(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
#ifdef SG
  @builtin(subgroup_size) sgs: u32,
#endif
) {
  let mh = wid.y * p.Hq + wid.x;
  let n = step.start + wid.y + 1u;
  let ns = (n + CH - 1u) / CH;
  let base = mh * MAXS * (D + 2u);
  let d = lid % D;
  let cs = lid / D; // CS or more: idle (threads past D·CS when D does not divide CWG)
  var pre: array<f32, UB>;
  for (var u = 0u; u < UB; u++) {
    pre[u] = part[base + min(cs + u * CS, ns - 1u) * (D + 2u) + d];
  }
  var sm: array<f32, SPW>;
  var sl: array<f32, SPW>;
  var mx = NEG_BIG;
  for (var t = 0u; t < SPW; t++) {
    let s = lid + t * CWG;
    if (s < ns) {
      sm[t] = part[base + s * (D + 2u) + D];
      sl[t] = part[base + s * (D + 2u) + D + 1u];
      mx = max(mx, sm[t]);
    }
  }
#ifdef SG
  let gmx = subgroupMax(mx);
  if (lid % sgs == 0u) {
    cm[lid / sgs] = gmx;
  }
  let ng = CWG / sgs;
#else
  cm[lid] = mx;
  let ng = min(ns, CWG); // threads past ns hold no split
#endif
  workgroupBarrier();
  var m = NEG_BIG;
  for (var t = 0u; t < ng; t++) {
    m = max(m, cm[t]);
  }
  var lp = 0.0;
  for (var t = 0u; t < SPW; t++) {
    let s = lid + t * CWG;
    if (s < ns) {
      let f = exp(sm[t] - m);
      cw[s] = f;
      lp = fma(f, sl[t], lp);
    }
  }
#ifdef SG
  let gl = subgroupAdd(lp);
  if (lid % sgs == 0u) {
    cl[lid / sgs] = gl;
  }
#else
  cl[lid] = lp;
#endif
  workgroupBarrier();
  var a = 0.0;
  if (cs < CS) {
    for (var u = 0u; u < UB; u++) {
      let s = cs + u * CS;
      if (s < ns) {
        a = fma(cw[s], pre[u], a);
      }
    }
    for (var s0 = UB * CS; s0 < ns; s0 += UB * CS) {
      var blk: array<f32, UB>;
      for (var u = 0u; u < UB; u++) {
        blk[u] = part[base + min(s0 + cs + u * CS, ns - 1u) * (D + 2u) + d];
      }
      for (var u = 0u; u < UB; u++) {
        let s = s0 + cs + u * CS;
        if (s < ns) {
          a = fma(cw[s], blk[u], a);
        }
      }
    }
  }
  if (cs > 0u && cs < CS) {
    co[(cs - 1u) * D + d] = a;
  }
  workgroupBarrier();
  if (cs == 0u) {
    for (var u = 1u; u < CS; u++) {
      a += co[(u - 1u) * D + d];
    }
    var lsum = 0.0;
    for (var t = 0u; t < ng; t++) {
      lsum += cl[t];
    }
    o[mh * D + d] = a / lsum;
  }
}
#endif
#endif
