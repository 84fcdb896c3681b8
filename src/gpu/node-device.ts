/** Node only: WebGPU through the `webgpu` package (Dawn). */
import { requestGpuDevice, type DeviceOptions, type GpuDeviceHandle } from './device.js';
import { NoAdapterError } from './errors.js';
import { loadShadersFromDisk } from './node-shaders.js';

let gpuSingleton: GPU | undefined;

export async function nodeGpu(): Promise<GPU> {
  if (gpuSingleton) return gpuSingleton;
  let mod: { create(o: string[]): GPU; globals: object };
  try {
    mod = (await import('webgpu')) as unknown as typeof mod;
  } catch (e) {
    throw new NoAdapterError(`the \`webgpu\` package (Dawn for Node) could not be loaded: ${(e as Error).message}`);
  }
  // GPUBufferUsage and friends must exist as globals before any WebGPU call.
  Object.assign(globalThis, mod.globals);
  // Dawn rounds timestamp-query results down to 65.536 µs steps (a browser's timing-attack mitigation), which
  // hides every kernel shorter than that; Node has no such attacker, so profiling gets the full resolution.
  gpuSingleton = mod.create(['disable-dawn-features=timestamp_quantization']);
  return gpuSingleton;
}

export async function requestNodeDevice(opts: DeviceOptions = {}): Promise<GpuDeviceHandle> {
  loadShadersFromDisk();
  return requestGpuDevice(await nodeGpu(), opts);
}
