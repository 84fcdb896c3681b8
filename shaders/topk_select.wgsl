// The top-k selection of one row, shared by shaders/topk.wgsl (entries `rows`, `radix`) and shaders/sample.wgsl
// (the sampler's `topk`, `topk_rounds`); included, not a kernel family of its own. The includer declares
// `x: array<f32>` (storage, read: the rows), `const WG: u32` (threads of the one workgroup that owns a row) and
// `const NONE = 0xffffffffu`, and writes the output itself: these functions only find the picks.
//
// Order: larger value first; equal values by smaller index first (a total order, so the result is unique and
// stable across runs). −0 and +0 are equal values (ordered by index). NaN elements are skipped, ±inf are numbers.
// The row is x[base .. base + cols); both forms must be called by every thread of the workgroup (barriers).
//
// Without PT: the k-rounds form, `round_pick`. Round j selects the largest element strictly below the previous
// pick in that total order, so nothing has to be marked or copied. A round is a strided scan (each thread keeps
// its best candidate) and a shared-memory argmax tree. Cost k·cols reads and k·log2(WG) barriers per row, no
// scratch. Cheap where barriers and re-reads are cheap relative to anything cleverer; on a GPU the k dependent
// row scans are latency-bound (H200, 1×6761, k=25: 142 µs).
//
// With PT (the per-thread key count): an exact radix select, `radix_select`, on the compound key
//
//   K(c) = (ukey(x[c]), cols−1−c)          ukey = float bits with the sign bit flipped (negatives: all bits),
//                                           so u32 order = float order; ±0 → one key; NaN → 0 = "absent"
//
// whose descending order is the output order (larger value, then smaller index). Each thread loads its
// elements c = lid + j·WG (j < PT, coalesced) once into registers as ukeys; columns past PT·WG are re-read
// from x in each pass. Candidates are only keys ≥ lo, a lower bound on the k-th largest from the maxima of k
// disjoint thread groups (one atomicMax each): for logits it drops 95–99 % of the row before the first
// histogram, whose top digit would otherwise send most of the row into a few bins (serialised atomics).
// A pass histograms the next 8-bit digit of K over the candidates that match the digits chosen so far
// (workgroup atomics into 256 bins), a suffix scan over the bins finds the bin holding the `need`-th largest,
// and need drops by the count above it. Four passes cover the value; ties on the value
// continue into ceil(log2(cols)/8) passes over the reversed index, so the result is exact. The select stops
// as soon as the chosen bin holds exactly `need` elements (then all of them are in): for real logits that is
// usually after 2–3 passes. The k selected elements are then gathered into workgroup memory in any order and
// each of the first k threads counts the selected elements before its own (O(k²) compares) to get its rank.
// The includer re-reads the value from x, so −0 stays −0 in the output.
//
// Per pass: one sweep over the registers, then 3 barriers: after the histogram, inside the two-level suffix
// scan (16 groups of 16 bins; a log-step scan would take 8), and the decision's (workgroupUniformLoad, which is
// also what makes `done` uniform for the loop's break). Barriers are what a pass costs on CPU adapters and a
// good part of it on GPUs, so the histogram is double-buffered: the next pass's copy is cleared while this one
// fills. Workgroup memory: 2·1 KiB histograms + 1 KiB scan + 0.75 KiB selection and bound ≈ 3.8 KiB.
// No optional features: no subgroups, no f16. Needs WG ≥ 256 (one bin per scanning thread), k ≤ KMAX and
// WG ≥ k (one rank per thread).

#ifndef PT
var<workgroup> rv: array<f32, WG>;
var<workgroup> ri: array<u32, WG>;

// (va, ia) comes before (vb, ib) in the output order. Index NONE marks "no candidate".
fn before(va: f32, ia: u32, vb: f32, ib: u32) -> bool {
  if (ia == NONE) { return false; }
  if (ib == NONE) { return true; }
  return va > vb || (va == vb && ia < ib);
}

struct Pick {
  v: f32,
  i: u32,         // column in the row; NONE once the non-NaN elements have run out
}

// Round j's pick: the first element after `prev` (round 0: the first of all) in the output order; the same for
// every thread. The previous pick comes back in, so the caller's loop is the only state.
fn round_pick(lid: u32, base: u32, cols: u32, j: u32, prev: Pick) -> Pick {
  var bv = 0.0;
  var bi = NONE;
  for (var c = lid; c < cols; c += WG) {
    let v = x[base + c];
    // NaN test on the bits: compilers may fold `v != v` to false (WGSL lets them assume finite math; lavapipe
    // does, and then a NaN wins every comparison it meets).
    if ((bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u) { continue; }
    // Must come strictly after the previous pick (once the picks run out, prev.i stays NONE and before()
    // rejects everything) ...
    let after_prev = j == 0u || before(prev.v, prev.i, v, c);
    // ... and before this thread's current best.
    if (after_prev && before(v, c, bv, bi)) {
      bv = v;
      bi = c;
    }
  }
  rv[lid] = bv;
  ri[lid] = bi;
  workgroupBarrier();
  for (var st = WG / 2u; st > 0u; st >>= 1u) {
    if (lid < st && before(rv[lid + st], ri[lid + st], rv[lid], ri[lid])) {
      rv[lid] = rv[lid + st];
      ri[lid] = ri[lid + st];
    }
    workgroupBarrier();
  }
  let best = Pick(rv[0], ri[0]);
  workgroupBarrier(); // rv/ri are rewritten by the next round
  return best;
}
#else
const PT: u32 = {{PT}}u;
const NB: u32 = 256u;        // bins of an 8-bit digit
const KMAX: u32 = 64u;       // TOPK_MAX (kernels/topk.ts)

var<workgroup> hist: array<array<atomic<u32>, NB>, 2>;
var<workgroup> sfx: array<u32, NB>;      // in-group suffix sums
// The select's state: elements whose chosen digits (key & s_kmask, rev & s_rmask) equal (s_kp, s_rp) are the
// candidates; s_need of them still have to be taken. Written by the one deciding thread, read by all at the
// start of the next pass (a barrier in between).
var<workgroup> s_kmask: u32;
var<workgroup> s_kp: u32;
var<workgroup> s_rmask: u32;
var<workgroup> s_rp: u32;
var<workgroup> s_need: u32;
var<workgroup> s_done: u32;
var<workgroup> s_kk: u32;    // min(k, non-NaN count): selected elements
var<workgroup> nsel: atomic<u32>;
var<workgroup> gmax: array<atomic<u32>, KMAX>;   // per thread group (lid mod k): the largest key
var<workgroup> s_lo: atomic<u32>;                // min of gmax: the lower bound of the candidates
var<workgroup> sel_key: array<u32, KMAX>;
var<workgroup> sel_idx: array<u32, KMAX>;

// Order-preserving u32 of a float, on the bits (exact whatever the adapter does with denormals): negatives
// flip all bits, the rest only the sign, so −inf → 0x007fffff and +inf → 0xff800000. Both zeros map to
// 0x80000000 (they compare equal as floats); NaN maps to 0, below every number, and is never counted.
fn ukey(v: f32) -> u32 {
  let b = bitcast<u32>(v);
  let mag = b & 0x7fffffffu;
  if (mag > 0x7f800000u) { return 0u; }
  if (mag == 0u) { return 0x80000000u; }
  return select(b | 0x80000000u, ~b, b >= 0x80000000u);
}

// The current pass's view of the select state (uniform within a pass).
struct Sel {
  cols: u32,
  lo: u32,        // candidates have ukey ≥ lo (≥ 1, so never NaN)
  kmask: u32,
  kp: u32,
  rmask: u32,
  rp: u32,
  on_key: bool,   // this pass's digit comes from the value key (passes 0–3), else from the reversed index
  sh: u32,        // the digit's shift
  cur: u32,       // histogram buffer of this pass
}

fn count(key: u32, c: u32, s: Sel) {
  let rev = s.cols - 1u - c;
  if (key < s.lo || (key & s.kmask) != s.kp || (rev & s.rmask) != s.rp) { return; }
  let d = (select(rev, key, s.on_key) >> s.sh) & 0xffu;
  atomicAdd(&hist[s.cur][d], 1u);
}

// Selected iff K(c) ≥ the chosen prefix: a higher chosen digit anywhere, or all chosen digits equal (the
// final bin is taken whole). During the key passes rmask = rp = 0, so only the key part decides.
fn gather(key: u32, c: u32, s: Sel) {
  let rev = s.cols - 1u - c;
  let km = key & s.kmask;
  if (key < s.lo || km < s.kp || (km == s.kp && (rev & s.rmask) < s.rp)) { return; }
  let slot = atomicAdd(&nsel, 1u);
  if (slot < KMAX) {
    sel_key[slot] = key;
    sel_idx[slot] = c;
  }
}

struct Ranked {
  n: u32,         // min(k, non-NaN elements): picks; the same for every thread
  rank: u32,      // for lid < n: this thread's pick is the rank-th in the output order ...
  col: u32,       // ... and sits at this column of the row
}

// The top min(k, non-NaN count) of the row, one per thread lid < n, each with its output position.
fn radix_select(lid: u32, base: u32, cols: u32, k: u32) -> Ranked {
  var kv: array<u32, PT>;
  var mine = 0u;
  for (var j = 0u; j < PT; j++) {
    let c = lid + j * WG;
    var key = 0u;
    if (c < cols) { key = ukey(x[base + c]); }
    kv[j] = key;
    mine = max(mine, key);
  }
  if (lid < NB) {
    atomicStore(&hist[0][lid], 0u);
    atomicStore(&hist[1][lid], 0u);
  }
  if (lid == 0u) {
    s_kmask = 0u;
    s_kp = 0u;
    s_rmask = 0u;
    s_rp = 0u;
    s_need = k;
    s_done = 0u;
    s_kk = 0u;
    atomicStore(&nsel, 0u);
    atomicStore(&s_lo, NONE);
  }
  if (lid < KMAX) { atomicStore(&gmax[lid], 0u); }
  workgroupBarrier();
  // A lower bound on the k-th largest key, so that pass 0 does not histogram the whole row (its top digit
  // puts most logits into a few bins, and conflicting atomics serialise): the k thread groups' maxima are k
  // distinct elements, so at least k keys are ≥ their minimum, and every top-k element is. Rows with fewer
  // than k numbers have a group without one, so lo = 1 there (all non-NaN). For normal logits (1×6761) this
  // leaves 1.3 % of the row at k=25, 4.5 % at k=64 (simulated), and the select then takes 2–3 passes. Exact:
  // the candidates hold the top k and everything ranked above any of them.
  atomicMax(&gmax[lid % k], mine);
  workgroupBarrier();
  if (lid < k) { atomicMin(&s_lo, atomicLoad(&gmax[lid])); }
  workgroupBarrier();
  let lo = max(atomicLoad(&s_lo), 1u);

  // Index digits: enough 8-bit passes to cover cols−1 (0 for a single column, which the first pass settles).
  let ipasses = (32u - countLeadingZeros(max(cols, 1u) - 1u) + 7u) / 8u;
  for (var ps = 0u; ps < 4u + ipasses; ps++) {
    let on_key = ps < 4u;
    let s = Sel(cols, lo, s_kmask, s_kp, s_rmask, s_rp, on_key, select(8u * (ipasses + 3u - ps), 24u - 8u * min(ps, 3u), on_key), ps & 1u);
    let need = s_need;
    for (var j = 0u; j < PT; j++) { count(kv[j], lid + j * WG, s); }
    for (var c = lid + PT * WG; c < cols; c += WG) { count(ukey(x[base + c]), c, s); }
    if (lid < NB) { atomicStore(&hist[s.cur ^ 1u][lid], 0u); } // next pass's buffer; last read before the last barrier
    workgroupBarrier();

    // Suffix sums over the bins (descending key order runs from bin 255 down), in two levels of 16 so that
    // one barrier suffices: each thread sums its bin's group of 16 from itself upwards, then adds the totals
    // of the groups above. Within a group every lane reads the same bin at once (a broadcast).
    var h = 0u;
    if (lid < NB) {
      let g0 = lid & ~15u;
      var in_group = 0u;
      for (var i = 0u; i < 16u; i++) {
        let v = atomicLoad(&hist[s.cur][g0 + i]);
        if (g0 + i >= lid) { in_group += v; }
        if (g0 + i == lid) { h = v; }
      }
      sfx[lid] = in_group;
    }
    workgroupBarrier();
    if (lid < NB) {
      var total = 0u;
      var incl = sfx[lid];
      for (var g = 0u; g < NB; g += 16u) {
        let v = sfx[g];   // group g's total (its first bin's in-group suffix)
        total += v;
        if (g > lid) { incl += v; }
      }
      let above = incl - h;
      if (ps == 0u && total <= need) {
        // At most k candidates (then lo = 1 or exactly k): take them all; a tail past total stays empty.
        if (lid == 0u) {
          s_kmask = NONE;
          s_kp = lo;
          s_kk = total;
          s_done = 1u;
        }
      } else if (above < need && need <= incl) {
        // The one bin holding the need-th largest candidate.
        if (on_key) {
          s_kmask = s.kmask | (0xffu << s.sh);
          s_kp = s.kp | (lid << s.sh);
        } else {
          s_rmask = s.rmask | (0xffu << s.sh);
          s_rp = s.rp | (lid << s.sh);
        }
        s_need = need - above;
        s_done = select(0u, 1u, incl == need); // the bin holds exactly the rest
        if (ps == 0u) { s_kk = k; }
      }
    }
    if (workgroupUniformLoad(&s_done) != 0u) { break; }
  }

  let s = Sel(cols, lo, s_kmask, s_kp, s_rmask, s_rp, true, 0u, 0u);
  for (var j = 0u; j < PT; j++) { gather(kv[j], lid + j * WG, s); }
  for (var c = lid + PT * WG; c < cols; c += WG) { gather(ukey(x[base + c]), c, s); }
  workgroupBarrier();

  // Rank among the selected (equal keys: tied values, ±0 included, go by index).
  let kk = s_kk;
  var res = Ranked(kk, 0u, 0u);
  if (lid < kk) {
    let mk = sel_key[lid];
    let mi = sel_idx[lid];
    for (var j = 0u; j < kk; j++) {
      let ok = sel_key[j];
      res.rank += select(0u, 1u, ok > mk || (ok == mk && sel_idx[j] < mi));
    }
    res.col = mi;
  }
  return res;
}
#endif
