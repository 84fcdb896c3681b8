/**
 * The CPU LLM's KV cache and causal GQA attention. The cache lives in the WebAssembly memory (resident tensors of
 * the LLM's CpuKernels), and each kv group runs in one call (CpuKernels.llmAttention) with the query heads that
 * share it stacked as rows, reading the cached K and Vᵀ in place: no cache byte crosses per step, and the scores
 * and probabilities never leave the module:
 *
 *   Qg     [R, D]  = q rows of the `rep` heads of group g, for a chunk of time rows (R = rows·rep)
 *   scores [R, n]  = Qg · Kgᵀ                      (Kg = cached keys [n, D], contiguous in the cache)
 *   P      [R, n4] = causal softmax(scores / √D) (SIMD exp), zero past each row's last key up to n4 = n rounded
 *                    up to 4 (the GEMM's SIMD path needs K % 4 == 0)
 *   out    [R, D]  = P · Vg = P · (Vgᵀ)ᵀ            (Vgᵀ [D, n4]: the cache's transposed V rows, `cap` apart)
 */
import type { CpuKernels, CpuTensor } from '../../../kernels/cpu-linear.js';
import type { ScratchPool } from './scratch.js';

export class KvCacheError extends Error {
  override name = 'KvCacheError';
}

/** Time rows per attention pass: bounds the scores buffer to [64·rep, n] for long prefills. */
const CHUNK_ROWS = 64;

/**
 * One session's cache, per layer: K [Hkv, cap, D] (a head's keys are the contiguous W of q·Kᵀ) and Vᵀ
 * [Hkv, D, cap] (a head's values by dim: Vgᵀ's rows, `cap` apart), resident in the kernels' memory. `cap` is a
 * power of two ≥ 64 (thus a multiple of 4, so n4 ≤ cap) and doubles when full (the old space released); unwritten
 * slots stay 0. dispose() releases it all.
 */
export class KvCache {
  len = 0;
  cap = 0;
  private k: CpuTensor[] = [];
  private vt: CpuTensor[] = [];
  private disposed = false;

  constructor(private readonly kern: CpuKernels, readonly layers: number, readonly kvHeads: number, readonly D: number) {}

  /** Room for n positions: a larger capacity moves every head's rows to the new stride. */
  reserve(n: number): void {
    if (this.disposed) throw new KvCacheError('kv cache: the session was disposed');
    if (n <= this.cap) return;
    let cap = Math.max(64, this.cap);
    while (cap < n) cap *= 2;
    const { kvHeads: G, D, cap: old } = this;
    for (let l = 0; l < this.layers; l++) {
      const kt = this.kern.resident(G * cap * D, `kv cache K ${l}`), vtt = this.kern.resident(G * D * cap, `kv cache Vᵀ ${l}`);
      if (old) {
        // Views after both allocations: growing the memory may have replaced its buffer.
        const [k, vt, ok, ovt] = [kt.view(), vtt.view(), this.k[l].view(), this.vt[l].view()];
        for (let g = 0; g < G; g++) k.set(ok.subarray(g * old * D, (g * old + this.len) * D), g * cap * D);
        for (let r = 0; r < G * D; r++) vt.set(ovt.subarray(r * old, r * old + this.len), r * cap);
        this.kern.release(this.k[l]);
        this.kern.release(this.vt[l]);
      }
      this.k[l] = kt;
      this.vt[l] = vtt;
    }
    this.cap = cap;
  }

  /** Stores k, v [T, Hkv, D] (k already rotated) of layer l at positions start … start+T−1 (reserved). */
  write(l: number, k: Float32Array, v: Float32Array, T: number, start: number): void {
    const { kvHeads: G, D, cap } = this;
    const K = this.k[l].view(), Vt = this.vt[l].view();
    for (let t = 0; t < T; t++) {
      for (let g = 0; g < G; g++) {
        const src = (t * G + g) * D;
        K.set(k.subarray(src, src + D), (g * cap + start + t) * D);
        for (let d = 0; d < D; d++) Vt[(g * D + d) * cap + start + t] = v[src + d];
      }
    }
  }

  /** Keys [n, D] of group g in layer l, in place. */
  keys(l: number, g: number, n: number): CpuTensor {
    return this.k[l].slice(g * this.cap * this.D, n * this.D);
  }

  /** Vgᵀ of layer l in place: D rows of `cap` values (the first n4 of each read). */
  valuesT(l: number, g: number): { vt: CpuTensor; ld: number } {
    return { vt: this.vt[l].slice(g * this.D * this.cap, this.D * this.cap), ld: this.cap };
  }

  dispose(): void {
    if (!this.disposed) for (const t of [...this.k, ...this.vt]) this.kern.release(t);
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
  const o = kern.llmAttention(qg, R, cache.keys(l, g, n), n, D, cache.valuesT(l, g), rep, start + t0, scratch.get('attn.out', R * D));
  for (let t = t0; t < t1; t++) out.set(o.subarray((t - t0) * block, (t - t0 + 1) * block), t * heads * D + g * block);
}
