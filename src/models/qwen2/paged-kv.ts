/**
 * Paged KV cache: fixed-size pages in one pool buffer per layer ([numPages, 2, pageSize, Hkv, D] f32 or f16, K
 * then V per page; see shaders/kv_cache.wgsl), one block-table row per sequence slot in a GPU buffer
 * [maxSeqs, maxPagesPerSeq] u32. Page ids are shared across layers (page p of a sequence is slot p in every
 * layer's pool), so the host allocator tracks one id space.
 *
 * - Pages are allocated as a sequence grows (`reserve`) and returned when it ends (`free`); growth never copies.
 * - `fork(src, length)` shares the pages covering [0, length) of `src` (refcounts). Every sequence appends only
 *   at positions ≥ its own length and reads only positions < its length, so sharing is safe until someone
 *   writes into a shared page: a write into a page with refcount > 1 first copies it (copy-on-write, one buffer
 *   copy per layer, only ever for the partially filled last page of a fork).
 * - `reserve` checks the whole need first and throws KvPoolExhaustedError before changing anything, so a
 *   failed request frees and leaks nothing.
 */
import type { GpuContext } from '../../gpu/context.js';
import type { GpuTensor } from '../../gpu/tensor.js';

export class KvPoolExhaustedError extends Error {
  override name = 'KvPoolExhaustedError';
  constructor(
    readonly needed: number,
    readonly free: number,
    readonly total: number,
    what: string,
  ) {
    super(
      `KV cache pool exhausted: ${what} needs ${needed} more page(s) but ${free} of ${total} are free; ` +
        'free finished sequences or create the runtime with a larger kv.numPages',
    );
  }
}

export class KvSequenceError extends Error {
  override name = 'KvSequenceError';
}

export interface KvCacheOptions {
  /** Positions per page. */
  pageSize: number;
  /** Pages in the pool (per layer; the same ids in every layer). */
  numPages: number;
  /** Sequences that can be alive at once (block-table rows). */
  maxSeqs: number;
  /** Longest sequence, in positions (block-table row length = ceil(maxContext / pageSize)). */
  maxContext: number;
  /**
   * Element type of the pools: 'f32' (default) or 'f16' (packed halves: half the memory and half the bytes
   * attention reads per key; K is rounded after RoPE, scores and softmax stay f32).
   */
  dtype?: 'f32' | 'f16';
}

export class KvSequence {
  /** Pages in position order. */
  readonly pages: number[] = [];
  /** Positions written (the cache length). */
  length = 0;
  freed = false;
  constructor(readonly slot: number) {}
}

export class PagedKvCache {
  /** One pool per layer: [numPages, 2, pageSize, Hkv, D] (opts.dtype). */
  readonly pools: GpuTensor[];
  /** [maxSeqs, maxPagesPerSeq] u32. */
  readonly blockTable: GpuTensor;
  readonly maxPagesPerSeq: number;
  private readonly refcount: Int32Array;
  private readonly freePages: number[];
  private readonly freeSlots: number[];
  private readonly pageBytes: number;
  private readonly row: Uint32Array;
  private readonly pageTmp: GPUBuffer;
  /** Copy-on-write page copies done so far (tests and benchmarks read it). */
  cowCopies = 0;

  constructor(
    private readonly ctx: GpuContext,
    layers: number,
    kvHeads: number,
    headDim: number,
    readonly opts: KvCacheOptions,
  ) {
    const { pageSize, numPages, maxSeqs, maxContext, dtype = 'f32' } = opts;
    for (const [k, v] of Object.entries({ pageSize, numPages, maxSeqs, maxContext })) {
      if (!Number.isSafeInteger(v) || v <= 0) throw new KvSequenceError(`kv option ${k} must be a positive integer, got ${v}`);
    }
    if (dtype !== 'f32' && dtype !== 'f16') throw new KvSequenceError(`kv option dtype must be 'f32' or 'f16', got ${String(dtype)}`);
    this.maxPagesPerSeq = Math.ceil(maxContext / pageSize);
    this.pageBytes = 2 * pageSize * kvHeads * headDim * (dtype === 'f16' ? 2 : 4);
    this.pools = Array.from({ length: layers }, (_, l) =>
      ctx.tensor(dtype, [numPages, 2, pageSize, kvHeads, headDim], `kv.pool.${l}`),
    );
    this.blockTable = ctx.tensor('u32', [maxSeqs, this.maxPagesPerSeq], 'kv.block_table');
    this.refcount = new Int32Array(numPages);
    // Pop from the end: lowest ids first.
    this.freePages = Array.from({ length: numPages }, (_, i) => numPages - 1 - i);
    this.freeSlots = Array.from({ length: maxSeqs }, (_, i) => maxSeqs - 1 - i);
    this.row = new Uint32Array(this.maxPagesPerSeq);
    this.pageTmp = ctx.createBuffer(this.pageBytes, undefined, 'kv.cow_page');
  }

  get pageSize(): number {
    return this.opts.pageSize;
  }
  get freePageCount(): number {
    return this.freePages.length;
  }
  get liveSequences(): number {
    return this.opts.maxSeqs - this.freeSlots.length;
  }
  refcountOf(page: number): number {
    return this.refcount[page];
  }

  create(): KvSequence {
    const slot = this.freeSlots.pop();
    if (slot === undefined) throw new KvSequenceError(`all ${this.opts.maxSeqs} sequence slots are in use (kv.maxSeqs)`);
    return new KvSequence(slot);
  }

  /** A new sequence sharing the first `length` positions of `src` (default: all of them). */
  fork(src: KvSequence, length = src.length): KvSequence {
    this.check(src);
    if (length > src.length) throw new KvSequenceError(`fork: length ${length} exceeds the source's ${src.length}`);
    const seq = this.create();
    const n = Math.ceil(length / this.pageSize);
    for (let i = 0; i < n; i++) {
      seq.pages.push(src.pages[i]);
      this.refcount[src.pages[i]]++;
    }
    seq.length = length;
    this.syncRow(seq);
    return seq;
  }

  /**
   * Makes positions [seq.length, newLength) writable: allocates the pages still missing and copies a shared
   * page that the write would touch. Throws KvPoolExhaustedError (changing nothing) when the pool is short.
   */
  reserve(seq: KvSequence, newLength: number): void {
    this.check(seq);
    if (newLength > this.maxPagesPerSeq * this.pageSize) {
      throw new KvSequenceError(`sequence length ${newLength} exceeds kv.maxContext ${this.opts.maxContext}`);
    }
    if (newLength <= seq.length) return;
    const firstPage = Math.floor(seq.length / this.pageSize);
    const cow = firstPage < seq.pages.length && this.refcount[seq.pages[firstPage]] > 1;
    const fresh = Math.ceil(newLength / this.pageSize) - seq.pages.length;
    const need = fresh + (cow ? 1 : 0);
    if (need > this.freePages.length) {
      throw new KvPoolExhaustedError(need, this.freePages.length, this.opts.numPages, `growing sequence ${seq.slot} to ${newLength} positions`);
    }
    if (cow) {
      const old = seq.pages[firstPage];
      const copy = this.freePages.pop()!;
      this.refcount[copy] = 1;
      this.refcount[old]--;
      seq.pages[firstPage] = copy;
      const bytes = this.pageBytes;
      this.ctx.run([], (enc) => {
        // WebGPU forbids a copy within one buffer: bounce through a one-page scratch buffer.
        for (const pool of this.pools) {
          enc.copyBufferToBuffer(pool.buffer, old * bytes, this.pageTmp, 0, bytes);
          enc.copyBufferToBuffer(this.pageTmp, 0, pool.buffer, copy * bytes, bytes);
        }
      });
      this.cowCopies++;
    }
    for (let i = 0; i < fresh; i++) {
      const p = this.freePages.pop()!;
      this.refcount[p] = 1;
      seq.pages.push(p);
    }
    if (fresh > 0 || cow) this.syncRow(seq);
  }

  /** Records that positions up to newLength are written (after the step that wrote them was submitted). */
  advance(seq: KvSequence, newLength: number): void {
    this.check(seq);
    if (newLength > seq.pages.length * this.pageSize) throw new KvSequenceError(`advance past the reserved pages (${newLength})`);
    seq.length = newLength;
  }

  free(seq: KvSequence): void {
    if (seq.freed) return;
    for (const p of seq.pages) {
      if (--this.refcount[p] === 0) this.freePages.push(p);
    }
    seq.pages.length = 0;
    seq.length = 0;
    seq.freed = true;
    this.freeSlots.push(seq.slot);
  }

  private check(seq: KvSequence): void {
    if (seq.freed) throw new KvSequenceError(`sequence in slot ${seq.slot} was freed`);
  }

  private syncRow(seq: KvSequence): void {
    this.row.fill(0);
    this.row.set(seq.pages);
    this.ctx.write(this.blockTable.buffer, seq.slot * this.maxPagesPerSeq * 4, this.row);
  }
}
