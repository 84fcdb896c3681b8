/**
 * The WebGPU flow's streaming prefix cache, host side: which leading frames of a streaming solve the GPU buffers
 * hold, and how many of them a new call may take from there instead of solving them again.
 *
 * Why this is exact (as for the CPU fallback, src/models/cpu/dit-cache.ts): under the static chunk mask a frame sees
 * only keys before the end of its 50-frame chunk, and the conv position embedding is causal, so every activation of
 * frames [0, F), F a whole number of chunks, depends only on those frames' inputs and on t; and the CFM solve takes
 * the same 10 values of t every call. Upstream's streaming re-solves the prompt and every earlier chunk at each chunk
 * (spec §6). Kept per frame, for every (step, block): the keys and values of both CFG items after the rotary; and per
 * step the Euler state x, which the conv-pos window of the next call reads.
 *
 * The GPU flow's inputs are host values, so the check needs no readback. Frames [0, F) of two calls have the same
 * inputs when: the speaker embedding is the same bits; the cond (prompt mel) and noise columns [0, F) are; and mu
 * is, which holds when the tokens up to ⌈F/ratio⌉ − 1 + look-ahead are present in both calls and equal (a token's mu
 * reads the look-ahead tokens after it, zeros past the end in a final call, and two before it).
 */

/** What decides frames [0, F) of a call: tokens (prompt then speech), cond and noise [mel, T], the embedding. */
export interface PrefixInputs {
  tok: Int32Array;
  cond: Float32Array;
  noise: Float32Array;
  embedding: Float32Array;
  T: number;
}

export class FlowPrefixState {
  /** Frames whose keys, values and x history the GPU buffers hold for the inputs below. */
  held = 0;
  private tok = new Int32Array(0);
  /** [held, 2·mel] bits: cond then noise column of each held frame. */
  private cols = new Uint32Array(0);
  private emb = new Uint32Array(0);

  constructor(
    /** Frames the buffers can hold (whole chunks). */
    readonly capacity: number,
    readonly chunk: number,
    readonly mel: number,
    readonly ratio: number,
    readonly lookahead: number,
  ) {}

  /** First frame of `a` not served by the held frames: whole chunks, and fewer than T (at least one row runs). */
  reusable(a: PrefixInputs): number {
    if (this.held === 0 || !sameBits(this.emb, new Uint32Array(a.embedding.buffer, a.embedding.byteOffset, a.embedding.length))) return 0;
    const n = Math.min(this.tok.length, a.tok.length);
    let d = 0;
    while (d < n && this.tok[d] === a.tok[d]) d++;
    let F = Math.min(this.held, a.T, this.ratio * Math.max(0, d - this.lookahead));
    const cond = new Uint32Array(a.cond.buffer, a.cond.byteOffset, a.cond.length);
    const noise = new Uint32Array(a.noise.buffer, a.noise.byteOffset, a.noise.length);
    const m = this.mel;
    for (let f = 0; f < F; f++) {
      const row = f * 2 * m;
      let same = true;
      for (let c = 0; c < m && same; c++) same = this.cols[row + c] === cond[c * a.T + f] && this.cols[row + m + c] === noise[c * a.T + f];
      if (!same) F = f;
    }
    const q0 = Math.floor(F / this.chunk) * this.chunk;
    return q0 < a.T ? q0 : Math.max(0, Math.ceil(a.T / this.chunk) - 1) * this.chunk;
  }

  /** End of the frames a call that starts at q0 stores: its whole chunks, up to the capacity (never below q0). */
  keepFor(T: number, q0: number): number {
    return Math.max(q0, Math.min(Math.floor(T / this.chunk) * this.chunk, this.capacity));
  }

  /** Records the inputs of the frames [0, keep) that a call has left in the buffers. */
  commit(a: PrefixInputs, keep: number): void {
    const m = this.mel;
    const cond = new Uint32Array(a.cond.buffer, a.cond.byteOffset, a.cond.length);
    const noise = new Uint32Array(a.noise.buffer, a.noise.byteOffset, a.noise.length);
    const cols = new Uint32Array(keep * 2 * m);
    for (let f = 0; f < keep; f++) {
      for (let c = 0; c < m; c++) {
        cols[f * 2 * m + c] = cond[c * a.T + f];
        cols[f * 2 * m + m + c] = noise[c * a.T + f];
      }
    }
    this.cols = cols;
    this.tok = a.tok.slice();
    this.emb = new Uint32Array(a.embedding.slice().buffer);
    this.held = keep;
  }

  clear(): void {
    this.held = 0;
  }
}

function sameBits(a: Uint32Array, b: Uint32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
