/**
 * .pt load throughput: a generated ~1 GiB torch.save-format checkpoint (fp32 [4096, 4096] storages, STORED and
 * 64-byte aligned like torch's writer) loaded by loadPt, against fs.readFile of the same file (the floor: one
 * read, no parsing) — each in a fresh child process, warm page cache, with peak RSS / ArrayBuffer growth.
 * Usage: npx tsx bench/load-pt.ts [--mb 1024] [--runs 5]. Writes bench/results/load-pt.json.
 */
import { closeSync, ftruncateSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { measureInChild, runChild as runChildScript, type MemoryResult } from './child-measure.js';
import { ptEntries, zipLayout, type PtTensorSpec } from '../test/loader/helpers/pt-writer.js';

const here = dirname(fileURLToPath(import.meta.url));
const arg = (k: string, d: number) => {
  const i = process.argv.indexOf(k);
  return i > 0 ? Number(process.argv[i + 1]) : d;
};

function generate(path: string, targetMB: number): { bytes: number; tensors: number } {
  const d = 4096;
  const n = Math.max(1, Math.round((targetMB * 2 ** 20) / (d * d * 4)));
  const block = new Float32Array(d * d).map((_, i) => ((i * 2654435761) % 1000) / 1e5);
  const specs: PtTensorSpec[] = [];
  const storages: Record<string, Uint8Array> = {};
  for (let i = 0; i < n; i++) {
    specs.push({ name: `layers.${i}.weight`, storageKey: String(i), storageType: 'FloatStorage', numel: d * d, offset: 0, size: [d, d], stride: [d, 1] });
    storages[String(i)] = new Uint8Array(block.buffer); // same bytes for every storage: generation stays cheap
  }
  const layout = zipLayout(ptEntries(specs, storages), { zip64: true });
  const fd = openSync(path, 'w');
  ftruncateSync(fd, layout.size);
  for (const [pos, b] of layout.pieces) writeSync(fd, b, 0, b.length, pos);
  closeSync(fd);
  return { bytes: layout.size, tensors: n };
}

type ChildResult = MemoryResult;

async function child(kind: string, path: string): Promise<void> {
  const { loadPt } = await import('../loader/node.js');
  await measureInChild(async () => {
    if (kind === 'loadPt') await loadPt(path);
    else await readFile(path);
  });
}

const runChild = (kind: string, path: string) => runChildScript<ChildResult>(fileURLToPath(import.meta.url), kind, path);

async function main(): Promise<void> {
  const ci = process.argv.indexOf('--child');
  if (ci > 0) return child(process.argv[ci + 1], process.argv[ci + 2]);
  const dir = mkdtempSync(join(tmpdir(), 'bench-load-pt-'));
  try {
    const path = join(dir, 'model.pt');
    const g = generate(path, arg('--mb', 1024));
    const fileMB = g.bytes / 2 ** 20;
    const runs = arg('--runs', 5);
    const kinds = ['loadPt', 'fs.readFile'];
    const all: Record<string, ChildResult[]> = { loadPt: [], 'fs.readFile': [] };
    runChild('fs.readFile', path); // warm the page cache
    for (let r = 0; r < runs; r++) for (const k of kinds) all[k].push(runChild(k, path));
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
    const rows = kinds.map((k) => {
      const ms = median(all[k].map((x) => x.ms));
      return {
        loader: k, medianMs: +ms.toFixed(1), mbPerS: +(fileMB / (ms / 1000)).toFixed(0),
        peakRssMB: +Math.max(...all[k].map((x) => x.peakRssMB)).toFixed(0),
        peakArrayBuffersMB: +Math.max(...all[k].map((x) => x.peakArrayBuffersMB)).toFixed(0),
        runsMs: all[k].map((x) => +x.ms.toFixed(1)),
      };
    });
    const out = { date: new Date().toISOString(), node: process.version, cpu: cpus()[0]?.model, cores: cpus().length, fileMB: +fileMB.toFixed(1), tensors: g.tensors, pageCache: 'warm', rows };
    mkdirSync(join(here, 'results'), { recursive: true });
    writeFileSync(join(here, 'results', 'load-pt.json'), JSON.stringify(out, null, 2) + '\n');
    console.log(`\nLoad ${fileMB.toFixed(0)} MiB zip64 .pt (${g.tensors} fp32 storages [4096, 4096]), warm page cache, median of ${runs}\n`);
    console.log('| reader | median ms | MB/s | peak RSS +MiB | peak ArrayBuffers +MiB |');
    console.log('|---|---:|---:|---:|---:|');
    for (const r of rows) console.log(`| ${r.loader} | ${r.medianMs} | ${r.mbPerS} | ${r.peakRssMB} | ${r.peakArrayBuffersMB} |`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
