/**
 * `cosyvoice-webgpu inspect <file>`: lists the tensors of an .onnx / .pt / .safetensors file (name, dtype, shape,
 * bytes) and, for ONNX, the graph inputs/outputs, opsets, op counts and whether the CPU ONNX interpreter
 * (src/onnx-run, which runs the prompt models) has every operator; or what a speaker file (.cvspk, a voice) holds.
 * Reads through the loader, so a damaged or hostile file prints the loader's typed error instead of a stack trace.
 */
import { byteLengthOf } from '../../../loader/dtype.js';
import { loadOnnx, loadPt, loadSafetensors } from '../../../loader/node.js';
import type { OnnxModel, ValueInfo } from '../../../loader/onnx.js';
import type { ProgressFn, TensorStore } from '../../../loader/types.js';
import { unsupportedOps } from '../../onnx-run/session.js';
import { loadSpeakerFile } from '../../speaker/speaker-io.js';

const HELP = `usage: cosyvoice-webgpu inspect <file.onnx|file.pt|file.safetensors|voice.cvspk> [--json] [--nodes]
  --json    print one JSON object instead of a table
  --nodes   ONNX only: also list every node (op type, inputs → outputs)`;

/** A one-line progress bar on stderr, only when stderr is a terminal. */
function progressBar(): ProgressFn | undefined {
  if (!process.stderr.isTTY) return undefined;
  return ({ file, loaded, total }) => {
    const frac = total ? loaded / total : 0;
    const bar = '#'.repeat(Math.round(frac * 30)).padEnd(30, '.');
    process.stderr.write(`\r[${bar}] ${(frac * 100).toFixed(0).padStart(3)}% ${file.split('/').pop()}`);
    if (loaded >= total) process.stderr.write('\n');
  };
}

function vi(v: ValueInfo): string {
  return `${v.name}: ${v.elemType ?? '?'} [${v.dims.join(', ')}]`;
}

function tensorRows(store: TensorStore): { name: string; dtype: string; dims: number[]; bytes: number }[] {
  return [...store.values()].map((t) => ({ name: t.name, dtype: t.dtype, dims: t.dims, bytes: byteLengthOf(t.dtype, t.dims) }));
}

export async function inspectCommand(argv: string[]): Promise<number> {
  const flags = new Set(argv.filter((a) => a.startsWith('--')));
  const files = argv.filter((a) => !a.startsWith('--'));
  if (flags.has('--help') || files.length !== 1) {
    console.log(HELP);
    return flags.has('--help') ? 0 : 2;
  }
  const file = files[0];
  if (/\.cvspk$/i.test(file)) return inspectSpeaker(file, flags.has('--json'));
  const onProgress = progressBar();
  let store: TensorStore;
  let model: OnnxModel | undefined;
  let kind: string;
  if (/\.onnx$/i.test(file)) {
    model = await loadOnnx(file, { onProgress });
    store = model.tensors;
    kind = 'onnx';
  } else if (/\.(pt|pth|bin|ckpt)$/i.test(file)) {
    store = await loadPt(file, { onProgress });
    kind = 'pytorch';
  } else if (/\.safetensors$/i.test(file)) {
    store = await loadSafetensors(file, { onProgress });
    kind = 'safetensors';
  } else {
    console.error(`inspect: cannot tell the format of ${file} (expected .onnx, .pt, .safetensors or .cvspk)`);
    return 2;
  }
  const rows = tensorRows(store);
  const total = rows.reduce((a, r) => a + r.bytes, 0);
  if (flags.has('--json')) {
    const out: Record<string, unknown> = { file, kind, tensors: rows, totalBytes: total };
    if (model) {
      const g = model.graph;
      Object.assign(out, { inputs: g.inputs, outputs: g.outputs, opsetImport: model.opsetImport, metadata: model.metadata, nodes: g.nodes.length, interpreterUnsupported: unsupportedOps(g).map((u) => u.op) });
    }
    console.log(JSON.stringify(out, null, 2));
    return 0;
  }
  console.log(`${file}: ${kind}, ${rows.length} tensors, ${(total / 1048576).toFixed(2)} MiB`);
  if (model) {
    const g = model.graph;
    console.log(`opsets: ${model.opsetImport.map((o) => `${o.domain || 'ai.onnx'} ${o.version}`).join(', ')}`);
    for (const [k, v] of Object.entries(model.metadata)) console.log(`metadata ${k}: ${v}`);
    console.log(`inputs:\n${g.inputs.map((v) => `  ${vi(v)}`).join('\n')}`);
    console.log(`outputs:\n${g.outputs.map((v) => `  ${vi(v)}`).join('\n')}`);
    const ops = new Map<string, number>();
    for (const n of g.nodes) ops.set(n.opType, (ops.get(n.opType) ?? 0) + 1);
    console.log(`nodes: ${g.nodes.length} (${[...ops].sort((a, b) => b[1] - a[1]).map(([o, c]) => `${o} ${c}`).join(', ')})`);
    // The CPU ONNX interpreter runs the prompt models (voices from audio): can it run this graph?
    const missing = unsupportedOps(g).map((u) => u.op);
    console.log(`CPU ONNX interpreter: ${missing.length ? `lacks ${missing.join(', ')}` : 'runs every operator of this graph'}`);
    if (flags.has('--nodes')) for (const n of g.nodes) console.log(`  ${n.opType} ${n.name}: ${n.inputs.join(', ')} -> ${n.outputs.join(', ')}`);
  }
  const w = Math.min(80, Math.max(4, ...rows.map((r) => r.name.length)));
  console.log(`${'name'.padEnd(w)}  ${'dtype'.padEnd(8)}  shape`);
  for (const r of rows) console.log(`${r.name.padEnd(w)}  ${r.dtype.padEnd(8)}  [${r.dims.join(', ')}]`);
  return 0;
}

/** A speaker file's contents: prompt tokens, prompt mel, embedding, transcript. */
function inspectSpeaker(file: string, json: boolean): number {
  const s = loadSpeakerFile(file);
  const norm = Math.sqrt(s.embedding.reduce((a, v) => a + v * v, 0));
  const info = {
    file, kind: 'speaker', promptTokens: s.promptSpeechTokens.length, melFrames: s.melFrames, numMels: s.numMels, sampleRate: s.sampleRate,
    embeddingDim: s.embedding.length, embeddingNorm: norm, transcript: s.transcript ?? null,
  };
  if (json) console.log(JSON.stringify(info, null, 2));
  else {
    console.log(`${file}: speaker, ${info.promptTokens} prompt tokens (${Array.from(s.promptSpeechTokens.subarray(0, 8)).join(' ')}${info.promptTokens > 8 ? ' …' : ''})`);
    console.log(`prompt mel: ${s.melFrames} frames × ${s.numMels} bins, computed at ${s.sampleRate} Hz`);
    console.log(`embedding: ${s.embedding.length} values, L2 norm ${norm.toFixed(4)}`);
    console.log(`transcript: ${s.transcript === undefined ? '(none: cross-lingual and instruct only)' : JSON.stringify(s.transcript)}`);
  }
  return 0;
}
