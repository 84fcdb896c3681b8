/**
 * loader/index.ts must bundle for browsers: no node: builtins reachable from it (Node file access lives only in
 * loader/node.ts and loader/node-source.ts).
 */
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');

describe('browser safety', () => {
  it('bundles loader/index.ts for the browser without Node builtins', async () => {
    const r = await build({
      entryPoints: [join(root, 'loader/index.ts')], bundle: true, platform: 'browser', format: 'esm', write: false, metafile: true, logLevel: 'silent',
    });
    const inputs = Object.keys(r.metafile!.inputs);
    expect(inputs.some((p) => p.includes('loader/node'))).toBe(false);
    expect(inputs.filter((p) => p.startsWith('node:'))).toEqual([]);
    expect(r.outputFiles[0].text).not.toMatch(/from\s*["']node:/);
  });
});
