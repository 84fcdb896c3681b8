// esbuild plugin shared by the library and demo builds: `import shaders from 'virtual:shaders'` becomes every
// shaders/*.wgsl of the package as { name: source }, so browser bundles carry their WGSL without fetches.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export function virtualShaders(shaderDir) {
  return {
    name: 'virtual-shaders',
    setup(b) {
      b.onResolve({ filter: /^virtual:shaders$/ }, () => ({ path: 'shaders', namespace: 'virtual-shaders' }));
      b.onLoad({ filter: /.*/, namespace: 'virtual-shaders' }, () => {
        const map = {};
        const files = readdirSync(shaderDir).filter((f) => f.endsWith('.wgsl')).sort();
        for (const f of files) map[f.slice(0, -5)] = readFileSync(join(shaderDir, f), 'utf8');
        return { contents: `export default ${JSON.stringify(map)};`, loader: 'js', watchFiles: files.map((f) => join(shaderDir, f)) };
      });
    },
  };
}
