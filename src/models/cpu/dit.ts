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
  /** Resident: residual stream, norm output, q|k|v, attention output, branch output, FF hidden, key mask. */
  r: Record<'hs' | 'n' | 'qkv' | 'att' | 'o' | 'ff' | 'mask', CpuTensor> | null = null;

  ensure(M: number, cfg: FlowConfig, k: CpuKernels): void {
    if (M <= this.rows) return;
    // Grown by doubling; the smaller tensors are given back.
    const rows = Math.max(M, 2 * this.rows, 64);
    if (this.r) for (const t of Object.values(this.r)) k.release(t);
    const C = cfg.dim;
    this.inp = new Float32Array(rows * (2 * cfg.melDim + cfg.muDim + cfg.spkDim));
    for (const key of ['h', 'hs', 'n'] as const) this[key] = new Float32Array(rows * C);
    this.v = new Float32Array(rows * cfg.outChannels);
    const res = (n: number, name: string) => k.resident(n, `dit ${name}`);
    this.r = {
      hs: res(rows * C, 'hs'), n: res(rows * C, 'n'), qkv: res(rows * 3 * C, 'qkv'), att: res(rows * C, 'att'), o: res(rows * C, 'o'),
      ff: res(rows * cfg.ffInner, 'ff'), mask: res(rows, 'mask'),
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
      inProj: linear('input_embed.proj', C, 2 * cfg.melDim + cfg.muDim + cfg.spkDim),
      conv1: conv('conv1'),
      conv2: conv('conv2'),
      invFreq: r.f32(`${EST}rotary_embed.inv_freq`, [cfg.rotDim / 2]),
      blocks,
      normOut: linear('norm_out.linear', 2 * C, C),
      projOut: linear('proj_out', cfg.outChannels, C),
    };
    return new CpuDit(k, cfg, w);
  }

  /** DiT.forward: velocity [B, out, T]. */
  forward(a: EstimatorInputs): Float32Array {
    const { cfg, s, w, k } = this;
    const B = a.batch;
    const T = a.frames;
    this.check(a);
    const M = B * T;
    const C = cfg.dim;
    s.ensure(M, cfg, k);
    const mods = this.modulation(a.t);
    const modRows = this.residentModulation(mods);
    const rope = this.residentRope(T);
    this.pack(a);
    k.linear(s.inp, M, w.inProj, s.h);
    w.conv1.run(s.h, B, T, s.n);
    w.conv2.run(s.n, B, T, s.hs, s.h);
    // From here on the activations stay in the kernels' memory.
    const r = s.r!;
    r.hs.view().set(s.hs.subarray(0, M * C));
    r.mask.view().set(a.mask);
    const chunk = a.streaming ? cfg.staticChunk : 0;
    const S = 6 * C;
    w.blocks.forEach((bw, l) => {
      const mod = modRows.slice(l * B * S, B * S);
      k.adaLayerNorm(r.hs, r.n, M, C, T, mod, S, 0, C, cfg.lnEps);
      k.linear(r.n, M, bw.qkv, r.qkv);
      k.rotary(r.qkv, M, T, 3 * C, 0, cfg.rotDim, rope);
      k.rotary(r.qkv, M, T, 3 * C, C, cfg.rotDim, rope);
      k.ditAttention(r.qkv, B, T, cfg.heads, cfg.dimHead, r.mask, chunk, r.att); // the whole attention in WebAssembly
      k.linear(r.att, M, bw.out, r.o);
      k.gatedResidual(r.hs, r.o, M, C, T, mod, S, 2 * C, r.mask);
      k.adaLayerNorm(r.hs, r.n, M, C, T, mod, S, 3 * C, 4 * C, cfg.lnEps);
      k.linear(r.n, M, bw.ff1, r.ff, 'gelu_tanh'); // GELU in the GEMM's epilogue, on every thread's slice
      k.linear(r.ff, M, bw.ff2, r.o);
      k.gatedResidual(r.hs, r.o, M, C, T, mod, S, 5 * C);
    });
    // AdaLayerNormZero_Final chunks are (scale, shift), stored after the blocks' rows with the same stride.
    k.adaLayerNorm(r.hs, r.n, M, C, T, modRows.slice(w.blocks.length * B * S, B * S), S, C, 0, cfg.lnEps);
    k.linear(r.n, M, w.projOut, s.v);
    return this.toChannels(B, T);
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
    const W = 2 * X + U + S;
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

  /** out[b, c, t] = v[b·T + t, c]. */
  private toChannels(B: number, T: number): Float32Array {
    const O = this.cfg.outChannels;
    const v = this.s.v;
    const out = new Float32Array(B * O * T);
    for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) for (let c = 0; c < O; c++) out[(b * O + c) * T + t] = v[(b * T + t) * O + c];
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
