/**
 * Buffer pool: buffers are bucketed by (usage, size rounded up to a power of two ≥ 256 B) and reused after
 * `release`. Models allocate their scratch once at load; the pool matters for transient work (tests, one-off
 * kernels) and makes `dispose()` free everything a runtime owns.
 */
export class BufferPool {
  private free = new Map<string, GPUBuffer[]>();
  private live = new Set<GPUBuffer>();

  constructor(private readonly create: (size: number, usage: number, label: string) => GPUBuffer) {}

  static bucketSize(size: number): number {
    let s = 256;
    while (s < size) s *= 2;
    return s;
  }

  acquire(size: number, usage: number, label = 'pooled'): GPUBuffer {
    const bucket = BufferPool.bucketSize(size);
    const key = `${usage}:${bucket}`;
    const list = this.free.get(key);
    const buf = list && list.length ? list.pop()! : this.create(bucket, usage, label);
    this.live.add(buf);
    return buf;
  }

  release(buf: GPUBuffer): void {
    if (!this.live.delete(buf)) return;
    const key = `${buf.usage}:${buf.size}`;
    let list = this.free.get(key);
    if (!list) this.free.set(key, (list = []));
    list.push(buf);
  }

  get liveCount(): number {
    return this.live.size;
  }

  get freeCount(): number {
    let n = 0;
    for (const l of this.free.values()) n += l.length;
    return n;
  }

  dispose(): void {
    for (const b of this.live) b.destroy();
    for (const l of this.free.values()) for (const b of l) b.destroy();
    this.live.clear();
    this.free.clear();
  }
}
