// 1-D convolution for the HiFT vocoder (and any causal conv stack), as an implicit GEMM with fused prologue and
// epilogue:
//
//   out[co, t] = epi( bias[co] + Σ_ci Σ_k W[co, ci, k] · pro(xv[ci, t·stride + k·DIL − pad_left]) )
//
// where xv is the *virtual* input: x [Cin, Lin] repeated ×up (nearest upsampling, CausalConv1dUpsample),
// zero outside [0, Lin·up) (causal left padding and right zero padding / "valid" right context).
//   pro (input transform, per input channel ci):  LEAKY_IN: x<0 ? slope·x : x
//                                                 SNAKE_IN: x + inv_a·sin(a·x)²   (a, inv_a = 1/(a+1e-9))
//   epi (output transform):  SNAKE_OUT (conv1 of a ResBlock feeds Snake₂), then
//                            RESIDUAL: v += res[co, t]        (separate binding; res row stride res_stride)
//                            RES_INPLACE: v += out[co, t]     (x ← x + conv(...) in place)
//                            ACCUM: v = out[co, t] + v        (ResBlock mean: xs += rb_j(x))
//                            DIV: v = v / div                 (xs / num_kernels, a true division as upstream)
//   OUT_SHIFT: output column t is written at t+1 and column 1 is also written at 0: ReflectionPad1d((1, 0))
//              applied to the conv result before the residual (the source fusion) is added.
//   PHASES (polyphase nearest upsampling, u = PHASES): the conv runs at the input rate over u·C channels whose
//              weights fold the K taps of each output phase (kernels/conv1d.ts foldUpsampleWeight; ⌈(K−1)/u⌉ + 1
//              taps instead of K); channel r·C + c at column s is output channel c at time s·u + r, so bias,
//              Snake-out and the epilogue see (c, s·u + r) and the output is that of ×u repetition + the K-tap conv.
//
// Layouts (PyTorch order, row-major): x [Cin, Lin]; W pre-transposed at load to [Cin, K, CoutP] (CoutP = Cout
// rounded up to 4, zero-filled) so that 4 output channels are one vec4; bias [Cout]; out [Cout, out_stride];
// res [Cout, res_stride]; alpha tables [C] of vec2 (a, 1/(a+1e-9)).
//
// Entry `conv_win` (default): one invocation owns RT (8 or 16) output times × 16 output channels; see its block.
//   WINX = explicit register-sliding form (stride 1); WSG = weights loaded once per 8-lane subgroup and
//   broadcast (adapters whose subgroups are exactly 8 wide: lavapipe); STRIDE > 1 for the source downsamplers.
// Entry `conv_tiled` (stride 1): a workgroup owns a (4·TC4 co) × (TX·RT t) output tile, 64 × 64 by default
// (TX 16, TC4 16, RT 4), and walks Cin in chunks staged in workgroup memory; on GPUs short outputs take smaller
// tiles with the Cin reduction split SPLIT ways inside the workgroup; see its block.
// Entry `conv_direct` (any stride): one thread owns 4 output channels at one t and reads global memory directly.
// Why `win` wins on lavapipe (a CPU running 8 invocations per SIMD register): every per-lane memory access is
// a gather there, including uniform and workgroup-memory ones, so the kernel keeps the most FMAs per load; its
// loops index private arrays only with literals so that nothing is spilled to an indexed stack array.
// Limits: K, DIL, UP, STRIDE, RT, CI_T, TX, TC4, SPLIT are compile-time (defines); workgroup memory ≤ 16 KiB is the wrapper's job.

#ifdef WSG
enable subgroups;
#endif

#include "precise_trig"

struct Params {
  cin: u32,
  cout: u32,
  lin: u32,
  lout: u32,
  up: u32,
  pad_left: u32,
  stride: u32,
  cout_p4: u32, // CoutP / 4
  out_stride: u32,
  res_stride: u32,
  phase_c: u32, // PHASES: output channels C (the GEMM has PHASES·C)
  _p1: u32,
  slope: f32,
  div: f32,
  _p2: u32,
  _p3: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
#ifdef WSG
@group(0) @binding(2) var<storage, read> wf: array<f32>;
#else
@group(0) @binding(2) var<storage, read> w: array<vec4<f32>>;
#endif
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
#ifdef SNAKE_IN
@group(0) @binding(5) var<storage, read> alpha_in: array<vec2<f32>>;
#endif
#ifdef SNAKE_OUT
@group(0) @binding(6) var<storage, read> alpha_out: array<vec2<f32>>;
#endif
#ifdef RESIDUAL
@group(0) @binding(7) var<storage, read> res: array<f32>;
#endif

const K: u32 = {{K}}u;
const DIL: u32 = {{DIL}}u;
const UP: u32 = {{UP}}u;
#ifdef PHASES
const PHASES: u32 = {{PHASES}}u;
#endif

fn snake(v: f32, a: vec2<f32>) -> f32 {
  return v + a.y * precise_sin_sq(v * a.x);
}

// Input value at virtual position q (may be negative) of channel ci, with the prologue applied.
fn load_x(ci: u32, q: i32) -> f32 {
  if (ci >= p.cin || q < 0 || u32(q) >= p.lin * UP) { return 0.0; }
  // UP is a compile-time constant: a runtime u32 division would be scalarised per lane on SIMD CPUs.
  var v = x[ci * p.lin + u32(q) / UP];
#ifdef LEAKY_IN
  v = select(v, v * p.slope, v < 0.0);
#endif
#ifdef SNAKE_IN
  v = snake(v, alpha_in[ci]);
#endif
  return v;
}

// Epilogue of GEMM channel cg at column tg (equal to the output channel and time unless PHASES).
fn store(cg: u32, tg: u32, acc: f32) {
#ifdef PHASES
  let co = cg % p.phase_c;
  let t = tg * PHASES + cg / p.phase_c;
#else
  let co = cg;
  let t = tg;
#endif
  var v = acc + bias[co];
#ifdef SNAKE_OUT
  v = snake(v, alpha_out[co]);
#endif
  var col = t;
#ifdef OUT_SHIFT
  col = t + 1u;
#endif
#ifdef RESIDUAL
  let r = v + res[co * p.res_stride + col];
#else
  let r = v;
#endif
  write_out(co, col, r);
#ifdef OUT_SHIFT
  // ReflectionPad1d((1, 0)): padded column 0 holds conv column 1; the fusion residual is read at column 0.
  if (t == 1u) {
#ifdef RESIDUAL
    write_out(co, 0u, v + res[co * p.res_stride]);
#else
    write_out(co, 0u, v);
#endif
  }
#endif
}

fn write_out(co: u32, col: u32, v0: f32) {
  let i = co * p.out_stride + col;
  var v = v0;
#ifdef RES_INPLACE
  v = v + out[i];
#endif
#ifdef ACCUM
  v = out[i] + v;
#endif
#ifdef DIV
  v = v / p.div;
#endif
  out[i] = v;
}



#ifdef TILED
// Tiled form (stride 1). With SPLIT > 1 and small tiles it serves short outputs, where 64×64 tiles leave a GPU
// most of its SMs idle (HiFT [256, 400]: 28 workgroups on 132 SMs). A workgroup (TX, TC4, SPLIT) owns a (4·TC4 co) × (TX·RT t) output tile;
// thread (tx, ty, s) owns output channels co0 + 4ty..+3 (one vec4) and times t0 + tx + TX·j, j < RT, and reduces
// over its split's share of Cin only: each step stages SPLIT·CI_T channels (weights [SPLIT·CI_T·K][TC4 vec4],
// input window [SPLIT·CI_T][TX·RT + (K−1)·DIL], the prologue applied once per value while staging) and split s
// takes channels s·CI_T..+CI_T−1 of the step. The SPLIT partial sums then meet in workgroup memory (the weight
// area, reused after a barrier), one time column j per round, and the whole workgroup sums them (in split order,
// so the result does not depend on scheduling) and applies the epilogue once per output.
// Threads of one split are contiguous in local_invocation_index, so a warp (32 lanes, G ≥ 32 threads per split)
// reads one weight vec4 per ty (broadcast) and consecutive input words (no bank conflicts).
// REDUCE (SPLIT > 1) adds the reduction; without it each thread stores its own results.
const CI_T: u32 = {{CI_T}}u; // input channels per split per step
const SPLIT: u32 = {{SPLIT}}u;
const TX: u32 = {{TX}}u; // threads along time
const TC4: u32 = {{TC4}}u; // threads along output channels (vec4 columns)
const RT: u32 = {{RT}}u; // times per thread
const TT: u32 = TX * RT; // tile length
const G: u32 = TX * TC4; // threads per split
const CB: u32 = SPLIT * CI_T; // channels staged per step
const SPAN: u32 = TT + (K - 1u) * DIL;
#ifdef REDUCE
// Sized for the staging of one step and for the reduction round (SPLIT·G vec4), whichever is larger.
var<workgroup> ws: array<vec4<f32>, max(CB * K * TC4, SPLIT * G)>;
#else
var<workgroup> ws: array<vec4<f32>, CB * K * TC4>;
#endif
var<workgroup> xs: array<f32, CB * SPAN>;

@compute @workgroup_size({{TX}}, {{TC4}}, {{SPLIT}})
fn conv_tiled(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
              @builtin(local_invocation_index) li: u32) {
  let t0 = wg.x * TT;
  let co4_0 = wg.y * TC4;
  let tx = lid.x;
  let ty = lid.y;
  let s = lid.z;
  var acc: array<vec4<f32>, RT>; // zero-initialised
  for (var ci0 = 0u; ci0 < p.cin; ci0 += CB) {
    workgroupBarrier();
    for (var e = li; e < CB * SPAN; e += SPLIT * G) {
      let c = e / SPAN;
      let q = i32(t0 + e % SPAN) - i32(p.pad_left);
      xs[e] = load_x(ci0 + c, q);
    }
    for (var e = li; e < CB * K * TC4; e += SPLIT * G) {
      let r = e / TC4; // (c, k) row of the step
      let c = r / K;
      let col = co4_0 + e % TC4;
      var v = vec4<f32>(0.0);
      if (ci0 + c < p.cin && col < p.cout_p4) { v = w[((ci0 + c) * K + r % K) * p.cout_p4 + col]; }
      ws[e] = v;
    }
    workgroupBarrier();
    for (var i = 0u; i < CI_T; i++) {
      let c = s * CI_T + i;
      for (var k = 0u; k < K; k++) {
        let wv = ws[(c * K + k) * TC4 + ty];
        let b = c * SPAN + k * DIL + tx;
        for (var j = 0u; j < RT; j++) { acc[j] += wv * xs[b + TX * j]; }
      }
    }
  }
#ifdef REDUCE
  let g = ty * TX + tx;
  for (var j = 0u; j < RT; j++) {
    // The first barrier also ends the last step's reads of ws; the second publishes this round's partials.
    workgroupBarrier();
    ws[s * G + g] = acc[j];
    workgroupBarrier();
    // 4·G outputs per round over SPLIT·G threads; consecutive e are consecutive times (coalesced stores).
    for (var e = li; e < 4u * G; e += SPLIT * G) {
      let gg = e % G;
      let comp = e / G;
      var v = 0.0;
      for (var q = 0u; q < SPLIT; q++) { v += ws[q * G + gg][comp]; }
      let t = t0 + gg % TX + TX * j;
      let co = (co4_0 + gg / TX) * 4u + comp;
      if (t < p.lout && co < p.cout) { store(co, t, v); }
    }
  }
#else
  let co = (co4_0 + ty) * 4u;
  for (var j = 0u; j < RT; j++) {
    let t = t0 + tx + TX * j;
    if (t >= p.lout) { continue; }
    for (var i = 0u; i < 4u; i++) {
      if (co + i < p.cout) { store(co + i, t, acc[j][i]); }
    }
  }
#endif
}
#endif

#ifdef WIN
// One invocation = RT output times × 4·CB output channels (CB vec4, chosen by the workgroup). A lane's times are
// t0 + j·DIL (with dilation d, d neighbouring lanes interleave, so the taps of all RT times read one shared
// window of RT + K − 1 values instead of RT + (K−1)·d), or t0 + j with stride S (window (RT−1)·S + K). Per input
// channel the window is copied into a private array once, then the K·RT·CB vec4 FMAs run with constant indices
// only (constant trip counts, fully unrolled), so the per-lane loads (gathers on SIMD-per-lane CPUs such as
// llvmpipe, where they dominate) drop from 2 per FMA to ≈1 per 10.
const RT: u32 = {{RT}}u;
const S: u32 = {{STRIDE}}u;
const WIN: u32 = (RT - 1u) * S + K;
const CB: u32 = {{COB}}u;

@compute @workgroup_size({{WGX}})
fn conv_win(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32
#ifdef WSG
  , @builtin(subgroup_invocation_id) sl: u32
#endif
) {
  let g = wg.x * {{WGX}}u + li;
  let t0 = (g / DIL) * RT * DIL + g % DIL;
  let c40 = wg.y * CB;
  var acc: array<vec4<f32>, CB * RT>;
#ifndef WINX
  var xw: array<f32, WIN>;
#endif
  let base = i32(t0 * S) - i32(p.pad_left);
  for (var ci = 0u; ci < p.cin; ci++) {
#ifndef WINX
    for (var m = 0u; m < WIN; m++) { xw[m] = load_x(ci, base + i32(m * DIL)); }
#endif
#ifdef WINX
    // Explicit form (RT = 8 or 16, CB = 4, stride 1): the window values slide through registers, so no private
    // array is indexed by the (not necessarily unrolled) tap loop; every accumulator index is a literal.
    var r0 = load_x(ci, base + i32(0u * DIL));
    var r1 = load_x(ci, base + i32(1u * DIL));
    var r2 = load_x(ci, base + i32(2u * DIL));
    var r3 = load_x(ci, base + i32(3u * DIL));
    var r4 = load_x(ci, base + i32(4u * DIL));
    var r5 = load_x(ci, base + i32(5u * DIL));
    var r6 = load_x(ci, base + i32(6u * DIL));
    var r7 = load_x(ci, base + i32(7u * DIL));
#ifdef RT16
    var r8 = load_x(ci, base + i32(8u * DIL));
    var r9 = load_x(ci, base + i32(9u * DIL));
    var r10 = load_x(ci, base + i32(10u * DIL));
    var r11 = load_x(ci, base + i32(11u * DIL));
    var r12 = load_x(ci, base + i32(12u * DIL));
    var r13 = load_x(ci, base + i32(13u * DIL));
    var r14 = load_x(ci, base + i32(14u * DIL));
    var r15 = load_x(ci, base + i32(15u * DIL));
#endif
    for (var k = 0u; k < K; k++) {
      var wv: array<vec4<f32>, CB>;
#ifdef WSG
      // Subgroup of 8 lanes: each lane loads 2 of the 16 weights, then broadcasts (register permutes) replace
      // the 16 per-lane loads of identical addresses that SIMD-per-lane CPUs execute as gathers.
      let f = ((ci * K + k) * p.cout_p4 + c40) * 4u;
      let wa = wf[f + sl];
      let wb = wf[f + 8u + sl];
      wv[0] = vec4<f32>(subgroupBroadcast(wa, 0u), subgroupBroadcast(wa, 1u), subgroupBroadcast(wa, 2u), subgroupBroadcast(wa, 3u));
      wv[1] = vec4<f32>(subgroupBroadcast(wa, 4u), subgroupBroadcast(wa, 5u), subgroupBroadcast(wa, 6u), subgroupBroadcast(wa, 7u));
      wv[2] = vec4<f32>(subgroupBroadcast(wb, 0u), subgroupBroadcast(wb, 1u), subgroupBroadcast(wb, 2u), subgroupBroadcast(wb, 3u));
      wv[3] = vec4<f32>(subgroupBroadcast(wb, 4u), subgroupBroadcast(wb, 5u), subgroupBroadcast(wb, 6u), subgroupBroadcast(wb, 7u));
#else
      let wi = (ci * K + k) * p.cout_p4 + c40;
      for (var c = 0u; c < CB; c++) { wv[c] = w[wi + c]; }
#endif
      acc[0] += wv[0] * r0; acc[1] += wv[1] * r0; acc[2] += wv[2] * r0; acc[3] += wv[3] * r0;
      acc[4] += wv[0] * r1; acc[5] += wv[1] * r1; acc[6] += wv[2] * r1; acc[7] += wv[3] * r1;
      acc[8] += wv[0] * r2; acc[9] += wv[1] * r2; acc[10] += wv[2] * r2; acc[11] += wv[3] * r2;
      acc[12] += wv[0] * r3; acc[13] += wv[1] * r3; acc[14] += wv[2] * r3; acc[15] += wv[3] * r3;
      acc[16] += wv[0] * r4; acc[17] += wv[1] * r4; acc[18] += wv[2] * r4; acc[19] += wv[3] * r4;
      acc[20] += wv[0] * r5; acc[21] += wv[1] * r5; acc[22] += wv[2] * r5; acc[23] += wv[3] * r5;
      acc[24] += wv[0] * r6; acc[25] += wv[1] * r6; acc[26] += wv[2] * r6; acc[27] += wv[3] * r6;
      acc[28] += wv[0] * r7; acc[29] += wv[1] * r7; acc[30] += wv[2] * r7; acc[31] += wv[3] * r7;
#ifdef RT16
      acc[32] += wv[0] * r8; acc[33] += wv[1] * r8; acc[34] += wv[2] * r8; acc[35] += wv[3] * r8;
      acc[36] += wv[0] * r9; acc[37] += wv[1] * r9; acc[38] += wv[2] * r9; acc[39] += wv[3] * r9;
      acc[40] += wv[0] * r10; acc[41] += wv[1] * r10; acc[42] += wv[2] * r10; acc[43] += wv[3] * r10;
      acc[44] += wv[0] * r11; acc[45] += wv[1] * r11; acc[46] += wv[2] * r11; acc[47] += wv[3] * r11;
      acc[48] += wv[0] * r12; acc[49] += wv[1] * r12; acc[50] += wv[2] * r12; acc[51] += wv[3] * r12;
      acc[52] += wv[0] * r13; acc[53] += wv[1] * r13; acc[54] += wv[2] * r13; acc[55] += wv[3] * r13;
      acc[56] += wv[0] * r14; acc[57] += wv[1] * r14; acc[58] += wv[2] * r14; acc[59] += wv[3] * r14;
      acc[60] += wv[0] * r15; acc[61] += wv[1] * r15; acc[62] += wv[2] * r15; acc[63] += wv[3] * r15;
      r0 = r1; r1 = r2; r2 = r3; r3 = r4; r4 = r5; r5 = r6; r6 = r7; r7 = r8;
      r8 = r9; r9 = r10; r10 = r11; r11 = r12; r12 = r13; r13 = r14; r14 = r15;
      r15 = load_x(ci, base + i32((k + 16u) * DIL));
#else
      r0 = r1; r1 = r2; r2 = r3; r3 = r4; r4 = r5; r5 = r6; r6 = r7;
      r7 = load_x(ci, base + i32((k + 8u) * DIL));
#endif
    }
#else
    for (var k = 0u; k < K; k++) {
      var wv: array<vec4<f32>, CB>;
#ifdef WSG
      // Subgroup of 8 lanes: each lane loads 2 of the 16 weights, then broadcasts (register permutes) replace
      // the 16 per-lane loads of identical addresses that SIMD-per-lane CPUs execute as gathers.
      let f = ((ci * K + k) * p.cout_p4 + c40) * 4u;
      let wa = wf[f + sl];
      let wb = wf[f + 8u + sl];
      wv[0] = vec4<f32>(subgroupBroadcast(wa, 0u), subgroupBroadcast(wa, 1u), subgroupBroadcast(wa, 2u), subgroupBroadcast(wa, 3u));
      wv[1] = vec4<f32>(subgroupBroadcast(wa, 4u), subgroupBroadcast(wa, 5u), subgroupBroadcast(wa, 6u), subgroupBroadcast(wa, 7u));
      wv[2] = vec4<f32>(subgroupBroadcast(wb, 0u), subgroupBroadcast(wb, 1u), subgroupBroadcast(wb, 2u), subgroupBroadcast(wb, 3u));
      wv[3] = vec4<f32>(subgroupBroadcast(wb, 4u), subgroupBroadcast(wb, 5u), subgroupBroadcast(wb, 6u), subgroupBroadcast(wb, 7u));
#else
      let wi = (ci * K + k) * p.cout_p4 + c40;
      for (var c = 0u; c < CB; c++) { wv[c] = w[wi + c]; }
#endif
      for (var j = 0u; j < RT; j++) {
        let xv = xw[j * S + k];
        for (var c = 0u; c < CB; c++) { acc[CB * j + c] += wv[c] * xv; }
      }
    }
#endif
  }
  for (var j = 0u; j < RT; j++) {
    let t = t0 + j * DIL;
    if (t < p.lout) {
      for (var c = 0u; c < CB; c++) { store4(c40 + c, t, acc[CB * j + c]); }
    }
  }
}
#endif

fn store4(c4: u32, t: u32, a: vec4<f32>) {
  let co = c4 * 4u;
  if (co < p.cout) { store(co, t, a.x); }
  if (co + 1u < p.cout) { store(co + 1u, t, a.y); }
  if (co + 2u < p.cout) { store(co + 2u, t, a.z); }
  if (co + 3u < p.cout) { store(co + 3u, t, a.w); }
}

#ifdef DIRECT
@compute @workgroup_size(64)
fn conv_direct(@builtin(global_invocation_id) gid: vec3<u32>) {
  let t = gid.x;
  let c4 = gid.y;
  if (t >= p.lout || c4 >= p.cout_p4) { return; }
  var acc = vec4<f32>(0.0);
  let base = i32(t * p.stride) - i32(p.pad_left);
  for (var ci = 0u; ci < p.cin; ci++) {
    for (var k = 0u; k < K; k++) {
      acc += w[(ci * K + k) * p.cout_p4 + c4] * load_x(ci, base + i32(k * DIL));
    }
  }
  for (var i = 0u; i < 4u; i++) {
    if (c4 * 4u + i < p.cout) { store(c4 * 4u + i, t, acc[i]); }
  }
}
#endif
