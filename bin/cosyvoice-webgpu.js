#!/usr/bin/env node
// Runs the bundled CLI (npm run build); falls back to the TypeScript sources through tsx in a checkout.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bundled = join(root, 'dist', 'node', 'cli.js');
let main;
if (existsSync(bundled)) {
  ({ main } = await import(pathToFileURL(bundled).href));
} else {
  await import('tsx/esm');
  ({ main } = await import(pathToFileURL(join(root, 'src', 'cli', 'main.ts')).href));
}
process.exit(await main(process.argv.slice(2)));
