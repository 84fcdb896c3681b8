/**
 * WGSL sources by name (`shaders/<name>.wgsl`). Node fills the registry from disk (src/gpu/node-shaders.ts);
 * the browser bundle fills it from a build-time generated module. Kernels refer to shaders by name only.
 */
import { ShaderError } from './errors.js';

const sources = new Map<string, string>();

export function registerShaders(map: Record<string, string>): void {
  for (const [k, v] of Object.entries(map)) sources.set(k, v);
}

export function shaderSource(name: string): string {
  const s = sources.get(name);
  if (s === undefined) {
    throw new ShaderError(`shader "${name}" is not registered (known: ${[...sources.keys()].sort().join(', ') || 'none'})`);
  }
  return s;
}

export function registeredShaderNames(): string[] {
  return [...sources.keys()];
}
