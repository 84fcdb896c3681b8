/**
 * Worker threads for the CPU engine's GEMM (kernels/cpu-linear.ts): each worker instantiates gemm-mt.wasm over the
 * same shared WebAssembly memory and computes a slice of a call's output columns, so a call is split with no copy.
 *
 * Handshake through a control block of 16 u32 words in that memory (per pool):
 *   [0] generation: the caller bumps it and wakes the workers (Atomics.notify) to start a job
 *   [1] workers still running the current job; the last one to finish wakes the caller
 *   [2] op: 1 = gemm (f32 W), 2 = gemmQ8 (int8 W), 3 = DiT attention, 0 = exit
 *   [3..11] x, w, bias, y (byte offsets), M, N, K, parts, act (the epilogue: 0 none, 1 GELU tanh, 2 SwiGLU)
 *   [12..15] q8 only: scales (byte offset), group, f32 scratch of part 0 and the bytes from one part's to the next
 *   op 3: [3] qkv, [4] o, [5] B, [6] T, [7] heads, [8] dh, [9] keymask, [10] parts, [11] chunk, [12] scale (f32
 *         bits), [13] scratch of part 0, [14] the bytes from one part's to the next; part i takes the (b, h) pairs
 *         [i·per, (i+1)·per), per = ⌈B·heads / parts⌉
 * Worker i (1 … parts−1) computes columns [i·chunk, min(N, (i+1)·chunk)), chunk a multiple of 4; the caller
 * computes part 0 itself and then waits. Every output is computed by one thread with the single-thread code, so
 * the result does not depend on the thread count.
 *
 * Node: worker_threads (through process.getBuiltinModule, so that browser bundles carry no Node import); browsers:
 * a Blob-URL module worker, only where SharedArrayBuffer exists (a cross-origin-isolated page) and this thread
 * may block in Atomics.wait (a Worker, not a page's main thread).
 */

/**
 * Polls of the control word before a thread sleeps in Atomics.wait: ~22 µs here (2^15 polls took 175 µs and
 * decoded no faster: 32.4–33.6 against 32.6 ms a q8 token; none: 35.2–35.7).
 */
const SPINS = 1 << 12;

/** The worker's whole program, in both hosts (Node's workers reach worker_threads as the caller does). */
const WORKER_SOURCE = `
const SPINS = ${SPINS};
const wt = typeof process === 'object' && process.getBuiltinModule ? process.getBuiltinModule('node:worker_threads') : null;
const post = (m) => (wt ? wt.parentPort.postMessage(m) : self.postMessage(m));
async function run({ module, memory, ctl, index }) {
  const inst = await WebAssembly.instantiate(module, { env: { memory, abort() { throw new Error('gemm abort'); } } });
  const { gemm, gemmQ8, ditAttention } = inst.exports;
  const c = new Uint32Array(memory.buffer, ctl, 16), s = new Int32Array(memory.buffer, ctl, 2), f = new Float32Array(memory.buffer, ctl, 16);
  // The generation is read before 'ready': the caller may dispatch as soon as it hears it, and a generation
  // read after that dispatch would make this worker sleep through the job (and the caller wait for it forever).
  let seen = Atomics.load(s, 0);
  post('ready');
  for (;;) {
    // Spin a little before sleeping: a decode step sends ~100 jobs milliseconds apart or less, and a sleeping
    // thread's wake-up costs tens of µs (a futex, and on a VM an idle virtual CPU to wake).
    for (let i = 0; i < SPINS && Atomics.load(s, 0) === seen; i++);
    Atomics.wait(s, 0, seen);
    seen = Atomics.load(s, 0);
    if (c[2] === 0) return;
    if (c[2] === 3) {
      const per = Math.ceil((c[5] * c[7]) / c[10]), p0 = index * per, p1 = Math.min(c[5] * c[7], p0 + per);
      if (p1 > p0) ditAttention(c[3], c[4], c[6], c[7], c[8], c[9], c[11], f[12], p0, p1, c[13] + index * c[14]);
      if (Atomics.sub(s, 1, 1) === 1) Atomics.notify(s, 1);
      continue;
    }
    const M = c[7], N = c[8], K = c[9], chunk = Math.ceil(N / c[10] / 4) * 4;
    const n0 = index * chunk, n1 = Math.min(N, n0 + chunk);
    const bias = c[5] ? c[5] + n0 * 4 : 0;
    if (n1 > n0 && c[2] === 2) gemmQ8(c[3], c[4] + n0 * K, c[12] + (n0 * K / c[13]) * 4, bias, c[6] + n0 * 4, M, n1 - n0, K, c[13], N, c[11], c[14] + index * c[15]);
    else if (n1 > n0) gemm(c[3], c[4] + n0 * K * 4, bias, c[6] + n0 * 4, M, n1 - n0, K, N, c[11]);
    if (Atomics.sub(s, 1, 1) === 1) Atomics.notify(s, 1);
  }
}
if (wt) run(wt.workerData); else self.onmessage = (e) => run(e.data);
`;

interface WorkerLike {
  terminate(): unknown;
}

interface NodeWorkerThreads {
  Worker: new (src: string, o: { eval: true; workerData: unknown }) => WorkerLike & { once(ev: string, fn: (v: unknown) => void): void; unref(): void };
}

/** Why this host cannot run GEMM threads, or null when it can. */
export function threadsUnavailable(): string | null {
  if (typeof SharedArrayBuffer === 'undefined') return 'no SharedArrayBuffer (a page must be cross-origin isolated)';
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
  } catch {
    return 'this thread may not block in Atomics.wait (a page’s main thread)';
  }
  if (!nodeWorkerThreads() && typeof Worker === 'undefined') return 'no Worker';
  return null;
}

function nodeWorkerThreads(): NodeWorkerThreads | undefined {
  const p = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  return p?.getBuiltinModule?.('node:worker_threads') as NodeWorkerThreads | undefined;
}

/** Starts one worker and resolves once its module is instantiated. */
function spawn(data: { module: WebAssembly.Module; memory: WebAssembly.Memory; ctl: number; index: number }): Promise<WorkerLike> {
  const wt = nodeWorkerThreads();
  if (wt) {
    const w = new wt.Worker(WORKER_SOURCE, { eval: true, workerData: data });
    w.unref(); // idle workers must not keep a Node process alive
    return new Promise((resolve, reject) => {
      w.once('message', () => resolve(w));
      w.once('error', (e) => reject(e as Error));
    });
  }
  const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: 'text/javascript' }));
  const w = new Worker(url);
  return new Promise((resolve, reject) => {
    w.onmessage = () => {
      URL.revokeObjectURL(url);
      resolve(w);
    };
    w.onerror = (e) => reject(new Error(`gemm worker failed to start: ${e.message}`));
    w.postMessage(data);
  });
}

/** The int8 arguments of a job: scales' byte offset, group size, part 0's f32 scratch and the stride to part i's. */
export interface Q8Job {
  scales: number;
  group: number;
  tmp: number;
  stride: number;
}

/** A DiT attention job: byte offsets of qkv, o, the key mask and part 0's scratch (stride bytes apart per part). */
export interface AttentionJob {
  qkv: number;
  o: number;
  B: number;
  T: number;
  heads: number;
  dh: number;
  keymask: number;
  chunk: number;
  scale: number;
  scratch: number;
  stride: number;
}

export class GemmThreadError extends Error {
  override name = 'GemmThreadError';
}

/** How long the caller waits for the workers of one GEMM before it gives up (a call takes milliseconds). */
const WAIT_MS = 60_000;

export class GemmThreads {
  private constructor(
    private readonly memory: WebAssembly.Memory,
    private readonly ctl: number,
    private readonly workers: WorkerLike[],
  ) {}

  /** `threads` − 1 workers over `memory`, sharing the control block at byte offset `ctl` (64 bytes, zeroed). */
  static async start(module: WebAssembly.Module, memory: WebAssembly.Memory, ctl: number, threads: number): Promise<GemmThreads> {
    const workers = await Promise.all(Array.from({ length: threads - 1 }, (_, i) => spawn({ module, memory, ctl, index: i + 1 })));
    return new GemmThreads(memory, ctl, workers);
  }

  get parts(): number {
    return this.workers.length + 1;
  }

  /** Columns a part computes: a multiple of 4, so every part but the last keeps the kernel's 4-column blocks. */
  chunk(N: number): number {
    return Math.ceil(N / this.parts / 4) * 4;
  }

  /**
   * Starts the workers on their slices of y[M, N] = x·Wᵀ (+ bias); the caller then computes part 0 and calls
   * join(). `q8`: W is int8 with scales (kernels/wasm/gemm.as.ts gemmQ8); part i dequantises into tmp + i·stride.
   */
  dispatch(x: number, w: number, bias: number, y: number, M: number, N: number, K: number, act: number, q8?: Q8Job): void {
    const c = new Uint32Array(this.memory.buffer, this.ctl, 16);
    c.set([q8 ? 2 : 1, x, w, bias, y, M, N, K, this.parts, act], 2);
    if (q8) c.set([q8.scales, q8.group, q8.tmp, q8.stride], 12);
    this.wake();
  }

  /** Pairs [0, pairs) split as the workers split them: part i's range. */
  pairRange(pairs: number, part: number): [number, number] {
    const per = Math.ceil(pairs / this.parts);
    return [Math.min(pairs, part * per), Math.min(pairs, (part + 1) * per)];
  }

  /** Starts the workers on their (b, h) pairs of a DiT attention (kernels/wasm/gemm.as.ts ditAttention); then part 0 and join(). */
  dispatchAttention(a: AttentionJob): void {
    const c = new Uint32Array(this.memory.buffer, this.ctl, 16);
    c.set([3, a.qkv, a.o, a.B, a.T, a.heads, a.dh, a.keymask, this.parts, a.chunk], 2);
    new Float32Array(this.memory.buffer, this.ctl, 16)[12] = a.scale;
    c.set([a.scratch, a.stride], 13);
    this.wake();
  }

  private wake(): void {
    const s = new Int32Array(this.memory.buffer, this.ctl, 2);
    Atomics.store(s, 1, this.workers.length);
    Atomics.add(s, 0, 1);
    Atomics.notify(s, 0);
  }

  /** Blocks until every worker finished the current job. */
  join(): void {
    const s = new Int32Array(this.memory.buffer, this.ctl, 2);
    const t0 = Date.now();
    for (let i = 0; i < SPINS && Atomics.load(s, 1) !== 0; i++);
    for (let left = Atomics.load(s, 1); left !== 0; left = Atomics.load(s, 1)) {
      if (Atomics.wait(s, 1, left, WAIT_MS) === 'timed-out' && Date.now() - t0 >= WAIT_MS) {
        throw new GemmThreadError(`cpu kernels: ${left} GEMM worker(s) did not finish within ${WAIT_MS} ms`);
      }
    }
  }

  /** Ends the workers (they exit at the next wake-up; terminate() also stops a stuck one). */
  stop(): void {
    const c = new Uint32Array(this.memory.buffer, this.ctl, 16), s = new Int32Array(this.memory.buffer, this.ctl, 2);
    c[2] = 0;
    Atomics.add(s, 0, 1);
    Atomics.notify(s, 0);
    for (const w of this.workers) w.terminate();
  }
}
