/** Node only: read every shaders/*.wgsl of the package into the shader registry. */
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { registerShaders } from './shader-registry.js';

function findShaderDir(): string {
  // Works from src/gpu (tsx, vitest) and from dist/node (bundled CLI): walk up to the folder holding shaders/.
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'shaders');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new Error('cannot find the shaders/ folder of cosyvoice-webgpu');
}

let loaded = false;
export function loadShadersFromDisk(dir = findShaderDir()): void {
  if (loaded) return;
  const map: Record<string, string> = {};
  for (const f of readdirSync(dir)) if (f.endsWith('.wgsl')) map[f.slice(0, -5)] = readFileSync(join(dir, f), 'utf8');
  registerShaders(map);
  loaded = true;
}
