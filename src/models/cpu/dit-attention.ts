/**
 * DiT self-attention on the CPU, one (batch item, head) at a time: scores S = q·kᵀ and the output P·v are two
 * WebAssembly GEMMs (CpuKernels.matmulT), the masked softmax in between a plain loop.
 *
 * Mask: key j is visible to query i iff keymask[b·T + j] > 0.5 and, with a static chunk (streaming), j lies in a
 * chunk not after i's: j < (⌊i/chunk⌋ + 1)·chunk. A row that sees no key at all attends to every key, as
 * upstream forces an all-False mask row to True.
 */
import type { CpuKernels } from '../../../kernels/cpu-linear.js';
import { atLeast } from './scratch.js';

export class CpuDitAttention {
  private qh = new Float32Array(0);
  private kh = new Float32Array(0);
  /** vᵀ of one head [dh, Tp], Tp = T rounded up to 4 so that P·v takes the GEMM's vector loop */
  private vt = new Float32Array(0);
  private scores = new Float32Array(0);
  /** softmax probabilities [T, Tp] (zero past T) */
  private probs = new Float32Array(0);
  private oh = new Float32Array(0);
  private visible = new Uint8Array(0);
  /** 1 / Σ probs of each query row */
  private rowScale = new Float32Array(0);
  private readonly scale: number;

  constructor(
    private readonly k: CpuKernels,
    private readonly heads: number,
    private readonly dh: number,
  ) {
    this.scale = 1 / Math.sqrt(dh);
  }

  /** qkv [B·T, 3C] (q | k | v, rotary applied) → o [B·T, C]; chunk 0: no chunk mask. */
  run(qkv: Float32Array, B: number, T: number, keymask: Float32Array, chunk: number, o: Float32Array): void {
    const { dh } = this;
    const Tp = Math.ceil(T / 4) * 4;
    this.qh = atLeast(this.qh, T * dh);
    this.kh = atLeast(this.kh, T * dh);
    this.vt = atLeast(this.vt, dh * Tp);
    this.scores = atLeast(this.scores, T * T);
    this.probs = atLeast(this.probs, T * Tp);
    this.oh = atLeast(this.oh, T * dh);
    if (this.visible.length < T) this.visible = new Uint8Array(T);
    this.rowScale = atLeast(this.rowScale, T);
    for (let b = 0; b < B; b++) {
      for (let h = 0; h < this.heads; h++) {
        this.gatherHead(qkv, b, h, T, Tp);
        this.k.matmulT(this.qh, T, this.kh, T, dh, this.scores);
        this.softmax(b, T, Tp, keymask, chunk);
        this.k.matmulT(this.probs, T, this.vt, dh, Tp, this.oh);
        this.scatterHead(o, b, h, T);
      }
    }
  }

  /** q, k of head h as rows [T, dh]; v transposed [dh, Tp] with zero columns past T. */
  private gatherHead(qkv: Float32Array, b: number, h: number, T: number, Tp: number): void {
    const { dh, qh, kh, vt } = this;
    const C = this.heads * dh;
    for (let t = 0; t < T; t++) {
      const r = (b * T + t) * 3 * C + h * dh;
      for (let d = 0; d < dh; d++) {
        qh[t * dh + d] = qkv[r + d];
        kh[t * dh + d] = qkv[r + C + d];
        vt[d * Tp + t] = qkv[r + 2 * C + d];
      }
    }
    for (let d = 0; d < dh; d++) vt.fill(0, d * Tp + T, d * Tp + Tp);
  }

  /**
   * probs[i, :] = exp(scale·(scores[i, j] − max)) over the keys visible to query i, zeros elsewhere; the row sums'
   * inverses go to rowScale and are applied to the [T, dh] output instead of the [T, T] probabilities.
   */
  private softmax(b: number, T: number, Tp: number, keymask: Float32Array, chunk: number): void {
    const { scores, probs, scale, visible, rowScale } = this;
    let first = T;
    let all = true;
    for (let j = T - 1; j >= 0; j--) {
      visible[j] = keymask[b * T + j] > 0.5 ? 1 : 0;
      if (visible[j]) first = j;
      else all = false;
    }
    for (let i = 0; i < T; i++) {
      const lim = chunk > 0 ? Math.min(T, (Math.floor(i / chunk) + 1) * chunk) : T;
      // Query i sees keys [0, lim) minus the padding: none when the first unpadded key lies past lim.
      const rowEmpty = first >= lim;
      const dense = all || rowEmpty;
      const end = rowEmpty ? T : lim;
      const s = i * T;
      const p = i * Tp;
      let mx = -Infinity;
      for (let j = 0; j < end; j++) if ((dense || visible[j]) && scores[s + j] > mx) mx = scores[s + j];
      let sum = 0;
      if (dense) {
        for (let j = 0; j < end; j++) sum += probs[p + j] = Math.exp((scores[s + j] - mx) * scale);
      } else {
        for (let j = 0; j < end; j++) sum += probs[p + j] = visible[j] ? Math.exp((scores[s + j] - mx) * scale) : 0;
      }
      rowScale[i] = 1 / sum;
      probs.fill(0, p + end, p + Tp);
    }
  }

  private scatterHead(o: Float32Array, b: number, h: number, T: number): void {
    const { dh, oh } = this;
    const C = this.heads * dh;
    for (let t = 0; t < T; t++) {
      const r = this.rowScale[t];
      const d0 = (b * T + t) * C + h * dh;
      for (let d = 0; d < dh; d++) o[d0 + d] = oh[t * dh + d] * r;
    }
  }
}
