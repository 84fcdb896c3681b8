/**
 * Full-size random-weight CosyVoice3 folder in the official format, then `convert` it and load the results in
 * onnxruntime-node — the timing check of issue 9 (goal: convert < 1 min).
 *
 *   npx tsx bench/make-full-folder.ts [dir=/tmp/cosyvoice3-full] [--reuse] [--dtype fp32|fp16|int8] [--no-ort] [--run]
 *
 * --run also times one call of each converted graph through the ORT engine (the cpu-EP baseline): LLM prefill
 * of 128 positions and 16 decode steps, a DiT call (CFG batch 2, T = 200 frames), the flow encoder, and HiFT on
 * 100 mel frames (2 s of audio).
 *
 * Writes <dir>/model (src/convert/random-folder.ts with the released dims) and <dir>/converted. Never point it
 * inside the repo: ~3.4 GB + ~3.4 GB.
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import ort from 'onnxruntime-node';
import { convertModel } from '../src/convert/index.js';
import { FULL_DIMS, writeRandomFolder } from '../src/convert/random-folder.js';
import { OrtEngine } from '../src/ort/ort-engine.js';

async function main() {
  const a = parseArgs({ allowPositionals: true, options: { reuse: { type: 'boolean', default: false },
    dtype: { type: 'string', default: 'fp32' }, 'no-ort': { type: 'boolean', default: false }, run: { type: 'boolean', default: false } } });
  const root = a.positionals[0] ?? '/tmp/cosyvoice3-full';
  const model = join(root, 'model'), out = join(root, 'converted');
  if (!a.values.reuse || !existsSync(join(model, 'hift.pt'))) {
    const t0 = performance.now();
    for (const [f, bytes] of Object.entries(writeRandomFolder(model, FULL_DIMS))) console.log(`wrote ${f}: ${(bytes / 1e9).toFixed(3)} GB`);
    console.log(`official-format folder written in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  rmSync(out, { recursive: true, force: true });
  const r = await convertModel(model, out, { dtype: a.values.dtype as 'fp32', log: (m) => console.log(`  ${m}`) });
  console.log(`convert (${a.values.dtype}): ${r.seconds.toFixed(1)} s (goal < 60 s)`);
  if (a.values['no-ort']) return;
  for (const f of ['llm.onnx', 'llm_embed.onnx', 'flow_encoder.onnx', 'flow.onnx', 'hift.onnx']) {
    const t = performance.now();
    const s = await ort.InferenceSession.create(join(out, f), { executionProviders: ['cpu'], logSeverityLevel: 3 });
    console.log(`ORT loaded ${f} in ${((performance.now() - t) / 1000).toFixed(1)} s (inputs: ${s.inputNames.length}, outputs: ${s.outputNames.length})`);
    await s.release();
  }
  if (a.values.run) await timeCalls(out);
}

async function timeCalls(dir: string) {
  const e = await OrtEngine.create(dir);
  const c = e.config;
  const ms = async (label: string, f: () => Promise<unknown>, reps = 1) => {
    await f();
    const t = performance.now();
    for (let i = 0; i < reps; i++) await f();
    console.log(`ORT cpu ${label}: ${((performance.now() - t) / reps).toFixed(1)} ms`);
  };
  const emb = await e.embedSpeech(Array.from({ length: 128 }, (_, i) => i));
  await ms('LLM prefill 128', async () => (await e.llmSession()).step(emb, 128));
  const s = await e.llmSession();
  await s.step(emb, 128);
  const one = emb.subarray(0, c.llm.hidden);
  const t0 = performance.now();
  for (let i = 0; i < 16; i++) await s.step(one, 1);
  console.log(`ORT cpu LLM decode step (cache 128..143): ${((performance.now() - t0) / 16).toFixed(1)} ms/token`);
  const T = 200, C = c.flow.outputSize;
  const z = new Float32Array(2 * C * T).map((_, i) => Math.sin(i));
  await ms('flow encoder (100 tokens)', () => e.flowEncoder(Array.from({ length: 100 }, (_, i) => i), new Float32Array(c.flow.spkEmbedDim).fill(0.1), true));
  await ms(`DiT estimator (batch 2, T=${T})`, () => e.flowEstimator({ x: z, mask: new Float32Array(2 * T).fill(1), mu: z, t: Float32Array.of(0.5, 0.5),
    spks: new Float32Array(2 * C).fill(0.1), cond: z, batch: 2, frames: T, streaming: false }));
  const mel = new Float32Array(C * 100).map((_, i) => Math.sin(i) - 5);
  await ms('HiFT (100 mel frames = 2 s)', () => e.hift(mel, 100, new Float32Array(100 * 480 * (c.hift.nbHarmonics + 1)).fill(0.5), true));
  await e.dispose();
}

await main();
