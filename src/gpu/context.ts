/**
 * GpuContext: the one object through which the runtime touches the device, so that every buffer, bind group,
 * write, submit and readback is counted, and so that device loss rejects pending readbacks with a clear error.
 */
import { BufferPool } from './buffer-pool.js';
import { zeroCounters, type Counters } from './counters.js';
import { adapterKind, type AdapterKind, type GpuDeviceHandle } from './device.js';
import type { DispatchRecord } from './dispatch.js';
import { AdapterLimitError, DeviceLostError, GpuError } from './errors.js';
import { PipelineCache, type PipelineEntry, type PipelineSpec } from './pipeline-cache.js';
import { GpuTensor, numel, type GpuDType } from './tensor.js';
import type { TunePoint, TuningTable } from './tuning.js';

/** A record made inside compileBatch, and the variant whose compile it waits for. */
interface PendingRecord {
  rec: { pipeline: GPUComputePipeline };
  entry: PipelineEntry;
}

export const STORAGE = 0x80 | 0x04 | 0x08; // STORAGE | COPY_SRC | COPY_DST, without relying on globals
export const UNIFORM = 0x40 | 0x08; // UNIFORM | COPY_DST
const MAP_READ_COPY_DST = 0x01 | 0x08;

export class GpuValidationError extends GpuError {}

type Bindable = GpuTensor | GPUBuffer | GPUBufferBinding;

export class GpuContext {
  readonly device: GPUDevice;
  readonly counters: Counters = zeroCounters();
  readonly pool: BufferPool;
  readonly pipelines: PipelineCache;
  private lostError: DeviceLostError | undefined;
  private readonly pendingRejects = new Set<(e: Error) => void>();
  private readonly validationErrors: string[] = [];
  private owned = new Set<GPUBuffer>();
  /** Measured kernel choices for this adapter (src/gpu/tuning.ts useTuning); wrappers consult it where the caller names no form. */
  tuning: TuningTable | null = null;
  /** While set, the wrappers' tunable decisions are appended here (the tuner's collection pass). */
  tunePoints: TunePoint[] | null = null;

  constructor(readonly handle: GpuDeviceHandle) {
    this.device = handle.device;
    this.pool = new BufferPool((size, usage, label) => this.createBuffer(size, usage, label));
    this.pipelines = PipelineCache.forDevice(this.device);
    handle.lost.then((err) => {
      this.lostError = err;
      for (const reject of this.pendingRejects) reject(err);
      this.pendingRejects.clear();
    });
    this.device.addEventListener?.('uncapturederror', (ev: Event) => {
      const e = (ev as GPUUncapturedErrorEvent).error;
      this.validationErrors.push(e?.message ?? String(e));
    });
  }

  get hasF16(): boolean {
    return this.handle.features.has('shader-f16');
  }
  get hasSubgroups(): boolean {
    return this.handle.features.has('subgroups');
  }
  /**
   * llvmpipe with subgroups of at least 8 lanes: the CPU kernels that share loads across a subgroup
   * (subgroupBroadcast) apply. There a storage load costs ~30 FMAs per component whether or not its address is
   * uniform, so one load feeding 8 lanes through broadcasts is the cheapest way to move activations into registers.
   */
  get hasWideSubgroups(): boolean {
    return this.hasSubgroups && this.adapterKind === 'llvmpipe' && this.handle.info.subgroupMinSize >= 8;
  }
  /** Throws AdapterLimitError naming `what` unless hasWideSubgroups: the guard of every forced `*_sg` entry. */
  requireWideSubgroups(what: string): void {
    if (!this.hasWideSubgroups) throw new AdapterLimitError(`llvmpipe subgroup size (${what})`, 8, this.handle.info.subgroupMinSize);
  }
  /** Subgroups that are always exactly 8 lanes (llvmpipe with 256-bit vectors): kernels indexing lanes 0..7. */
  get hasSubgroupsOf8(): boolean {
    const { subgroupMinSize: lo, subgroupMaxSize: hi } = this.handle.info;
    return this.hasSubgroups && lo === 8 && hi === 8;
  }
  /**
   * llvmpipe with subgroups of exactly 8 lanes: the `*_sg` entries whose workgroups are one or more 8-lane
   * subgroups and broadcast from lanes 0..7 (paged_attention_sg.wgsl, conv_pos.wgsl SG).
   */
  get hasWideSubgroupsOf8(): boolean {
    return this.hasWideSubgroups && this.hasSubgroupsOf8;
  }
  /** Throws AdapterLimitError naming `what` unless hasWideSubgroupsOf8. */
  requireWideSubgroupsOf8(what: string): void {
    if (!this.hasWideSubgroupsOf8) throw new AdapterLimitError(`llvmpipe subgroups of exactly 8 lanes (${what})`, 8, this.handle.info.subgroupMinSize);
  }
  get adapterKind(): AdapterKind {
    return adapterKind(this.handle.info);
  }
  /** lavapipe or SwiftShader: a CPU runs the shaders. */
  get isCpuAdapter(): boolean {
    return this.adapterKind !== 'gpu';
  }
  get hasTimestamps(): boolean {
    return this.handle.features.has('timestamp-query');
  }

  private checkAlive(): void {
    if (this.lostError) throw this.lostError;
  }

  /** Throws if the device reported validation errors (bad shader, bad binding) since the last check. */
  checkValidation(): void {
    if (this.validationErrors.length) {
      const msgs = this.validationErrors.splice(0);
      throw new GpuValidationError(`WebGPU validation failed: ${msgs.join(' | ')}`);
    }
  }

  createBuffer(size: number, usage = STORAGE, label = ''): GPUBuffer {
    this.checkAlive();
    this.counters.buffersCreated++;
    const buf = this.device.createBuffer({ size: Math.max(16, Math.ceil(size / 4) * 4), usage, label });
    this.owned.add(buf);
    return buf;
  }

  /** A zero-initialised storage tensor. */
  tensor(dtype: GpuDType, shape: readonly number[], label = ''): GpuTensor {
    const t = new GpuTensor(null as unknown as GPUBuffer, dtype, shape, 0, undefined, label);
    return new GpuTensor(this.createBuffer(t.byteLength, STORAGE, label), dtype, shape, 0, undefined, label);
  }

  /** Uploads host data into a new tensor. f16 data must be given as raw bits (Uint16Array). */
  upload(data: ArrayBufferView, dtype: GpuDType, shape: readonly number[], label = ''): GpuTensor {
    const t = this.tensor(dtype, shape, label);
    this.write(t.buffer, 0, data);
    return t;
  }

  uniform(data: ArrayBufferView, label = 'params'): GPUBuffer {
    const buf = this.createBuffer(Math.max(16, data.byteLength), UNIFORM, label);
    this.write(buf, 0, data);
    return buf;
  }

  write(buffer: GPUBuffer, offset: number, data: ArrayBufferView): void {
    this.checkAlive();
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const padded = bytes.byteLength % 4 === 0 ? bytes : (() => {
      const p = new Uint8Array(Math.ceil(bytes.byteLength / 4) * 4);
      p.set(bytes);
      return p;
    })();
    this.device.queue.writeBuffer(buffer, offset, padded as Uint8Array<ArrayBuffer>);
    this.counters.bytesWritten += padded.byteLength;
  }

  /** Records made inside compileBatch whose pipelines are still compiling. */
  private batch: PendingRecord[] | null = null;

  /**
   * Bind group over `resources` at bindings 0..n-1 of group 0 (in the order the shader declares them); a null
   * entry leaves that binding number out (for bindings compiled out by a variant).
   */
  private bindGroup(layout: GPUBindGroupLayout, resources: (Bindable | null)[], label = ''): GPUBindGroup {
    this.counters.bindGroupsCreated++;
    const entries: GPUBindGroupEntry[] = [];
    resources.forEach((r, binding) => {
      if (r === null) return;
      // A GPUBuffer has no `buffer` field; a GPUBufferBinding does.
      entries.push({ binding, resource: r instanceof GpuTensor ? r.binding() : 'buffer' in r ? r : { buffer: r } });
    });
    return this.device.createBindGroup({ layout, entries, label });
  }

  /**
   * Builds a dispatch record: pipeline from the cache (compiled now if new), a bind group over `resources`. Inside
   * compileBatch a new pipeline compiles in the background instead and the record gets it when the batch settles.
   */
  record(spec: PipelineSpec, resources: (Bindable | null)[], workgroups: readonly [number, number, number], tag = ''): DispatchRecord {
    const bindings = resources.flatMap((r, i) => (r === null ? [] : [i]));
    const before = this.pipelines.created;
    const entry = this.batch ? this.pipelines.startAsync(spec, bindings) : this.pipelines.get(spec, bindings);
    this.counters.pipelinesCreated += this.pipelines.created - before;
    const label = tag ? `${tag}/${entry.key}` : entry.key;
    const rec = { label, variant: entry.key, pipeline: entry.pipeline as GPUComputePipeline, bindGroup: this.bindGroup(entry.bindGroupLayout, resources, label), workgroups };
    if (!entry.pipeline) this.batch!.push({ rec, entry });
    return rec;
  }

  /**
   * The pipeline to encode `r` with: its own, or, for a copy of a record made inside compileBatch (e.g. a DynRecord
   * spread before the batch settled), the compiled pipeline of its variant; throws while that still compiles.
   */
  pipelineOf(r: DispatchRecord): GPUComputePipeline {
    if (r.pipeline) return r.pipeline;
    const p = r.variant ? this.pipelines.compiled(r.variant) : undefined;
    if (!p) throw new GpuError(`dispatch ${r.label}: its pipeline is still compiling (run after compileBatch settles)`);
    return (r.pipeline = p);
  }

  /**
   * Runs `build` (planning: records, plans, uniforms) with every new pipeline compiling in the background, all at
   * once, then waits for them and completes the records. Driver compilers work in parallel this way, where
   * record-by-record creation compiles one pipeline at a time on first use. No record made inside may run before
   * this settles (run() refuses one without a pipeline).
   */
  async compileBatch<T>(build: () => T | Promise<T>): Promise<T> {
    if (this.batch) return build(); // nested: the outer batch settles these too
    const batch: PendingRecord[] = [];
    this.batch = batch;
    const before = this.pipelines.created;
    let out: T;
    try {
      out = await build();
    } finally {
      this.batch = null;
    }
    await Promise.all(batch.map((b) => b.entry.pending));
    this.counters.pipelinesCreated += this.pipelines.created - before;
    for (const b of batch) b.rec.pipeline = b.entry.pipeline!;
    return out;
  }

  /** Encodes `records` into one compute pass (optionally followed by copies) and submits once. */
  run(records: readonly DispatchRecord[], after?: (enc: GPUCommandEncoder) => void): void {
    this.checkAlive();
    const enc = this.device.createCommandEncoder();
    if (records.length) {
      const pass = enc.beginComputePass();
      for (const r of records) {
        pass.setPipeline(this.pipelineOf(r));
        pass.setBindGroup(0, r.bindGroup);
        pass.dispatchWorkgroups(r.workgroups[0], r.workgroups[1], r.workgroups[2]);
      }
      pass.end();
      this.counters.passes++;
      this.counters.dispatches += records.length;
    }
    after?.(enc);
    this.device.queue.submit([enc.finish()]);
    this.counters.submits++;
  }

  /**
   * Maps the first `size` bytes of a MAP_READ buffer; rejects with DeviceLostError if the device goes away first
   * (Dawn's own rejection of a lost device's mapAsync is an untyped AbortError).
   */
  async mapForRead(buffer: GPUBuffer, size: number): Promise<void> {
    this.checkAlive();
    let rejectLost!: (e: Error) => void;
    const lost = new Promise<never>((_, reject) => (rejectLost = reject));
    this.pendingRejects.add(rejectLost);
    try {
      await Promise.race([buffer.mapAsync(1 /* GPUMapMode.READ */, 0, size), lost]);
    } catch (e) {
      if (this.lostError) throw this.lostError;
      throw e;
    } finally {
      this.pendingRejects.delete(rejectLost);
    }
  }

  /** Reads `size` bytes at `offset` of a buffer. Rejects with DeviceLostError if the device goes away. */
  async readBytes(buffer: GPUBuffer, offset = 0, size = buffer.size - offset): Promise<ArrayBuffer> {
    this.checkAlive();
    const staging = this.pool.acquire(size, MAP_READ_COPY_DST, 'readback');
    const enc = this.device.createCommandEncoder();
    enc.copyBufferToBuffer(buffer, offset, staging, 0, Math.ceil(size / 4) * 4);
    this.device.queue.submit([enc.finish()]);
    this.counters.submits++;
    this.counters.readbacks++;
    this.counters.bytesRead += size;
    await this.mapForRead(staging, Math.ceil(size / 4) * 4);
    const out = staging.getMappedRange(0, Math.ceil(size / 4) * 4).slice(0, size);
    staging.unmap();
    this.pool.release(staging);
    this.checkValidation();
    return out;
  }

  async read(t: GpuTensor): Promise<Float32Array | Int32Array | Uint32Array | Uint16Array> {
    const bytes = await this.readBytes(t.buffer, t.offset, t.byteLength);
    switch (t.dtype) {
      case 'f32':
        return new Float32Array(bytes, 0, t.numel);
      case 'i32':
        return new Int32Array(bytes, 0, t.numel);
      case 'f16':
        return new Uint16Array(bytes, 0, t.numel);
      default:
        return new Uint32Array(bytes);
    }
  }

  async readF32(t: GpuTensor): Promise<Float32Array> {
    if (t.dtype !== 'f32') throw new GpuError(`readF32: tensor ${t.label} is ${t.dtype}`);
    return (await this.read(t)) as Float32Array;
  }

  /** Resolves when all submitted work has finished (or rejects when the device is lost). */
  async finish(): Promise<void> {
    this.checkAlive();
    let rejectLost!: (e: Error) => void;
    const lost = new Promise<never>((_, reject) => (rejectLost = reject));
    this.pendingRejects.add(rejectLost);
    try {
      await Promise.race([this.device.queue.onSubmittedWorkDone(), lost]);
    } finally {
      this.pendingRejects.delete(rejectLost);
    }
    this.checkValidation();
  }

  /** Destroys every buffer this context created. The device stays usable for a new context. */
  dispose(): void {
    for (const b of this.owned) b.destroy();
    this.owned.clear();
    this.pool.dispose();
  }
}

export { numel };
