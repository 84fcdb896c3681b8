/**
 * `cosyvoice-webgpu verify <fixture-dir> [--engine ort] [--dtype fp32|fp16] [--only test,…] [--keep]`: converts
 * the fixture folder's official checkpoints to a temp folder, runs every manifest test on the engine and prints
 * one line per compared tensor and `N passed, M failed`. Exit 1 on any failure (or a test it cannot run).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { convertModel } from '../../convert/index.js';
import { engineFactory, engineNames } from '../../ort/engine.js';
import { verifyFixtures } from '../../ort/verify.js';

const HELP = `usage: cosyvoice-webgpu verify <fixture-dir> [options]
  --engine NAME        engine to run: webgpu | wasm | ort (default ort)
  --dtype fp32|fp16    conversion dtype (default fp32)
  --only a,b           run only these manifest tests
  --keep               keep the converted temp folder and print its path`;

/** Engines register themselves on import; add new engines here. */
async function loadEngines(name: string): Promise<void> {
  if (name === 'ort') await import('../../ort/ort-engine.js');
  if (name === 'webgpu') await import('../../pipeline/webgpu-engine.js');
  if (name === 'wasm') await import('../../pipeline/wasm-engine-node.js');
}

export async function verifyCommand(argv: string[]): Promise<number> {
  let a;
  try {
    a = parseArgs({
      args: argv, allowPositionals: true,
      options: { engine: { type: 'string', default: 'ort' }, dtype: { type: 'string', default: 'fp32' },
        only: { type: 'string' }, keep: { type: 'boolean', default: false }, help: { type: 'boolean', default: false } },
    });
  } catch (e) {
    console.error(`${(e as Error).message}\n${HELP}`);
    return 2;
  }
  if (a.values.help) {
    console.log(HELP);
    return 0;
  }
  if (a.positionals.length !== 1) {
    console.error(HELP);
    return 2;
  }
  if (!['fp32', 'fp16'].includes(a.values.dtype as string)) {
    console.error(HELP);
    return 2;
  }
  const name = a.values.engine as string;
  await loadEngines(name);
  const factory = engineFactory(name);
  if (!factory) {
    console.error(`unknown engine ${name} (available: ${engineNames().join(', ') || 'none'})`);
    return 2;
  }
  const dir = mkdtempSync(join(tmpdir(), 'cosyvoice-verify-'));
  const out = join(dir, 'converted');
  try {
    await convertModel(a.positionals[0], out, { dtype: a.values.dtype as 'fp32' | 'fp16' });
    const engine = await factory(out);
    try {
      const r = await verifyFixtures(engine, a.positionals[0], { only: a.values.only?.split(','), dtype: a.values.dtype as 'fp32' | 'fp16' });
      return r.failed === 0 && r.passed > 0 ? 0 : 1;
    } finally {
      await engine.dispose();
    }
  } catch (e) {
    console.error(`${(e as Error).name}: ${(e as Error).message}`);
    console.log('0 passed, 1 failed');
    return 1;
  } finally {
    if (a.values.keep) console.error(`converted files kept in ${out}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}
