/**
 * CausalMaskedDiffWithDiT on WebGPU: tokens → mu (PreLookahead, ×ratio), speaker projection, cond, and the CFM
 * solve (10 CFG Euler steps of the DiT estimator), straight-line and planned once at load.
 *
 * One estimator step is a flat list of dispatches over the preallocated scratch (scratch.ts):
 *   pack_input → input proj → conv-pos ×2 (Mish, residual) →
 *   per block: AdaLN(LN+shift/scale) → fused QKV (+ rotary epilogue) → attention (masks; one fused kernel, or
 *              scores/softmax/P·v passes on CPU adapters) → out proj (+re-mask, gate, residual)
 *              → AdaLN → FF1 (GELU-tanh) → FF2 (gate, residual)
 *   → final AdaLN → proj_out → Euler/CFG update (or the [B, C, T] output for estimator-only calls).
 * The AdaLN/time-MLP tables depend only on t, which takes the same 10 values every solve: they are computed once
 * (modulation records) and each step's records read their own rows, so all 10 steps are encoded into one pass and
 * one submit with no readback; the live length comes from the dims uniform, so any T ≤ maxFrames reuses the plan.
 */
import type { GpuContext } from '../../gpu/context.js';
import type { DispatchRecord } from '../../gpu/dispatch.js';
import type { TensorStore } from '../../../loader/types.js';
import { adaLayerNorm } from '../../../kernels/adaln.js';
import { convPos } from '../../../kernels/conv-pos.js';
import { ditAttention, ditAttentionGemm, ditAttentionGpu } from '../../../kernels/dit-attention.js';
import { splitScratch, type SplitScratch } from '../../../kernels/flash.js';
import { ditLinear, sgblockFor, type DitLinearArgs, type DitLinearImpl } from '../../../kernels/dit-linear.js';
import { ditRopeTable } from '../../../kernels/dit-rotary.js';
import { eulerCfg } from '../../../kernels/euler.js';
import { kvMerge, rowsFrom, xHistory } from '../../../kernels/flow-cache.js';
import { atLength, createDims, writeDims, type DynRecord } from '../../../kernels/flow-dims.js';
import { packInput, prelookahead, spkAffine, toChannels } from '../../../kernels/flow-misc.js';
import { flowConfig, type FlowConfig } from './config.js';
import { FlowInputError } from './errors.js';
import { FlowPrefixState } from './prefix-cache.js';
import { cosineTimeGrid, eulerSteps, timestepSinusoid, upstreamNoise } from './schedule.js';
import { allocFlowScratch, type FlowScratch } from './scratch.js';
import type { GpuTensor } from '../../gpu/tensor.js';
import { loadFlowWeights, type FlowWeights } from './weights.js';

export interface FlowLoadOptions {
  /** Parsed cosyvoice3.yaml. */
  yaml: Record<string, unknown>;
  /** flow.pt state_dict. */
  store: TensorStore;
  /** Estimator weights from the official ONNX (estimatorStoreFromOnnx) instead of flow.pt. */
  estimator?: TensorStore;
  dtype?: 'f32' | 'f16';
  /** Longest prompt + generated sequence in mel frames (scratch size). */
  maxFrames?: number;
  /**
   * Kernel family: 'gpu' = shared-memory tiled linears and the fused attention kernel; 'cpu' = register-blocked
   * linears and 3-pass attention (when 2·H·maxFrames² floats fit one binding, else the barrier-free fused form).
   * Default: 'cpu' on CPU adapters (lavapipe, SwiftShader), 'gpu' elsewhere.
   */
  kernels?: 'gpu' | 'cpu';
  /**
   * GPU memory for the streaming prefix cache (src/models/flow/prefix-cache.ts): keys and values of every (step,
   * block) and the Euler state of the leading whole chunks, 3.5 MB a frame at full size in f32. Allocated at the
   * first streaming solve, or by planAhead. Default 0: off.
   */
  prefixCacheBytes?: number;
}

/** Which dims a record of the cached solve binds, and so which live length sizes its grid. */
type Span = 'window' | 'new' | 'full';
type SpanRecord = DynRecord & { span?: Span };

/** The cached solve's extra state: its dims, the new rows' q|k|v, the kept keys/values and x history, its plan. */
interface PrefixPlan {
  state: FlowPrefixState;
  /** Rows from q0 − lead (the conv-pos window) to T. */
  dimsWindow: GPUBuffer;
  /** Rows q0 to T. */
  dimsNew: GPUBuffer;
  records: SpanRecord[];
  /** Rows before q0 the conv-pos window needs: the causal reach of the two convs. */
  reach: number;
}

export interface FlowInferenceCall {
  tokens: Int32Array;
  promptTokens: Int32Array;
  /** [2P, mel] frames × bins */
  promptMel: Float32Array;
  embedding: Float32Array;
  streaming: boolean;
  finalize: boolean;
  /** Starting noise [mel, T]; default: upstream's fixed seed-0 table, sliced. */
  noise?: Float32Array;
}

export interface FlowTaps {
  /** [Cin, T] */
  mu: Float32Array;
  /** [spk] */
  spks: Float32Array;
  /** [mel, T] */
  cond: Float32Array;
  /** step-0 estimator input rows [2T, 2·mel + mu + spk] = concat(x, cond, mu, spks) per batch row */
  step0Input: Float32Array;
  /** step-0 estimator output rows [2T, out] */
  step0Output: Float32Array;
  /** [mel, T] the solution before the prompt frames are removed */
  decoderOut: Float32Array;
}

export interface FlowResult {
  /** [mel, frames] row-major */
  mel: Float32Array;
  frames: number;
  taps?: FlowTaps;
}

export interface EstimatorInputs {
  /** [B, mel, T] */
  x: Float32Array;
  /** [B, 1, T] 1 = valid */
  mask: Float32Array;
  mu: Float32Array;
  /** [B] */
  t: Float32Array;
  /** [B, spk] */
  spks: Float32Array;
  cond: Float32Array;
  streaming: boolean;
}

export class FlowModel {
  readonly steps: { t: number; dt: number }[];
  readonly timeGrid: Float32Array;
  private readonly solveRecords: DynRecord[][];
  private readonly attnSplit: SplitScratch;
  private readonly estimatorRecords: DynRecord[];
  private readonly modRecords: DispatchRecord[];
  private readonly spkRecord: DispatchRecord;
  private readonly prelookCache = new Map<string, DispatchRecord[]>();
  /** Attention records of the solve by `${step}.${block}` (the cached solve binds the same buffers). */
  private readonly attnRecords = new Map<string, DynRecord[]>();
  /** The streaming prefix cache: undefined until the first streaming solve, null where it is off. */
  private prefix: PrefixPlan | null | undefined;
  private modKey = '';
  /** Frames of the last solve taken from the prefix cache, and solved. */
  prefixServed = { cached: 0, computed: 0 };

  private constructor(
    readonly ctx: GpuContext,
    readonly cfg: FlowConfig,
    readonly w: FlowWeights,
    readonly s: FlowScratch,
    readonly kernels: 'gpu' | 'cpu',
    readonly prefixCacheBytes = 0,
  ) {
    // Key-split attention scratch: allocated only if a tuner tries the split forms or a table chose one.
    this.attnSplit = splitScratch(ctx, s.qkv.shape[0], cfg.heads, cfg.dimHead, 'attn.split');
    this.timeGrid = cosineTimeGrid(cfg.nTimesteps);
    this.steps = eulerSteps(this.timeGrid);
    ctx.write(s.rope.buffer, 0, ditRopeTable(w.invFreq, s.maxFrames));
    this.modRecords = this.planModulation();
    const wc = Math.fround(1 + cfg.cfgRate);
    const cfgPack = packInput(ctx, { dims: s.dims, x: s.x, cond: s.cond, mu: s.mu, spks: s.spks, out: s.inp, mel: cfg.melDim, muC: cfg.muDim, spkC: cfg.spkDim, cfg: true }, 'pack');
    this.solveRecords = this.steps.map(({ dt }, k) => [
      cfgPack,
      ...this.planEstimator(k, `step${k}`),
      eulerCfg(ctx, { dims: s.dims, v: s.v, x: s.x, dt, wc, wu: cfg.cfgRate }, `step${k}.euler`),
    ]);
    this.estimatorRecords = [
      packInput(ctx, { dims: s.dims, x: s.xb, cond: s.condb, mu: s.mub, spks: s.spksb, out: s.inp, mel: cfg.melDim, muC: cfg.muDim, spkC: cfg.spkDim, cfg: false }, 'pack'),
      ...this.planEstimator(0, 'est'),
      toChannels(ctx, s.dims, s.v, s.out, 'est.out'),
    ];
    this.spkRecord = spkAffine(ctx, s.embedding, w.spk.w, w.spk.b, s.spks, 'spk');
  }

  static async load(ctx: GpuContext, opts: FlowLoadOptions): Promise<FlowModel> {
    const shapes = (name: string) => (opts.estimator?.get(name) ?? opts.store.get(name))?.dims;
    const cfg = flowConfig(opts.yaml, shapes);
    const w = loadFlowWeights(ctx, cfg, opts.store, { dtype: opts.dtype, estimator: opts.estimator });
    const maxFrames = opts.maxFrames ?? 1000;
    // CPU adapters run attention as three register-blocked passes over a score buffer when it fits one binding.
    const scoreBytes = Math.ceil((2 * cfg.heads * maxFrames * maxFrames) / 4) * 16; // whole vec4s, as scratch.ts allocates
    const kernels = opts.kernels ?? (ctx.isCpuAdapter ? 'cpu' : 'gpu');
    const withScores = kernels === 'cpu' && scoreBytes <= ctx.device.limits.maxStorageBufferBindingSize;
    const s = allocFlowScratch(ctx, cfg, maxFrames, withScores);
    const model = new FlowModel(ctx, cfg, w, s, kernels, opts.prefixCacheBytes ?? 0);
    await ctx.finish();
    return model;
  }

  /**
   * The DiT linear entry for a static row count (the time MLP and AdaLN: the batch) or the live M (frames) and
   * input width K: GPU kernels take gemm_rt (register tiles, shaders/gemm_core.wgsl) for the frame rows and the
   * 4×4 `tiled` entry for the batch rows, whose 2 rows would idle a gemm_rt tile; on llvmpipe 32 rows a subgroup
   * where there are rows for them (kernels/dit-linear.ts sgblockFor).
   */
  private linearImpl(rows: number | undefined, K: number): DitLinearImpl {
    if (this.kernels !== 'cpu') return rows === undefined && K % 8 === 0 ? 'gemm_rt' : 'tiled';
    if (!this.ctx.hasWideSubgroups) return 'regblock';
    return sgblockFor(rows ?? Infinity);
  }

  /** ditLinear with this model's entry for its rows and width. */
  private linear(a: Omit<DitLinearArgs, 'impl'>, tag: string): DynRecord {
    return ditLinear(this.ctx, { ...a, impl: this.linearImpl(a.rows, a.w.shape[1]) }, tag);
  }

  get tokenMelRatio(): number {
    return this.cfg.tokenMelRatio;
  }
  get preLookaheadLen(): number {
    return this.cfg.preLookaheadLen;
  }
  get melBins(): number {
    return this.cfg.melBins;
  }
  /** Dispatches of one estimator step inside the solve (pack … Euler). */
  get dispatchesPerStep(): number {
    return this.solveRecords[0].length;
  }

  /** Time MLP and every block's AdaLN linear for the R = steps·batch timestep rows. */
  private planModulation(): DispatchRecord[] {
    const { s, w } = this;
    const R = s.modRows;
    const d = s.dims;
    const recs = [
      this.linear({ dims: d, x: s.tsin, w: w.time1.w, bias: w.time1.b, y: s.t1, act: 'silu', rows: R }, 'time.mlp0'),
      // Only SiLU(temb) is ever consumed (every AdaLN applies it first), so the second linear ends in SiLU too.
      this.linear({ dims: d, x: s.t1, w: w.time2.w, bias: w.time2.b, y: s.tsilu, act: 'silu', rows: R }, 'time.mlp2'),
      ...w.blocks.map((b, l) => this.linear({ dims: d, x: s.tsilu, w: b.ada.w, bias: b.ada.b, y: s.mod[l], rows: R }, `block${l}.adaln`)),
      this.linear({ dims: d, x: s.tsilu, w: w.normOut.w, bias: w.normOut.b, y: s.modOut, rows: R }, 'norm_out'),
    ];
    return atLength(recs, 1, 1);
  }

  /**
   * Estimator records reading modulation rows of solver step k (rows k·B + b). With `prefix` (the cached solve,
   * planPrefix): the input stage runs on the conv-pos window's dims and the rest on the new rows', the window rows
   * are dropped after conv-pos, kv_merge joins the kept keys/values to the new rows before the attention, and the
   * attention's rows from q0 feed the out projection; each record carries the span its grid is sized by.
   */
  private planEstimator(k: number, tag: string, prefix?: { window: GPUBuffer; rows: GPUBuffer; qkvNew: GpuTensor; kv: GpuTensor[] }): SpanRecord[] {
    const { ctx, s, w, cfg } = this;
    const C = cfg.dim;
    const B = s.batch;
    const dIn = prefix?.window ?? s.dims;
    const d = prefix?.rows ?? s.dims;
    const at = (span: Span, recs: DynRecord[]): SpanRecord[] => (prefix ? recs.map((r) => ({ ...r, span })) : recs);
    const norm = { impl: this.kernels === 'cpu' ? 'rowwise' : 'workgroup', dims: d, eps: cfg.lnEps } as const;
    const r6 = k * B * 6 * C;
    const out: SpanRecord[] = at('window', [
      this.linear({ dims: dIn, x: s.inp, w: w.inProj.w, bias: w.inProj.b, y: s.h }, `${tag}.in_proj`),
      convPos(ctx, { dims: dIn, x: s.h, w: w.conv1.w, bias: w.conv1.b, y: s.c1 }, `${tag}.conv_pos1`),
      convPos(ctx, { dims: dIn, x: s.c1, w: w.conv2.w, bias: w.conv2.b, y: prefix ? s.n : s.hs, res: s.h }, `${tag}.conv_pos2`),
      ...(prefix ? [rowsFrom(ctx, { dims: dIn, src: s.n, dst: s.hs }, `${tag}.window_rows`)] : []),
    ]);
    w.blocks.forEach((bw, l) => {
      const mod = s.mod[l];
      const t = `${tag}.block${l}`;
      out.push(
        ...at('new', [
          adaLayerNorm(ctx, { ...norm, x: s.hs, y: s.n, mod, shiftBase: r6, scaleBase: r6 + C, modStride: 6 * C }, `${t}.attn_norm`),
          this.linear({ dims: d, x: s.n, w: bw.qkv.w, bias: bw.qkv.b, y: prefix?.qkvNew ?? s.qkv, rope: { table: s.rope, rotDim: cfg.rotDim } }, `${t}.qkv`),
        ]),
        ...(prefix ? at('full', [kvMerge(ctx, { dims: s.dims, qkvNew: prefix.qkvNew, qkv: s.qkv, cache: prefix.kv[l] }, `${t}.kv_merge`)]) : []),
        // With prefix: the new rows' queries (s.dims.lead = q0) over every key, grids sized by the new rows.
        ...at('new', this.attention(`${k}.${l}`, `${t}.attn`)),
        ...(prefix ? at('full', [rowsFrom(ctx, { dims: s.dims, src: s.att, dst: s.n }, `${t}.attn_rows`)]) : []),
        ...at('new', [
          this.linear({ dims: d, x: prefix ? s.n : s.att, w: bw.out.w, bias: bw.out.b, y: s.hs, gate: { mod, base: r6 + 2 * C, stride: 6 * C }, rowmask: s.keymask }, `${t}.to_out`),
          adaLayerNorm(ctx, { ...norm, x: s.hs, y: s.n, mod, shiftBase: r6 + 3 * C, scaleBase: r6 + 4 * C, modStride: 6 * C }, `${t}.ff_norm`),
          this.linear({ dims: d, x: s.n, w: bw.ff1.w, bias: bw.ff1.b, y: s.ff, act: 'gelu_tanh' }, `${t}.ff1`),
          this.linear({ dims: d, x: s.ff, w: bw.ff2.w, bias: bw.ff2.b, y: s.hs, gate: { mod, base: r6 + 5 * C, stride: 6 * C } }, `${t}.ff2`),
        ]),
      );
    });
    const r2 = k * B * 2 * C;
    // AdaLayerNormZero_Final chunks are (scale, shift).
    out.push(...at('new', [
      adaLayerNorm(ctx, { ...norm, x: s.hs, y: s.n, mod: s.modOut, shiftBase: r2 + C, scaleBase: r2, modStride: 2 * C }, `${tag}.norm_out`),
      this.linear({ dims: d, x: s.n, w: w.projOut.w, bias: w.projOut.b, y: s.v }, `${tag}.proj_out`),
    ]));
    return out;
  }

  /** The attention of block l at step k: qkv [B, T, 3C] → att [B, T, C] over the whole sequence (s.dims). */
  private attention(key: string, tag: string): DynRecord[] {
    const { ctx, s, cfg } = this;
    let r = this.attnRecords.get(key);
    if (r) return r;
    const a = { dims: s.dims, qkv: s.qkv, o: s.att, keymask: s.keymask, heads: cfg.heads };
    r = s.scores
      ? ditAttentionGemm(ctx, { ...a, scores: s.scores }, tag)
      : this.kernels === 'cpu'
        ? [ditAttention(ctx, { ...a, impl: 'rowwise' }, tag)]
        : ditAttentionGpu(ctx, a, this.attnSplit, tag);
    this.attnRecords.set(key, r);
    return r;
  }

  /**
   * The solve of a streaming call whose frames [0, q0) are kept (src/models/flow/prefix-cache.ts), per step k:
   *   x_history(k) (x of the kept frames at step k in, the new kept frames' out) → pack → input projection →
   *   conv-pos ×2 over the window [q0 − reach, T) → rows from q0 → per block: AdaLN → QKV (rotary at q0 + row) →
   *   kv_merge (kept keys/values + the new rows into the whole sequence's qkv; the new kept ones stored) → the
   *   attention of queries q0 on over all keys (the solve's own attention records: s.dims.lead = q0) → its rows
   *   from q0 → out proj → AdaLN → FF → … → proj_out → Euler on frames [q0, T).
   * then x_history(steps) for the solution. Planned at the first streaming solve with a cache budget (or planAhead).
   */
  private planPrefix(): PrefixPlan | null {
    const { ctx, s, cfg } = this;
    const steps = cfg.nTimesteps;
    const B = s.batch;
    const C = cfg.dim;
    const chunk = cfg.staticChunk;
    const capacity = this.prefixCapacity;
    if (capacity === 0) return null;
    const t = (shape: number[], label: string) => ctx.tensor('f32', shape, `flow.prefix.${label}`);
    const qkvNew = t(s.qkv.shape as number[], 'qkvNew');
    const hist = t([steps + 1, cfg.melDim, capacity], 'xHistory');
    const kv: GpuTensor[][] = Array.from({ length: steps }, (_, k) => Array.from({ length: cfg.depth }, (_, l) => t([B, capacity, 2 * C], `kv${k}.${l}`)));
    const dW = createDims(ctx);
    const dN = createDims(ctx);
    const wc = Math.fround(1 + cfg.cfgRate);
    const records: SpanRecord[] = [];
    this.steps.forEach(({ dt }, k) => {
      const tag = `step${k}.prefix`;
      records.push(
        { ...xHistory(ctx, { dims: dN, x: s.x, hist, step: k }, `${tag}.x_history`), span: 'full' },
        { ...packInput(ctx, { dims: dW, x: s.x, cond: s.cond, mu: s.mu, spks: s.spks, out: s.inp, mel: cfg.melDim, muC: cfg.muDim, spkC: cfg.spkDim, cfg: true }, `${tag}.pack`), span: 'window' },
        ...this.planEstimator(k, tag, { window: dW, rows: dN, qkvNew, kv: kv[k] }),
        { ...eulerCfg(ctx, { dims: dN, v: s.v, x: s.x, dt, wc, wu: cfg.cfgRate }, `${tag}.euler`), span: 'new' },
      );
    });
    records.push({ ...xHistory(ctx, { dims: dN, x: s.x, hist, step: steps }, 'prefix.x_history'), span: 'full' });
    // Each conv-pos output row reads KS − 1 rows before it; the second conv reads the first's.
    const reach = 2 * (cfg.convKernel - 1);
    const state = new FlowPrefixState(capacity, chunk, cfg.melDim, cfg.tokenMelRatio, cfg.preLookaheadLen);
    return { state, dimsWindow: dW, dimsNew: dN, records, reach };
  }

  /**
   * Leading frames the prefix cache can hold within its budget: whole chunks, 0 where it is off. The budget pays
   * first for the scratch the cached solve allocates with it (qkvNew, one qkv-sized buffer: 37 MB at full size).
   */
  get prefixCapacity(): number {
    const { cfg, s } = this;
    const chunk = cfg.staticChunk;
    const frameBytes = 4 * (cfg.nTimesteps * cfg.depth * s.batch * 2 * cfg.dim + (cfg.nTimesteps + 1) * cfg.melDim);
    const budget = this.prefixCacheBytes - 4 * s.qkv.numel;
    return chunk < 1 || budget <= 0 ? 0 : Math.min(Math.floor(budget / frameBytes / chunk), Math.floor(s.maxFrames / chunk)) * chunk;
  }

  /** Frames the prefix cache holds now, and can hold. */
  get prefixFrames(): { held: number; capacity: number } {
    return { held: this.prefix?.state.held ?? 0, capacity: this.prefixCapacity };
  }

  /** Forgets the kept frames (the buffers stay allocated). */
  clearPrefix(): void {
    this.prefix?.state.clear();
  }

  /** Fills the modulation tables for timestep rows `ts` (length ≤ R; cached by value). */
  private setModulation(ts: number[]): void {
    const rows = new Array<number>(this.s.modRows).fill(0);
    ts.forEach((t, i) => (rows[i] = Math.fround(t)));
    const key = rows.join(',');
    if (key === this.modKey) return;
    this.ctx.write(this.s.tsin.buffer, 0, timestepSinusoid(rows, this.cfg.freqEmbedDim));
    this.ctx.run(this.modRecords);
    this.modKey = key;
  }

  private solveModulation(): void {
    const B = this.s.batch;
    this.setModulation(this.steps.flatMap(({ t }) => new Array<number>(B).fill(t)));
  }

  /** The DiT alone, as DiT.forward(x, mask, mu, t, spks, cond, streaming): returns [B, out, T]. */
  async estimator(a: EstimatorInputs): Promise<Float32Array> {
    const { records, B, T } = this.prepareEstimator(a);
    this.ctx.run(records);
    const out = await this.ctx.readBytes(this.s.out.buffer, 0, B * this.cfg.outChannels * T * 4);
    return new Float32Array(out);
  }

  /** Uploads the estimator inputs and returns the call's dispatch list (benchmarks time it without transfers). */
  prepareEstimator(a: EstimatorInputs): { records: DispatchRecord[]; B: number; T: number } {
    const { ctx, s, cfg } = this;
    const B = a.t.length;
    const T = a.mask.length / B;
    if (B < 1 || B > s.batch || !Number.isInteger(T) || T > s.maxFrames) {
      throw new FlowInputError(`estimator: batch ${B} (≤ ${s.batch}) × ${T} frames (≤ ${s.maxFrames}) from mask [${a.mask.length}] and t [${B}]`);
    }
    const want: [string, Float32Array, number][] = [['x', a.x, cfg.melDim * T * B], ['mu', a.mu, cfg.muDim * T * B], ['cond', a.cond, cfg.melDim * T * B], ['spks', a.spks, cfg.spkDim * B]];
    for (const [n, v, len] of want) if (v.length !== len) throw new FlowInputError(`estimator: ${n} has ${v.length} values, expected ${len}`);
    this.setModulation(Array.from(a.t));
    writeDims(ctx, s.dims, { T, B, chunk: a.streaming ? cfg.staticChunk : 0 });
    ctx.write(s.xb.buffer, 0, a.x);
    ctx.write(s.mub.buffer, 0, a.mu);
    ctx.write(s.condb.buffer, 0, a.cond);
    ctx.write(s.spksb.buffer, 0, a.spks);
    ctx.write(s.keymask.buffer, 0, a.mask);
    return { records: atLength(this.estimatorRecords, T, B), B, T };
  }

  /**
   * Plans the token wrapper for one token, and the prefix cache's solve, so that their pipelines compile with the
   * load's (GpuContext.compileBatch); the wrapper's variants do not depend on the token count.
   */
  planAhead(): void {
    this.prelook(1, 1);
    // The prefix cache's buffers and records too (its budget is memory the caller set aside for it).
    this.prefix ??= this.planPrefix();
  }

  /** Records of the wrapper for n tokens of which nOut produce frames (two bind groups per new (n, nOut)). */
  private prelook(n: number, nOut: number): DispatchRecord[] {
    const key = `${n},${nOut}`;
    let r = this.prelookCache.get(key);
    if (!r) {
      const { s, w } = this;
      r = prelookahead(this.ctx, { dims: s.dims, tok: s.tok, emb: w.emb, w1: w.pre1.w, b1: w.pre1.b, w2: w.pre2.w, b2: w.pre2.b, y1: s.y1, mu: s.mu, ratio: this.cfg.tokenMelRatio }, n, nOut, 'prelookahead');
      this.prelookCache.set(key, r);
    }
    return r;
  }

  /** CausalMaskedDiffWithDiT.inference: the mel of the generated part, [mel, frames]. */
  async inference(call: FlowInferenceCall, opts: { taps?: boolean } = {}): Promise<FlowResult> {
    const { ctx, s, cfg } = this;
    const P = call.promptTokens.length;
    const N = P + call.tokens.length;
    const L = cfg.preLookaheadLen;
    const nOut = call.finalize ? N : N - L;
    const T = cfg.tokenMelRatio * nOut;
    const promptFrames = call.promptMel.length / cfg.melBins;
    // T < prompt frames when the call holds the prompt alone (its look-ahead cut; FlowPort.prepare): every frame is
    // then a prompt frame and the call gives none.
    const alone = call.tokens.length === 0;
    if (!Number.isInteger(promptFrames) || (promptFrames > T && !alone)) throw new FlowInputError(`flow: prompt mel of ${call.promptMel.length} values is not [frames ≤ ${T}, ${cfg.melBins}]`);
    const melLen1 = Math.min(promptFrames, T);
    if (nOut < 1 || T > s.maxFrames || N > s.maxTokens) throw new FlowInputError(`flow: ${N} tokens → ${T} frames; this model was planned for ${s.maxFrames} frames (maxFrames)`);
    if (call.embedding.length !== cfg.spkEmbedDim) throw new FlowInputError(`flow: speaker embedding has ${call.embedding.length} values, expected ${cfg.spkEmbedDim}`);
    const tok = new Int32Array(N);
    tok.set(call.promptTokens, 0);
    tok.set(call.tokens, P);
    for (const id of tok) if (id >= cfg.vocabSize) throw new FlowInputError(`flow: token ${id} ≥ vocab ${cfg.vocabSize}`);
    const noise = call.noise ?? upstreamNoise(T);
    if (noise.length !== cfg.melDim * T) throw new FlowInputError(`flow: noise has ${noise.length} values, expected [${cfg.melDim}, ${T}]`);
    const cond = new Float32Array(cfg.melDim * T);
    for (let f = 0; f < melLen1; f++) for (let c = 0; c < cfg.melDim; c++) cond[c * T + f] = call.promptMel[f * cfg.melBins + c];

    this.solveModulation();
    const B = s.batch;
    const chunk = call.streaming ? cfg.staticChunk : 0;
    ctx.write(s.tok.buffer, 0, tok);
    ctx.write(s.embedding.buffer, 0, call.embedding);
    ctx.write(s.cond.buffer, 0, cond);
    ctx.write(s.x.buffer, 0, noise);
    ctx.write(s.keymask.buffer, 0, new Float32Array(B * T).fill(1));
    const head = [...this.prelook(N, nOut), this.spkRecord];
    if (this.prefix === undefined && call.streaming) this.prefix = this.planPrefix();
    const pf = call.streaming && !opts.taps ? this.prefix : undefined;
    // Frames [0, q0) come from the prefix cache (none without it); the call stores frames [q0, keep).
    const inputs = { tok, cond, noise, embedding: call.embedding, T };
    const q0 = pf?.state.reusable(inputs) ?? 0;
    const keep = pf?.state.keepFor(T, q0) ?? 0;
    writeDims(ctx, s.dims, { T, B, chunk, lead: q0, keep });
    this.prefixServed = { cached: q0, computed: T - q0 };
    if (pf) {
      // The conv-pos window starts `lead` rows before q0.
      const lead = Math.min(q0, pf.reach);
      writeDims(ctx, pf.dimsWindow, { T: T - q0 + lead, B, chunk, q0: q0 - lead, full: T, lead, keep });
      writeDims(ctx, pf.dimsNew, { T: T - q0, B, chunk, q0, full: T, keep });
      const len = { window: T - q0 + lead, new: T - q0, full: T };
      ctx.run([...head, ...pf.records.map((r) => ({ label: r.label, variant: r.variant, pipeline: r.pipeline, bindGroup: r.bindGroup, workgroups: r.grid(len[r.span ?? 'full'], B, T) }))]);
      // Committed at submission: later calls are queued behind this one's stores.
      pf.state.commit(inputs, keep);
    } else if (!opts.taps) {
      ctx.run([...head, ...this.solveRecords.flatMap((r) => atLength(r, T, B))]);
    } else {
      const steps = this.solveRecords.map((r) => atLength(r, T, B));
      const inpBytes = s.batch * T * s.inp.shape[1] * 4;
      const vBytes = s.batch * T * cfg.outChannels * 4;
      ctx.run([...head, ...steps[0]], (enc) => {
        enc.copyBufferToBuffer(s.inp.buffer, 0, s.tapInp.buffer, 0, inpBytes);
        enc.copyBufferToBuffer(s.v.buffer, 0, s.tapV.buffer, 0, vBytes);
      });
      ctx.run(steps.slice(1).flat());
    }
    const x = new Float32Array(await ctx.readBytes(s.x.buffer, 0, cfg.melDim * T * 4));
    const frames = T - melLen1;
    const mel = new Float32Array(cfg.melDim * frames);
    for (let c = 0; c < cfg.melDim; c++) mel.set(x.subarray(c * T + melLen1, c * T + T), c * frames);
    if (!opts.taps) return { mel, frames };
    const rd = async (t: { buffer: GPUBuffer }, n: number) => new Float32Array(await ctx.readBytes(t.buffer, 0, n * 4));
    const taps: FlowTaps = {
      mu: await rd(s.mu, cfg.inputSize * T),
      spks: await rd(s.spks, cfg.spkDim),
      cond: await rd(s.cond, cfg.melDim * T),
      step0Input: await rd(s.tapInp, s.batch * T * s.inp.shape[1]),
      step0Output: await rd(s.tapV, s.batch * T * cfg.outChannels),
      decoderOut: x,
    };
    return { mel, frames, taps };
  }
}
