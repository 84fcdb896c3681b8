/**
 * The CosyVoice3 DiT estimator on the CPU (DiT.forward(x, mask, mu, t, spks, cond, streaming) → [B, out, T]),
 * residual stream in time-major rows [M = B·T, C]:
 *   pack concat(x, cond, mu, spks) → input proj → conv-pos ×2 (Mish, residual) →
 *   per block: AdaLN → fused QKV → rotary (q, k: first rotDim channels) → attention → out proj (re-mask, gate,
 *              residual) → AdaLN → FF1 (GELU tanh) → FF2 (gate, residual)
 *   → final AdaLN (scale, shift) → proj_out → [B, out, T].
 * Every linear is a resident WebAssembly matrix (kernels/cpu-linear.ts); the attention, key padding and the
 * streaming chunk mask included, runs whole in WebAssembly (CpuKernels.ditAttention). The AdaLN tables depend on t
 * alone and t takes the same 10 values in every solve: they are computed once per t value and cached.
 */
import type { CpuKernels, CpuMatrix, CpuTensor, CpuWeightDtype } from '../../../kernels/cpu-linear.js';
import { ditRopeTable } from '../../../kernels/dit-rotary.js';
import type { EstimatorInputs } from '../../ort/engine.js';
import type { FlowConfig } from '../flow/config.js';
import { FlowInputError } from '../flow/errors.js';
import { timestepSinusoid } from '../flow/schedule.js';
import { CpuConvPos } from './dit-conv.js';
import { DitPrefixCache, type StepPrefix } from './dit-cache.js';
import { applyInPlace } from './dit-ops.js';
import { EST, fusedQkvFill, type FlowTensorReader } from '../flow/weights.js';

/** Modulation tables kept (t values): the 10 of the solve and a few estimator-only calls. */
const MOD_CACHE = 32;

interface Block {
  /** attn_norm.linear [6C, C] */
  ada: CpuMatrix;
  /** to_q | to_k | to_v fused [3C, C] */
  qkv: CpuMatrix;
  out: CpuMatrix;
  ff1: CpuMatrix;
  ff2: CpuMatrix;
}

/** The AdaLN chunks of one t: per block [6C] (shift, scale, gate ×2), final [2C] (scale, shift). */
interface Modulation {
  blocks: Float32Array[];
  final: Float32Array;
}

const silu = (v: number) => v / (1 + Math.exp(-v));

/** Width of a packed input row: x | cond | mu | spks. */
const packWidth = (cfg: FlowConfig) => 2 * cfg.melDim + cfg.muDim + cfg.spkDim;

/**
 * Activations of one call, grown to the largest M seen and reused. The input stage (pack, input projection, conv
 * position embedding) works on host arrays; the transformer blocks on tensors resident in the kernels' memory, so
 * their linears, attention and elementwise steps pass no activation across to JavaScript.
 */
class Scratch {
  rows = 0;
  inp = new Float32Array(0);
  h = new Float32Array(0);
  hs = new Float32Array(0);
  n = new Float32Array(0);
  v = new Float32Array(0);
  /** The input rows of the conv window when a call starts past a cached prefix. */
  win = new Float32Array(0);
  /**
   * Resident: residual stream, norm output, q|k|v, attention output, branch output, FF hidden, key mask, and the
   * keys|values of every frame when the queries start past a cached prefix.
   */
  r: Record<'hs' | 'n' | 'qkv' | 'att' | 'o' | 'ff' | 'mask' | 'kv', CpuTensor> | null = null;

  ensure(M: number, cfg: FlowConfig, k: CpuKernels): void {
    if (M <= this.rows) return;
    // Grown by doubling; the smaller tensors are given back.
    const rows = Math.max(M, 2 * this.rows, 64);
    if (this.r) for (const t of Object.values(this.r)) k.release(t);
    const C = cfg.dim;
    this.inp = new Float32Array(rows * packWidth(cfg));
    this.win = new Float32Array(this.inp.length);
    for (const key of ['h', 'hs', 'n'] as const) this[key] = new Float32Array(rows * C);
    this.v = new Float32Array(rows * cfg.outChannels);
    const res = (n: number, name: string) => k.resident(n, `dit ${name}`);
    this.r = {
      hs: res(rows * C, 'hs'), n: res(rows * C, 'n'), qkv: res(rows * 3 * C, 'qkv'), att: res(rows * C, 'att'), o: res(rows * C, 'o'),
      ff: res(rows * cfg.ffInner, 'ff'), mask: res(rows, 'mask'), kv: res(rows * 2 * C, 'kv'),
    };
    this.rows = rows;
  }
}

export class CpuDit {
  private readonly mods = new Map<number, Modulation>();
  private readonly s = new Scratch();
  /** The rotary table and this call's modulation rows ([depth + 1][B][6C]: each block's, then the final 2C), resident. */
  private ropeResident: CpuTensor | null = null;
  private modResident: CpuTensor | null = null;
  /** The streaming calls' cached prefixes (dit-cache.ts); made at the first call that can use it. */
  private cache: DitPrefixCache | null = null;
  /** Bytes the prefix cache may hold (0: off). */
  cacheBytes = 0;
  /** Frames (per batch item, summed over calls) served from the prefix cache and computed. */
  readonly frameCounts = { cached: 0, computed: 0 };

  private constructor(
    private readonly k: CpuKernels,
    private readonly cfg: FlowConfig,
    private readonly w: {
      time1: CpuMatrix;
      time2: CpuMatrix;
      inProj: CpuMatrix;
      conv1: CpuConvPos;
      conv2: CpuConvPos;
      invFreq: Float32Array;
      blocks: Block[];
      normOut: CpuMatrix;
      projOut: CpuMatrix;
    },
  ) {}

  /** Makes every estimator weight resident in `k`: the linears as `dtype`, the conv position embedding f32. */
  static load(k: CpuKernels, cfg: FlowConfig, r: FlowTensorReader, dtype: CpuWeightDtype = 'f32'): CpuDit {
    const { dim: C, ffInner: F } = cfg;
    const linear = (path: string, N: number, K: number) => k.matrix(r.fill(`${EST}${path}.weight`, [N, K]), N, K, r.f32(`${EST}${path}.bias`, [N]), path, dtype);
    const cpg = C / cfg.convGroups;
    const conv = (c: string) => {
      const p = `${EST}input_embed.conv_pos_embed.${c}.0`;
      return new CpuConvPos(k, r.f32(`${p}.weight`, [C, cpg, cfg.convKernel]), r.f32(`${p}.bias`, [C]), C, cpg, cfg.convKernel, c);
    };
    const blocks: Block[] = [];
    for (let i = 0; i < cfg.depth; i++) {
      const p = `transformer_blocks.${i}.`;
      const qkv = fusedQkvFill(r, EST + p, C);
      blocks.push({
        ada: linear(`${p}attn_norm.linear`, 6 * C, C),
        qkv: k.matrix(qkv.w, 3 * C, C, qkv.b, `${p}attn.qkv`, dtype),
        out: linear(`${p}attn.to_out.0`, C, C),
        ff1: linear(`${p}ff.ff.0.0`, F, C),
        ff2: linear(`${p}ff.ff.2`, C, F),
      });
    }
    const w = {
      time1: linear('time_embed.time_mlp.0', C, cfg.freqEmbedDim),
      time2: linear('time_embed.time_mlp.2', C, C),
      inProj: linear('input_embed.proj', C, packWidth(cfg)),
      conv1: conv('conv1'),
      conv2: conv('conv2'),
      invFreq: r.f32(`${EST}rotary_embed.inv_freq`, [cfg.rotDim / 2]),
      blocks,
      normOut: linear('norm_out.linear', 2 * C, C),
      projOut: linear('proj_out', cfg.outChannels, C),
    };
    return new CpuDit(k, cfg, w);
  }

  /**
   * DiT.forward: velocity [B, out, T]. A streaming call (chunk mask on, no padding, one t) whose leading whole
   * chunks match what an earlier call at this t computed computes only the frames after them (dit-cache.ts); the
   * result is the same bits either way.
   */
  forward(a: EstimatorInputs): Float32Array {
    const { cfg, s, w, k } = this;
    const B = a.batch;
    const T = a.frames;
    this.check(a);
    const C = cfg.dim;
    s.ensure(B * T, cfg, k);
    this.pack(a);
    const chunk = a.streaming ? cfg.staticChunk : 0;
    const cache = this.cacheFor(a, chunk);
    const key = Math.fround(a.t[0]);
    const q0 = cache ? cache.reusable(key, s.inp, T) : 0;
    this.frameCounts.cached += q0;
    this.frameCounts.computed += T - q0;
    if (q0 === T) return this.toChannels(B, T, q0, cache!.prefix(key));
    const storeTo = cache?.extent(key, q0, T) ?? 0; // frames q0 … storeTo − 1 are kept (0: none)
    const Tn = T - q0;
    const M = B * Tn;
    const mods = this.modulation(a.t);
    const modRows = this.residentModulation(mods);
    const rope = this.residentRope(T);
    this.inputStage(B, T, q0);
    // From here on the activations (the rows of frames q0 … T − 1) stay in the kernels' memory.
    const r = s.r!;
    r.mask.view().set(a.mask);
    const S = 6 * C;
    w.blocks.forEach((bw, l) => {
      const mod = modRows.slice(l * B * S, B * S);
      k.adaLayerNorm(r.hs, r.n, M, C, Tn, mod, S, 0, C, cfg.lnEps);
      k.linear(r.n, M, bw.qkv, r.qkv);
      k.rotary(r.qkv, M, Tn, 3 * C, 0, cfg.rotDim, rope, q0);
      k.rotary(r.qkv, M, Tn, 3 * C, C, cfg.rotDim, rope, q0);
      // The whole attention in WebAssembly; past a cached prefix, over its keys and values and the new ones.
      if (q0 === 0) k.ditAttention(r.qkv, B, T, cfg.heads, cfg.dimHead, r.mask, chunk, r.att);
      else {
        this.gatherKeys(l, key, B, T, q0);
        k.ditAttentionRows(r.qkv, 3 * C, r.kv, 2 * C, B, Tn, q0, T, cfg.heads, cfg.dimHead, r.mask, chunk, r.att);
      }
      if (storeTo) this.storeKeys(l, key, B, T, q0, storeTo);
      k.linear(r.att, M, bw.out, r.o);
      k.gatedResidual(r.hs, r.o, M, C, Tn, mod, S, 2 * C, q0 === 0 ? r.mask : undefined);
      k.adaLayerNorm(r.hs, r.n, M, C, Tn, mod, S, 3 * C, 4 * C, cfg.lnEps);
      k.linear(r.n, M, bw.ff1, r.ff, 'gelu_tanh'); // GELU in the GEMM's epilogue, on every thread's slice
      k.linear(r.ff, M, bw.ff2, r.o);
      k.gatedResidual(r.hs, r.o, M, C, Tn, mod, S, 5 * C);
    });
    // AdaLayerNormZero_Final chunks are (scale, shift), stored after the blocks' rows with the same stride.
    k.adaLayerNorm(r.hs, r.n, M, C, Tn, modRows.slice(w.blocks.length * B * S, B * S), S, C, 0, cfg.lnEps);
    k.linear(r.n, M, w.projOut, s.v);
    if (storeTo) this.storeRows(key, B, T, q0, storeTo);
    return this.toChannels(B, T, q0, q0 > 0 ? cache!.prefix(key) : undefined);
  }

  /** The prefix cache if this call may use it: streaming, no padded frame, one t for every item. */
  private cacheFor(a: EstimatorInputs, chunk: number): DitPrefixCache | null {
    if (!(this.cacheBytes > 0 && chunk > 0) || !a.t.every((t) => t === a.t[0]) || !a.mask.every((m) => m > 0.5)) return null;
    const { cfg } = this;
    if (this.cache?.dims.B !== a.batch) {
      const dims = { B: a.batch, W: packWidth(cfg), O: cfg.outChannels, KV: 2 * cfg.dim, depth: cfg.depth };
      const per = cfg.nTimesteps * DitPrefixCache.frameBytes(dims);
      const maxFrames = Math.floor(this.cacheBytes / per / chunk) * chunk;
      this.cache = maxFrames > 0 ? new DitPrefixCache(dims, chunk, maxFrames, cfg.nTimesteps) : null;
    }
    return this.cache;
  }

  /** Empties the prefix cache (its memory is given back). */
  clearCache(): void {
    this.cache = null;
  }

  /** Bytes the prefix cache holds. */
  get cacheHeld(): number {
    return this.cache?.bytes ?? 0;
  }

  /**
   * Input projection and conv position embedding of frames q0 … T − 1 into the resident residual stream. Both
   * convolutions are causal with KS − 1 frames of context, so they run over the window from q0 − 2·(KS − 1): the
   * window's first rows see zeros where the whole call sees earlier frames, but none of those rows is kept.
   */
  private inputStage(B: number, T: number, q0: number): void {
    const { cfg, s, w, k } = this;
    const C = cfg.dim, W = packWidth(cfg);
    const w0 = Math.max(0, q0 - 2 * (cfg.convKernel - 1));
    const Tw = T - w0, Tn = T - q0;
    let inp = s.inp;
    if (w0 > 0) {
      for (let b = 0; b < B; b++) s.win.set(s.inp.subarray((b * T + w0) * W, (b + 1) * T * W), b * Tw * W);
      inp = s.win;
    }
    k.linear(inp, B * Tw, w.inProj, s.h);
    w.conv1.run(s.h, B, Tw, s.n);
    w.conv2.run(s.n, B, Tw, s.hs, s.h);
    const hs = s.r!.hs.view();
    for (let b = 0; b < B; b++) hs.set(s.hs.subarray((b * Tw + q0 - w0) * C, (b + 1) * Tw * C), b * Tn * C);
  }

  /** kv [B·T, 2C]: block l's cached keys|values of frames < q0, then this call's (after the rotary). */
  private gatherKeys(l: number, key: number, B: number, T: number, q0: number): void {
    const C = this.cfg.dim, Tn = T - q0;
    const pre = this.cache!.prefix(key)!;
    const r = this.s.r!;
    const kv = r.kv.view(), qkv = r.qkv.view();
    for (let b = 0; b < B; b++) {
      kv.set(pre.kv[l][b].subarray(0, q0 * 2 * C), b * T * 2 * C);
      for (let i = 0; i < Tn; i++) kv.set(qkv.subarray((b * Tn + i) * 3 * C + C, (b * Tn + i + 1) * 3 * C), (b * T + q0 + i) * 2 * C);
    }
  }

  /** Keeps block l's keys|values of frames q0 … to − 1. */
  private storeKeys(l: number, key: number, B: number, T: number, q0: number, to: number): void {
    const C = this.cfg.dim, Tn = T - q0;
    const dst = this.cache!.prefix(key)!.kv[l];
    const qkv = this.s.r!.qkv.view();
    for (let b = 0; b < B; b++) {
      for (let j = q0; j < to; j++) dst[b].set(qkv.subarray((b * Tn + j - q0) * 3 * C + C, (b * Tn + j - q0 + 1) * 3 * C), j * 2 * C);
    }
  }

  /** Keeps the packed inputs and velocities of frames q0 … to − 1 and marks them cached. */
  private storeRows(key: number, B: number, T: number, q0: number, to: number): void {
    const { cfg, s } = this;
    const W = packWidth(cfg), O = cfg.outChannels, Tn = T - q0;
    const pre = this.cache!.prefix(key)!;
    for (let b = 0; b < B; b++) {
      pre.inp[b].set(s.inp.subarray((b * T + q0) * W, (b * T + to) * W), q0 * W);
      pre.vel[b].set(s.v.subarray((b * Tn) * O, (b * Tn + to - q0) * O), q0 * O);
    }
    this.cache!.commit(key, to);
  }

  private check(a: EstimatorInputs): void {
    const { cfg } = this;
    const B = a.batch;
    const T = a.frames;
    if (!(B >= 1 && T >= 1 && Number.isInteger(B) && Number.isInteger(T))) throw new FlowInputError(`estimator: batch ${B} × ${T} frames`);
    const want: [string, Float32Array, number][] = [
      ['x', a.x, B * cfg.melDim * T], ['cond', a.cond, B * cfg.melDim * T], ['mu', a.mu, B * cfg.muDim * T],
      ['mask', a.mask, B * T], ['t', a.t, B], ['spks', a.spks, B * cfg.spkDim],
    ];
    for (const [n, v, len] of want) if (v.length !== len) throw new FlowInputError(`estimator: ${n} has ${v.length} values, expected ${len}`);
  }

  /** inp[b·T + t, :] = [x[b, :, t], cond[b, :, t], mu[b, :, t], spks[b, :]] (upstream's concat order). */
  private pack(a: EstimatorInputs): void {
    const { melDim: X, muDim: U, spkDim: S } = this.cfg;
    const T = a.frames;
    const W = packWidth(this.cfg);
    const inp = this.s.inp;
    for (let b = 0; b < a.batch; b++) {
      for (let t = 0; t < T; t++) {
        const r = (b * T + t) * W;
        for (let c = 0; c < X; c++) inp[r + c] = a.x[(b * X + c) * T + t];
        for (let c = 0; c < X; c++) inp[r + X + c] = a.cond[(b * X + c) * T + t];
        for (let c = 0; c < U; c++) inp[r + 2 * X + c] = a.mu[(b * U + c) * T + t];
        inp.set(a.spks.subarray(b * S, b * S + S), r + 2 * X + U);
      }
    }
  }

  /** out[b, c, t] = the velocity of frame t: cached below q0, else row b·(T − q0) + t − q0 of this call's. */
  private toChannels(B: number, T: number, q0: number, pre?: StepPrefix): Float32Array {
    const O = this.cfg.outChannels, Tn = T - q0;
    const v = this.s.v;
    const out = new Float32Array(B * O * T);
    for (let b = 0; b < B; b++) {
      const cached = pre?.vel[b];
      for (let t = 0; t < q0; t++) for (let c = 0; c < O; c++) out[(b * O + c) * T + t] = cached![t * O + c];
      for (let t = q0; t < T; t++) for (let c = 0; c < O; c++) out[(b * O + c) * T + t] = v[(b * Tn + t - q0) * O + c];
    }
    return out;
  }

  /** The rotary table for ≥ T positions (regrown by doubling), resident. */
  private residentRope(T: number): CpuTensor {
    const half = this.cfg.rotDim / 2;
    const have = this.ropeResident?.length ?? 0;
    if (have < T * half * 2) {
      const table = ditRopeTable(this.w.invFreq, Math.max(T, (2 * have) / (half * 2), 256));
      if (this.ropeResident) this.k.release(this.ropeResident);
      this.ropeResident = this.k.resident(table.length, 'dit rope');
      this.ropeResident.view().set(table);
    }
    return this.ropeResident!;
  }

  /** Each batch item's modulation rows, resident: block l's at [l][b][6C], then the final chunks at [depth][b]. */
  private residentModulation(mods: Modulation[]): CpuTensor {
    const B = mods.length, S = 6 * this.cfg.dim, L = this.w.blocks.length;
    if (!this.modResident || this.modResident.length < (L + 1) * B * S) {
      if (this.modResident) this.k.release(this.modResident);
      this.modResident = this.k.resident((L + 1) * B * S, 'dit modulation');
    }
    const v = this.modResident.view();
    mods.forEach((m, b) => {
      m.blocks.forEach((row, l) => v.set(row, (l * B + b) * S));
      v.set(m.final, (L * B + b) * S);
    });
    return this.modResident;
  }

  /** The modulation of each batch item's t, computing the t values not cached yet in one batch. */
  private modulation(ts: Float32Array): Modulation[] {
    const keys = Array.from(ts, (t) => Math.fround(t));
    const todo = [...new Set(keys.filter((t) => !this.mods.has(t)))];
    if (todo.length) {
      if (this.mods.size + todo.length > MOD_CACHE) this.mods.clear();
      this.computeModulation(todo).forEach((m, i) => this.mods.set(todo[i], m));
    }
    return keys.map((t) => this.mods.get(t)!);
  }

  /** Time MLP (SiLU), then SiLU(temb) — the only form any AdaLN consumes — through every AdaLN linear. */
  private computeModulation(ts: number[]): Modulation[] {
    const { k, w, cfg } = this;
    const n = ts.length;
    const C = cfg.dim;
    const t1 = k.linear(timestepSinusoid(ts, cfg.freqEmbedDim), n, w.time1);
    applyInPlace(t1, n * C, silu);
    const temb = k.linear(t1, n, w.time2);
    applyInPlace(temb, n * C, silu);
    const per = w.blocks.map((b) => k.linear(temb, n, b.ada));
    const fin = k.linear(temb, n, w.normOut);
    return ts.map((_, i) => ({
      blocks: per.map((m) => m.slice(i * 6 * C, (i + 1) * 6 * C)),
      final: fin.slice(i * 2 * C, (i + 1) * 2 * C),
    }));
  }
}
