/**
 * Worker threads for the CPU engine's kernels (kernels/cpu-linear.ts): each worker instantiates gemm-mt.wasm over
 * the same shared WebAssembly memory, so a call is split with no copy. A job is a list of tasks (blocks of a GEMM's
 * output columns, or attention's (batch item, head) pairs) that every thread, the caller included, takes one at a
 * time from a shared counter until none is left: a thread that runs slower (a busy core, an efficiency core, a
 * descheduled virtual CPU) simply takes fewer.
 *
 * Handshake through a control block of 32 u32 words in that memory (per pool):
 *   [0] generation: the caller bumps it and wakes the workers (Atomics.notify) to start a job
 *   [1] workers still running the current job; the last one to finish wakes the caller
 *   [2] op: 1 = gemm (f32 W), 2 = gemmQ8 (int8 W), 3 = DiT attention, 0 = exit
 *   [3] the next task (Atomics.add), [4] tasks, [5] columns per task (ops 1, 2)
 *   ops 1, 2: [6..13] x, w, bias, y (byte offsets), M, N, K, act (epilogue: 0 none, 1 GELU tanh, 2 SwiGLU);
 *             [14, 15] q8: scales (byte offset), group
 *   op 3:     [6..13] q, o, T, heads, dh, keymask, chunk, scale (f32 bits); [19..23] ldq, kv, ldkv, Tq, q0;
 *             task p = the pair b·heads + h
 *   [16, 17] the caller's scratch (byte offset) and the bytes from one thread's scratch to the next
 *   [18] op 1: x's row stride in floats (K for a plain matrix; a convolution's overlapping rows: its Cin)
 * Every output is computed by one thread with the single-thread code, so the result does not depend on the thread
 * count or on which thread took which task.
 *
 * Node: worker_threads (through process.getBuiltinModule, so that browser bundles carry no Node import); browsers:
 * a Blob-URL module worker, only where SharedArrayBuffer exists (a cross-origin-isolated page) and this thread
 * may block in Atomics.wait (a Worker, not a page's main thread).
 */

/** Bytes of the control block. */
export const CTL_BYTES = 128;

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
  const c = new Uint32Array(memory.buffer, ctl, 32), s = new Int32Array(memory.buffer, ctl, 32), f = new Float32Array(memory.buffer, ctl, 32);
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
    const op = c[2];
    if (op === 0) return;
    const scratch = c[16] + index * c[17];
    for (let i = Atomics.add(s, 3, 1); i < c[4]; i = Atomics.add(s, 3, 1)) {
      if (op === 3) {
        ditAttention(c[6], c[19], c[20], c[21], c[7], c[22], c[23], c[8], c[9], c[10], c[11], c[12], f[13], i, i + 1, scratch);
        continue;
      }
      const N = c[11], K = c[12], n0 = i * c[5], n1 = Math.min(N, n0 + c[5]);
      const bias = c[8] ? c[8] + n0 * 4 : 0;
      if (op === 2) gemmQ8(c[6], c[7] + n0 * K, c[14] + (n0 * K / c[15]) * 4, bias, c[9] + n0 * 4, c[10], n1 - n0, K, c[15], N, c[13], scratch);
      else gemm(c[6], c[7] + n0 * K * 4, bias, c[9] + n0 * 4, c[10], n1 - n0, K, N, c[13], c[18]);
    }
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

/** A job for the threads: its op, its tasks and the op's words [6..15] and scratch (control block above). */
export interface ThreadJob {
  op: 1 | 2 | 3;
  tasks: number;
  /** Output columns per task (ops 1, 2). */
  columns?: number;
  /** Words 6… of the control block. */
  words: number[];
  /** Thread i's scratch is scratch + i·stride (the caller's: i = 0). */
  scratch?: number;
  stride?: number;
  /** Op 1: x's row stride in floats (default: K, word 12). */
  ldx?: number;
  /** Words 19… (op 3's strides and query range). */
  tail?: number[];
}

export class GemmThreadError extends Error {
  override name = 'GemmThreadError';
}

/** Tasks a GEMM is cut into per thread: enough that an uneven thread evens out, few enough that each is µs long. */
const TASKS_PER_THREAD = 4;

/** How long the caller waits for the workers of one GEMM before it gives up (a call takes milliseconds). */
const WAIT_MS = 60_000;

export class GemmThreads {
  private constructor(
    private readonly memory: WebAssembly.Memory,
    private readonly ctl: number,
    private readonly workers: WorkerLike[],
  ) {}

  /** `threads` − 1 workers over `memory`, sharing the control block at byte offset `ctl` (CTL_BYTES, zeroed). */
  static async start(module: WebAssembly.Module, memory: WebAssembly.Memory, ctl: number, threads: number): Promise<GemmThreads> {
    const workers = await Promise.all(Array.from({ length: threads - 1 }, (_, i) => spawn({ module, memory, ctl, index: i + 1 })));
    return new GemmThreads(memory, ctl, workers);
  }

  get parts(): number {
    return this.workers.length + 1;
  }

  /** Output columns per GEMM task: a multiple of 4 (the kernel's column blocks), ~4 tasks a thread. */
  columnsPerTask(N: number): number {
    return Math.ceil(N / (this.parts * TASKS_PER_THREAD) / 4) * 4;
  }

  /**
   * Runs `job`: wakes the workers, takes tasks on this thread too (`task(i)` computes task i here, with scratch
   * index 0) until none is left, then waits for the workers' last tasks.
   */
  run(job: ThreadJob, task: (i: number) => void): void {
    const c = new Uint32Array(this.memory.buffer, this.ctl, 32), s = new Int32Array(this.memory.buffer, this.ctl, 32);
    c.set([job.op, 0, job.tasks, job.columns ?? 0], 2);
    c.set(job.words, 6);
    c.set([job.scratch ?? 0, job.stride ?? 0, job.ldx ?? job.words[6]], 16);
    if (job.tail) c.set(job.tail, 19);
    Atomics.store(s, 1, this.workers.length);
    Atomics.add(s, 0, 1);
    Atomics.notify(s, 0);
    for (let i = Atomics.add(s, 3, 1); i < job.tasks; i = Atomics.add(s, 3, 1)) task(i);
    this.join();
  }

  /** Blocks until every worker finished the current job. */
  private join(): void {
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
    const c = new Uint32Array(this.memory.buffer, this.ctl, 32), s = new Int32Array(this.memory.buffer, this.ctl, 2);
    c[2] = 0;
    Atomics.add(s, 0, 1);
    Atomics.notify(s, 0);
    for (const w of this.workers) w.terminate();
  }
}
