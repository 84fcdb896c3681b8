/**
 * End-to-end benchmark (issue 10): streaming text → speech through the public pipeline, our WebGPU engine side by
 * side with the SAME pipeline driven through onnxruntime-node (`cpu` and `webgpu` execution providers) over the
 * converted ONNX files of the same random-weight model, on the same machine; `wasm` is our CPU fallback
 * (src/pipeline/wasm.ts).
 *
 *   npx tsx bench/e2e.ts [--size tiny|full] [--seconds 5,30] [--engines webgpu,wasm,wasm-q8,ort-cpu,ort-webgpu] [--dtype f32|f16]
 *                        [--prompt-tokens 25] [--runs 1] [--flow-cache-mb 1024] [--final-chunk-mask]
 *
 * --prompt-tokens: the synthetic speaker's prompt (25 tokens = 1 s; real prompts are 3–10 s). --runs: texts in a
 * row per case with the same speaker (a later run finds the prompt's DiT rows cached).
 * --flow-cache-mb: the DiT prefix cache of the CPU fallback and of WebGPU (0: off; src/models/cpu/dit-cache.ts,
 * src/models/flow/prefix-cache.ts). --final-chunk-mask:
 * the last streaming chunk keeps the DiT's chunk mask (StreamOptions.finalChunkMask) instead of upstream's full
 * attention, so that the prefix cache serves it too.
 *
 * Each case forces a fixed number of speech tokens (25 per second of audio; stop ids masked, best candidate
 * taken) so every engine does the same work. Reports TTFA (first PCM sample), total time, RTF, LLM tokens/s
 * and per-stage times; results to bench/results/e2e-<size>.json and a markdown table on stdout.
 * Random weights: the audio is noise. At full size on lavapipe (a CPU) a run takes hours; the per-stage suites
 * (bench/suites/{llm,flow,hift}.ts) measure full-size costs instead.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { convertModel } from '../src/convert/index.js';
import { FULL_DIMS, TINY_DIMS, writeRandomFolder } from '../src/convert/random-folder.js';
import { GpuContext } from '../src/gpu/context.js';
import { adapterLabel } from '../src/gpu/device.js';
import { requestNodeDevice } from '../src/gpu/node-device.js';
import { OrtEngine } from '../src/ort/ort-engine.js';
import { EngineFlowPort, EngineHiftPort, EngineLlmPort } from '../src/pipeline/engine-ports.js';
import { loadModelFolder } from '../src/pipeline/node-model-files.js';
import { syntheticSpeaker } from '../src/pipeline/speaker.js';
import { SyntheticTextFrontend } from '../src/pipeline/text-frontends.js';
import { CosyVoicePipeline } from '../src/pipeline/tts.js';
import type { SynthesisStats } from '../src/pipeline/types.js';
import { createWasmPipeline } from '../src/pipeline/wasm.js';
import { createWebGpuPipeline } from '../src/pipeline/webgpu.js';
import { argmaxSampler } from '../src/sampling/index.js';

const { values: a } = parseArgs({
  options: {
    size: { type: 'string', default: 'tiny' },
    seconds: { type: 'string', default: '5,30' },
    engines: { type: 'string', default: 'webgpu,wasm,ort-cpu,ort-webgpu' },
    dtype: { type: 'string', default: 'f32' },
    'prompt-tokens': { type: 'string', default: '25' },
    runs: { type: 'string', default: '1' },
    'flow-cache-mb': { type: 'string' },
    'final-chunk-mask': { type: 'boolean', default: false },
  },
});
const promptTokens = Number(a['prompt-tokens']);
const runs = Number(a.runs);
const flowCacheMb = a['flow-cache-mb'] === undefined ? undefined : Number(a['flow-cache-mb']);
const size = a.size === 'full' ? 'full' : 'tiny';
const seconds = a.seconds!.split(',').map(Number);
const engines = a.engines!.split(',');
const TEXT = 'The quick brown fox jumps over the lazy dog';

const work = mkdtempSync(join(tmpdir(), 'cv-e2e-'));
const t0 = performance.now();
writeRandomFolder(join(work, 'official'), size === 'full' ? FULL_DIMS : TINY_DIMS, 1234);
await convertModel(join(work, 'official'), join(work, 'converted'));
const files = await loadModelFolder(join(work, 'converted'));
console.error(`model ready (${size}) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
const speaker = syntheticSpeaker(files, 1, promptTokens);
const maxFrames = 2 * (speaker.promptTokens.length + 25 * Math.max(...seconds)) + 16;

interface Row {
  engine: string;
  seconds: number;
  tokens: number;
  ttfa_ms: number;
  total_ms: number;
  rtf: number;
  llm_tok_s: number;
  llm_ms: number;
  flow_ms: number;
  hift_ms: number;
  chunks: number;
  prompt_tokens: number;
  /** 1-based: the run-th text in a row with this speaker on this pipeline. */
  run: number;
  /** The CPU fallback's DiT prefix cache budget (wasm engines; absent: the default). */
  flow_cache_mb?: number;
  /** The last chunk kept the chunk mask (absent: upstream's full attention). */
  final_chunk_mask?: true;
}

async function runCase(engine: string, pipe: CosyVoicePipeline, s: number, run: number): Promise<Row> {
  const gen = pipe.stream(TEXT, speaker, { sampler: argmaxSampler, forceTokens: 25 * s, finalChunkMask: a['final-chunk-mask'] });
  let chunks = 0;
  let r = await gen.next();
  for (; !r.done; r = await gen.next()) chunks++;
  const st: SynthesisStats = r.value;
  return {
    engine, seconds: s, tokens: st.tokens, ttfa_ms: st.ttfaMs, total_ms: st.totalMs, rtf: st.rtf,
    llm_tok_s: st.tokens / (st.llmMs / 1000), llm_ms: st.llmMs, flow_ms: st.flowMs, hift_ms: st.hiftMs, chunks,
    prompt_tokens: promptTokens, run, ...(!engine.startsWith('ort') && flowCacheMb !== undefined ? { flow_cache_mb: flowCacheMb } : {}),
    ...(a['final-chunk-mask'] ? { final_chunk_mask: true as const } : {}),
  };
}

const handle = await requestNodeDevice();
const rows: Row[] = [];
for (const engine of engines) {
  let pipe: CosyVoicePipeline;
  let ort: OrtEngine | undefined;
  if (engine === 'webgpu') {
    pipe = await createWebGpuPipeline(new GpuContext(handle), files, { dtype: a.dtype as 'f32' | 'f16', maxFrames, flowCacheBytes: flowCacheMb === undefined ? undefined : flowCacheMb * 2 ** 20 });
  } else if (engine === 'wasm' || engine === 'wasm-q8') {
    pipe = await createWasmPipeline(files, { dtype: engine === 'wasm-q8' ? 'q8' : 'f32', flowCacheBytes: flowCacheMb === undefined ? undefined : flowCacheMb * 2 ** 20 });
  } else {
    ort = await OrtEngine.create(join(work, 'converted'), { executionProviders: [engine.replace('ort-', '')] });
    pipe = new CosyVoicePipeline({
      llm: new EngineLlmPort(ort), flow: new EngineFlowPort(ort), hift: new EngineHiftPort(ort),
      text: new SyntheticTextFrontend(files.config.llm.textVocab), speakerEmbedDim: files.config.flow.spkEmbedDim,
    });
  }
  for (const s of seconds) {
    for (let run = 1; run <= runs; run++) {
      const row = await runCase(engine, pipe, s, run);
      rows.push(row);
      console.error(`${engine} ${s}s: ${JSON.stringify(row)}`);
    }
  }
  if (ort) await ort.dispose();
  else pipe.dispose();
}

/** Rows written before these fields existed were single runs with the 25-token prompt and the default cache. */
function sameCase(r: Row, o: Partial<Row>): boolean {
  return r.engine === o.engine && r.seconds === o.seconds && r.prompt_tokens === (o.prompt_tokens ?? 25) && r.run === (o.run ?? 1) && r.flow_cache_mb === o.flow_cache_mb && r.final_chunk_mask === o.final_chunk_mask;
}
const f = (x: number, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : '–');
// Merge into the committed file: this run's rows replace those of the same case (engine, length, prompt, run,
// cache budget); the others (earlier runs, other engines) stay, each with the date of its run.
const out = join(dirname(fileURLToPath(import.meta.url)), 'results', `e2e-${size}.json`);
const old = existsSync(out) ? (JSON.parse(readFileSync(out, 'utf8')) as { date?: string; rows?: (Row & { date?: string })[] } & Record<string, unknown>) : {};
const now = new Date().toISOString();
const merged = [
  ...(old.rows ?? []).filter((o) => !rows.some((r) => sameCase(r, o))).map((o) => ({ ...o, date: o.date ?? old.date })),
  ...rows.map((r) => ({ ...r, date: now })),
].sort((x, y) => x.seconds - y.seconds);
const lines = [
  `End-to-end streaming TTS, ${size} size, random weights (${files.source}); adapter: ${adapterLabel(handle.info)}`,
  '',
  '| engine | flow cache MiB | last chunk | audio s | prompt tokens | run | tokens | TTFA ms | total ms | RTF | LLM tok/s | LLM ms | flow ms | HiFT ms | chunks | date |',
  '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ...merged.map((r) => `| ${r.engine} | ${r.flow_cache_mb ?? (r.engine.startsWith('wasm') ? 'default' : '–')} | ${r.final_chunk_mask ? 'chunk mask' : 'full attention'} | ${r.seconds} | ${r.prompt_tokens ?? 25} | ${r.run ?? 1} | ${r.tokens} | ${f(r.ttfa_ms)} | ${f(r.total_ms)} | ${f(r.rtf, 3)} | ${f(r.llm_tok_s, 1)} | ${f(r.llm_ms)} | ${f(r.flow_ms)} | ${f(r.hift_ms)} | ${r.chunks} | ${r.date?.slice(0, 10) ?? ''} |`),
];
console.log(lines.join('\n'));
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify({ ...old, date: now, adapter: handle.info, size, dtype: a.dtype, text: TEXT, rows: merged, table: lines }, null, 1));
rmSync(work, { recursive: true, force: true });
process.exit(0);
