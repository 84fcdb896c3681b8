/**
 * The CPU engine's matrix kernel through WebAssembly SIMD (kernels/wasm/gemm.as.ts): y[M, N] = x[M, K] · W[N, K]ᵀ
 * (+ bias), f32 arithmetic. Weights are copied once into the module's memory (`matrix`) and stay resident, as f32
 * or as int8 with a scale per 32 values (q8: a quarter of the bytes; kernels/quant.ts's values); each call copies
 * only x in and y out, and not even those for resident tensors (`resident`: activations and KV caches a model keeps
 * in this memory, released and reused like a heap). One `CpuKernels` is one WebAssembly memory (at most 4 GiB):
 * give each model its own.
 * With threads (kernels/cpu-threads.ts) that memory is shared and a call's output columns are split among worker
 * threads; the result is the same bit for bit.
 *
 * Built by `npm run build:wasm` (scripts/build-wasm.mjs → kernels/wasm/build/gemm{,-mt}.wasm.ts).
 */
import gemmWasm from './wasm/build/gemm.wasm.js';
import gemmMtWasm from './wasm/build/gemm-mt.wasm.js';
import { ShapeMismatchError } from '../src/gpu/errors.js';
import { CTL_BYTES, GemmThreads, threadsUnavailable } from './cpu-threads.js';
import { fillFrom, Staging, type WeightFill } from '../loader/fill.js';

interface GemmExports {
  memory: WebAssembly.Memory;
  gemm(x: number, w: number, bias: number, y: number, M: number, N: number, K: number, ldy: number, act: number, ldx: number): void;
  gemmQ8(x: number, wq: number, sc: number, bias: number, y: number, M: number, N: number, K: number, G: number, ldy: number, act: number, tmp: number): void;
  q8ScratchBytes(M: number, K: number): number;
  quantizeRow16(x: number, xq: number, K: number, G: number): void;
  row16Bytes(K: number, G: number): number;
  quantizeQ8(src: number, wq: number, sc: number, N: number, K: number, G: number): void;
  ditAttention(q: number, ldq: number, kv: number, ldkv: number, o: number, Tq: number, q0: number, T: number, heads: number, dh: number, keymask: number, chunk: number, scale: number, p0: number, p1: number, scratch: number): void;
  ditAttentionScratchBytes(Tq: number, T: number, dh: number): number;
  im2col(x: number, cols: number, lin: number, cin: number, k: number, row: number, t0: number, m: number, stride: number, dilation: number, padLeft: number): void;
  llmAttention(qg: number, k: number, vt: number, ldv: number, o: number, R: number, n: number, n4: number, D: number, rep: number, pos0: number, scale: number, scratch: number): void;
  llmAttentionScratchBytes(R: number, n4: number): number;
  reserve(bytes: number): number;
  adaLayerNorm(x: number, y: number, M: number, C: number, T: number, mod: number, modStride: number, shiftAt: number, scaleAt: number, eps: number): void;
  gatedResidual(h: number, branch: number, M: number, C: number, T: number, mod: number, modStride: number, gateAt: number, rowmask: number): void;
  rotary(x: number, M: number, T: number, ld: number, col: number, rotDim: number, table: number): void;
  snake(x: number, y: number, L: number, C: number, alpha: number): void;
  leakyRelu(x: number, y: number, n: number, slope: number): void;
  addInto(y: number, a: number, n: number): void;
  addSumInto(y: number, a: number, b: number, n: number): void;
  divideBy(x: number, n: number, d: number): void;
  softmaxRows(x: number, rows: number, D: number, log: number): void;
  geluErf(x: number, y: number, n: number, tab: number, step: number, limit: number): void;
  depthwiseLine(x: number, w: number, out: number, C: number, L: number, Kk: number, pad: number, P: number, acc: number): void;
  im2colTaps(x: number, S: number, Cg: number, taps: number, n: number, Kk: number, ld: number, cols: number): void;
}

export interface CpuKernelOptions {
  /** Caps this instance's memory (default: WebAssembly's 4 GiB). */
  maxBytes?: number;
  /**
   * Threads per GEMM, the caller's included (default: the host's cores, at most 8, where threads can run here:
   * kernels/cpu-threads.ts threadsUnavailable; else 1).
   */
  threads?: number;
}

/**
 * Multiply-adds below which a call stays on the calling thread: waking the workers costs tens of µs, about what
 * 10⁶ multiply-adds take on one core.
 */
const THREAD_MIN_MACS = 1 << 20;

/** The default thread count: the host's cores (at most 8) where threads can run, else 1. */
export function defaultCpuThreads(): number {
  if (threadsUnavailable()) return 1;
  const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
  const os = (globalThis as { process?: { getBuiltinModule?: (id: string) => { availableParallelism?: () => number } | undefined } }).process?.getBuiltinModule?.('node:os');
  return Math.max(1, Math.min(8, os?.availableParallelism?.() ?? nav?.hardwareConcurrency ?? 1));
}

/**
 * The GEMM's epilogue, in f64 on each thread's slice: 'gelu_tanh' = x·σ(2u), u = √(2/π)(x + 0.044715x³);
 * 'swiglu' = SiLU(y[2j]) · y[2j+1] over column pairs, for a W whose rows interleave gate and up (`interleaveRows`):
 * the output is then [M, N/2].
 */
export type CpuActivation = 'none' | 'gelu_tanh' | 'swiglu';
const ACT_CODE: Record<CpuActivation, number> = { none: 0, gelu_tanh: 1, swiglu: 2 };

/** Reused between calls: the second half of an interleave, so that loading 24 layers touches no fresh pages. */
const interleaveStaging = new Staging();

/**
 * Rows a0, b0, a1, b1, … of two [N, K] fills: the W of a 'swiglu' linear (a = gate, b = up). a fills dst's first
 * half and b a staging buffer; the rows then move from the last (row n goes to 2n ≥ n, so every row of a moves
 * before anything lands on it).
 */
export function interleavedRows(a: WeightFill, b: WeightFill, N: number, K: number): WeightFill {
  return (dst) => {
    if (dst.length !== 2 * N * K) throw new ShapeMismatchError(`interleavedRows: ${dst.length} values, expected [${2 * N}, ${K}]`);
    a(dst.subarray(0, N * K));
    const s = interleaveStaging.stage(b, N * K);
    for (let n = N - 1; n >= 0; n--) {
      dst.copyWithin(2 * n * K, n * K, (n + 1) * K);
      dst.set(s.subarray(n * K, (n + 1) * K), (2 * n + 1) * K);
    }
  };
}

/** interleavedRows on arrays: a new [2N, K]. */
export function interleaveRows(a: Float32Array, b: Float32Array, N: number, K: number): Float32Array {
  if (a.length !== N * K || b.length !== N * K) throw new ShapeMismatchError(`interleaveRows: ${a.length} and ${b.length} values, expected [${N}, ${K}] each`);
  const out = new Float32Array(2 * N * K);
  interleavedRows(fillFrom(a), fillFrom(b), N, K)(out);
  return out;
}

/**
 * How a resident matrix stores W: 'f32', or 'q8' = symmetric int8 per group of Q8_GROUP values along K (scale =
 * max|w| / 127; kernels/quant.ts quantizeHost gives the same values), computed as f32 after dequantisation.
 */
export type CpuWeightDtype = 'f32' | 'q8';

/** Values per q8 scale: the WebGPU q8 kernels' group, so both engines hold the same weights. */
export const Q8_GROUP = 32;

/** A weight matrix W [N, K] (+ bias [N]) resident in one CpuKernels' memory. */
export interface CpuMatrix {
  readonly N: number;
  readonly K: number;
  readonly name: string;
  readonly dtype: CpuWeightDtype;
  /** Byte offsets in the owning module's memory (bias 0: none; scales 0 for f32). */
  readonly w: number;
  readonly bias: number;
  readonly scales: number;
  readonly owner: CpuKernels;
}

/**
 * f32 values that live in one CpuKernels' memory (`resident`): activations a model keeps there between calls, so
 * that linears, attention and the DiT's elementwise steps read and write them in place, with no copy in or out.
 */
export class CpuTensor {
  constructor(
    readonly owner: CpuKernels,
    /** Byte offset in the owner's memory. */
    readonly offset: number,
    readonly length: number,
    readonly name: string,
    /**
     * Floats of zeros just before `offset` that no call writes (resident(n, name, zerosBefore)): a stride-1
     * convolution reads its left padding there instead of building im2col rows (CpuKernels.conv).
     */
    readonly zerosBefore = 0,
  ) {}

  /** A view of the values (make a new one after any call that may grow the memory). */
  view(): Float32Array {
    return this.owner.viewOf(this);
  }

  /** Values [start, start + n) as a tensor of their own (no copy). */
  slice(start: number, n: number, name = `${this.name}[${start}…]`): CpuTensor {
    if (!(start >= 0 && n >= 0 && start + n <= this.length)) throw new RangeError(`${this.name}: values [${start}, ${start + n}) outside its ${this.length}`);
    return new CpuTensor(this.owner, this.offset + 4 * start, n, name);
  }
}

export class CpuMemoryError extends RangeError {
  override name = 'CpuMemoryError';
}

function decodeBase64(b64: string): Uint8Array {
  if (typeof atob === 'function') return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  return new Uint8Array(Buffer.from(b64, 'base64'));
}

let compiled: Promise<WebAssembly.Module> | undefined;
let compiledMt: Promise<WebAssembly.Module> | undefined;
/** The shared module's memory: 16 pages to start (more than its static data), growable to 4 GiB. */
const MT_MEMORY = { initial: 16, maximum: 65536, shared: true } as const;

const align16 = (n: number) => Math.ceil(n / 16) * 16;

export class CpuKernels {
  /** Bytes of resident weights and tensors, from the module's first free offset. */
  private used = 0;
  /** Released resident blocks below `used` (byte offset, bytes), sorted by offset, neighbours merged. */
  private free: { at: number; bytes: number }[] = [];
  private readonly base: number;
  /** geluErf's table, resident from its first call (the array it was copied from). */
  private erfTable?: { src: Float64Array; t: CpuTensor };

  private constructor(
    private readonly e: GemmExports,
    private readonly maxBytes: number,
    private threads: GemmThreads | null,
    base: number,
  ) {
    this.base = base;
  }

  static async create(opts: CpuKernelOptions = {}): Promise<CpuKernels> {
    const maxBytes = opts.maxBytes ?? 2 ** 32;
    const threads = opts.threads ?? defaultCpuThreads();
    if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`cpu kernels: threads must be a whole number ≥ 1, got ${threads}`);
    const abort = () => {
      throw new Error('gemm wasm abort');
    };
    if (threads === 1) {
      compiled ??= WebAssembly.compile(decodeBase64(gemmWasm) as Uint8Array<ArrayBuffer>);
      const inst = await WebAssembly.instantiate(await compiled, { env: { abort } });
      const e = inst.exports as unknown as GemmExports;
      return new CpuKernels(e, maxBytes, null, e.reserve(0));
    }
    const why = threadsUnavailable();
    if (why) throw new RangeError(`cpu kernels: ${threads} threads asked for, but ${why}`);
    try {
      compiledMt ??= WebAssembly.compile(decodeBase64(gemmMtWasm) as Uint8Array<ArrayBuffer>);
      const module = await compiledMt;
      const memory = new WebAssembly.Memory(MT_MEMORY);
      const e = { ...(await WebAssembly.instantiate(module, { env: { memory, abort } })).exports, memory } as unknown as GemmExports;
      const ctl = e.reserve(CTL_BYTES);
      new Uint8Array(memory.buffer, ctl, CTL_BYTES).fill(0);
      return new CpuKernels(e, maxBytes, await GemmThreads.start(module, memory, ctl, threads), ctl + CTL_BYTES);
    } catch (err) {
      // A host may refuse a 4 GiB shared memory or a worker: the default then runs on this thread alone.
      if (opts.threads !== undefined) throw err;
      return CpuKernels.create({ ...opts, threads: 1 });
    }
  }

  /** Threads a large call is split over (1: the calling thread alone). */
  get threadCount(): number {
    return this.threads?.parts ?? 1;
  }

  /** Stops the worker threads (the resident matrices stay readable; later calls run on the calling thread). */
  dispose(): void {
    this.threads?.stop();
    this.threads = null;
  }

  /** Bytes of resident weights and tensors (released space inside them included). */
  get residentBytes(): number {
    return this.used;
  }

  /** Bytes of WebAssembly memory this instance holds. */
  get memoryBytes(): number {
    return this.e.memory.buffer.byteLength;
  }

  /** Makes [base, base + bytes) addressable. reserve() counts from the module's heap start, which lies below `base` by the control block when threads run. */
  private grow(bytes: number, what: string): void {
    const heap = this.e.reserve(0);
    if (this.base + bytes > this.maxBytes || !this.e.reserve(this.base - heap + bytes)) throw new CpuMemoryError(`cpu kernels: cannot grow WebAssembly memory to ${bytes} bytes for ${what} (this instance: at most ${this.maxBytes} bytes)`);
  }

  /**
   * Copies W [N, K] (+ bias [N]) into this module's memory, where it stays: as f32, or quantised to q8 there (K
   * must be a multiple of Q8_GROUP). The bias stays f32. W is an array or a fill that writes it in place.
   */
  matrix(w: Float32Array | WeightFill, N: number, K: number, bias?: Float32Array, name = 'matrix', dtype: CpuWeightDtype = 'f32'): CpuMatrix {
    if (typeof w !== 'function' && w.length !== N * K) throw new ShapeMismatchError(`cpu matrix ${name}: ${w.length} values are not [${N}, ${K}]`);
    const fill = typeof w === 'function' ? w : fillFrom(w, name);
    if (bias && bias.length !== N) throw new ShapeMismatchError(`cpu matrix ${name}: bias has ${bias.length} values, expected ${N}`);
    if (dtype === 'q8' && K % Q8_GROUP !== 0) throw new ShapeMismatchError(`cpu matrix ${name}: q8 needs K a multiple of ${Q8_GROUP}, got [${N}, ${K}]`);
    const wo = this.base + this.used;
    const q8 = dtype === 'q8';
    const so = q8 ? align16(wo + N * K) : 0;
    const wEnd = q8 ? so + (4 * N * K) / Q8_GROUP : wo + 4 * N * K;
    const bo = bias ? align16(wEnd) : 0;
    const end = align16(bias ? bo + 4 * N : wEnd);
    // q8: the f32 values pass through scratch past the matrix, quantised in WebAssembly.
    this.grow((q8 ? end + 4 * N * K : end) - this.base, `weight ${name} [${N}, ${K}] (${dtype})`);
    const f = new Float32Array(this.e.memory.buffer);
    const at = (q8 ? end : wo) / 4;
    fill(f.subarray(at, at + N * K));
    if (q8) this.e.quantizeQ8(end, wo, so, N, K, Q8_GROUP);
    if (bias) f.set(bias, bo / 4);
    this.used = end - this.base;
    return { N, K, name, dtype, w: wo, bias: bo, scales: so, owner: this };
  }

  /**
   * `n` f32 values kept in this module's memory (zeroed) until release(): a released block of the size or larger
   * (first fit), else new space past the resident data, like a matrix. `zerosBefore` floats (a multiple of 4) of
   * zeros come before them, in the same block (CpuTensor.zerosBefore).
   */
  resident(n: number, name: string, zerosBefore = 0): CpuTensor {
    if (!(Number.isInteger(zerosBefore) && zerosBefore >= 0 && zerosBefore % 4 === 0)) throw new RangeError(`resident ${name}: zerosBefore must be a multiple of 4, got ${zerosBefore}`);
    const bytes = align16(4 * (n + zerosBefore));
    const i = this.free.findIndex((f) => f.bytes >= bytes);
    let o: number;
    if (i >= 0) {
      const f = this.free[i];
      o = f.at;
      if (f.bytes === bytes) this.free.splice(i, 1);
      else this.free[i] = { at: f.at + bytes, bytes: f.bytes - bytes };
    } else {
      o = this.base + this.used;
      this.grow(o + bytes - this.base, `resident ${name} [${n}]`);
      this.used = o + bytes - this.base;
    }
    new Float32Array(this.e.memory.buffer, o, n + zerosBefore).fill(0);
    return new CpuTensor(this, o + 4 * zerosBefore, n, name, zerosBefore);
  }

  /** Gives a resident tensor's space back (the tensor must not be used again). */
  release(t: CpuTensor): void {
    this.own(t, 0, 'release');
    let at = t.offset - 4 * t.zerosBefore, bytes = align16(4 * (t.length + t.zerosBefore));
    if (this.free.some((f) => at < f.at + f.bytes && f.at < at + bytes)) throw new CpuMemoryError(`cpu kernels: ${t.name} released twice`);
    // Merge with the neighbours; a block that ends the resident data gives its space back to it.
    this.free = this.free.filter((f) => {
      if (f.at + f.bytes === at) {
        at = f.at;
        bytes += f.bytes;
        return false;
      }
      if (at + bytes === f.at) {
        bytes += f.bytes;
        return false;
      }
      return true;
    });
    if (at + bytes === this.base + this.used) this.used = at - this.base;
    else {
      this.free.push({ at, bytes });
      this.free.sort((a, b) => a.at - b.at);
    }
  }

  viewOf(t: CpuTensor): Float32Array {
    return new Float32Array(this.e.memory.buffer, t.offset, t.length);
  }

  private own(t: CpuTensor, need: number, what: string): number {
    if (t.owner !== this) throw new ShapeMismatchError(`cpu ${what}: ${t.name} lives in another CpuKernels`);
    if (t.length < need) throw new ShapeMismatchError(`cpu ${what}: ${t.name} holds ${t.length} values, ${need} needed`);
    return t.offset;
  }

  /**
   * A call's own buffers, laid out one after another (16-aligned) from `at`, past the resident data by default:
   * take(bytes) gives the next one's byte offset; take(0), where the one after would start. Nothing is grown here.
   */
  private buffersFrom(at = this.base + this.used): (bytes: number) => number {
    let next = align16(at);
    return (bytes) => {
      const p = next;
      next = align16(next + bytes);
      return p;
    };
  }

  /**
   * y[M, N] = act(x[M, K] · Wᵀ (+ bias)) ([M, N/2] for 'swiglu'); into `out` when given (length ≥ that). x and out
   * may be resident tensors: they are then read and written in place.
   */
  linear(x: Float32Array | CpuTensor, M: number, m: CpuMatrix, out?: Float32Array | CpuTensor, act: CpuActivation = 'none'): Float32Array {
    if (m.owner !== this) throw new ShapeMismatchError(`cpu linear ${m.name}: the matrix lives in another CpuKernels`);
    if (act === 'swiglu' && m.N % 2) throw new ShapeMismatchError(`cpu linear ${m.name}: swiglu needs an even N (gate and up rows interleaved), got ${m.N}`);
    if (act === 'swiglu' && out instanceof CpuTensor) throw new ShapeMismatchError(`cpu linear ${m.name}: a swiglu output cannot be resident`);
    const xr = x instanceof CpuTensor ? this.own(x, M * m.K, `linear ${m.name}`) : x;
    const yr = out instanceof CpuTensor ? this.own(out, M * m.N, `linear ${m.name}`) : undefined;
    return this.run(xr, M, m.w, m.bias, m.N, m.K, m.name, out instanceof CpuTensor ? undefined : out, undefined, ACT_CODE[act], m.dtype === 'q8' ? m.scales : 0, yr);
  }

  /**
   * y[M, N] = x[M, K] · w[N, K]ᵀ for a w used once (an activation, im2col rows): w is copied into the call's own
   * buffers, past the resident data, and not kept.
   */
  product(x: Float32Array, M: number, w: Float32Array, N: number, K: number, out?: Float32Array): Float32Array {
    if (w.length < N * K) throw new ShapeMismatchError(`cpu product: w has ${w.length} values, expected [${N}, ${K}]`);
    if (x.length < M * K) throw new ShapeMismatchError(`cpu product: x has ${x.length} values, expected [${M}, ${K}]`);
    // Rows of K4 = K rounded up to 4, zeros after K: the GEMM's vector loop takes K % 4 == 0 only (its scalar one
    // ran [250, 250]·[64, 250]ᵀ, an attention's probabilities times values, at 1.6 G multiply-adds/s, not ~20).
    const K4 = (K + 3) & ~3;
    const take = this.buffersFrom();
    const wo = take(4 * N * K4);
    const xo = K4 === K ? undefined : take(4 * M * K4);
    this.grow(take(0) - this.base, `product operands [${M}, ${K}], [${N}, ${K}]`);
    this.copyRows(w, N, K, K4, wo);
    if (xo === undefined) return this.run(x, M, wo, 0, N, K, 'product', out, take(0));
    this.copyRows(x, M, K, K4, xo);
    return this.run(xo, M, wo, 0, N, K4, 'product', out, take(0));
  }

  /** src [rows, K] into module memory at `at` as rows of ld ≥ K floats, zeros after K. */
  private copyRows(src: Float32Array, rows: number, K: number, ld: number, at: number): void {
    const dst = new Float32Array(this.e.memory.buffer, at, rows * ld);
    if (ld === K) return dst.set(src.subarray(0, rows * K));
    for (let r = 0; r < rows; r++) {
      dst.set(src.subarray(r * K, (r + 1) * K), r * ld);
      dst.fill(0, r * ld + K, (r + 1) * ld);
    }
  }

  /** `n` floats of x copied into the call's own buffer (past the resident data), its byte offset; `extra` bytes after. */
  private copyIn(x: Float32Array, n: number, what: string, extra = 0): { at: number; after: number } {
    if (x.length < n) throw new ShapeMismatchError(`cpu ${what}: ${x.length} values, ${n} needed`);
    const take = this.buffersFrom();
    const at = take(4 * n), after = take(extra);
    this.grow(take(0) - this.base, what);
    new Float32Array(this.e.memory.buffer, at, n).set(x.subarray(0, n));
    return { at, after };
  }

  /**
   * One group of an N-D convolution as im2col GEMMs in this module: x [Cg, S] (each channel's S input positions),
   * taps [P, Kk] (the flat input position of output p's kernel tap k, −1 in the padding: onnx-run's tap table),
   * w [Og, Cg·Kk] → out [Og, P]. The rows of a few hundred positions at a time (~1 MB, padded to a multiple of 4) are
   * built in place (onnx-ops.as.ts im2colTaps) and multiplied there, split over the threads by position.
   */
  convTaps(x: Float32Array, Cg: number, S: number, taps: Int32Array, P: number, Kk: number, w: Float32Array, Og: number, out: Float32Array): void {
    const K = Cg * Kk, K4 = (K + 3) & ~3;
    if (x.length < Cg * S || taps.length < P * Kk || w.length < Og * K || out.length < Og * P) {
      throw new ShapeMismatchError(`cpu conv: x ${x.length}, taps ${taps.length}, w ${w.length}, out ${out.length} values for Cg ${Cg}, S ${S}, P ${P}, Kk ${Kk}, Og ${Og}`);
    }
    const chunk = Math.min(P, Math.max(4, Math.floor((1 << 18) / K4) & ~3));
    const take = this.buffersFrom();
    const xo = take(4 * Cg * S), to = take(4 * P * Kk), wo = take(4 * Og * K4), co = take(4 * chunk * K4), yo = take(4 * Og * chunk);
    this.grow(take(0) - this.base, `conv rows [${P}, ${K}] × [${Og}, ${K}]`);
    this.copyRows(x, Cg, S, S, xo);
    new Int32Array(this.e.memory.buffer, to, P * Kk).set(taps.subarray(0, P * Kk));
    this.copyRows(w, Og, K, K4, wo);
    for (let p0 = 0; p0 < P; p0 += chunk) {
      const n = Math.min(chunk, P - p0);
      this.e.im2colTaps(xo, S, Cg, to + 4 * p0 * Kk, n, Kk, K4, co);
      this.run(wo, Og, co, 0, n, K4, 'conv', undefined, take(0), 0, 0, yo);
      const y = new Float32Array(this.e.memory.buffer, yo, Og * n);
      for (let o = 0; o < Og; o++) out.set(y.subarray(o * n, (o + 1) * n), o * P + p0);
    }
  }

  /**
   * Softmax (or log-softmax) of each row of x [rows, D] (kernels/wasm/lib/onnx-ops.as.ts softmaxRows: four-lane
   * exponentials within 2 ulp, f64 sums), into `out` or a new array.
   */
  softmaxRows(x: Float32Array, rows: number, D: number, log = false, out?: Float32Array): Float32Array {
    const { at } = this.copyIn(x, rows * D, `softmax rows [${rows}, ${D}]`);
    this.e.softmaxRows(at, rows, D, log ? 1 : 0);
    return this.copyOut(at, rows * D, out);
  }

  /** n floats at byte offset `at` of module memory, into `out` (length ≥ n) or a new array. */
  private copyOut(at: number, n: number, out?: Float32Array): Float32Array {
    const v = new Float32Array(this.e.memory.buffer, at, n);
    if (!out) return v.slice();
    if (out.length < n) throw new ShapeMismatchError(`cpu kernels: out has ${out.length} values, ${n} needed`);
    out.set(v);
    return out;
  }

  /**
   * The exact GELU x·½(1 + erf(x/√2)) of every value of x (onnx-ops.as.ts geluErf), erf from `table` (f64 pairs:
   * value and slope per step every 1/step up to `limit`, src/onnx-run/ops-elementwise.ts), kept in this module's
   * memory after the first call; into `out` or a new array.
   */
  geluErf(x: Float32Array, table: Float64Array, step: number, limit: number, out?: Float32Array): Float32Array {
    if (this.erfTable?.src !== table) {
      if (this.erfTable) this.release(this.erfTable.t);
      const t = this.resident(2 * table.length, 'erf table');
      new Float64Array(this.e.memory.buffer, t.offset, table.length).set(table);
      this.erfTable = { src: table, t };
    }
    const { at } = this.copyIn(x, x.length, `gelu [${x.length}]`);
    this.e.geluErf(at, at, x.length, this.erfTable.t.offset, step, limit);
    return this.copyOut(at, x.length, out);
  }

  /**
   * A 1-D depthwise convolution of stride and dilation 1 (onnx-ops.as.ts depthwiseLine): x [C, L], w [C, Kk] →
   * [C, P], out[c, p] = Σ_k w[c, k]·x[c, p − pad + k], f64 sums tap by tap; into `out` or a new array.
   */
  depthwiseLine(x: Float32Array, C: number, L: number, w: Float32Array, Kk: number, pad: number, P: number, out?: Float32Array): Float32Array {
    if (w.length < C * Kk) throw new ShapeMismatchError(`cpu depthwise conv: w has ${w.length} values, expected [${C}, ${Kk}]`);
    const { at, after } = this.copyIn(x, C * L, `depthwise conv [${C}, ${L}]`, 4 * C * Kk + 4 * C * P + 8 * P + 32);
    const wo = after, oo = align16(wo + 4 * C * Kk), acc = align16(oo + 4 * C * P);
    this.copyRows(w, C, Kk, Kk, wo);
    this.e.depthwiseLine(at, wo, oo, C, L, Kk, pad, P, acc);
    return this.copyOut(oo, C * P, out);
  }

  /**
   * The DiT's AdaLN on resident rows (kernels/wasm/lib/dit-ops.as.ts adaLayerNorm; src/models/cpu/dit-ops.ts
   * adaLayerNorm's values but for its f64 sums' order): y = LN(x)·(1 + scale) + shift, item b's chunks in mod at
   * b·modStride.
   */
  adaLayerNorm(x: CpuTensor, y: CpuTensor, M: number, C: number, T: number, mod: CpuTensor, modStride: number, shiftAt: number, scaleAt: number, eps: number): void {
    const B = Math.ceil(M / T);
    this.e.adaLayerNorm(this.own(x, M * C, 'adaLayerNorm'), this.own(y, M * C, 'adaLayerNorm'), M, C, T, this.own(mod, (B - 1) * modStride + Math.max(shiftAt, scaleAt) + C, 'adaLayerNorm'), modStride, shiftAt, scaleAt, eps);
  }

  /** h += gate · branch on resident rows (dit-ops.ts gatedResidual's values); rows with rowmask ≤ 0.5 skipped. */
  gatedResidual(h: CpuTensor, branch: CpuTensor, M: number, C: number, T: number, mod: CpuTensor, modStride: number, gateAt: number, rowmask?: CpuTensor): void {
    const B = Math.ceil(M / T);
    const mask = rowmask ? this.own(rowmask, M, 'gatedResidual') : 0;
    this.e.gatedResidual(this.own(h, M * C, 'gatedResidual'), this.own(branch, M * C, 'gatedResidual'), M, C, T, this.own(mod, (B - 1) * modStride + gateAt + C, 'gatedResidual'), modStride, gateAt, mask);
  }

  /**
   * The DiT's interleaved rotary in place on resident rows (dit-ops.ts rotaryInPlace's values): row m at position
   * pos0 + (m mod T).
   */
  rotary(x: CpuTensor, M: number, T: number, ld: number, col: number, rotDim: number, table: CpuTensor, pos0 = 0): void {
    this.e.rotary(this.own(x, M * ld, 'rotary'), M, T, ld, col, rotDim, this.own(table, (pos0 + T) * rotDim, 'rotary') + 4 * pos0 * rotDim);
  }

  /**
   * Conv1d over time-major x [lin, cin] as im2col GEMMs against `m` [Cout, row] (W permuted to tap-major rows of
   * k·cin values, zero-padded to row): out [lout, Cout]. An array x is copied into the module once, a resident one
   * read in place; the im2col rows are built there (kernels/wasm/gemm.as.ts im2col), `chunkRows` output times per
   * GEMM call, each written straight into a resident `out`.
   */
  conv(x: Float32Array | CpuTensor, lin: number, cin: number, k: number, m: CpuMatrix, g: { stride: number; dilation: number; padLeft: number }, out: Float32Array | CpuTensor, lout: number, chunkRows: number): void {
    if (m.owner !== this) throw new ShapeMismatchError(`cpu conv ${m.name}: the matrix lives in another CpuKernels`);
    if (x.length < lin * cin) throw new ShapeMismatchError(`cpu conv ${m.name}: x holds ${x.length} values, [${lin}, ${cin}] expected`);
    if (out.length < lout * m.N) throw new ShapeMismatchError(`cpu conv ${m.name}: out holds ${out.length} values, [${lout}, ${m.N}] expected`);
    if (m.K < k * cin) throw new ShapeMismatchError(`cpu conv ${m.name}: rows of ${m.K} values cannot hold ${k} taps × ${cin} channels`);
    const inPlace = x instanceof CpuTensor;
    const yo = out instanceof CpuTensor ? this.own(out, lout * m.N, `conv ${m.name}`) : undefined;
    // A stride-1, undilated conv over resident x with its left padding in x's zeros: im2col row t is the k·cin
    // values x[t − pad …] as they lie, so the GEMM reads them in place, rows cin floats apart.
    const direct = inPlace && m.dtype === 'f32' && g.stride === 1 && g.dilation === 1 && cin % 4 === 0 && m.K === k * cin &&
      g.padLeft * cin <= x.zerosBefore && lout - 1 - g.padLeft + k <= lin;
    if (direct) {
      const xo = this.own(x, lin * cin, `conv ${m.name}`) - 4 * g.padLeft * cin;
      if (yo !== undefined) this.run(xo, lout, m.w, m.bias, m.N, m.K, m.name, undefined, undefined, 0, 0, yo, cin);
      else this.run(xo, lout, m.w, m.bias, m.N, m.K, m.name, out as Float32Array, undefined, 0, 0, undefined, cin);
      return;
    }
    const xo = inPlace ? this.own(x, lin * cin, `conv ${m.name}`) : this.base + this.used;
    const co = inPlace ? this.base + this.used : align16(xo + 4 * lin * cin);
    const rows = Math.max(1, Math.min(chunkRows, lout));
    const next = align16(co + 4 * rows * m.K);
    this.grow(next - this.base, `conv ${m.name} input [${lin}, ${cin}]`);
    if (!inPlace) new Float32Array(this.e.memory.buffer, xo, lin * cin).set(x.subarray(0, lin * cin));
    const scales = m.dtype === 'q8' ? m.scales : 0;
    for (let t0 = 0; t0 < lout; t0 += rows) {
      const r = Math.min(rows, lout - t0);
      this.e.im2col(xo, co, lin, cin, k, m.K, t0, r, g.stride, g.dilation, g.padLeft);
      if (yo !== undefined) this.run(co, r, m.w, m.bias, m.N, m.K, m.name, undefined, next, 0, scales, yo + 4 * t0 * m.N);
      else this.run(co, r, m.w, m.bias, m.N, m.K, m.name, (out as Float32Array).subarray(t0 * m.N, (t0 + r) * m.N), next, 0, scales);
    }
  }

  /**
   * The int16 form a q8 product of one row takes its input in (kernels/wasm/gemm.as.ts quantizeRow16): per group of
   * G values, q = x·(32767 / max|x|) rounded to nearest even and the scale max|x| / 32767. For tests and tools;
   * linear() makes it itself.
   */
  quantizeRow16(x: Float32Array, G = Q8_GROUP): { q: Int16Array; scales: Float32Array } {
    const K = x.length;
    if (K % G !== 0 || G % 16 !== 0) throw new ShapeMismatchError(`cpu quantizeRow16: ${K} values are not whole groups of ${G} (a multiple of 16)`);
    const xo = this.base + this.used, xq = align16(xo + 4 * K);
    this.grow(xq + this.e.row16Bytes(K, G) - this.base, `quantizeRow16 [${K}]`);
    new Float32Array(this.e.memory.buffer, xo, K).set(x);
    this.e.quantizeRow16(xo, xq, K, G);
    const sAt = xq + this.e.row16Bytes(K, G) - (4 * K) / G;
    return { q: new Int16Array(this.e.memory.buffer, xq, K).slice(), scales: new Float32Array(this.e.memory.buffer, sAt, K / G).slice() };
  }

  /**
   * HiFT's Snake on resident rows [L, C] (src/models/cpu/hift-dsp.ts snake's bits): y = x + inv·sin²(α·x), alpha
   * [2, C] resident (the α row, then packSnakeAlpha's inv row). y may be x.
   */
  snake(x: CpuTensor, y: CpuTensor, L: number, C: number, alpha: CpuTensor): void {
    this.e.snake(this.own(x, L * C, 'snake'), this.own(y, L * C, 'snake'), L, C, this.own(alpha, 2 * C, 'snake'));
  }

  /** y = LeakyReLU(x) over n resident values (hift-dsp.ts leakyRelu's bits); y may be x. */
  leakyRelu(x: CpuTensor, y: CpuTensor, n: number, slope: number): void {
    this.e.leakyRelu(this.own(x, n, 'leakyRelu'), this.own(y, n, 'leakyRelu'), n, slope);
  }

  /** y += a (+ b, summed first in f64: JavaScript's `y[i] += a[i] + b[i]`) over n resident values. */
  addInto(y: CpuTensor, a: CpuTensor, n: number, b?: CpuTensor): void {
    if (b) this.e.addSumInto(this.own(y, n, 'addInto'), this.own(a, n, 'addInto'), this.own(b, n, 'addInto'), n);
    else this.e.addInto(this.own(y, n, 'addInto'), this.own(a, n, 'addInto'), n);
  }

  /** x /= d over n resident values; d must be an f32 (the quotient then has the f64 quotient's bits). */
  divideBy(x: CpuTensor, n: number, d: number): void {
    if (Math.fround(d) !== d || d === 0) throw new RangeError(`cpu divideBy: ${d} is not a non-zero f32`);
    this.e.divideBy(this.own(x, n, 'divideBy'), n, d);
  }

  /**
   * Causal attention of one kv group of the LLM (kernels/wasm/gemm.as.ts llmAttention): qg [R, D] (time rows, the
   * group's `rep` heads within each), keys [n, D], and Vᵀ [D, n4] (n4 = n rounded up to 4) written by `fillVt`
   * straight into the module → out [R, D]; row r sees keys 0 … pos0 + ⌊r / rep⌋. On the calling thread: a decode
   * step's groups are small.
   */
  llmAttention(qg: Float32Array, R: number, keys: Float32Array | CpuTensor, n: number, D: number, values: WeightFill | { vt: CpuTensor; ld: number }, rep: number, pos0: number, out: Float32Array): Float32Array {
    const n4 = (n + 3) & ~3;
    if (qg.length < R * D || keys.length < n * D || out.length < R * D) throw new ShapeMismatchError(`cpu llm attention: qg ${qg.length}, keys ${keys.length}, out ${out.length} values for R=${R} n=${n} D=${D}`);
    if (!(rep >= 1 && pos0 >= 0 && pos0 + Math.ceil(R / rep) <= n)) throw new ShapeMismatchError(`cpu llm attention: rows at ${pos0} … ${pos0 + Math.ceil(R / rep) - 1} see past the ${n} keys`);
    const resident = typeof values !== 'function';
    if (resident && !(values.ld >= n4 && values.vt.length >= (D - 1) * values.ld + n4)) throw new ShapeMismatchError(`cpu llm attention: Vᵀ ${values.vt.name} (${values.vt.length} values, rows ${values.ld} apart) cannot hold [${D}, ${n4}]`);
    const e = this.e;
    // Resident keys and Vᵀ (a KV cache in this memory) are read in place; the others are copied in.
    const take = this.buffersFrom();
    const qo = take(4 * R * D);
    const ko = keys instanceof CpuTensor ? this.own(keys, n * D, 'llm attention') : take(4 * n * D);
    const vo = resident ? this.own(values.vt, 0, 'llm attention') : take(4 * D * n4);
    const oo = take(4 * R * D);
    const so = take(0);
    this.grow(so + e.llmAttentionScratchBytes(R, n4) - this.base, `llm attention [${R}, ${D}] over ${n} keys`);
    const f = new Float32Array(e.memory.buffer);
    f.set(qg.subarray(0, R * D), qo / 4);
    if (!(keys instanceof CpuTensor)) f.set(keys.subarray(0, n * D), ko / 4);
    if (!resident) values(f.subarray(vo / 4, vo / 4 + D * n4));
    e.llmAttention(qo, ko, vo, resident ? values.ld : n4, oo, R, n, n4, D, rep, pos0, 1 / Math.sqrt(D), so);
    out.set(f.subarray(oo / 4, oo / 4 + R * D));
    return out;
  }

  /**
   * DiT self-attention (kernels/wasm/gemm.as.ts ditAttention): qkv [B·T, 3C] (q | k | v, rotary applied, C =
   * heads·dh) → out [B·T, C], softmax(q·kᵀ / √dh) over the keys keymask [B·T] (> 0.5) and, with chunk > 0, the
   * static chunk mask leave visible (a row with none attends to every key); the (b, h) pairs split over the threads.
   */
  ditAttention(qkv: Float32Array | CpuTensor, B: number, T: number, heads: number, dh: number, keymask: Float32Array | CpuTensor, chunk: number, out: Float32Array | CpuTensor): Float32Array {
    const C = heads * dh;
    if (!(Number.isInteger(B) && Number.isInteger(T) && B >= 1 && T >= 1) || qkv.length < B * T * 3 * C) throw new ShapeMismatchError(`cpu attention: qkv has ${qkv.length} values, expected [${B}·${T}, ${3 * C}]`);
    if (keymask.length < B * T) throw new ShapeMismatchError(`cpu attention: key mask has ${keymask.length} values, expected ${B}·${T}`);
    if (out.length < B * T * C) throw new ShapeMismatchError(`cpu attention: out has ${out.length} values, expected [${B}·${T}, ${C}]`);
    // Resident qkv, key mask and out are used in place; the others are copied into buffers past the resident data.
    const take = this.buffersFrom();
    const qo = qkv instanceof CpuTensor ? this.own(qkv, B * T * 3 * C, 'attention') : take(4 * B * T * 3 * C);
    const mo = keymask instanceof CpuTensor ? this.own(keymask, B * T, 'attention') : take(4 * B * T);
    const oo = out instanceof CpuTensor ? this.own(out, B * T * C, 'attention') : take(4 * B * T * C);
    const so = take(0);
    this.grow(so - this.base, `attention [${B}·${T}, ${3 * C}]`);
    const f = new Float32Array(this.e.memory.buffer);
    if (!(qkv instanceof CpuTensor)) f.set(qkv.subarray(0, B * T * 3 * C), qo / 4);
    if (!(keymask instanceof CpuTensor)) f.set(keymask.subarray(0, B * T), mo / 4);
    this.attention({ q: qo, ldq: 3 * C, kv: qo + 4 * C, ldkv: 3 * C, o: oo, B, Tq: T, q0: 0, T, heads, dh, keymask: mo, chunk }, so);
    const o = new Float32Array(this.e.memory.buffer, oo, B * T * C);
    if (out instanceof CpuTensor) return o;
    out.set(o);
    return out;
  }

  /**
   * The DiT attention of the queries q0 … q0 + Tq − 1 of T frames, on resident tensors: q rows [B·Tq] of ldq floats
   * (the queries at their first C), kv rows [B·T] of ldkv floats (keys at column 0, values at C), keymask [B·T] →
   * out [B·Tq, C]. A query row gets the bits it gets in the whole-sequence call (the DiT's cached prefix rests on
   * this: src/models/cpu/dit-cache.ts).
   */
  ditAttentionRows(q: CpuTensor, ldq: number, kv: CpuTensor, ldkv: number, B: number, Tq: number, q0: number, T: number, heads: number, dh: number, keymask: CpuTensor, chunk: number, out: CpuTensor): void {
    const C = heads * dh;
    if (![B, Tq, T].every((n) => Number.isInteger(n) && n >= 1) || !Number.isInteger(q0) || q0 < 0 || q0 + Tq > T || ldq < C || ldkv < 2 * C) {
      throw new ShapeMismatchError(`cpu attention: queries ${q0} … ${q0 + Tq - 1} of ${T} frames (B ${B}), row strides ${ldq} / ${ldkv} for C ${C}`);
    }
    const qo = this.own(q, (B * Tq - 1) * ldq + C, 'attention');
    const kvo = this.own(kv, (B * T - 1) * ldkv + 2 * C, 'attention');
    this.attention({ q: qo, ldq, kv: kvo, ldkv, o: this.own(out, B * Tq * C, 'attention'), B, Tq, q0, T, heads, dh, keymask: this.own(keymask, B * T, 'attention'), chunk }, this.buffersFrom()(0));
  }

  /** Runs ditAttention over every (b, h) pair, split over the threads; byte offsets; scratch from `so` on. */
  private attention(a: { q: number; ldq: number; kv: number; ldkv: number; o: number; B: number; Tq: number; q0: number; T: number; heads: number; dh: number; keymask: number; chunk: number }, so: number): void {
    const { e } = this;
    const t = this.threads;
    const pairs = a.B * a.heads;
    const parts = t && pairs > 1 ? t.parts : 1;
    const stride = align16(e.ditAttentionScratchBytes(a.Tq, a.T, a.dh));
    this.grow(so + parts * stride - this.base, `attention [${a.B}·${a.Tq} of ${a.T}, ${a.heads}×${a.dh}]`);
    const scale = Math.fround(1 / Math.sqrt(a.dh));
    const run = (p0: number, p1: number) => e.ditAttention(a.q, a.ldq, a.kv, a.ldkv, a.o, a.Tq, a.q0, a.T, a.heads, a.dh, a.keymask, a.chunk, scale, p0, p1, so);
    if (parts > 1) {
      const words = [a.q, a.o, a.T, a.heads, a.dh, a.keymask, a.chunk, new Uint32Array(Float32Array.of(scale).buffer)[0]];
      t!.run({ op: 3, tasks: pairs, words, tail: [a.ldq, a.kv, a.ldkv, a.Tq, a.q0], scratch: so, stride }, (p) => run(p, p + 1));
    } else run(0, pairs);
  }

  /**
   * scales ≠ 0: W (at w) is q8 with these scales. x: the rows, copied to `from` (default: past the resident
   * weights), or the byte offset where they already lie (then `from` is where the call's own buffers start).
   */
  private run(x: Float32Array | number, M: number, w: number, bias: number, N: number, K: number, name: string, out?: Float32Array, from?: number, act = 0, scales = 0, residentY?: number, ldx = K): Float32Array {
    if (ldx !== K && (scales || typeof x !== 'number')) throw new ShapeMismatchError(`cpu linear ${name}: overlapping rows (ldx ${ldx}) need f32 W and x in place`);
    if (!Number.isInteger(M) || M < 0 || (typeof x !== 'number' && x.length < M * K)) throw new ShapeMismatchError(`cpu linear ${name}: x has ${typeof x === 'number' ? '?' : x.length} values, expected [${M}, ${K}]`);
    const No = act === ACT_CODE.swiglu ? N / 2 : N;
    if (out && out.length < M * No) throw new ShapeMismatchError(`cpu linear ${name}: out has ${out.length} values, expected [${M}, ${No}]`);
    // The call's own buffers, past the resident data (or from `from`): x's copy unless it lies in place, y unless
    // it goes to a resident tensor, then the q8 scratch.
    const take = this.buffersFrom(from);
    let xo = typeof x === 'number' ? x : take(4 * M * K);
    const yo = residentY ?? take(4 * M * N);
    // A q8 product of one row takes that row as int16 (quantizeRow16), made once here for every thread's columns.
    const xq = scales && M === 1 ? take(this.e.row16Bytes(K, Q8_GROUP)) : 0;
    const t = this.threads;
    const cols = t ? t.columnsPerTask(N) : N;
    const split = t !== null && M * N * K >= THREAD_MIN_MACS && N > cols;
    // q8: each thread dequantises blocks of W into its own f32 scratch, past y.
    const tmp = take(0);
    const stride = scales ? align16(this.e.q8ScratchBytes(M, K)) : 0;
    this.grow(tmp + stride * (split ? t!.parts : 1) - this.base, `${name} rows [${M}, ${K}] → [${M}, ${N}]`);
    if (typeof x !== 'number') new Float32Array(this.e.memory.buffer, xo, M * K).set(x.subarray(0, M * K));
    const e = this.e;
    if (xq) {
      e.quantizeRow16(xo, xq, K, Q8_GROUP);
      xo = xq;
    }
    // Output columns [n0, n1) on this thread.
    const gemm = (n0: number, n1: number) => {
      const b = bias ? bias + 4 * n0 : 0;
      if (scales) e.gemmQ8(xo, w + n0 * K, scales + (4 * n0 * K) / Q8_GROUP, b, yo + 4 * n0, M, n1 - n0, K, Q8_GROUP, N, act, tmp);
      else e.gemm(xo, w + 4 * n0 * K, b, yo + 4 * n0, M, n1 - n0, K, N, act, ldx);
    };
    if (split) {
      const words = [xo, w, bias, yo, M, N, K, act, scales, Q8_GROUP];
      t!.run({ op: scales ? 2 : 1, tasks: Math.ceil(N / cols), columns: cols, words, scratch: tmp, stride, ldx }, (i) => gemm(i * cols, Math.min(N, (i + 1) * cols)));
    } else gemm(0, N);
    if (No !== N) return this.gatherPairs(yo, M, N, split ? cols : N, out);
    const y = new Float32Array(this.e.memory.buffer, yo, M * N);
    if (residentY !== undefined) return y;
    if (out) {
      out.set(y);
      return out;
    }
    return y.slice();
  }

  /** A 'swiglu' call's [M, N/2] output: each task (columns [c0, c1), c0 a multiple of `chunk`) left its (c1 − c0)/2 results at c0. */
  private gatherPairs(yo: number, M: number, N: number, chunk: number, out?: Float32Array): Float32Array {
    const y = new Float32Array(this.e.memory.buffer, yo, M * N);
    const z = out ?? new Float32Array((M * N) / 2);
    for (let m = 0; m < M; m++) {
      for (let c0 = 0; c0 < N; c0 += chunk) {
        const h = (Math.min(N, c0 + chunk) - c0) / 2;
        z.set(y.subarray(m * N + c0, m * N + c0 + h), (m * N) / 2 + c0 / 2);
      }
    }
    return z;
  }
}
