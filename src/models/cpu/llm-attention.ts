/**
 * The CPU LLM's KV cache and causal GQA attention. Each kv group runs in one WebAssembly call
 * (CpuKernels.llmAttention) with the query heads that share it stacked as rows, so each cached K/V block is copied
 * into the module once per group instead of once per query head, and the scores and probabilities never leave it:
 *
 *   Qg     [R, D]  = q rows of the `rep` heads of group g, for a chunk of time rows (R = rows·rep)
 *   scores [R, n]  = Qg · Kgᵀ                      (Kg = cached keys [n, D], contiguous in the cache)
 *   P      [R, n4] = causal softmax(scores / √D) (SIMD exp), zero past each row's last key up to n4 = n rounded
 *                    up to 4 (the GEMM's SIMD path needs K % 4 == 0)
 *   out    [R, D]  = P · Vg = P · (Vgᵀ)ᵀ            (Vgᵀ [D, n4] written from the transposed V cache into the module)
 */
import type { CpuKernels } from '../../../kernels/cpu-linear.js';
import type { ScratchPool } from './scratch.js';

export class KvCacheError extends Error {
  override name = 'KvCacheError';
}

/** Time rows per attention pass: bounds the scores buffer to [64·rep, n] for long prefills. */
const CHUNK_ROWS = 64;

/**
 * One session's cache, per layer: K [Hkv, cap, D] (a head's keys are the contiguous W of q·Kᵀ) and Vᵀ
 * [Hkv, D, cap] (a head's values by dim, so Vgᵀ rows are contiguous runs). `cap` is a power of two ≥ 64 (thus a
 * multiple of 4, so n4 ≤ cap) and doubles when full; unwritten slots stay 0.
 */
export class KvCache {
  len = 0;
  cap = 0;
  private k: Float32Array[] = [];
  private vt: Float32Array[] = [];
  private disposed = false;

  constructor(readonly layers: number, readonly kvHeads: number, readonly D: number) {}

  /** Room for n positions: a larger capacity moves every head's rows to the new stride. */
  reserve(n: number): void {
    if (this.disposed) throw new KvCacheError('kv cache: the session was disposed');
    if (n <= this.cap) return;
    let cap = Math.max(64, this.cap);
    while (cap < n) cap *= 2;
    const { kvHeads: G, D, cap: old } = this;
    for (let l = 0; l < this.layers; l++) {
      const k = new Float32Array(G * cap * D), vt = new Float32Array(G * D * cap);
      if (old) {
        for (let g = 0; g < G; g++) k.set(this.k[l].subarray(g * old * D, (g * old + this.len) * D), g * cap * D);
        for (let r = 0; r < G * D; r++) vt.set(this.vt[l].subarray(r * old, r * old + this.len), r * cap);
      }
      this.k[l] = k;
      this.vt[l] = vt;
    }
    this.cap = cap;
  }

  /** Stores k, v [T, Hkv, D] (k already rotated) of layer l at positions start … start+T−1 (reserved). */
  write(l: number, k: Float32Array, v: Float32Array, T: number, start: number): void {
    const { kvHeads: G, D, cap } = this;
    const K = this.k[l], Vt = this.vt[l];
    for (let t = 0; t < T; t++) {
      for (let g = 0; g < G; g++) {
        const src = (t * G + g) * D;
        K.set(k.subarray(src, src + D), (g * cap + start + t) * D);
        for (let d = 0; d < D; d++) Vt[(g * D + d) * cap + start + t] = v[src + d];
      }
    }
  }

  /** Keys [n, D] of group g in layer l (a view). */
  keys(l: number, g: number, n: number): Float32Array {
    const o = g * this.cap * this.D;
    return this.k[l].subarray(o, o + n * this.D);
  }

  /** Vgᵀ [D, n4] of layer l into `dst` (contiguous rows of n4 values). */
  valuesT(l: number, g: number, n4: number, dst: Float32Array): void {
    const { D, cap } = this;
    const Vt = this.vt[l];
    for (let d = 0; d < D; d++) dst.set(Vt.subarray((g * D + d) * cap, (g * D + d) * cap + n4), d * n4);
  }

  dispose(): void {
    this.k = [];
    this.vt = [];
    this.cap = 0;
    this.len = 0;
    this.disposed = true;
  }
}

export interface AttentionArgs {
  kern: CpuKernels;
  cache: KvCache;
  layer: number;
  /** q [T, Hq, D], rotated; rows are at positions start … start+T−1, whose K/V are already in the cache. */
  q: Float32Array;
  T: number;
  start: number;
  heads: number;
  /** out [T, Hq·D]. */
  out: Float32Array;
  scratch: ScratchPool;
}

/** Causal GQA attention of T query rows over the cache (keys 0 … start+t for row t). */
export function attention(a: AttentionArgs): void {
  for (let t0 = 0; t0 < a.T; t0 += CHUNK_ROWS) {
    const t1 = Math.min(a.T, t0 + CHUNK_ROWS);
    for (let g = 0; g < a.cache.kvHeads; g++) attendGroup(a, g, t0, t1);
  }
}

/** One kv group over time rows [t0, t1): keys 0 … start+t1−1 are all any of these rows may see. */
function attendGroup(a: AttentionArgs, g: number, t0: number, t1: number): void {
  const { kern, cache, layer: l, q, start, heads, out, scratch } = a;
  const D = cache.D, rep = heads / cache.kvHeads, block = rep * D;
  const rows = t1 - t0, R = rows * rep, n = start + t1, n4 = (n + 3) & ~3;
  // Qg [R, D]: the group's heads are one contiguous block of rep·D in each q row.
  const qg = scratch.get('attn.qg', R * D);
  for (let t = t0; t < t1; t++) qg.set(q.subarray(t * heads * D + g * block, t * heads * D + (g + 1) * block), (t - t0) * block);
  const o = kern.llmAttention(qg, R, cache.keys(l, g, n), n, D, (dst) => cache.valuesT(l, g, n4, dst), rep, start + t0, scratch.get('attn.out', R * D));
  for (let t = t0; t < t1; t++) out.set(o.subarray((t - t0) * block, (t - t0 + 1) * block), t * heads * D + g * block);
}
