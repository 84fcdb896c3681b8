/** Node only: tuning tables on disk (read with the file named in errors; written whole or not at all). */
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { TuningFileError, TuningTable } from '../gpu/tuning.js';

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
    writeFileSync(tmp, `${JSON.stringify(table, null, 1)}\n`);
    renameSync(tmp, path);
  } finally {
    rmSync(tmp, { force: true });
  }
}
