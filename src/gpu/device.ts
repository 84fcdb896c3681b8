/**
 * Getting a GPUDevice with the limits and features this runtime needs, in any environment that has a `GPU`
 * object (navigator.gpu in browsers and workers, the `webgpu` package in Node — see node-device.ts).
 */
import { AdapterLimitError, DeviceLostError, NoAdapterError } from './errors.js';

/** Optional features we use when present; none is required. */
export const OPTIONAL_FEATURES = ['shader-f16', 'subgroups', 'timestamp-query'] as const;
export type OptionalFeature = (typeof OPTIONAL_FEATURES)[number];

/**
 * Limits we need as a floor, and limits we raise to the adapter's maximum (big weight matrices want the largest
 * storage binding the adapter allows; the full LLM's f32 head alone is 6761×896×4 ≈ 24 MB).
 */
export const REQUIRED_LIMITS: Readonly<Record<string, number>> = {
  maxStorageBufferBindingSize: 128 * 1024 * 1024,
  maxBufferSize: 256 * 1024 * 1024,
  maxComputeWorkgroupStorageSize: 16384,
  maxComputeInvocationsPerWorkgroup: 256,
  maxComputeWorkgroupSizeX: 256,
  maxStorageBuffersPerShaderStage: 8,
};
const RAISE_TO_MAX = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
];

export interface DeviceOptions {
  powerPreference?: GPUPowerPreference;
  /** Override the floor (tests use this to provoke AdapterLimitError). */
  requiredLimits?: Record<string, number>;
  /** Features to leave off even when the adapter has them (e.g. test the f16-less path). */
  disableFeatures?: OptionalFeature[];
}

export interface AdapterDescription {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  features: string[];
  /** Smallest / largest subgroup the adapter may run (0 when it does not say). */
  subgroupMinSize: number;
  subgroupMaxSize: number;
}

export interface GpuDeviceHandle {
  device: GPUDevice;
  adapter: GPUAdapter;
  info: AdapterDescription;
  features: ReadonlySet<string>;
  /** Resolves when the device is lost; `error` is the DeviceLostError to reject pending work with. */
  lost: Promise<DeviceLostError>;
  isLost(): boolean;
}

export function describeAdapter(adapter: GPUAdapter): AdapterDescription {
  const info = (adapter as { info?: GPUAdapterInfo }).info;
  return {
    vendor: info?.vendor ?? '',
    architecture: info?.architecture ?? '',
    device: info?.device ?? '',
    description: info?.description ?? '',
    features: [...adapter.features].sort(),
    subgroupMinSize: (info as { subgroupMinSize?: number } | undefined)?.subgroupMinSize ?? 0,
    subgroupMaxSize: (info as { subgroupMaxSize?: number } | undefined)?.subgroupMaxSize ?? 0,
  };
}

/**
 * Which kind of implementation runs the adapter: Mesa's llvmpipe (lavapipe), Chromium's SwiftShader (both CPUs,
 * where barriers and per-workgroup overheads are expensive and kernels pick register-blocked forms), or a GPU.
 */
export type AdapterKind = 'llvmpipe' | 'swiftshader' | 'gpu';

export function adapterKind(d: AdapterDescription): AdapterKind {
  const s = `${d.vendor} ${d.architecture} ${d.device} ${d.description}`;
  if (/swiftshader/i.test(s)) return 'swiftshader';
  if (/llvmpipe|lavapipe/i.test(s)) return 'llvmpipe';
  return 'gpu';
}

export function adapterLabel(d: AdapterDescription): string {
  return [d.vendor, d.architecture, d.device, d.description].filter(Boolean).join(' / ') || 'unknown adapter';
}

export async function requestGpuDevice(gpu: GPU | undefined, opts: DeviceOptions = {}): Promise<GpuDeviceHandle> {
  if (!gpu) throw new NoAdapterError('WebGPU is not available here (no navigator.gpu); use a browser with WebGPU or Node with the `webgpu` package');
  const adapter = await gpu.requestAdapter({ powerPreference: opts.powerPreference ?? 'high-performance' });
  if (!adapter) {
    throw new NoAdapterError(
      'no WebGPU adapter found; on Linux install a Vulkan driver (Mesa lavapipe: apt-get install -t bookworm-backports mesa-vulkan-drivers)',
    );
  }
  const floor = { ...REQUIRED_LIMITS, ...(opts.requiredLimits ?? {}) };
  const limits = adapter.limits as unknown as Record<string, number>;
  for (const [name, needed] of Object.entries(floor)) {
    const available = limits[name];
    if (available === undefined || available < needed) throw new AdapterLimitError(name, needed, available ?? 0);
  }
  const requiredLimits: Record<string, number> = {};
  for (const name of RAISE_TO_MAX) if (limits[name] !== undefined) requiredLimits[name] = limits[name];
  const disabled = new Set(opts.disableFeatures ?? []);
  const requiredFeatures = OPTIONAL_FEATURES.filter((f) => adapter.features.has(f) && !disabled.has(f)) as GPUFeatureName[];
  const device = await adapter.requestDevice({ requiredFeatures, requiredLimits });
  let lostFlag = false;
  const lost = device.lost.then((info) => {
    lostFlag = true;
    return new DeviceLostError(info.reason ?? 'unknown', info.message ?? '');
  });
  return {
    device,
    adapter,
    info: describeAdapter(adapter),
    features: new Set(requiredFeatures),
    lost,
    isLost: () => lostFlag,
  };
}
