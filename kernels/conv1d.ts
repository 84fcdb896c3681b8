/**
 * 1-D convolutions with fused prologue/epilogue (shaders/conv1d.wgsl): causal left padding, right zero padding
 * or "valid" right context, dilation, stride, nearest ×up repetition before the conv (CausalConv1dUpsample),
 * LeakyReLU/Snake on the input, Snake on the output, residual / in-place residual / accumulate / divide, and the
 * ReflectionPad1d((1, 0)) output shift. Nearest ×u + conv also runs polyphase (`phases`, foldUpsampleWeight).
 *
 * Weights must be packed with `packConvWeight` ([Cout, Cin, K] → [Cin, K, CoutP], CoutP = Cout rounded up to 4).
 */
import { GpuContext } from '../src/gpu/context.js';
import { ceilDiv, packParams, type DispatchRecord } from '../src/gpu/dispatch.js';
import { ShapeMismatchError } from '../src/gpu/errors.js';
import type { GpuTensor } from '../src/gpu/tensor.js';
import { rowBucket, tunedChoice, type TuneChoice } from '../src/gpu/tuning.js';

export interface Conv1dArgs {
  /** [Cin, Lin] */
  x: GpuTensor;
  /** packed [Cin, K, CoutP] (see packConvWeight) */
  w: GpuTensor;
  /** [Cout] */
  bias: GpuTensor;
  /** [Cout, outStride] */
  out: GpuTensor;
  cout: number;
  k: number;
  /** Output length (columns computed). */
  lout: number;
  dilation?: number;
  stride?: number;
  /** Nearest repetition factor applied to x before the conv. */
  up?: number;
  /**
   * Polyphase form of nearest ×u + conv (u = phases; weights from foldUpsampleWeight): `cout` = u·C GEMM
   * channels at the input rate, `lout` input-rate columns; channel r·C + c at column s is written to
   * out[c, s·u + r]. `bias`, `snakeOut`, `out` and `residual` have C channels; `up` must be 1.
   */
  phases?: number;
  /** Zeros (virtual) before x; positions past Lin·up read zeros too. */
  padLeft?: number;
  /** Row stride of `out` (defaults to its last dim). */
  outStride?: number;
  leakyIn?: number;
  /** [Cin] vec2 (α, 1/(α+1e-9)) */
  snakeIn?: GpuTensor;
  /** [Cout] vec2 (α, 1/(α+1e-9)) */
  snakeOut?: GpuTensor;
  /** [Cout, resStride], added after the bias/Snake (at the shifted column with outShift). */
  residual?: GpuTensor;
  resStride?: number;
  resInplace?: boolean;
  accumulate?: boolean;
  /** Divide the final value by this (ResBlock mean). */
  divide?: number;
  /** Write column t at t+1 and column 1 also at 0 (ReflectionPad1d((1,0))). */
  outShift?: boolean;
  /**
   * Entry point: `win` (default; register-window kernel, fastest on lavapipe and any SIMD-per-lane device),
   * `tiled` (shared-memory tiles, stride 1; 64×64 unless `tile` / `split` or the GPU short-output default say
   * otherwise), `direct` (one thread per 4 channels × 1 time; any shape).
   */
  mode?: 'tiled' | 'win' | 'direct';
  /** `tiled` entry (implied when mode is not given): output tile (default 64 co × 64 t, 4 times per thread). */
  tile?: ConvTile;
  /** `tiled` entry: threads splitting the Cin reduction inside a workgroup (default 1). */
  split?: 1 | 2 | 4 | 8;
  /** times per invocation in the `win` entry. */
  rt?: number;
  /** `win` entry: lanes per workgroup (32 or 64; default by output length). */
  wgx?: 32 | 64;
  /** `win` entry: explicit register-sliding form (default when stride 1, RT 8 or 16, COB 4). */
  explicit?: boolean;
  /** `win` entry: load weights once per 8-lane subgroup and broadcast (default: when the adapter's subgroups are exactly 8 wide, e.g. lavapipe). */
  subgroupWeights?: boolean;
  /** vec4 column groups (4 output channels each) per invocation in the `win` entry (default 4; 1 on GPUs). */
  cob?: 1 | 2 | 4;
}

/** [Cout, Cin, K] (PyTorch Conv1d weight) → [Cin, K, CoutP] with CoutP = ceil(Cout/4)·4, zero-filled. */
export function packConvWeight(w: Float32Array, cout: number, cin: number, k: number): Float32Array {
  if (w.length !== cout * cin * k) throw new ShapeMismatchError(`packConvWeight: ${w.length} values for [${cout}, ${cin}, ${k}]`);
  const coutP = Math.ceil(cout / 4) * 4;
  const out = new Float32Array(cin * k * coutP);
  for (let o = 0; o < cout; o++) for (let i = 0; i < cin; i++) for (let j = 0; j < k; j++) {
    out[(i * k + j) * coutP + o] = w[(o * cin + i) * k + j];
  }
  return out;
}

/**
 * Folds nearest ×up + a causal K-tap conv (left padding K−1, PyTorch weight [Cout, Cin, K]) into its polyphase
 * form: output time s·up + r reads x[s + j] for j ∈ [−(Kp−1), 0] only, Kp = ⌈(K−1)/up⌉ + 1, through the sum of
 * the taps that land on the same input sample. Returns [up·Cout, Cin, Kp] (channel r·Cout + c is phase r of c),
 * for conv1d with `phases: up`, padLeft Kp−1. Taps are summed in float64 and rounded once. HiFT's ups
 * (×8 k16, ×5 k11, ×3 k7) go from 16 / 11 / 7 to 3 multiply-adds per input channel and output.
 */
export function foldUpsampleWeight(w: Float32Array, cout: number, cin: number, k: number, up: number): { w: Float32Array; cout: number; k: number } {
  if (w.length !== cout * cin * k) throw new ShapeMismatchError(`foldUpsampleWeight: ${w.length} values for [${cout}, ${cin}, ${k}]`);
  if (!Number.isInteger(up) || up < 1) throw new ShapeMismatchError(`foldUpsampleWeight: upsampling factor ${up}`);
  const kp = Math.ceil((k - 1) / up) + 1;
  const acc = new Float64Array(up * cout * cin * kp);
  for (let r = 0; r < up; r++) {
    for (let t = 0; t < k; t++) {
      // Tap t of phase r reads repeated position s·up + r + t − (K−1), i.e. x[s + ⌊(r + t − K + 1)/up⌋].
      const j = Math.floor((r + t - (k - 1)) / up) + kp - 1;
      for (let c = 0; c < cout; c++) {
        for (let i = 0; i < cin; i++) acc[((r * cout + c) * cin + i) * kp + j] += w[(c * cin + i) * k + t];
      }
    }
  }
  return { w: Float32Array.from(acc), cout: up * cout, k: kp };
}

/** Snake α [C] → interleaved (α, 1/(α+1e-9)) in f32, as upstream computes the reciprocal. */
export function packSnakeAlpha(alpha: Float32Array): Float32Array {
  const out = new Float32Array(alpha.length * 2);
  for (let c = 0; c < alpha.length; c++) {
    out[2 * c] = alpha[c];
    out[2 * c + 1] = Math.fround(1 / Math.fround(alpha[c] + Math.fround(1e-9)));
  }
  return out;
}

const WG_BYTES = 16384;

/**
 * Output tile of the `tiled` entry: `co` output channels (one vec4 per thread, so co/4 threads) × `t` times
 * (`rt` per thread, so t/rt threads). With `split` the workgroup has (t/rt)·(co/4)·split ≤ 256 threads.
 */
export interface ConvTile {
  co: 16 | 32 | 64;
  t: number;
  rt: 1 | 2 | 4;
}
const TILE_64: ConvTile = { co: 64, t: 64, rt: 4 };
/** Tiles the tuner tries for the tiled entry (each at Cin split 1, 2 and 4): bench/sweep-conv.ts's GPU shapes. */
const TUNE_TILES: ConvTile[] = [TILE_64, { co: 32, t: 64, rt: 4 }, { co: 16, t: 64, rt: 4 }, { co: 32, t: 32, rt: 4 }, { co: 16, t: 32, rt: 2 }, { co: 64, t: 32, rt: 2 }];
/**
 * GPU default for short outputs (64×64 grid under 132 workgroups, one per H200 SM): 16 co × 32 t tiles, Cin
 * split 4 ways, 256 threads. Small tiles stage few weights, so more channels fit per step (fewer serial steps of
 * global load + barrier, the cost of the 64×64 form on [256, 400]: 37 steps on 28 SMs). Chosen by
 * bench/sweep-conv.ts on an H200 (GPU µs, Snake-in + residual; 64×64 tiled → this → best of 24 split shapes):
 * [256, 400] k7 d3 131 → 49.0 (best); [64, 6001] k11 51.9 → 41.4 → 36.0 (16×64 rt4 split 4);
 * [128, 2400] k11 d3 425 → 346 → 310 (32×32 rt4 split 4, which takes 245 µs on [256, 400]).
 */
const GPU_SHORT: { tile: ConvTile; split: 1 | 2 | 4 | 8 } = { tile: { co: 16, t: 32, rt: 2 }, split: 4 };

/**
 * Input channels per split per step of the `tiled` entry whose staging (weights [split·c·K][co/4 vec4] and input
 * [split·c][t + (K−1)·dil]) fits 16 KiB, the weight area also holding the reduction's split·threads vec4; 0 if none.
 */
function splitChunk(k: number, dil: number, tile: ConvTile, split: number): number {
  const tc4 = tile.co / 4, threads = (tile.t / tile.rt) * tc4 * split, span = tile.t + (k - 1) * dil;
  for (let c = 16; c >= 1; c--) {
    const cb = split * c;
    if (16 * Math.max(cb * k * tc4, split > 1 ? threads : 0) + 4 * cb * span <= WG_BYTES) return c;
  }
  return 0;
}

/** Validates a tile × split of the `tiled` entry; returns its thread counts. */
function checkTile(what: string, tile: ConvTile, split: number): { tx: number; tc4: number } {
  const tx = tile.t / tile.rt, tc4 = tile.co / 4;
  if (![16, 32, 64].includes(tile.co) || ![1, 2, 4].includes(tile.rt) || !Number.isInteger(tx) || tx < 1) {
    throw new ShapeMismatchError(`${what}: tile ${tile.co}co×${tile.t}t rt ${tile.rt} (co 16/32/64, rt 1/2/4 dividing t)`);
  }
  if (![1, 2, 4, 8].includes(split)) throw new ShapeMismatchError(`${what}: split ${split} (1, 2, 4 or 8)`);
  if (tx * tc4 * split > 256) throw new ShapeMismatchError(`${what}: ${tx}·${tc4}·${split} threads per workgroup exceed 256`);
  return { tx, tc4 };
}

export function conv1d(ctx: GpuContext, a: Conv1dArgs, tag = ''): DispatchRecord {
  const [cin, lin] = a.x.shape.length === 2 ? a.x.shape : [NaN, NaN];
  const dil = a.dilation ?? 1, stride = a.stride ?? 1, up = a.up ?? 1, padLeft = a.padLeft ?? 0, phases = a.phases ?? 1;
  const coutP = Math.ceil(a.cout / 4) * 4;
  const outStride = a.outStride ?? a.out.shape[a.out.shape.length - 1];
  const what = `conv1d ${tag}`;
  if (!Number.isFinite(cin)) throw new ShapeMismatchError(`${what}: x must be [Cin, Lin], got [${a.x.shape}]`);
  if (a.w.numel !== cin * a.k * coutP) {
    throw new ShapeMismatchError(`${what}: packed weight has ${a.w.numel} values, expected [${cin}, ${a.k}, ${coutP}]`);
  }
  if (!Number.isInteger(phases) || phases < 1 || a.cout % phases !== 0 || (phases > 1 && (up !== 1 || stride !== 1))) {
    throw new ShapeMismatchError(`${what}: ${phases} phases need Cout ${a.cout} a multiple of them, up 1 and stride 1`);
  }
  const C = a.cout / phases; // output channels
  if (a.bias.numel !== C) throw new ShapeMismatchError(`${what}: bias [${a.bias.shape}] vs Cout ${C}`);
  const lastCol = a.lout * phases - 1 + (a.outShift ? 1 : 0);
  if (a.out.numel < (C - 1) * outStride + lastCol + 1 || outStride < lastCol + 1) {
    throw new ShapeMismatchError(`${what}: out [${a.out.shape}] cannot hold [${C}, ${lastCol + 1}] at stride ${outStride}`);
  }
  const maxQ = (a.lout - 1) * stride + (a.k - 1) * dil - padLeft;
  if (maxQ < 0) throw new ShapeMismatchError(`${what}: output column ${a.lout - 1} reads only padding`);
  if (a.snakeIn && a.snakeIn.numel !== 2 * cin) throw new ShapeMismatchError(`${what}: snakeIn needs [${cin}, 2]`);
  if (a.snakeOut && a.snakeOut.numel !== 2 * C) throw new ShapeMismatchError(`${what}: snakeOut needs [${C}, 2]`);
  const resStride = a.resStride ?? (a.residual ? a.residual.shape[a.residual.shape.length - 1] : 0);
  if (a.residual && a.residual.numel < (C - 1) * resStride + lastCol + 1) {
    throw new ShapeMismatchError(`${what}: residual [${a.residual.shape}] too small for [${C}, ${lastCol + 1}]`);
  }
  // `win` (register-sliding, unrolled) is the fast form on llvmpipe and real SIMD; SwiftShader's JIT loses the
  // device on it (Chromium: "A valid external Instance reference no longer exists"), so it gets `tiled`.
  // GPUs take `tiled` too: on an H200 it beat every win shape (RT 1–8 × 4–16 channels per lane) on the HiFT
  // shapes, e.g. [256, 400] k7 d3 131 µs vs 357 µs at best and [64, 6001] k11 52 vs 154 µs (GPU timestamps);
  // win's long per-lane register blocks leave a GPU with too few workgroups.
  // Short outputs leave 64×64 tiles too few workgroups for a GPU (HiFT [256, 400]: 28 on an H200's 132 SMs,
  // 131 µs), so there the tiled entry takes smaller tiles and splits Cin (GPU_SHORT: 49 µs).
  const safe = ctx.adapterKind === 'swiftshader';
  const gpu = ctx.adapterKind === 'gpu';
  const mode =
    a.mode ??
    (a.tile || a.split ? 'tiled'
      : safe ? (stride === 1 ? 'tiled' : 'direct')
        : gpu && stride === 1 && splitChunk(a.k, dil, TILE_64, 1) > 0 ? 'tiled'
          : stride === 1 || dil === 1 ? 'win' : 'direct');
  let tile = a.tile, split = a.split;
  if (!a.mode && !tile && !split && gpu && mode === 'tiled' && ceilDiv(a.lout, 64) * ceilDiv(a.cout, 64) < 132 &&
      splitChunk(a.k, dil, GPU_SHORT.tile, GPU_SHORT.split) > 0) {
    ({ tile, split } = GPU_SHORT);
  }
  tile ??= TILE_64;
  split ??= 1;
  // Tunable: the tiled entry's tile × Cin split where the caller names neither (and, where it named no entry, the
  // win entry); the candidates the workgroup memory refuses fail in the tuner before any pipeline is made.
  if (mode === 'tiled' && !a.tile && !a.split) {
    const t0 = tile, s0 = split;
    const forced = (c: TuneChoice): Conv1dArgs =>
      c.mode === 'win' ? { ...a, mode: 'win' } : { ...a, mode: 'tiled', tile: { co: Number(c.co) as ConvTile['co'], t: Number(c.t), rt: Number(c.rt) as ConvTile['rt'] }, split: Number(c.split) as 1 | 2 | 4 | 8 };
    const name = (t: ConvTile, sp: number) => `tiled ${t.co}co×${t.t}t rt${t.rt} split ${sp}`;
    const shape = [cin, a.cout, rowBucket(a.lout), a.k, dil, `${a.snakeIn ? 's' : ''}${a.residual ? 'r' : ''}${a.accumulate ? 'a' : ''}` || 'p'];
    const choice = tunedChoice(ctx, 'conv1d', shape, () => {
      const def = { name: name(t0, s0), choice: { ...t0, split: s0 } };
      // The tiled entry's own checks (checkTile's thread bound, splitChunk's workgroup memory) pick the candidates.
      const fits = (t: ConvTile, sp: number) => {
        try {
          checkTile(what, t, sp);
        } catch {
          return false;
        }
        return splitChunk(a.k, dil, t, sp) > 0;
      };
      const others = TUNE_TILES.flatMap((t) => [1, 2, 4].map((sp) => ({ name: name(t, sp), choice: { ...t, split: sp } }))).filter((c) => c.name !== def.name && fits(c.choice, c.choice.split));
      // Never `win` on SwiftShader: its JIT loses the device on that entry (see the mode choice above), and a tuner
      // cannot recover from a lost device.
      const win = !safe && a.mode === undefined && (stride === 1 || dil === 1) ? [{ name: 'win', choice: { mode: 'win' } }] : [];
      return { candidates: [def, ...win, ...others], build: (c) => [conv1d(ctx, forced(c), tag)], writes: [a.out], out: a.out, tag };
    });
    if (choice && (choice.mode !== 'win' || a.mode === undefined)) return conv1d(ctx, forced(choice), tag);
  }
  if ((a.tile || a.split) && mode !== 'tiled') throw new ShapeMismatchError(`${what}: tile and split belong to the tiled entry`);
  if (mode === 'tiled' && stride !== 1) throw new ShapeMismatchError(`${what}: the tiled entry needs stride 1`);
  if (mode === 'win' && stride !== 1 && dil !== 1) throw new ShapeMismatchError(`${what}: the win entry takes stride or dilation, not both`);
  const defines: Record<string, number | boolean> = {
    K: a.k,
    DIL: dil,
    UP: up,
    LEAKY_IN: a.leakyIn !== undefined,
    SNAKE_IN: !!a.snakeIn,
    SNAKE_OUT: !!a.snakeOut,
    RESIDUAL: !!a.residual,
    RES_INPLACE: !!a.resInplace,
    ACCUM: !!a.accumulate,
    DIV: a.divide !== undefined,
    OUT_SHIFT: !!a.outShift,
  };
  if (phases > 1) defines.PHASES = phases;
  if (mode === 'tiled') {
    const { tx, tc4 } = checkTile(what, tile, split);
    const fit = splitChunk(a.k, dil, tile, split);
    if (!fit) throw new ShapeMismatchError(`${what}: kernel ${a.k} dilation ${dil} does not fit workgroup memory at tile ${tile.co}×${tile.t} split ${split}`);
    defines.TILED = true;
    // No more channels per step than Cin needs: small Cin would stage (and multiply) zeros.
    defines.CI_T = Math.min(fit, Math.ceil(cin / split));
    Object.assign(defines, { SPLIT: split, TX: tx, TC4: tc4, RT: tile.rt, REDUCE: split > 1 });
  } else if (mode === 'win') {
    defines.WIN = true;
    defines.STRIDE = stride;
    // 16 times per lane halves the weight traffic per FMA (vs 8); short outputs use 32-lane workgroups so that
    // few lanes idle (lavapipe runs a workgroup's lanes 8 at a time on one thread).
    // GPUs (strided convs, or kernels too long for `tiled`) want many small invocations rather than long
    // register blocks: 16 times × 16 channels per lane left an H200 16 workgroups of 32 lanes (2.6 ms for
    // [256, 400] k7); 4 times × 4 channels: 494 µs.
    // Short outputs (the polyphase ups.0 runs at the mel rate: 50 columns a second of audio) take fewer times per
    // lane, so that at least 16 lanes work: lavapipe, ups.0 at 50 frames, RT 16 / 8 / 4: 100 / 70 / 44 ms
    // (bench/sweep-ups.ts).
    const lanesAt = (rt: number) => ceilDiv(a.lout, rt * dil) * dil;
    defines.RT = a.rt ?? (gpu ? 4 : stride !== 1 ? 8 : [16, 8].find((rt) => lanesAt(rt) >= 16) ?? 4);
    defines.COB = a.cob ?? (gpu ? 1 : 4);
    const rt = defines.RT as number;
    const lanes = lanesAt(rt);
    defines.WGX = a.wgx ?? (lanes <= 32 ? 32 : 64);
    if (a.explicit ?? (stride === 1 && (rt === 8 || rt === 16) && defines.COB === 4)) {
      if (stride !== 1 || (rt !== 8 && rt !== 16) || defines.COB !== 4) throw new ShapeMismatchError(`${what}: the explicit win form needs stride 1, RT 8 or 16, COB 4`);
      defines.WINX = true;
      if (rt === 16) defines.RT16 = true;
    }
    if (a.subgroupWeights ?? (defines.COB === 4 && ctx.hasSubgroupsOf8)) {
      if (defines.COB !== 4 || !ctx.hasSubgroupsOf8) throw new ShapeMismatchError(`${what}: subgroup weights need COB 4 and 8-wide subgroups`);
      defines.WSG = true;
    }
  } else {
    defines.DIRECT = true;
  }
  const params = ctx.uniform(
    packParams([
      cin, a.cout, lin, a.lout, up, padLeft, stride, coutP / 4,
      outStride, resStride, C, 0, { f32: a.leakyIn ?? 0 }, { f32: a.divide ?? 1 }, 0, 0,
    ]),
  );
  const grid: [number, number, number] =
    mode === 'tiled' ? [ceilDiv(a.lout, tile.t), ceilDiv(a.cout, tile.co), 1]
      : mode === 'win' ? [ceilDiv(ceilDiv(a.lout, (defines.RT as number) * dil) * dil, defines.WGX as number), ceilDiv(coutP / 4, defines.COB as number), 1]
        : [ceilDiv(a.lout, 64), coutP / 4, 1];
  return ctx.record(
    { shader: 'conv1d', entry: `conv_${mode}`, defines },
    [params, a.x, a.w, a.bias, a.out, a.snakeIn ?? null, a.snakeOut ?? null, a.residual ?? null],
    grid,
    tag,
  );
}
