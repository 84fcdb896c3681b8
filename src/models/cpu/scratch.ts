/**
 * Scratch reuse for the CPU models: buffers that grow with the largest call seen and are reused by later calls, so
 * steady-state steps allocate nothing.
 */

/**
 * Named scratch buffers that only grow (to the next power of two), so steady-state steps reuse them. A buffer is
 * longer than asked: callers pass counts, never `.length`.
 */
export class ScratchPool {
  private readonly bufs = new Map<string, Float32Array>();

  get(name: string, n: number): Float32Array {
    const b = this.bufs.get(name);
    if (b && b.length >= n) return b;
    let size = 16;
    while (size < n) size *= 2;
    const nb = new Float32Array(size);
    this.bufs.set(name, nb);
    return nb;
  }
}

/** A Float32Array of at least n floats, reallocated only when `cur` is too small (scratch reused across calls). */
export function atLeast(cur: Float32Array<ArrayBuffer>, n: number): Float32Array<ArrayBuffer> {
  return cur.length >= n ? cur : new Float32Array(n);
}
