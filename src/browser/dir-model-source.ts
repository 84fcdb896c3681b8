/**
 * A model folder on disk as a ModelSource (Node only): the browser engine's loaders (converted-model.ts,
 * cosyvoice-engine.ts) run on it in the tests and benchmarks. By default it reads in place, as the Worker does
 * from OPFS: open() gives PathSources (synchronous reads by path), so weights stay in their files until the
 * engine reads each into place; `inPlace: false` reads every file whole, as the Cache API path does.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MemorySource, type ByteSource } from '../../loader/byte-source.js';
import { PathSource } from '../../loader/node-source.js';
import type { ModelSource } from './model-source.js';

export class DirModelSource implements ModelSource {
  constructor(readonly base: string, readonly inPlace = true) {}
  async bytes(file: string): Promise<Uint8Array> {
    return new Uint8Array(readFileSync(join(this.base, file)));
  }
  async json<T = unknown>(file: string): Promise<T> {
    return JSON.parse(readFileSync(join(this.base, file), 'utf8')) as T;
  }
  open(file: string): ByteSource {
    const path = join(this.base, file);
    return this.inPlace ? new PathSource(path) : new MemorySource(new Uint8Array(readFileSync(path)), path);
  }
  async exists(file: string): Promise<boolean> {
    return existsSync(join(this.base, file));
  }
}
