/**
 * DiT self-attention on the CPU: the whole of it — per (batch item, head) the scores q·kᵀ, the masked softmax and
 * P·v — runs in WebAssembly (kernels/wasm/gemm.as.ts ditAttention through CpuKernels.ditAttention), the pairs split
 * over the kernels' threads.
 *
 * Mask: key j is visible to query i iff keymask[b·T + j] > 0.5 and, with a static chunk (streaming), j lies in a
 * chunk not after i's: j < (⌊i/chunk⌋ + 1)·chunk. A row that sees no key at all attends to every key, as
 * upstream forces an all-False mask row to True.
 */
import type { CpuKernels } from '../../../kernels/cpu-linear.js';

export class CpuDitAttention {
  constructor(
    private readonly k: CpuKernels,
    private readonly heads: number,
    private readonly dh: number,
  ) {}

  /** qkv [B·T, 3C] (q | k | v, rotary applied) → o [B·T, C]; chunk 0: no chunk mask. */
  run(qkv: Float32Array, B: number, T: number, keymask: Float32Array, chunk: number, o: Float32Array): void {
    this.k.ditAttention(qkv, B, T, this.heads, this.dh, keymask, chunk, o);
  }
}
