/**
 * Node only: tuning tables on disk (read with the file named in errors; written whole or not at all), and the
 * per-adapter default file that `tune` writes and `synth` reads when no file is named:
 * $XDG_CACHE_HOME/cosyvoice-webgpu/tuning-<adapter>.json (~/.cache when XDG_CACHE_HOME is unset).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { TuningFileError, TuningTable } from '../gpu/tuning.js';

/** The default tuning file of an adapter (its label reduced to a file name). */
export function defaultTuningPath(adapter: string): string {
  const slug = adapter.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 120) || 'adapter';
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'cosyvoice-webgpu', `tuning-${slug}.json`);
}

/** The adapter's default tuning file if there is one. */
export function readDefaultTuning(adapter: string): TuningTable | undefined {
  const path = defaultTuningPath(adapter);
  return existsSync(path) ? readTuningFile(path) : undefined;
}

export function readTuningFile(path: string): TuningTable {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new TuningFileError(`${path}: cannot read the tuning file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return TuningTable.parse(text, path);
}

export function writeTuningFile(path: string, table: TuningTable): void {
  const tmp = `${path}.partial-${process.pid}`;
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(tmp, `${JSON.stringify(table, null, 1)}\n`);
    renameSync(tmp, path);
  } finally {
    rmSync(tmp, { force: true });
  }
}
