/**
 * The CosyVoice3 speech-token LLM on the CPU (spec §3.2): the Qwen2 body in TypeScript with every projection and
 * the speech head through the WASM SIMD GEMM (kernels/cpu-linear.ts, weights resident), per-session KV caches
 * resident beside them.
 *
 * Per layer, over the T new rows x [T, H] at positions start … start+T−1:
 *   xn = RMSNorm₁(x);  q, k, v = xn·Wqᵀ + bq, xn·Wkᵀ + bk, xn·Wvᵀ + bv      [T, Hq·D], [T, Hkv·D] ×2
 *   q, k ← RoPE (rotate_half, θ from config.json); k, v appended to the cache
 *   x += attention(q, cache) · Woᵀ                                         causal GQA (llm-attention.ts)
 *   xn = RMSNorm₂(x);  x += (SiLU(xn·Wgᵀ) ⊙ xn·Wuᵀ) · Wdᵀ
 * then hidden = RMSNorm_final(x) [T, H] and logits = hidden · W_llm_decoderᵀ [T, S + 200], for every row.
 */
import { CpuKernels, type CpuKernelOptions, type CpuWeightDtype } from '../../../kernels/cpu-linear.js';
import { ropeTable } from '../../../kernels/rope.js';
import type { LlmSession } from '../../ort/engine.js';
import type { ModelFiles } from '../../pipeline/model-files.js';
import { llmConfig, type LlmConfig } from '../qwen2/config.js';
import type { EmbeddingTable } from '../qwen2/embedding.js';
import { attention, KvCache } from './llm-attention.js';
import { addInPlace, rmsNormRows, ropeRows } from './llm-ops.js';
import { ScratchPool } from './scratch.js';
import { loadCpuLlmWeights, type CpuLlmLayer, type CpuLlmWeights } from './llm-weights.js';

export class CpuLlmInputError extends RangeError {
  override name = 'CpuLlmInputError';
}

/** Gives back the cache of a session dropped without dispose() (KvCache.dispose runs once either way). */
const droppedSessions = new FinalizationRegistry<KvCache>((cache) => cache.dispose());

export class CpuLlm {
  /** [rows, D] RoPE cos/sin table, regrown (doubling) when a session passes its last position. */
  private rope: Float32Array = new Float32Array(0);
  private ropeRows = 0;
  /** Per-step buffers shared by all sessions: a step runs start to end without yielding. */
  private readonly scratch = new ScratchPool();

  private constructor(
    readonly cfg: LlmConfig,
    private readonly kern: CpuKernels,
    private readonly w: CpuLlmWeights,
  ) {}

  /** `opts.dtype`: how the projections and the head are stored (q8: a quarter of the bytes a decode step reads). */
  static async create(files: ModelFiles, opts: CpuKernelOptions & { dtype?: CpuWeightDtype } = {}): Promise<CpuLlm> {
    const cfg = llmConfig(files.qwen, files.yaml, files.llm);
    const kern = await CpuKernels.create(opts);
    return new CpuLlm(cfg, kern, loadCpuLlmWeights(kern, files.llm, cfg, opts.dtype));
  }

  /** Rows of Qwen embed_tokens, [ids.length, H]. */
  embedText(ids: number[]): Float32Array {
    return this.gather(this.w.textEmbedding, ids, this.cfg.textVocab, 'text');
  }

  /** Rows of speech_embedding (also sos / task_id), [ids.length, H]. */
  embedSpeech(ids: number[]): Float32Array {
    return this.gather(this.w.speechEmbedding, ids, this.cfg.speechVocab, 'speech');
  }

  /**
   * A KV-cached session: step(embeds [T, H], T) → logits [T, S+200], hidden (after the final norm) [T, H]. Its
   * cache lives in the kernels' memory until dispose() (or, for a session dropped undisposed, its collection).
   */
  session(): LlmSession {
    const c = this.cfg;
    const cache = new KvCache(this.kern, c.layers, c.kvHeads, c.headDim);
    const session: LlmSession = {
      get cacheLen() {
        return cache.len;
      },
      step: async (embeds: Float32Array, T: number) => this.forward(cache, embeds, T),
      dispose: () => {
        cache.dispose();
        droppedSessions.unregister(session);
      },
    };
    droppedSessions.register(session, cache, session);
    return session;
  }

  /** Bytes the weights and live KV caches hold in the kernels' memory. */
  get residentBytes(): number {
    return this.kern.residentBytes;
  }

  /** Stops the GEMM worker threads. */
  dispose(): void {
    this.kern.dispose();
  }

  private gather(table: EmbeddingTable, ids: number[], limit: number, what: string): Float32Array {
    ids.forEach((id, i) => {
      if (!Number.isInteger(id) || id < 0 || id >= limit) throw new CpuLlmInputError(`${what} token id ${id} at position ${i} is outside [0, ${limit})`);
    });
    return table.gather(ids);
  }

  /** The table covering positions < n. */
  private ropeFor(n: number): Float32Array {
    if (n > this.ropeRows) {
      let rows = Math.max(1024, this.ropeRows);
      while (rows < n) rows *= 2;
      this.rope = ropeTable(this.cfg.ropeTheta, this.cfg.headDim, rows);
      this.ropeRows = rows;
    }
    return this.rope;
  }

  /** T rows through every layer at the cache's end; the cache grows by T. */
  private forward(cache: KvCache, embeds: Float32Array, T: number): { logits: Float32Array; hidden: Float32Array } {
    const c = this.cfg, H = c.hidden;
    if (!Number.isInteger(T) || T < 1 || embeds.length !== T * H) {
      throw new CpuLlmInputError(`llm step: ${embeds.length} values are not [${T}, ${H}] with T ≥ 1`);
    }
    const start = cache.len;
    cache.reserve(start + T);
    const x = embeds.slice(); // the residual stream [T, H]
    this.w.layers.forEach((L, l) => this.layer(L, l, x, T, start, cache));
    cache.len = start + T;
    const hidden = new Float32Array(T * H);
    rmsNormRows(x, this.w.norm, T, H, c.rmsEps, hidden);
    return { logits: this.kern.linear(hidden, T, this.w.head), hidden };
  }

  /** One decoder layer on x [T, H] in place. */
  private layer(L: CpuLlmLayer, l: number, x: Float32Array, T: number, start: number, cache: KvCache): void {
    const c = this.cfg, H = c.hidden, D = c.headDim, F = c.intermediate, s = this.scratch, kern = this.kern;
    const xn = s.get('xn', T * H), proj = s.get('proj', T * H);
    rmsNormRows(x, L.inputNorm, T, H, c.rmsEps, xn);
    const { q, k, v } = this.splitQkv(kern.linear(xn, T, L.qkv, s.get('qkv', T * L.qkv.N)), T);
    const table = this.ropeFor(start + T);
    ropeRows(q, T, c.heads, D, start, table);
    ropeRows(k, T, c.kvHeads, D, start, table);
    cache.write(l, k, v, T, start);
    const attn = s.get('attn', T * c.heads * D);
    attention({ kern, cache, layer: l, q, T, start, heads: c.heads, out: attn, scratch: s });
    addInPlace(x, kern.linear(attn, T, L.o, proj), T * H);
    rmsNormRows(x, L.postNorm, T, H, c.rmsEps, xn);
    const act = kern.linear(xn, T, L.gateUp, s.get('act', T * F), 'swiglu'); // SiLU(gate) ⊙ up [T, F]
    addInPlace(x, kern.linear(act, T, L.down, proj), T * H);
  }

  /** q [T, Hq·D], k and v [T, Hkv·D] from the fused projection's rows (views when T = 1, else copies). */
  private splitQkv(qkv: Float32Array, T: number): { q: Float32Array; k: Float32Array; v: Float32Array } {
    const c = this.cfg, qd = c.heads * c.headDim, kd = c.kvHeads * c.headDim, W = qd + 2 * kd;
    if (T === 1) return { q: qkv.subarray(0, qd), k: qkv.subarray(qd, qd + kd), v: qkv.subarray(qd + kd, W) };
    const s = this.scratch;
    const q = s.get('q', T * qd), k = s.get('k', T * kd), v = s.get('v', T * kd);
    for (let t = 0; t < T; t++) {
      const r = t * W;
      q.set(qkv.subarray(r, r + qd), t * qd);
      k.set(qkv.subarray(r + qd, r + qd + kd), t * kd);
      v.set(qkv.subarray(r + qd + kd, r + W), t * kd);
    }
    return { q, k, v };
  }
}
