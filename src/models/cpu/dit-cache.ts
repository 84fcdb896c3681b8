/**
 * The CPU DiT's prefix cache: what an estimator call at time t computed for its leading whole chunks, kept so that
 * the next call at the same t computes only the frames after them.
 *
 * Why this is exact. With the streaming chunk mask (spec §4.4) frame i attends only to keys before the end of its
 * 50-frame chunk, and the conv position embedding is causal, so every activation of the frames [0, F) — F a
 * multiple of the chunk — depends only on the input rows [0, F) of that call (x, cond, mu, spks) and on t. Upstream's
 * streaming re-solves the whole prefix every chunk (§6): the prompt and every earlier chunk again, through 10 steps.
 * Their inputs do not change between those calls (the noise table is indexed from frame 0, the prompt mel and
 * tokens are the same, and a token's mu sees only real look-ahead tokens once it lies before the cut), so neither
 * do their keys, values and velocities.
 *
 * Nothing here trusts the caller: each call packs its input rows, and the cache is used up to the first frame
 * whose packed row differs in any bit, rounded down to a chunk. A new text with the same speaker therefore
 * reuses the prompt's whole chunks, and anything else falls back to computing everything. Every linear, the
 * attention and the elementwise steps give a row the same bits whatever the rows around it
 * (kernels/cpu-linear.ts), so a call served from the cache returns exactly what the full call returns.
 *
 * Per cached frame and t value: the packed input row, the velocity row and, for every block, the key and value
 * rows of each batch item: 4·B·(W + out + depth·2C) bytes (full size, B = 2: 360 KB; ×10 steps = 3.6 MB a frame).
 */

export interface DitCacheDims {
  /** Batch items (2 in the CFG solve). */
  B: number;
  /** Packed input row (x | cond | mu | spks). */
  W: number;
  /** Velocity row (out channels). */
  O: number;
  /** Key | value row (2·dim). */
  KV: number;
  /** Transformer blocks. */
  depth: number;
}

/** One t value's cached frames [0, frames) of every batch item, rows time-major. */
export class StepPrefix {
  frames = 0;
  capacity = 0;
  inp: Float32Array[] = [];
  vel: Float32Array[] = [];
  /** [block][item] */
  kv: Float32Array[][] = [];

  constructor(private readonly d: DitCacheDims) {}

  /** Room for `frames` frames, keeping the first this.frames. */
  reserve(frames: number): void {
    if (frames <= this.capacity) return;
    const { B, W, O, KV, depth } = this.d;
    const cap = frames;
    const grow = (a: Float32Array | undefined, row: number) => {
      const n = new Float32Array(cap * row);
      if (a) n.set(a.subarray(0, this.frames * row));
      return n;
    };
    for (let b = 0; b < B; b++) {
      this.inp[b] = grow(this.inp[b], W);
      this.vel[b] = grow(this.vel[b], O);
    }
    for (let l = 0; l < depth; l++) {
      this.kv[l] ??= [];
      for (let b = 0; b < B; b++) this.kv[l][b] = grow(this.kv[l][b], KV);
    }
    this.capacity = cap;
  }
}

export class DitPrefixCache {
  private readonly steps = new Map<number, StepPrefix>();

  /**
   * maxFrames: frames kept per t value (a multiple of `chunk`); maxSteps: t values kept (a solve's steps: a new
   * one past these empties the cache).
   */
  constructor(
    readonly dims: DitCacheDims,
    readonly chunk: number,
    readonly maxFrames: number,
    readonly maxSteps: number,
  ) {}

  /** Bytes one cached frame takes at one t value. */
  static frameBytes(d: DitCacheDims): number {
    return 4 * d.B * (d.W + d.O + d.depth * d.KV);
  }

  /** Bytes held now. */
  get bytes(): number {
    let n = 0;
    for (const s of this.steps.values()) n += s.capacity;
    return n * DitPrefixCache.frameBytes(this.dims);
  }

  /**
   * The leading frames of a call on T frames at t that the cache can serve: the packed rows of item b lie at
   * packed[(b·T + j)·W …]; the count is the first frame where any item's row differs, capped at T, rounded down to a
   * whole chunk. The cache at t is cut back to that count (what follows belonged to another context).
   */
  reusable(t: number, packed: Float32Array, T: number): number {
    const s = this.steps.get(t);
    if (!s || s.frames === 0) return 0;
    const { B, W } = this.dims;
    const have = new Uint32Array(packed.buffer, packed.byteOffset, packed.length);
    let same = Math.min(s.frames, T);
    for (let b = 0; b < B && same > 0; b++) {
      const cached = new Uint32Array(s.inp[b].buffer, 0, same * W);
      const base = b * T * W;
      for (let i = 0; i < same * W; i++) {
        if (cached[i] !== have[base + i]) {
          same = Math.floor(i / W);
          break;
        }
      }
    }
    const q0 = Math.floor(same / this.chunk) * this.chunk;
    s.frames = Math.min(s.frames, q0);
    return q0;
  }

  /** The cached prefix at t, for reading rows [0, frames). */
  prefix(t: number): StepPrefix | undefined {
    return this.steps.get(t);
  }

  /**
   * Where a call at t that computed frames [q0, T) stores them: it keeps frames [q0, end), the returned end being T
   * rounded down to a chunk and capped at maxFrames; 0 when there is nothing to keep (end ≤ q0, or q0 is not what the
   * cache holds). Makes room for them.
   */
  extent(t: number, q0: number, T: number): number {
    const end = Math.min(Math.floor(T / this.chunk) * this.chunk, this.maxFrames);
    let s = this.steps.get(t);
    if (end <= q0 || (s?.frames ?? 0) !== q0) return 0;
    if (!s) {
      if (this.steps.size >= this.maxSteps) this.steps.clear();
      this.steps.set(t, (s = new StepPrefix(this.dims)));
    }
    s.reserve(Math.min(this.maxFrames, Math.max(end, 2 * s.capacity)));
    return end;
  }

  /** Marks frames [0, to) of t as stored (after the rows were written through prefix()). */
  commit(t: number, to: number): void {
    this.steps.get(t)!.frames = to;
  }
}
