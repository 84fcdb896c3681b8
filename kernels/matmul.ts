/**
 * Linear layers (shaders/matmul.wgsl): y[M, N] = epilogue(x[M, K] · W[N, K]ᵀ).
 *
 * Weights: f32 [N, K]; f16 packed (kernels/quant.ts packWeightF16, dtype 'f16'); q8/q4 with per-group scales
 * (quantizeWeight → {packed, scales}). Epilogue order: + bias, activation (`act`, `alpha` for leaky_relu),
 * + residual. `gateUp`: W is [gate; up] stacked as [2F, K], y is [M, F] = act(x·Wgᵀ + bg) · (x·Wuᵀ + bu), act
 * defaulting to SiLU (Qwen2's SwiGLU MLP); stack two host weights with `stackRows` before packing.
 * GEMV for M ≤ 4 (decode), register-tiled GEMM above; `mode` forces one (tests cover both).
 */
import { GpuContext } from '../src/gpu/context.js';
import { ceilDiv, packParams, type DispatchRecord } from '../src/gpu/dispatch.js';
import { ShapeMismatchError } from '../src/gpu/errors.js';
import { expectShape, type GpuTensor } from '../src/gpu/tensor.js';
import { rowBucket, tunedChoice, type TuneChoice } from '../src/gpu/tuning.js';

export type Activation = 'silu' | 'gelu_tanh' | 'mish' | 'leaky_relu';

export interface LinearArgs {
  /** [M, K] (leading dims flattened) */
  x: GpuTensor;
  /** [N, K] (or [2F, K] with gateUp): f32, f16 (packed), q8 or q4 */
  w: GpuTensor;
  /** [M, N] ([M, F] with gateUp) */
  y: GpuTensor;
  /** [N] f32 ([2F] with gateUp) */
  bias?: GpuTensor;
  /** [M, N] added last */
  residual?: GpuTensor;
  /** q8/q4: f32 [N, K/G] */
  scales?: GpuTensor;
  act?: Activation;
  /** leaky_relu negative slope (default 0.01, PyTorch's) */
  alpha?: number;
  gateUp?: boolean;
  /** RMSNorm weight [K] f32: x is replaced by its row's RMSNorm first (gemv or gemm_rt entry, K % 8 == 0). */
  norm?: GpuTensor;
  /** RMSNorm epsilon (default 1e-6). */
  eps?: number;
  /**
   * Force an entry point (tests cover each on every shape). Default: `gemv` for M ≤ 4; above that `gemm_rt` on
   * GPUs or with `norm` when K % 8 == 0, on llvmpipe with subgroups of ≥ 8 lanes `gemm_sg32` (M ≥ 32) or
   * `gemm_sg`, else `gemm`.
   */
  mode?: LinearMode;
  /** GEMV tuning: output columns and threads per workgroup (default 8 and 8 on llvmpipe, 4 and 64 elsewhere). */
  gemvRows?: number;
  gemvLanes?: number;
  /** Leave the `subgroups` path off even when the device has it (tests cover the fallback). */
  noSubgroups?: boolean;
  /** GEMM tuning: K step through shared memory (gemm 16 or 32, gemm_rt 8, 16 or 32; default gemmShape's / rtTile's). */
  gemmBK?: number;
  /** GEMM tuning: output rows per thread (4 or 8; default gemmShape's / rtTile's). */
  gemmTM?: number;
  /** gemm_rt tuning: output columns per thread (4 or 8; GATEUP needs 8; default rtTile's). */
  gemmTN?: number;
  /** GEMM tuning: output tile [BM, BN] per workgroup (multiples of TM·… and 4; default gemmShape's / rtTile's). */
  gemmTile?: [number, number];
}

const ACT_DEFINE: Record<Activation, string> = { silu: 'ACT_SILU', gelu_tanh: 'ACT_GELU', mish: 'ACT_MISH', leaky_relu: 'ACT_LEAKY' };

/** Concatenates two [R, K] host weights into [2R, K] (gate then up) for the gateUp form. */
export function stackRows(a: Float32Array, b: Float32Array): Float32Array {
  if (a.length !== b.length) throw new ShapeMismatchError(`stackRows: gate has ${a.length} values, up has ${b.length}`);
  const out = new Float32Array(a.length * 2);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

export type LinearMode = 'gemv' | 'gemm' | 'gemm_rt' | 'gemm_sg' | 'gemm_sg32';

/** Workgroups below which a GPU's `gemm` takes 32×32 tiles (an H200 has 132 SMs; see gemmShape). */
const GEMM_SMALL_GRID = 256;

/**
 * The `gemm` tile: [BM, BN] outputs a workgroup, TM rows a thread, BK the K step (explicit options win).
 * CPU adapters: 64×64, TM 8 (128 threads), BK 32 (16 with gateUp, whose two W tiles must fit 16 KiB).
 * GPUs (which take gemm_rt instead wherever K % 8 == 0): TM 4 (256 threads), and 32×32 tiles with BK 16 where
 * 64×64 tiles would give fewer than GEMM_SMALL_GRID workgroups. H200, f16 weights, GPU µs of the LLM prefill
 * projections at 512 rows (bench/sweep-prefill.ts; 64×64 TM 8 → the form chosen): qkv [1152,896] 95.9 → 69.6, o [896,896] 82.7 → 57.2, gate_up [9728,896]
 * 488.0 → 373.0, down [896,4864] 390.1 → 266.9; a layer's four 1057 → 767. At 256 rows: 805 → 509.
 */
function gemmShape(ctx: GpuContext, M: number, N: number, a: LinearArgs): { BM: number; BN: number; TM: number; BK: number } {
  const gpu = !ctx.isCpuAdapter;
  const small = gpu && ceilDiv(N, 64) * ceilDiv(M, 64) < GEMM_SMALL_GRID;
  const tile = small ? 32 : 64;
  return {
    BM: a.gemmTile?.[0] ?? tile,
    BN: a.gemmTile?.[1] ?? tile,
    TM: a.gemmTM ?? (gpu ? 4 : 8),
    BK: a.gemmBK ?? (a.gateUp || small ? 16 : 32),
  };
}

/** Workgroups gemm_rt wants at least (an H200 has 132 SMs): it takes the largest tile that still makes this many. */
const RT_FILL = 128;
/**
 * gemm_rt tiles [BM, BN, TM, TN, BK], largest first; GATEUP's B tile holds BN/2 gate and BN/2 up rows (TN 8).
 * BK keeps each tile at one 8-element chunk a thread per step. 128×128 takes BK 8: H200, GPU µs, BK 16 → 8
 * (bench/sweep-gemm-rt.ts, one run, epilogue-free cases): DiT qkv [1200,1024]·[3072,1024]ᵀ f32 287.6 → 257.5
 * (tiled 4×4: 303.9), LLM gate_up [512,896]·[9728,896]ᵀ f32 2084 → 1520, f16 2153 → 1668 (4×4 gemm: 1994 / 2097;
 * that run's card was in one of its slow spells, ~4× its best).
 */
const RT_TILES: [number, number, number, number, number][] = [[128, 128, 8, 8, 8], [128, 64, 8, 4, 16], [64, 64, 4, 4, 16], [32, 64, 4, 4, 16], [32, 32, 4, 4, 16]];
const RT_TILES_GATEUP: [number, number, number, number, number][] = [[128, 128, 8, 8, 8], [64, 128, 4, 8, 16], [32, 128, 4, 8, 8]];

/** A gemm_rt tile (shaders/gemm_core.wgsl defines): BM × BN outputs a workgroup, TM × TN a thread, BK the K step. */
export interface RtTile {
  BM: number;
  BN: number;
  TM: number;
  TN: number;
  BK: number;
}

/**
 * The `gemm_rt` tile for M rows and N outputs (matmul.wgsl and dit_linear.wgsl): the fields of `o` win, the rest
 * come from the largest of RT_TILES that gives RT_FILL workgroups. Checked: TM, TN ∈ {4, 8} with whole
 * quads per thread, ≤ 256 threads, GATEUP with TN 8, the tiles within the device's workgroup memory.
 */
export function rtTile(ctx: GpuContext, M: number, N: number, gateUp: boolean, o: Partial<RtTile>, what: string): RtTile {
  const table = gateUp ? RT_TILES_GATEUP : RT_TILES;
  const outN = (bn: number) => (gateUp ? bn / 2 : bn);
  const pick = table.find(([bm, bn]) => ceilDiv(M, bm) * ceilDiv(N, outN(bn)) >= RT_FILL) ?? table[table.length - 1];
  const t: RtTile = { BM: o.BM ?? pick[0], BN: o.BN ?? pick[1], TM: o.TM ?? pick[2], TN: o.TN ?? pick[3], BK: o.BK ?? pick[4] };
  const threads = (t.BM / t.TM) * (t.BN / t.TN);
  const bytes = 4 * t.BK * (t.BM + t.BN);
  const limit = ctx.device.limits.maxComputeWorkgroupStorageSize;
  const oneChunk = (Math.max(t.BM, t.BN) * t.BK) / 8 <= threads;
  if (![4, 8].includes(t.TM) || ![4, 8].includes(t.TN) || t.BM % (4 * t.TM) || t.BN % (4 * t.TN) || ![8, 16, 32].includes(t.BK) || threads > 256 || !oneChunk || bytes > limit || (gateUp && t.TN !== 8)) {
    throw new ShapeMismatchError(
      `${what} gemm_rt: tile ${t.BM}×${t.BN}, ${t.TM}×${t.TN} a thread, BK ${t.BK} invalid (TM, TN ∈ {4, 8} with BM % 4·TM = BN % 4·TN = 0, BK ∈ {8, 16, 32}, ≤ 256 threads, at most one 8-element chunk of each tile a thread, ${bytes} ≤ ${limit} bytes${gateUp ? ', TN 8 with gateUp' : ''})`,
    );
  }
  return t;
}

/** A gemm_rt tile as a tuning choice and its name ("128x128 t8x8 k8"). */
export function rtChoice(t: RtTile, extra: TuneChoice = {}): { name: string; choice: TuneChoice } {
  return { name: `${t.BM}x${t.BN} t${t.TM}x${t.TN} k${t.BK}`, choice: { ...extra, BM: t.BM, BN: t.BN, TM: t.TM, TN: t.TN, BK: t.BK } };
}

/**
 * Every gemm_rt tile this device takes for M rows × N outputs, the default (rtTile's pick) first: the tiles of
 * RT_TILES (RT_TILES_GATEUP) at each K step 8, 16 and 32 that pass rtTile's checks.
 */
export function rtCandidates(ctx: GpuContext, M: number, N: number, gateUp: boolean, what: string, extra: TuneChoice = {}): { name: string; choice: TuneChoice }[] {
  const def = rtTile(ctx, M, N, gateUp, {}, what);
  const out = [rtChoice(def, extra)];
  for (const [BM, BN, TM, TN] of gateUp ? RT_TILES_GATEUP : RT_TILES) {
    for (const BK of [8, 16, 32]) {
      let t: RtTile;
      try {
        t = rtTile(ctx, M, N, gateUp, { BM, BN, TM, TN, BK }, what);
      } catch {
        continue;
      }
      const c = rtChoice(t, extra);
      if (!out.some((o) => o.name === c.name)) out.push(c);
    }
  }
  return out;
}

/** A gemm_rt tile from a tuning choice (its BM, BN, TM, TN, BK fields). */
export function rtFromChoice(c: TuneChoice): RtTile {
  return { BM: Number(c.BM), BN: Number(c.BN), TM: Number(c.TM), TN: Number(c.TN), BK: Number(c.BK) };
}

/** A gemm_rt tile as shader defines (gemm_core.wgsl: the tile, GC_TM8 / GC_TN8 for the epilogue's quads). */
export function rtDefines(t: RtTile): Record<string, number | boolean> {
  return { ...t, GC_TM8: t.TM === 8, GC_TN8: t.TN === 8 };
}

export function linear(ctx: GpuContext, a: LinearArgs, tag = ''): DispatchRecord {
  const wl = a.w.label || 'w';
  if (a.w.shape.length !== 2) throw new ShapeMismatchError(`linear: weight ${wl} must be [N, K], got [${a.w.shape}]`);
  const [WN, K] = a.w.shape;
  const N = a.gateUp ? WN / 2 : WN;
  if (a.gateUp && WN % 2 !== 0) throw new ShapeMismatchError(`linear gateUp: weight ${wl} [${a.w.shape}] must stack [gate; up] as [2F, K]`);
  if (a.x.dtype !== 'f32') throw new ShapeMismatchError(`linear: x must be f32, got ${a.x.dtype}`);
  if (a.x.numel % K !== 0) throw new ShapeMismatchError(`linear: x [${a.x.shape}] is not a multiple of K=${K} (weight ${wl} [${a.w.shape}])`);
  const M = a.x.numel / K;
  if (a.y.numel !== M * N) throw new ShapeMismatchError(`linear: y [${a.y.shape}] should hold [${M}, ${N}] (weight ${wl} [${a.w.shape}])`);
  if (a.bias) expectShape('linear bias', a.bias, [WN], ['f32']);
  if (a.residual && a.residual.numel !== M * N) {
    throw new ShapeMismatchError(`linear: residual [${a.residual.shape}] should hold [${M}, ${N}]`);
  }
  const vec = K % 8 === 0;
  let KW: number, G = 1, SG = 1;
  let wBinding: GpuTensor | GPUBufferBinding = a.w;
  switch (a.w.dtype) {
    case 'f32':
      KW = K;
      break;
    case 'f16':
      KW = Math.ceil(K / 2);
      // Odd K rows are padded to a whole word, so the storage is larger than the [N, K] halves.
      wBinding = { buffer: a.w.buffer, offset: a.w.offset, size: WN * KW * 4 };
      break;
    case 'q8':
    case 'q4': {
      if (!a.scales) throw new ShapeMismatchError(`linear: ${a.w.dtype} weight ${wl} needs its scales tensor`);
      if (a.scales.shape.length !== 2 || a.scales.shape[0] !== WN || K % a.scales.shape[1] !== 0) {
        throw new ShapeMismatchError(`linear: scales [${a.scales.shape}] do not match weight ${wl} [${a.w.shape}] (want [${WN}, K/G])`);
      }
      SG = a.scales.shape[1];
      G = K / SG;
      if (G % 8 !== 0) throw new ShapeMismatchError(`linear: group size ${G} of weight ${wl} must be a multiple of 8`);
      KW = a.w.dtype === 'q8' ? K / 4 : K / 8;
      break;
    }
    default:
      throw new ShapeMismatchError(`linear: weight ${wl} has unsupported dtype ${a.w.dtype}`);
  }
  // llvmpipe: 32 rows a subgroup once there are 32 rows (LLM prefill; see gemm_sg32 in shaders/matmul.wgsl).
  const gpu = !ctx.isCpuAdapter;
  // The fused RMSNorm above 4 rows needs gemm_rt on any adapter (the llvmpipe entries have no PRENORM).
  const mode: LinearMode =
    a.mode ?? (M <= 4 ? 'gemv' : (gpu || a.norm) && vec ? 'gemm_rt' : vec && ctx.hasWideSubgroups ? (M >= 32 ? 'gemm_sg32' : 'gemm_sg') : a.norm ? 'gemv' : 'gemm');
  const sgGemm = mode === 'gemm_sg' || mode === 'gemm_sg32';
  if (a.norm) {
    if ((mode !== 'gemv' && mode !== 'gemm_rt') || !vec) {
      throw new ShapeMismatchError(`linear norm: the fused RMSNorm needs the gemv or gemm_rt entry and K % 8 == 0 (weight ${wl}, K=${K}, ${mode})`);
    }
    expectShape('linear norm', a.norm, [K], ['f32']);
  }
  if ((sgGemm || mode === 'gemm_rt') && !vec) throw new ShapeMismatchError(`linear ${mode}: K=${K} must be a multiple of 8 (weight ${wl})`);
  if (sgGemm) ctx.requireWideSubgroups(`linear ${mode}`);
  // The epilogue in the tuning keys below: fused ops change a tile's cost.
  const epi = `${a.gateUp ? 'g' : ''}${a.norm ? 'n' : ''}${a.residual ? 'r' : ''}${a.act ? 'a' : ''}` || 'p';
  // Tunable: gemm_rt's tile where the caller names none (and, where it named no entry either, the 4×4 `gemm`).
  if (mode === 'gemm_rt' && a.gemmTile === undefined && a.gemmTM === undefined && a.gemmTN === undefined && a.gemmBK === undefined) {
    const shape = [rowBucket(M), N, K, a.w.dtype, epi];
    const canGemm = a.mode === undefined && !a.norm;
    const forced = (c: TuneChoice): LinearArgs =>
      c.mode === 'gemm' && canGemm ? { ...a, mode: 'gemm' } : { ...a, mode: 'gemm_rt', gemmTile: [Number(c.BM), Number(c.BN)], gemmTM: Number(c.TM), gemmTN: Number(c.TN), gemmBK: Number(c.BK) };
    const choice = tunedChoice(ctx, 'linear', shape, () => ({
      // The 4×4 `gemm` right after the default: the first alternative a quick pass (maxCandidates) tries.
      candidates: (([def, ...rest]) => [def, ...(canGemm ? [{ name: 'gemm', choice: { mode: 'gemm' } }] : []), ...rest])(rtCandidates(ctx, M, N, !!a.gateUp, `linear ${wl}`)),
      build: (c) => [linear(ctx, forced(c), tag)],
      writes: [a.y],
      out: a.y,
      tag,
    }));
    // A `gemm` choice measured where the caller left the entry open does not apply where it named gemm_rt or a norm.
    if (choice && (choice.mode !== 'gemm' || canGemm)) return linear(ctx, forced(choice), tag);
  }
  const quant = a.w.dtype === 'q8' || a.w.dtype === 'q4';
  const act = a.act ?? (a.gateUp ? 'silu' : undefined);
  // llvmpipe runs a workgroup 8 lanes at a time on one thread: one subgroup per workgroup owning 8 outputs beats
  // the GPU shape (64 lanes splitting K for 4 outputs) — q4 [4864,896] 3.9 -> 1.9 ms, q8 6.3 -> 3.7 ms there.
  const cpuShape = ctx.adapterKind === 'llvmpipe';
  const rows = a.gemvRows ?? (cpuShape ? 8 : 4);
  const lanes = a.gemvLanes ?? (cpuShape ? 8 : 64);
  // Threads 0..ROWS−1 write the outputs, and the shared-memory tree halves LANES: both need these shapes.
  const redBytes = rows * lanes * (a.gateUp ? 2 : 1) * 4; // the reduction scratch in workgroup memory
  if (!(rows >= 1 && rows <= lanes && lanes <= 256 && (lanes & (lanes - 1)) === 0 && redBytes <= 16384)) {
    throw new ShapeMismatchError(
      `linear: gemvRows ${rows} / gemvLanes ${lanes} invalid (need 1 ≤ rows ≤ lanes ≤ 256, lanes a power of two, rows·lanes·${a.gateUp ? 8 : 4} B ≤ 16 KiB)`,
    );
  }
  // Tunable: the GEMV's output columns and lanes a workgroup where the caller names neither (decode rows).
  if (mode === 'gemv' && a.gemvRows === undefined && a.gemvLanes === undefined) {
    const shape = [M, N, K, a.w.dtype, epi];
    const forced = (c: TuneChoice): LinearArgs => ({ ...a, mode: 'gemv', gemvRows: Number(c.rows), gemvLanes: Number(c.lanes) });
    const choice = tunedChoice(ctx, 'gemv', shape, () => {
      const def = { name: `gemv ${rows}×${lanes}`, choice: { rows, lanes } };
      const others = [1, 2, 4, 8].flatMap((r) => [32, 64, 128, 256].map((l) => ({ name: `gemv ${r}×${l}`, choice: { rows: r, lanes: l } })))
        .filter((c) => c.name !== def.name && c.choice.rows * c.choice.lanes * (a.gateUp ? 2 : 1) * 4 <= 16384);
      return { candidates: [def, ...others], build: (c) => [linear(ctx, forced(c), tag)], writes: [a.y], out: a.y, tag };
    });
    if (choice) return linear(ctx, forced(choice), tag);
  }
  const defines: Record<string, boolean | number> = {
    [`W_${a.w.dtype.toUpperCase()}`]: true,
    VEC: vec,
    QUANT: quant,
    BIAS: !!a.bias,
    RESIDUAL: !!a.residual,
    GATEUP: !!a.gateUp,
    [act ? ACT_DEFINE[act] : 'ACT_NONE']: true,
    SUBGROUPS: sgGemm || (mode === 'gemv' && ctx.hasSubgroups && !a.noSubgroups),
    PRENORM: !!a.norm,
    ROWS: rows,
    LANES: lanes,
    G: quant ? G : false,
    ...(mode === 'gemm_rt' ? { GEMM_RT: true, GC_GATEUP: !!a.gateUp, GC_ROWSQ: !!a.norm, ...rtDefines(rtTile(ctx, M, N, !!a.gateUp, { BM: a.gemmTile?.[0], BN: a.gemmTile?.[1], TM: a.gemmTM, TN: a.gemmTN, BK: a.gemmBK }, `linear ${wl}`)) } : gemmShape(ctx, M, N, a)),
  };
  const params = ctx.uniform(packParams([M, N, K, KW, G, SG, N, { f32: a.alpha ?? 0.01 }, { f32: a.eps ?? 1e-6 }, 0, 0, 0]));
  const grid: [number, number, number] =
    mode === 'gemv' ? [ceilDiv(N, rows), M, 1]
      : sgGemm ? [ceilDiv(N, a.gateUp ? 128 : 256), ceilDiv(M, mode === 'gemm_sg32' ? 32 : 8), 1]
        : mode === 'gemm_rt' ? [ceilDiv(N, (defines.BN as number) / (a.gateUp ? 2 : 1)), ceilDiv(M, defines.BM as number), 1]
          : [ceilDiv(N, defines.BN as number), ceilDiv(M, defines.BM as number), 1];
  return ctx.record(
    { shader: 'matmul', entry: mode, defines },
    [params, a.x, wBinding, a.y, a.bias ?? null, a.residual ?? null, quant ? a.scales! : null, a.norm ?? null],
    grid,
    tag,
  );
}
