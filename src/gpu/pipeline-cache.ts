/**
 * Compute pipelines keyed by (shader, entry, sorted defines), one cache per device.
 *
 * Layouts are explicit: the bind group layout of a variant lists the bindings a record binds (its non-null
 * resources), typed from the WGSL declarations (`var<uniform>`, `var<storage, read>`, `var<storage, read_write>`).
 * That is the layout 'auto' would infer for the bindings an entry uses, but it exists before the pipeline does,
 * so a bind group can be made while its pipeline still compiles: `startAsync` begins a
 * createComputePipelineAsync that GpuContext.compileBatch awaits (many at once, on the driver's threads), and
 * `get` compiles synchronously (or takes the finished one).
 */
import { ShaderError } from './errors.js';
import { shaderSource } from './shader-registry.js';
import { preprocessWgsl, variantName, type Defines } from './wgsl-preprocess.js';

export interface PipelineSpec {
  shader: string;
  entry: string;
  defines?: Defines;
}

/** One variant: its layout (known at once) and its pipeline (once compiled). */
export interface PipelineEntry {
  readonly key: string;
  readonly bindGroupLayout: GPUBindGroupLayout;
  readonly layout: GPUPipelineLayout;
  /** The bindings the layout holds, in order. */
  readonly bindings: readonly number[];
  pipeline?: GPUComputePipeline;
  pending?: Promise<GPUComputePipeline>;
}

const BUFFER_TYPE: Record<string, GPUBufferBindingType> = {
  uniform: 'uniform',
  'storage,read': 'read-only-storage',
  storage: 'read-only-storage',
  'storage,read_write': 'storage',
};

/** binding → buffer type of `@group(0) @binding(N) var<…>` declarations in WGSL text. */
export function declaredBindings(wgsl: string): Map<number, GPUBufferBindingType> {
  const out = new Map<number, GPUBufferBindingType>();
  for (const m of wgsl.matchAll(/@group\(0\)\s*@binding\((\d+)\)\s*var<([a-z_,\s]+)>/g)) {
    const t = BUFFER_TYPE[m[2].replace(/\s+/g, '')];
    if (t) out.set(Number(m[1]), t);
  }
  return out;
}

const perDevice = new WeakMap<GPUDevice, PipelineCache>();

export class PipelineCache {
  /** One cache per device: every context (model, test) on a device shares its compiled pipelines. */
  static forDevice(device: GPUDevice): PipelineCache {
    let c = perDevice.get(device);
    if (!c) perDevice.set(device, (c = new PipelineCache(device)));
    return c;
  }

  private entries = new Map<string, PipelineEntry>();
  private modules = new Map<string, { module: GPUShaderModule; bindings: Map<number, GPUBufferBindingType> }>();
  /** Pipelines compiled so far (synchronously or not). */
  created = 0;

  constructor(private readonly device: GPUDevice) {}

  key(spec: PipelineSpec): string {
    return variantName(spec.shader, spec.entry, spec.defines ?? {});
  }

  /** The final WGSL text of a variant (tests and error messages print it). */
  source(spec: PipelineSpec): string {
    return preprocessWgsl(spec.shader, shaderSource(spec.shader), spec.defines ?? {}, shaderSource);
  }

  private module(spec: PipelineSpec) {
    // One module per (shader, defines): several entry points of one variant share it.
    const mkey = variantName(spec.shader, '', spec.defines ?? {});
    let m = this.modules.get(mkey);
    if (!m) {
      const code = this.source(spec);
      m = { module: this.device.createShaderModule({ code, label: mkey }), bindings: declaredBindings(code) };
      this.modules.set(mkey, m);
    }
    return m;
  }

  /** The variant's entry, its layout made from `bindings` (the binding numbers a record binds) on first use. */
  entry(spec: PipelineSpec, bindings: readonly number[]): PipelineEntry {
    const key = this.key(spec);
    let e = this.entries.get(key);
    if (e) {
      if (e.bindings.length !== bindings.length || e.bindings.some((b, i) => b !== bindings[i])) {
        throw new ShaderError(`pipeline ${key}: bound at bindings [${bindings}], its layout holds [${e.bindings}]`);
      }
      return e;
    }
    const declared = this.module(spec).bindings;
    const layoutEntries: GPUBindGroupLayoutEntry[] = bindings.map((binding) => {
      const type = declared.get(binding);
      if (!type) throw new ShaderError(`pipeline ${key}: binding ${binding} is bound but not declared in group 0 of ${spec.shader}.wgsl`);
      return { binding, visibility: 0x4 /* GPUShaderStage.COMPUTE, without relying on globals */, buffer: { type } };
    });
    const bindGroupLayout = this.device.createBindGroupLayout({ entries: layoutEntries, label: key });
    const layout = this.device.createPipelineLayout({ bindGroupLayouts: [bindGroupLayout], label: key });
    e = { key, bindGroupLayout, layout, bindings: [...bindings] };
    this.entries.set(key, e);
    return e;
  }

  private descriptor(spec: PipelineSpec, e: PipelineEntry): GPUComputePipelineDescriptor {
    return { layout: e.layout, compute: { module: this.module(spec).module, entryPoint: spec.entry }, label: e.key };
  }

  /** The compiled pipeline, compiling it now if no compile has finished (a pending async one is then unused). */
  get(spec: PipelineSpec, bindings: readonly number[]): PipelineEntry & { pipeline: GPUComputePipeline } {
    const e = this.entry(spec, bindings);
    if (!e.pipeline) {
      e.pipeline = this.device.createComputePipeline(this.descriptor(spec, e));
      this.created++;
    }
    return e as PipelineEntry & { pipeline: GPUComputePipeline };
  }

  /** Starts compiling the variant in the background (once); `pending` settles with the pipeline. */
  startAsync(spec: PipelineSpec, bindings: readonly number[]): PipelineEntry {
    const e = this.entry(spec, bindings);
    if (!e.pipeline && !e.pending) {
      e.pending = this.device.createComputePipelineAsync(this.descriptor(spec, e)).then(
        (p) => {
          if (!e.pipeline) {
            e.pipeline = p;
            this.created++;
          }
          return e.pipeline;
        },
        (err: Error) => {
          throw new ShaderError(`pipeline ${e.key} failed to compile: ${err.message}`);
        },
      );
    }
    return e;
  }

  /** The compiled pipeline of the variant `key`, if its compile has finished. */
  compiled(key: string): GPUComputePipeline | undefined {
    return this.entries.get(key)?.pipeline;
  }

  get size(): number {
    return [...this.entries.values()].filter((e) => e.pipeline).length;
  }
}
