/**
 * The Qwen2 body of CosyVoice3LM on WebGPU over a paged KV cache: prefill (any number of rows, continuing a
 * sequence at its current length) and decode (one row), each one submit.
 *
 * Per layer (HF Qwen2DecoderLayer, spec §3.2), over scratch row views [M, …]:
 *   xn   = RMSNorm₁(x)                                     rmsnorm
 *   qkv  = xn · [Wq; Wk; Wv]ᵀ + [bq; bk; bv]               linear (one fused projection)
 *   q, K/V pages ← RoPE(q), RoPE(k), v at pos start+m      kv_cache qkv_append (block table → page, slot)
 *   attn = causal GQA softmax(q·Kᵀ/√D)·V over the pages    paged_attention
 *   h    = x + attn · Woᵀ                                  linear (+ residual)
 *   xn   = RMSNorm₂(h)                                     rmsnorm
 *   act  = SiLU(xn·Wgᵀ) ⊙ (xn·Wuᵀ)                         linear (gateUp epilogue) or linear + silu_mul
 *   x    = h + act · Wdownᵀ                                linear (+ residual)
 * then hidden = RMSNorm_final(x) (all rows, or only the last), logits = hidden · W_llm_decoderᵀ, and the
 * top-k + log-sum-exp the sampler needs. 8 dispatches per layer (9 with the split SwiGLU form) + 3. On CPU
 * adapters the decode step instead uses rmsnorm.wgsl `gemv` with the norms and the SwiGLU fused into the
 * projections (prefill and decode): 6 dispatches per layer + 3 (see ownPlan). Decode attention is split-K (partials + combine:
 * one more dispatch per layer, no barriers), except on llvmpipe, where one `heads_sg` dispatch walks the whole
 * context (kernels/paged-attention.ts decodeAttention): 6 per layer there.
 *
 * Steady-state decode: the plan is built once at load; a step writes the input row, a 16-byte step uniform
 * {start, slot} and (only when a page is added) the sequence's block-table row, then one submit that also copies
 * the ~200-byte top-k record into a mapped staging buffer: 1 pass, 1 submit, 1 readback, no allocation.
 * decodeBatch steps up to MAX_BATCH sequences in that one submit (concurrent syntheses, steps.ts): the projections
 * over all rows, the RoPE/KV append, attention and top-k once a row, at the row's own step uniform.
 */
import { linear } from '../../../kernels/matmul.js';
import { qkvAppend } from '../../../kernels/kv-cache.js';
import { decodeAttention, prefillAttention, splitsFor } from '../../../kernels/paged-attention.js';
import { splitScratch, type SplitScratch } from '../../../kernels/flash.js';
import { normGemv, rmsNorm, siluMul } from '../../../kernels/rmsnorm.js';
import { ropeTable } from '../../../kernels/rope.js';
import { decodeTopK, topK } from '../../../kernels/sample.js';
import { UNIFORM, type GpuContext } from '../../gpu/context.js';
import type { DispatchRecord } from '../../gpu/dispatch.js';
import type { GpuTensor } from '../../gpu/tensor.js';
import type { TopKCandidates } from '../../sampling/topk.js';
import type { LlmConfig } from './config.js';
import { PagedKvCache, KvSequenceError, type KvCacheOptions, type KvSequence } from './paged-kv.js';
import { allocLlmScratch, type LlmScratch } from './scratch.js';
import type { LinearWeight, LlmWeights } from './weights.js';

/**
 * Whether the RMSNorm before qkv_proj / gate_up runs as its own dispatch instead of the projection's fused
 * prologue. On llvmpipe the subgroup entries (`gemv_sg` for an f16 decode row, `gemm_sg` for ≥ 8 prefill rows)
 * would recompute the norm statistics in every workgroup and re-read the norm weight with every chunk, 14 loads
 * per 64 k instead of 10, which costs more than one small dispatch there. Measured at full size, alternating runs:
 * f16 decode median 264/237 vs 309/254 ms per token; f16 prefill of 256 tokens 12.6/11.8 vs 13.5/13.1 s. f32
 * decode rows keep `gemv` with the fused prologue (its 64-row workgroups amortise it).
 */
export function normRunsApart(ctx: GpuContext, M: number, dtype: string): boolean {
  return ctx.hasWideSubgroups && ((M === 1 && dtype === 'f16') || M >= 8);
}

export interface Qwen2RuntimeOptions {
  /** Rows per prefill submit (longer prompts are prefilled in chunks); also the all-rows (teacher-forced) limit. */
  maxPrefill?: number;
  /** Longest sequence in positions (RoPE table rows, block-table row length). */
  maxContext?: number;
  kv?: Partial<Omit<KvCacheOptions, 'maxContext'>>;
  /** Top-k candidates read back per step (default ras top_k + 1: one spare for the ignore_eos mask). */
  topK?: number;
  /**
   * SwiGLU form: 'fused' = one linear with the gateUp epilogue; 'split' = one plain linear over the stacked
   * [gate; up] weight into a [M, 2F] buffer, then rmsnorm.wgsl silu_mul (one more dispatch; faster where the
   * gateUp GEMV is slow — see bench/suites/llm.ts). Default: 'fused' for decode rows (gemv) and on GPUs (gemm_rt's
   * GATEUP; H200, f32 512 rows, one run: 1076 µs against 1451 split, bench/sweep-gemm-rt.ts), else 'split'.
   */
  mlp?: 'fused' | 'split';
  /**
   * gemvRows/gemvLanes for the `linear` GEMV (decode with ownGemv off). kernels/matmul.ts writes only `lanes`
   * outputs per workgroup, so rows must not exceed lanes. Default: the matmul defaults.
   */
  gemv?: { rows: number; lanes: number };
  /**
   * Projections through rmsnorm.wgsl `gemv` (RMSNorm fused into qkv/gate-up, SwiGLU fused into down_proj: 6
   * dispatches per layer instead of 9; register-blocked over 4 rows for prefill) instead of matmul `linear`.
   * Default on CPU adapters for f32/f16 weights (q8 always uses `linear`). Full dims, 2 layers + head on lavapipe (load avg ~12 on 2 cores, ms/step):
   * f32 138–391 → 33–134, f16 67–81 → 25–40.
   */
  ownGemv?: boolean;
  /**
   * Prefill rows (the `linear` plan, M > 4): the RMSNorms as the prologue of qkv_proj / gate_up (gemm_rt PRENORM,
   * its tile loaders summing the squares) instead of their own dispatches. Default: on GPUs (hidden % 8 == 0).
   */
  fuseNorm?: boolean;
}

export interface StepResult extends TopKCandidates {
  ids: Int32Array;
  values: Float32Array;
  logitAtS: number;
}

const MAP_READ_COPY_DST = 0x01 | 0x08;
/**
 * Keys per split of the decode attention: 32 for both forms (the one-thread walk on CPU adapters, the
 * per-kv-head workgroups on GPUs). H200, split + combine, GPU µs at contexts 64 / 256 / 1024 / 2000: 32.7 /
 * 34.6 / 47.7 / 59.4 with 32 keys vs 41.1 / 43.5 / 47.6 / 56.6 with 64 (bench/sweep-attention.ts).
 */
export const SPLIT_CHUNK = 32;
/**
 * Most sequences in one batched decode step: the rows stay on the projections' GEMV path (matmul.ts takes up to 4
 * rows there), and the default KV cache holds 4 sequences.
 */
export const MAX_BATCH = 4;
/** Rows one prefill step takes unless Qwen2RuntimeOptions.maxPrefill says otherwise. */
export const DEFAULT_MAX_PREFILL = 256;

export class Qwen2Runtime {
  readonly kv: PagedKvCache;
  readonly scratch: LlmScratch;
  readonly maxContext: number;
  readonly decodePlan: DispatchRecord[];
  /** The SwiGLU form asked for (undefined: fused for decode rows and on GPUs, split for CPU adapters' prefill). */
  private readonly mlpOpt?: 'fused' | 'split';
  readonly gemv: { rows: number; lanes: number } | undefined;
  readonly ownGemv: boolean;
  readonly fuseNorm: boolean;
  private readonly step: GPUBuffer;
  /** Step uniforms of a batched decode's rows 1… (row 0 uses `step`). */
  private readonly rowSteps: GPUBuffer[] = [];
  /** Most sequences one decode step takes (decodeBatch): 1 where a row's scratch views would not be 256-aligned. */
  readonly maxBatch: number;
  /** [maxBatch, slot words] top-k records of a batched decode, one 256-byte-aligned slot a row. */
  private readonly batchTopk: GpuTensor;
  private readonly rope: GpuTensor;
  private readonly staging: GPUBuffer;
  /** [1, Hq, splits, D + 2] decode attention partials. */
  private readonly partials: GpuTensor;
  private readonly prefillSplit: SplitScratch;
  private readonly plans = new Map<string, DispatchRecord[]>();
  private readonly stepWords = new Uint32Array(4);
  /** Rows of `scratch.logits` / `scratch.hidden` the last run filled. */
  lastRows = 0;
  /** Rows fed by the last run (rows of the per-layer scratch taps). */
  lastM = 0;

  constructor(
    readonly ctx: GpuContext,
    readonly cfg: LlmConfig,
    readonly weights: LlmWeights,
    opts: Qwen2RuntimeOptions = {},
  ) {
    this.maxContext = opts.maxContext ?? 4096;
    const pageSize = opts.kv?.pageSize ?? 16;
    const maxSeqs = opts.kv?.maxSeqs ?? 4;
    const numPages = opts.kv?.numPages ?? maxSeqs * Math.ceil(this.maxContext / pageSize);
    this.kv = new PagedKvCache(ctx, cfg.layers, cfg.kvHeads, cfg.headDim, { pageSize, numPages, maxSeqs, maxContext: this.maxContext, dtype: opts.kv?.dtype });
    this.mlpOpt = opts.mlp;
    this.gemv = opts.gemv;
    this.ownGemv = (opts.ownGemv ?? ctx.isCpuAdapter) && weights.dtype !== 'q8';
    this.fuseNorm = (opts.fuseNorm ?? !ctx.isCpuAdapter) && cfg.hidden % 8 === 0;
    this.scratch = allocLlmScratch(ctx, cfg, opts.maxPrefill ?? DEFAULT_MAX_PREFILL, opts.topK ?? cfg.ras.topK + 1, true);
    this.step = ctx.createBuffer(16, UNIFORM, 'llm.step');
    // A batched decode binds one row of qkv, q and attn per sequence: each row must start on a 256-byte boundary.
    const aligned = [this.scratch.qkv, this.scratch.q, this.scratch.attn].every((t) => (t.byteLength / t.shape[0]) % 256 === 0);
    this.maxBatch = aligned ? Math.min(MAX_BATCH, maxSeqs, this.scratch.maxRows) : 1;
    for (let r = 1; r < this.maxBatch; r++) this.rowSteps.push(ctx.createBuffer(16, UNIFORM, `llm.step.${r}`));
    const slotWords = Math.ceil(this.scratch.topk.byteLength / 256) * 64;
    this.batchTopk = ctx.tensor('u32', [this.maxBatch, slotWords], 'topk.batch');
    this.rope = ctx.upload(ropeTable(cfg.ropeTheta, cfg.headDim, this.maxContext), 'f32', [this.maxContext, cfg.headDim], 'rope_table');
    this.staging = ctx.createBuffer(this.batchTopk.byteLength, MAP_READ_COPY_DST, 'llm.topk.staging');
    const splits = splitsFor(this.kv.maxPagesPerSeq * pageSize, SPLIT_CHUNK);
    this.partials = ctx.tensor('f32', [1, cfg.heads, splits, cfg.headDim + 2], 'attn.partials');
    // Key-split prefill scratch: allocated only if a tuner tries the split forms or a table chose one.
    this.prefillSplit = splitScratch(ctx, this.scratch.maxRows, cfg.heads, cfg.headDim, 'attn.split');
    this.decodePlan = this.plan(1, false);
  }

  private lin(x: GpuTensor, w: LinearWeight, y: GpuTensor, extra: { bias?: GpuTensor; residual?: GpuTensor; gateUp?: boolean; norm?: GpuTensor; eps?: number }, tag: string): DispatchRecord {
    const g = this.gemv;
    return linear(this.ctx, { x, w: w.w, scales: w.scales, y, ...extra, gemvRows: g?.rows, gemvLanes: g?.lanes }, tag);
  }

  /**
   * The dispatch list for M rows (cached per (M, allRows, batch)). `batch`: the rows are one decode step of M
   * sequences (decodeBatch), row r at the position and block-table slot of its own step uniform; the projections
   * and norms run over all M rows at once, the RoPE/KV append and the attention once a row, and every row gets its
   * logits and top-k.
   */
  plan(M: number, allRows: boolean, batch = false): DispatchRecord[] {
    const key = `${M}:${allRows}:${batch}`;
    const hit = this.plans.get(key);
    if (hit) return hit;
    if (M < 1 || M > this.scratch.maxRows) throw new KvSequenceError(`plan: ${M} rows outside [1, ${this.scratch.maxRows}] (maxPrefill)`);
    if (batch && M > this.maxBatch) throw new KvSequenceError(`plan: a batched decode of ${M} sequences exceeds maxBatch ${this.maxBatch}`);
    const { ctx, cfg, weights: w, scratch: s } = this;
    const x = s.x.rows(0, M), h = s.h.rows(0, M), xn = s.xn.rows(0, M), qkv = s.qkv.rows(0, M);
    const attn = s.attn.rows(0, M), act = s.act.rows(0, M);
    const eps = cfg.rmsEps;
    const recs: DispatchRecord[] = [];
    if (this.ownGemv) return this.cache(key, this.ownPlan(M, allRows, batch));
    // Decode rows go through the gemv entry, which takes the RMSNorms as a prologue (matmul.wgsl PRENORM) and the
    // SwiGLU as its gateUp epilogue: 7 dispatches per layer instead of 10 (on an H200 the step is dispatch-bound:
    // most kernels take 10–20 µs against a 7 µs empty dispatch). Prefill rows on GPUs take the norms into gemm_rt
    // the same way (its tile loaders sum the squares); CPU adapters keep the separate norm dispatch there.
    const gemvRows = M <= 4;
    const fuseNorm = gemvRows || this.fuseNorm;
    // SwiGLU: fused into gate_up's epilogue for gemv rows and for gemm_rt (GPUs); CPU adapters' prefill splits it.
    const mlp = this.mlpOpt ?? (gemvRows || !ctx.isCpuAdapter ? 'fused' : 'split');
    const normed = (src: GpuTensor, weight: GpuTensor, tag: string): { src: GpuTensor; norm?: GpuTensor; eps?: number } => {
      if (fuseNorm) return { src, norm: weight, eps };
      recs.push(rmsNorm(ctx, { x: src, weight, y: xn, eps }, tag));
      return { src: xn };
    };
    w.layers.forEach((L, l) => {
      const t = `layers.${l}`;
      const a = normed(x, L.inputNorm, `${t}.input_layernorm`);
      recs.push(this.lin(a.src, L.qkv, qkv, { bias: L.qkvBias, norm: a.norm, eps: a.eps }, `${t}.qkv_proj`));
      recs.push(...this.appendAttend(l, M, batch, t));
      recs.push(this.lin(attn, L.o, h, { residual: x }, `${t}.o_proj`));
      const b = normed(h, L.postNorm, `${t}.post_attention_layernorm`);
      if (mlp === 'fused') {
        recs.push(this.lin(b.src, L.gateUp, act, { gateUp: true, norm: b.norm, eps: b.eps }, `${t}.mlp.gate_up`));
      } else {
        const gu = s.gu!.rows(0, M);
        recs.push(this.lin(b.src, L.gateUp, gu, { norm: b.norm, eps: b.eps }, `${t}.mlp.gate_up`));
        recs.push(siluMul(ctx, gu, act, `${t}.mlp.act`));
      }
      recs.push(this.lin(act, L.down, x, { residual: h }, `${t}.mlp.down_proj`));
    });
    const { hidden, logits } = this.head(recs, M, allRows || batch);
    recs.push(this.lin(hidden, w.head, logits, {}, 'llm_decoder'));
    recs.push(...this.topKs(logits, batch));
    return this.cache(key, recs);
  }

  /**
   * RoPE + KV append and attention of layer `l` over rows [0, M): one sequence at `step`, or (batch) each row on
   * its own, at its own step uniform.
   */
  private appendAttend(l: number, M: number, batch: boolean, tag: string): DispatchRecord[] {
    const { ctx, kv, scratch: s } = this;
    const rows = (r0: number, n: number, step: GPUBuffer, t: string) => {
      const q = s.q.rows(r0, n);
      return [
        qkvAppend(ctx, { qkv: s.qkv.rows(r0, n), table: this.rope, blockTable: kv.blockTable, q, pool: kv.pools[l], step }, `${t}.rope_kv`),
        ...this.attention(q, l, s.attn.rows(r0, n), step, `${t}.attn`),
      ];
    };
    if (!batch) return rows(0, M, this.step, tag);
    return Array.from({ length: M }, (_, r) => rows(r, 1, this.stepOf(r), `${tag}[${r}]`)).flat();
  }

  private stepOf(row: number): GPUBuffer {
    return row === 0 ? this.step : this.rowSteps[row - 1];
  }

  /** The final RMSNorm into `hidden`: of every row (allRows), else of the last. Its own dispatch: readHidden() reads it. */
  private head(recs: DispatchRecord[], M: number, allRows: boolean): { hidden: GpuTensor; logits: GpuTensor } {
    const s = this.scratch;
    const R = allRows ? M : 1;
    const hidden = s.hidden.rows(0, R), logits = s.logits.rows(0, R);
    recs.push(rmsNorm(this.ctx, { x: s.x.rows(0, M), weight: this.weights.norm, y: hidden, eps: this.cfg.rmsEps, rowOffset: M - R, rows: R }, 'norm'));
    return { hidden, logits };
  }

  /** Top-k of the last logits row, or (batch) of every row into its slot of batchTopk. */
  private topKs(logits: GpuTensor, batch: boolean): DispatchRecord[] {
    const { ctx, scratch: s } = this;
    const one = (row: number, out: GpuTensor, tag: string) => topK(ctx, { logits, row, k: s.topkK, s: this.cfg.speechTokenSize, out }, tag);
    if (!batch) return [one(logits.shape[0] - 1, s.topk, 'topk')];
    return Array.from({ length: logits.shape[0] }, (_, r) => one(r, this.topkSlot(r), `topk[${r}]`));
  }

  private topkSlot(row: number): GpuTensor {
    return this.batchTopk.rows(row, 1).reshape([this.batchTopk.shape[1]]).rows(0, this.scratch.topk.numel);
  }

  /** Decode (one row): kernels/paged-attention.ts decodeAttention (split-K, or llvmpipe's heads_sg); prefill: pagedAttention. */
  private attention(q: GpuTensor, layer: number, out: GpuTensor, step: GPUBuffer, tag: string): DispatchRecord[] {
    const { ctx, kv } = this;
    const a = { q, pool: kv.pools[layer], blockTable: kv.blockTable, out, step };
    if (q.shape[0] === 1) return decodeAttention(this.ctx, { ...a, partials: this.partials, chunk: SPLIT_CHUNK }, tag);
    return prefillAttention(ctx, a, this.prefillSplit, tag);
  }

  private cache(key: string, recs: DispatchRecord[]): DispatchRecord[] {
    this.plans.set(key, recs);
    return recs;
  }

  /**
   * The plan through rmsnorm.wgsl `gemv` (CPU adapters): norms fused into the projections after them, the SwiGLU
   * into down_proj; register-blocked over rows for prefill.
   */
  private ownPlan(M: number, allRows: boolean, batch: boolean): DispatchRecord[] {
    const { ctx, cfg, weights: w, scratch: s } = this;
    const x = s.x.rows(0, M), h = s.h.rows(0, M), qkv = s.qkv.rows(0, M);
    const attn = s.attn.rows(0, M), gu = s.gu!.rows(0, M);
    const eps = cfg.rmsEps;
    const recs: DispatchRecord[] = [];
    const apart = normRunsApart(ctx, M, w.dtype);
    const xn = s.xn.rows(0, M);
    // RMSNorm(src) · Wᵀ (+ bias) → y: fused into the projection, or as its own dispatch into xn first.
    const normThenProject = (src: GpuTensor, norm: GpuTensor, W: GpuTensor, y: GpuTensor, bias: GpuTensor | undefined, normTag: string, projTag: string) => {
      if (!apart) return recs.push(normGemv(ctx, { x: src, w: W, y, norm, eps, bias }, `${normTag}+${projTag}`));
      recs.push(rmsNorm(ctx, { x: src, weight: norm, y: xn, eps }, normTag));
      return recs.push(normGemv(ctx, { x: xn, w: W, y, bias }, projTag));
    };
    w.layers.forEach((L, l) => {
      const t = `layers.${l}`;
      normThenProject(x, L.inputNorm, L.qkv.w, qkv, L.qkvBias, `${t}.input_layernorm`, `${t}.qkv_proj`);
      recs.push(...this.appendAttend(l, M, batch, t));
      recs.push(normGemv(ctx, { x: attn, w: L.o.w, y: h, residual: x }, `${t}.o_proj`));
      normThenProject(h, L.postNorm, L.gateUp.w, gu, undefined, `${t}.post_attention_layernorm`, `${t}.gate_up`);
      recs.push(normGemv(ctx, { x: gu, w: L.down.w, y: x, swigluInput: true, residual: h }, `${t}.mlp.act+down_proj`));
    });
    const { hidden, logits } = this.head(recs, M, allRows || batch);
    recs.push(normGemv(ctx, { x: hidden, w: w.head.w, y: logits }, 'llm_decoder'));
    recs.push(...this.topKs(logits, batch));
    return recs;
  }

  createSequence(): KvSequence {
    return this.kv.create();
  }
  fork(src: KvSequence, length?: number): KvSequence {
    return this.kv.fork(src, length);
  }
  free(seq: KvSequence): void {
    this.kv.free(seq);
  }

  /**
   * Feeds `embeds` [M, d] (host f32) at positions seq.length … seq.length+M−1 and returns the sampler's view of
   * the last row. With `allRows`, hidden/logits of every row stay in scratch for `readLogits`/`readHidden`
   * (M ≤ maxPrefill then); otherwise prompts longer than maxPrefill run in chunks.
   */
  async prefill(seq: KvSequence, embeds: Float32Array, opts: { allRows?: boolean } = {}): Promise<StepResult> {
    const d = this.cfg.hidden;
    if (embeds.length % d !== 0 || embeds.length === 0) {
      throw new KvSequenceError(`prefill: ${embeds.length} values is not a positive multiple of hidden ${d}`);
    }
    const M = embeds.length / d;
    if (opts.allRows && M > this.scratch.maxRows) {
      throw new KvSequenceError(`prefill allRows: ${M} rows exceed maxPrefill ${this.scratch.maxRows}`);
    }
    if (seq.length + M > this.maxContext) {
      throw new KvSequenceError(`prefill: ${seq.length} + ${M} positions exceed maxContext ${this.maxContext}`);
    }
    this.kv.reserve(seq, seq.length + M);
    // Every part but the last without a readback (prefillPart), the last read back.
    const C = this.scratch.maxRows;
    let r0 = 0;
    for (; M - r0 > C; r0 += C) this.prefillPart(seq, embeds.subarray(r0 * d, (r0 + C) * d));
    const result = await this.runRows(seq, embeds.subarray(r0 * d), this.plan(M - r0, !!opts.allRows), true);
    this.lastRows = opts.allRows ? M - r0 : 1;
    return result;
  }

  /**
   * Feeds `embeds` [M ≤ maxPrefill, d] like prefill but submits them without a readback: a part of a prompt whose
   * last row is not the one sampled (LlmSteps prefills long prompts in parts, with other sequences' decode steps
   * between them). The queue orders it before any later step's writes and dispatches.
   */
  prefillPart(seq: KvSequence, embeds: Float32Array): void {
    const d = this.cfg.hidden, M = embeds.length / d;
    if (!Number.isInteger(M) || M < 1 || M > this.scratch.maxRows) throw new KvSequenceError(`prefillPart: ${embeds.length} values is not 1…${this.scratch.maxRows} rows of hidden ${d}`);
    if (seq.length + M > this.maxContext) throw new KvSequenceError(`prefill: ${seq.length} + ${M} positions exceed maxContext ${this.maxContext}`);
    this.kv.reserve(seq, seq.length + M);
    void this.runRows(seq, embeds, this.plan(M, false), false);
  }

  /** One decode step: feeds one embedding row [d]. */
  async decode(seq: KvSequence, embed: Float32Array): Promise<StepResult> {
    if (seq.length + 1 > this.maxContext) throw new KvSequenceError(`decode: sequence is at maxContext ${this.maxContext}`);
    this.kv.reserve(seq, seq.length + 1);
    this.lastRows = 1;
    return (await this.runRows(seq, embed, this.decodePlan, true))!;
  }

  /**
   * One decode step of several sequences at once, `rows` [B, d] (row b feeds seqs[b]), in one submit through the
   * batched plan: the projections read each weight once for all B rows. Returns each sequence's top-k;
   * readLogits() then gives [B, S + 200], row b for seqs[b]. Each row is the same step as decode(seqs[b], row b)
   * (the projections' row blocking may round differently: test/llm/batch-decode.test.ts).
   */
  async decodeBatch(seqs: readonly KvSequence[], rows: Float32Array): Promise<StepResult[]> {
    const B = seqs.length, d = this.cfg.hidden;
    if (rows.length !== B * d) throw new KvSequenceError(`decodeBatch: ${rows.length} values for ${B} sequences of hidden ${d}`);
    if (B === 1) return [await this.decode(seqs[0], rows)];
    if (B < 1 || B > this.maxBatch) throw new KvSequenceError(`decodeBatch: ${B} sequences outside [1, ${this.maxBatch}] (maxBatch)`);
    if (new Set(seqs).size !== B) throw new KvSequenceError('decodeBatch: a sequence appears twice in one step');
    const full = seqs.find((q) => q.length + 1 > this.maxContext);
    if (full) throw new KvSequenceError(`decode: sequence ${full.slot} is at maxContext ${this.maxContext}`);
    for (const seq of seqs) this.kv.reserve(seq, seq.length + 1);
    const { ctx } = this;
    seqs.forEach((seq, r) => this.writeStep(this.stepOf(r), seq));
    ctx.write(this.scratch.x.buffer, 0, rows);
    this.lastM = B;
    this.lastRows = B;
    const slot = this.batchTopk.byteLength / this.batchTopk.shape[0];
    const words = await this.submitAndRead(this.plan(B, false, true), this.batchTopk.buffer, this.batchTopk.offset, B * slot, () => {
      for (const seq of seqs) this.kv.advance(seq, seq.length + 1);
    });
    return seqs.map((_, r) => decodeTopK(words.slice(r * slot, (r + 1) * slot), this.scratch.topkK));
  }

  /** A step uniform {start, slot} for the sequence's next rows (shaders/llm_step.wgsl). */
  private writeStep(buffer: GPUBuffer, seq: KvSequence): void {
    this.stepWords[0] = seq.length;
    this.stepWords[1] = seq.slot;
    this.ctx.write(buffer, 0, this.stepWords);
  }

  /** Runs `plan`, copying `bytes` of `src` into the staging buffer in the same submit, and returns them. */
  private async submitAndRead(plan: DispatchRecord[], src: GPUBuffer, offset: number, bytes: number, submitted: () => void): Promise<ArrayBuffer> {
    const { ctx } = this;
    ctx.run(plan, (enc) => enc.copyBufferToBuffer(src, offset, this.staging, 0, bytes));
    submitted();
    ctx.counters.readbacks++;
    ctx.counters.bytesRead += bytes;
    await ctx.mapForRead(this.staging, bytes);
    const words = this.staging.getMappedRange(0, bytes).slice(0);
    this.staging.unmap();
    ctx.checkValidation();
    return words;
  }

  private async runRows(seq: KvSequence, rows: Float32Array, plan: DispatchRecord[], read: true): Promise<StepResult>;
  private async runRows(seq: KvSequence, rows: Float32Array, plan: DispatchRecord[], read: boolean): Promise<StepResult | undefined>;
  private async runRows(seq: KvSequence, rows: Float32Array, plan: DispatchRecord[], read: boolean): Promise<StepResult | undefined> {
    const { ctx } = this;
    this.writeStep(this.step, seq);
    ctx.write(this.scratch.x.buffer, 0, rows);
    const M = rows.length / this.cfg.hidden;
    this.lastM = M;
    if (!read) {
      ctx.run(plan);
      this.kv.advance(seq, seq.length + M);
      return undefined;
    }
    const src = this.scratch.topk;
    const words = await this.submitAndRead(plan, src.buffer, src.offset, src.byteLength, () => this.kv.advance(seq, seq.length + M));
    return decodeTopK(words, this.scratch.topkK);
  }

  /** Logits of the last run: [lastRows, S + 200] (one row unless the prefill asked for all rows). */
  async readLogits(): Promise<Float32Array> {
    const t = this.scratch.logits;
    const n = this.lastRows * this.cfg.speechVocab;
    return new Float32Array(await this.ctx.readBytes(t.buffer, 0, n * 4));
  }

  /**
   * Named taps of the last run, [rows, …] f32: `x` (last layer's output, before the final norm), `h` (last
   * layer's attention-block output), `qkv`, `q` (rotated), `attn`, `act` (SwiGLU), `hidden`, `logits`.
   */
  async tap(name: 'x' | 'h' | 'qkv' | 'q' | 'attn' | 'act' | 'hidden' | 'logits'): Promise<Float32Array> {
    const t = this.scratch[name];
    const rows = name === 'hidden' || name === 'logits' ? this.lastRows : this.lastM;
    const n = rows * (t.numel / t.shape[0]);
    return new Float32Array(await this.ctx.readBytes(t.buffer, 0, n * 4));
  }

  /** Final-norm hidden states of the last run: [lastRows, d]. */
  async readHidden(): Promise<Float32Array> {
    const n = this.lastRows * this.cfg.hidden;
    return new Float32Array(await this.ctx.readBytes(this.scratch.hidden.buffer, 0, n * 4));
  }
}

