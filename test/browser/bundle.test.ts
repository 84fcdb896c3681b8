/**
 * The browser bundles hold nothing Node-only: the library entry (src/browser.ts, as scripts/build.mjs bundles it)
 * and the Worker entry are bundled for the browser with esbuild here, and their module graphs must contain no
 * node: built-in, no `webgpu` package and no ONNX Runtime; the inlined WGSL must cover every shaders/*.wgsl.
 */
import { build, type Plugin } from 'esbuild';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './harness.js';

const shaderDir = join(ROOT, 'shaders');
const virtualShaders: Plugin = {
  name: 'virtual-shaders',
  setup(b) {
    b.onResolve({ filter: /^virtual:shaders$/ }, () => ({ path: 'shaders', namespace: 'virtual-shaders' }));
    b.onLoad({ filter: /.*/, namespace: 'virtual-shaders' }, () => {
      const map: Record<string, string> = {};
      for (const f of readdirSync(shaderDir)) if (f.endsWith('.wgsl')) map[f.slice(0, -5)] = readFileSync(join(shaderDir, f), 'utf8');
      return { contents: `export default ${JSON.stringify(map)};`, loader: 'js' };
    });
  },
};

/** Records every `node:` import (with its importer) instead of failing on the first, so the test lists them all. */
function nodeImports(found: string[]): Plugin {
  return {
    name: 'node-imports',
    setup(b) {
      b.onResolve({ filter: /^node:/ }, (a) => {
        found.push(`${a.path} imported by ${a.importer.replace(ROOT + '/', '')}`);
        return { path: a.path, external: true };
      });
    },
  };
}

async function bundle(entry: string, found: string[]) {
  return build({
    entryPoints: [join(ROOT, entry)],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    write: false,
    metafile: true,
    logLevel: 'silent',
    plugins: [virtualShaders, nodeImports(found)],
  });
}

describe('browser bundles', () => {
  for (const entry of ['src/browser.ts', 'src/browser/worker.ts', 'src/web/app.ts', 'src/web/pcm-player.worklet.ts']) {
    it(`${entry} bundles for the browser without Node-only modules`, async () => {
      const found: string[] = [];
      const r = await bundle(entry, found);
      // Each entry names a Node-only import reachable from browser code: move that code to a Node-only file.
      expect([...new Set(found)].sort()).toEqual([]);
      const inputs = Object.keys(r.metafile.inputs);
      const bad = inputs.filter((p) => /^node:|node_modules\/(webgpu|onnxruntime-node)\//.test(p));
      expect(bad).toEqual([]);
      const js = r.outputFiles[0].text;
      expect(js).not.toMatch(/\bfrom\s*["']node:|require\(["']node:/);
      if (entry === 'src/browser/worker.ts' || entry === 'src/browser.ts') {
        for (const f of readdirSync(shaderDir).filter((n) => n.endsWith('.wgsl'))) expect(js).toContain(JSON.stringify(f.slice(0, -5)));
      }
    });
  }
});
