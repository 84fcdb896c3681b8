/**
 * Load-throughput benchmark: a generated ~1 GiB ONNX model (a MatMul chain y = x·W0·W1·…, fp32 weights in one
 * external-data file) loaded by our loader (loadOnnx: one read per tensor into its own buffer) and by
 * onnxruntime-node session creation on the same file. Each run happens in a fresh child process so that memory
 * numbers are not polluted: peak RSS and ArrayBuffer growth over the process baseline, sampled every 2 ms.
 * Usage: npx tsx bench/load-onnx.ts [--mb 1024] [--runs 5] [--keep]
 * Writes bench/results/load-onnx.json and prints a markdown table.
 */
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { measureInChild, runChild as runChildScript, type MemoryResult } from './child-measure.js';
// onnx-proto is CommonJS: under plain Node ESM (tsx) only its default export exists.
import onnxProto, { type onnx as OnnxTypes } from 'onnx-proto';

const { onnx } = onnxProto;

const here = dirname(fileURLToPath(import.meta.url));
const arg = (k: string, d: number) => {
  const i = process.argv.indexOf(k);
  return i > 0 ? Number(process.argv[i + 1]) : d;
};

/** Writes model.onnx + model.bin: `n` square fp32 weights of size d×d chained by MatMul. */
function generate(dir: string, targetMB: number): { model: string; bytes: number; tensors: number; d: number } {
  const d = 4096;
  const per = d * d * 4;
  const n = Math.max(1, Math.round((targetMB * 2 ** 20) / per));
  const block = new Float32Array(d * d);
  let s = 1;
  for (let i = 0; i < block.length; i++) block[i] = ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32 - 0.5) / d;
  const fd = openSync(join(dir, 'model.bin'), 'w');
  const init: OnnxTypes.ITensorProto[] = [];
  const nodes: OnnxTypes.INodeProto[] = [];
  for (let i = 0; i < n; i++) {
    block[0] = i; // make every tensor distinct
    writeSync(fd, new Uint8Array(block.buffer));
    init.push({
      name: `W${i}`, dataType: 1, dims: [d, d], dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
      externalData: [{ key: 'location', value: 'model.bin' }, { key: 'offset', value: String(i * per) }, { key: 'length', value: String(per) }],
    });
    nodes.push({ opType: 'MatMul', name: `mm${i}`, input: [i ? `h${i}` : 'x', `W${i}`], output: [i === n - 1 ? 'y' : `h${i + 1}`] });
  }
  closeSync(fd);
  const vi = (name: string) => ({ name, type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 1 }, { dimValue: d }] } } } });
  const model = onnx.ModelProto.encode({
    irVersion: 8, opsetImport: [{ domain: '', version: 17 }], producerName: 'bench/load-onnx',
    graph: { name: 'chain', node: nodes, initializer: init, input: [vi('x')], output: [vi('y')] },
  }).finish();
  writeFileSync(join(dir, 'model.onnx'), model);
  return { model: join(dir, 'model.onnx'), bytes: n * per + model.length, tensors: n, d };
}

interface ChildResult extends MemoryResult { tensorMB: number }

/** Child process: load once, sampling memory. */
async function child(kind: string, path: string): Promise<void> {
  // Modules are imported before the clock starts: only the load itself is timed.
  const { loadOnnx } = await import('../loader/node.js');
  const ort = await import('onnxruntime-node');
  await measureInChild(async () => {
    let tensorBytes = 0;
    if (kind === 'ours') {
      const m = await loadOnnx(path);
      for (const t of m.tensors.values()) tensorBytes += t.bytes.length;
    } else {
      const s = await ort.InferenceSession.create(path, { graphOptimizationLevel: kind === 'ort-opt' ? 'all' : 'disabled' });
      await s.release();
    }
    return { tensorMB: tensorBytes / 2 ** 20 };
  });
}

const runChild = (kind: string, path: string) => runChildScript<ChildResult>(fileURLToPath(import.meta.url), kind, path);

async function main(): Promise<void> {
  const ci = process.argv.indexOf('--child');
  if (ci > 0) return child(process.argv[ci + 1], process.argv[ci + 2]);
  const dir = mkdtempSync(join(tmpdir(), 'bench-load-onnx-'));
  try {
    const g = generate(dir, arg('--mb', 1024));
    const fileMB = g.bytes / 2 ** 20;
    console.error(`generated ${g.tensors} × [${g.d}, ${g.d}] fp32 = ${fileMB.toFixed(0)} MiB in ${dir} (${statSync(join(dir, 'model.bin')).size} bytes external)`);
    const runs = arg('--runs', 5);
    const kinds = ['ours', 'ort', 'ort-opt'];
    const all: Record<string, ChildResult[]> = Object.fromEntries(kinds.map((k) => [k, []]));
    runChild('ours', g.model); // warm the page cache once so every contender reads from memory
    for (let r = 0; r < runs; r++) for (const k of kinds) all[k].push(runChild(k, g.model));
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
    const rows = kinds.map((k) => {
      const ms = median(all[k].map((x) => x.ms));
      return {
        loader: k === 'ours' ? 'cosyvoice-webgpu loadOnnx' : `onnxruntime-node InferenceSession.create (graph opt ${k === 'ort' ? 'disabled' : 'all'})`,
        medianMs: +ms.toFixed(1),
        mbPerS: +(fileMB / (ms / 1000)).toFixed(0),
        peakRssMB: +Math.max(...all[k].map((x) => x.peakRssMB)).toFixed(0),
        peakArrayBuffersMB: +Math.max(...all[k].map((x) => x.peakArrayBuffersMB)).toFixed(0),
        tensorMB: +all[k][0].tensorMB.toFixed(0),
        runsMs: all[k].map((x) => +x.ms.toFixed(1)),
      };
    });
    const out = {
      date: new Date().toISOString(), node: process.version, cpu: cpus()[0]?.model, cores: cpus().length,
      fileMB: +fileMB.toFixed(1), tensors: g.tensors, shape: [g.d, g.d], pageCache: 'warm', rows,
      note: 'peak* = growth over the child process baseline (RSS: max of 2 ms samples and getrusage maxRSS); ours keeps every tensor resident (tensorMB), so overhead = peakArrayBuffersMB - tensorMB',
    };
    mkdirSync(join(here, 'results'), { recursive: true });
    writeFileSync(join(here, 'results', 'load-onnx.json'), JSON.stringify(out, null, 2) + '\n');
    console.log(`\nLoad ${fileMB.toFixed(0)} MiB ONNX (${g.tensors} external fp32 tensors [${g.d}, ${g.d}]), warm page cache, median of ${runs}, ${out.cpu} × ${out.cores}\n`);
    console.log('| loader | median ms | MB/s | peak RSS +MiB | peak ArrayBuffers +MiB | tensors held MiB |');
    console.log('|---|---:|---:|---:|---:|---:|');
    for (const r of rows) console.log(`| ${r.loader} | ${r.medianMs} | ${r.mbPerS} | ${r.peakRssMB} | ${r.peakArrayBuffersMB} | ${r.tensorMB} |`);
  } finally {
    if (!process.argv.includes('--keep')) rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
