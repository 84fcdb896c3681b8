/**
 * Compute pipelines keyed by (shader, entry, sorted defines). Models call `prepare` at load so that all
 * pipelines compile asynchronously and in parallel; `get` during planning then only hits the cache (a miss still
 * works, synchronously, and is counted).
 */
import { ShaderError } from './errors.js';
import { shaderSource } from './shader-registry.js';
import { preprocessWgsl, variantName, type Defines } from './wgsl-preprocess.js';

export interface PipelineSpec {
  shader: string;
  entry: string;
  defines?: Defines;
}

const perDevice = new WeakMap<GPUDevice, PipelineCache>();

export class PipelineCache {
  /** One cache per device: every context (model, test) on a device shares its compiled pipelines. */
  static forDevice(device: GPUDevice): PipelineCache {
    let c = perDevice.get(device);
    if (!c) perDevice.set(device, (c = new PipelineCache(device)));
    return c;
  }

  private cache = new Map<string, GPUComputePipeline>();
  private modules = new Map<string, GPUShaderModule>();
  created = 0;

  constructor(private readonly device: GPUDevice) {}

  key(spec: PipelineSpec): string {
    return variantName(spec.shader, spec.entry, spec.defines ?? {});
  }

  /** The final WGSL text of a variant (tests and error messages print it). */
  source(spec: PipelineSpec): string {
    return preprocessWgsl(spec.shader, shaderSource(spec.shader), spec.defines ?? {}, shaderSource);
  }

  private module(spec: PipelineSpec): GPUShaderModule {
    // One module per (shader, defines): several entry points of one variant share it.
    const mkey = variantName(spec.shader, '', spec.defines ?? {});
    let m = this.modules.get(mkey);
    if (!m) {
      m = this.device.createShaderModule({ code: this.source(spec), label: mkey });
      this.modules.set(mkey, m);
    }
    return m;
  }

  get(spec: PipelineSpec): GPUComputePipeline {
    const k = this.key(spec);
    let p = this.cache.get(k);
    if (!p) {
      p = this.device.createComputePipeline({
        layout: 'auto',
        compute: { module: this.module(spec), entryPoint: spec.entry },
        label: k,
      });
      this.cache.set(k, p);
      this.created++;
    }
    return p;
  }

  async prepare(specs: PipelineSpec[]): Promise<void> {
    await Promise.all(
      specs.map(async (spec) => {
        const k = this.key(spec);
        if (this.cache.has(k)) return;
        try {
          const p = await this.device.createComputePipelineAsync({
            layout: 'auto',
            compute: { module: this.module(spec), entryPoint: spec.entry },
            label: k,
          });
          if (!this.cache.has(k)) {
            this.cache.set(k, p);
            this.created++;
          }
        } catch (e) {
          throw new ShaderError(`pipeline ${k} failed to compile: ${(e as Error).message}`);
        }
      }),
    );
  }

  get size(): number {
    return this.cache.size;
  }
}
