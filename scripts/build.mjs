// Builds the browser bundle (dist/cosyvoice-webgpu.js, ESM, WGSL inlined) and the Node CLI/library bundles
// (dist/node/*.js, dependencies left external), then emits type declarations.
import { build } from 'esbuild';
import { virtualShaders } from './esbuild-shaders.mjs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const shaderDir = join(root, 'shaders');

const virtualShadersPlugin = virtualShaders(shaderDir);

const common = { bundle: true, format: 'esm', sourcemap: true, target: 'es2022', logLevel: 'warning' };

await build({
  ...common,
  entryPoints: [join(root, 'src/browser.ts')],
  outfile: join(root, 'dist/cosyvoice-webgpu.js'),
  platform: 'browser',
  plugins: [virtualShadersPlugin],
});

await build({
  ...common,
  entryPoints: { cli: join(root, 'src/cli/main.ts'), node: join(root, 'src/node.ts') },
  outdir: join(root, 'dist/node'),
  platform: 'node',
  packages: 'external',
  splitting: true,
});

if (!process.argv.includes('--no-types')) {
  execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
}
console.log('built dist/cosyvoice-webgpu.js, dist/node/{cli,node}.js');
