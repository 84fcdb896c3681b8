/**
 * `cosyvoice-webgpu synth`: text → 24 kHz WAV on WebGPU, or on the CPU fallback (WebAssembly) without an adapter.
 *
 *   synth --text "…"|- --out out.wav [--model <dir>] [--speaker <file>] [--stream] [--engine auto|webgpu|wasm]
 *         [--dtype f32|f16|q8] [--kv-dtype f32|f16]
 *         [--mode zero-shot|cross-lingual|instruct] [--instruct "…"] [--seed N] [--speed X] [--tokens N] [--size tiny|full]
 *   synth --source-wav speech.wav --out out.wav [--speaker <file> | --prompt-wav <f>] [--stream] [--speed X] ...
 *         (voice conversion, upstream's inference_vc: the source's speech tokens in place of the LLM's)
 *
 * Without --model it runs the built-in synthetic model (real architecture, seeded random weights — the audio is
 * noise, and the output says so), so that a fresh machine can run the whole pipeline. The WAV is written to a
 * temporary file and renamed into place: an error never leaves a partial WAV behind.
 */
import { existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { writeWav } from '../../audio/index.js';
import { GpuContext } from '../../gpu/context.js';
import { adapterLabel } from '../../gpu/device.js';
import { defaultCpuThreads } from '../../../kernels/cpu-linear.js';
import { NoAdapterError } from '../../gpu/errors.js';
import { requestNodeDevice } from '../../gpu/node-device.js';
import { syntheticModelFiles, type ModelFiles } from '../../pipeline/model-files.js';
import { loadModelFolder } from '../../pipeline/node-model-files.js';
import { speakerExpectationsOf, speakerFromFile, syntheticSpeaker } from '../../pipeline/speaker.js';
import { SyntheticTextFrontend, TokenizerFrontend, type TextFrontend } from '../../pipeline/text-frontends.js';
import { SYNTHESIS_MODES, type SpeakerPrompt, type SynthesisMode, type SynthesisStats } from '../../pipeline/types.js';
import type { CosyVoicePipeline } from '../../pipeline/tts.js';
import { createWasmPipeline } from '../../pipeline/wasm.js';
import { DEFAULT_FLOW_CACHE_BYTES } from '../../pipeline/ports.js';
import { createWebGpuPipeline } from '../../pipeline/webgpu.js';
import { loadSpeakerFile } from '../../speaker/index.js';
import { loadTokenizerDir } from '../../text/load.js';
import { readDefaultTuning, readTuningFile } from '../../tune/file.js';
import { progressPrinter } from '../progress.js';
import type { PromptModels } from '../../speaker/prompt-models.js';
import { openPromptModels, readWavFile, speakerFromWav } from './speaker.js';
import { DEFAULT_MAX_PREFILL } from '../../models/qwen2/forward.js';

export class UsageError extends Error {
  override name = 'UsageError';
}

const HELP = `usage: cosyvoice-webgpu synth --text "…" --out out.wav [options]
  --model <dir>       official or converted model folder (default: built-in synthetic model, not speech)
  --size tiny|full    synthetic model size (default tiny)
  --speaker <file>    speaker prompt file (.cvspk or .json); default: a synthetic speaker
  --prompt-wav <f>    make the voice from this prompt WAV instead (the folder's speech_tokenizer_v3.onnx and
                      campplus.onnx on the CPU, as \`cosyvoice-webgpu speaker\` does), with --prompt-text "…", what
                      it says (zero-shot needs it)
  --source-wav <f>    voice conversion (upstream's inference_vc) instead of text: speak this WAV's speech (≤ 30 s,
                      tokenized by the folder's speech_tokenizer_v3.onnx on the CPU) in the speaker's voice
                      (--speaker or --prompt-wav; no --prompt-text needed); takes --stream, --speed, not --text
  --mode <m>          zero-shot (default) | cross-lingual | instruct
  --instruct "…"      instruction for --mode instruct
  --stream            stream chunks as upstream does (prints each chunk's arrival)
  --text -            read the text from standard input as it arrives and speak it while it does (upstream's
                      text-in streaming, inference_bistream: e.g. a chat model's output piped in); zero-shot or
                      instruct; not with --tokens or --speed
  --final-chunk-mask  with --stream: the last chunk keeps the DiT's 50-frame chunk mask (as the official streaming
                      fixture recorded it) instead of upstream's full attention; on the CPU fallback its prefix
                      cache then serves that chunk too
  --engine <e>        auto (default: WebGPU, or the CPU fallback when there is no adapter) | webgpu | wasm
                      (the CPU fallback: TypeScript models, WebAssembly SIMD matrix products)
  --threads N         CPU fallback: threads per matrix product (default: this machine's cores, at most 8)
  --flow-cache-mb N   memory (GPU memory on WebGPU) for the DiT's keys and values of earlier streaming chunks
                      and of the speaker prompt, which later chunks and texts then do not recompute (default
                      1024; 0: off)
  --dtype f32|f16|q8  weight storage (default f32); f16: WebGPU only; q8: the CPU fallback only (int8 with a
                      scale per 32 values for the LLM and the DiT: a quarter of the memory, LLM decode ~2× faster)
  --kv-dtype f32|f16  LLM KV cache element type (default f32; f16 halves its memory and attention reads)
  --speed X           speech rate (default 1): the mel of each segment is resampled to int(T / X) frames before
                      the vocoder, as upstream's speed argument; offline only (not with --stream)
  --seed N            sampling seed (default 0)
  --tokens N          generate exactly N speech tokens (benchmarks)
  --tuning <file>     kernel choices measured on this adapter by \`cosyvoice-webgpu tune\` (default: this
                      adapter's default tuning file, when tune has written one)
  --no-tuning         run the built-in defaults even where a default tuning file exists
  --prefill-chunk N   WebGPU: feed a prompt to the LLM N rows a step (default 256), other syntheses' decode steps
                      between the parts (serve: a new request then holds the running streams for one part)`;

export async function synthCommand(argv: string[]): Promise<number> {
  const { values: v } = parseArgs({
    args: argv,
    options: {
      ...MODEL_ARGS,
      text: { type: 'string' }, out: { type: 'string' }, mode: { type: 'string', default: 'zero-shot' }, instruct: { type: 'string' },
      stream: { type: 'boolean', default: false }, 'final-chunk-mask': { type: 'boolean', default: false }, seed: { type: 'string', default: '0' }, speed: { type: 'string', default: '1' },
      tokens: { type: 'string' }, 'source-wav': { type: 'string' }, help: { type: 'boolean', default: false },
    },
  });
  if (v.help) {
    console.log(HELP);
    return 0;
  }
  const sourceWav = v['source-wav'];
  if (sourceWav !== undefined) {
    if (v.text !== undefined || v.tokens !== undefined || v.instruct !== undefined || v.mode !== 'zero-shot') throw new UsageError('--source-wav (voice conversion) speaks the source\'s speech: no --text, --tokens, --mode or --instruct');
  } else if (!v.text) throw new UsageError(`--text is required (or --source-wav)\n${HELP}`);
  if (!v.out) throw new UsageError(`--out is required\n${HELP}`);
  if (!(SYNTHESIS_MODES as readonly string[]).includes(v.mode!)) throw new UsageError(`--mode ${v.mode}: use zero-shot, cross-lingual or instruct`);
  const model = modelOptions(v);
  const speed = Number(v.speed);
  if (!(Number.isFinite(speed) && speed > 0)) throw new UsageError(`--speed ${v.speed}: a number > 0`);
  if (speed !== 1 && v.stream) throw new UsageError('--speed works offline only (upstream resamples a whole segment\'s mel): drop --stream');
  const fromStdin = v.text === '-';
  if (fromStdin && (v.tokens !== undefined || speed !== 1)) throw new UsageError('--text - (text-in streaming) takes no --tokens or --speed');

  // Voice conversion: the source's tokens first, with the prompt models that then also make a --prompt-wav voice.
  let source: Int32Array | undefined;
  let promptModels: PromptModels | undefined;
  if (sourceWav !== undefined) {
    const wav = readWavFile(sourceWav, '--source-wav');
    promptModels = await openPromptModels({ model: model.model, size: model.size, threads: model.threads });
    try {
      const t0 = performance.now();
      source = await promptModels.sourceTokens(wav, sourceWav);
      console.log(`voice conversion: ${source.length} speech tokens from ${sourceWav} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    } catch (e) {
      promptModels.dispose();
      throw e;
    }
  }
  const { files, speaker, tts } = await loadForCli(model, promptModels).finally(() => promptModels?.dispose());

  let forceTokens = v.tokens ? Number(v.tokens) : undefined;
  if (forceTokens !== undefined && !(Number.isInteger(forceTokens) && forceTokens > 0)) throw new UsageError(`--tokens ${v.tokens}: a positive integer`);
  if (files.synthetic && forceTokens === undefined && !fromStdin && !source) {
    // Random weights never predict EOS meaningfully: without a length they would run to max_len (20 × text).
    forceTokens = 50;
    console.log('NOTE: synthetic model: generating 50 speech tokens (2 s); set --tokens to change');
  }
  const opts = { mode: v.mode as SynthesisMode, instruct: v.instruct, seed: Number(v.seed), forceTokens, finalChunkMask: v['final-chunk-mask'], speed };
  const tmp = `${v.out}.partial-${process.pid}`;
  try {
    let pcm: Float32Array;
    let stats: SynthesisStats;
    if (source) {
      ({ pcm, stats } = await concatStream(tts.streamTokens(source, speaker, { ...opts, streaming: v.stream }), v.stream));
    } else if (v.stream) {
      ({ pcm, stats } = await concatStream(fromStdin ? tts.streamText(stdinPieces(), speaker, opts) : tts.stream(v.text!, speaker, opts), true));
    } else if (fromStdin) {
      ({ pcm, stats } = await concatStream(tts.streamText(stdinPieces(), speaker, { ...opts, streaming: false })));
    } else {
      ({ pcm, stats } = await tts.synthesize(v.text!, speaker, opts));
    }
    writeFileSync(tmp, writeWav(pcm, tts.sampleRate));
    renameSync(tmp, v.out);
    console.log(`wrote ${v.out}: ${stats.audioSeconds.toFixed(2)} s of audio, ${stats.tokens} tokens`);
    console.log(`TTFA ${stats.ttfaMs.toFixed(0)} ms, RTF ${stats.rtf.toFixed(3)} (LLM ${stats.llmMs.toFixed(0)} ms, flow ${stats.flowMs.toFixed(0)} ms, HiFT ${stats.hiftMs.toFixed(0)} ms)`);
    return 0;
  } finally {
    rmSync(tmp, { force: true });
    tts.dispose();
  }
}

type Engine = 'auto' | 'webgpu' | 'wasm';

/** The model options synth and serve share, checked. */
export interface CliModelOptions {
  model?: string;
  size?: string;
  speaker?: string;
  promptWav?: string;
  promptText?: string;
  engine: Engine;
  dtype: 'f32' | 'f16' | 'q8';
  kvDtype: 'f32' | 'f16';
  tuning?: string;
  'no-tuning'?: boolean;
  threads?: number;
  flowCacheMb?: number;
  prefillChunk?: number;
}

/** The parseArgs options of CliModelOptions (synth and serve take them alike). */
export const MODEL_ARGS = {
  model: { type: 'string' }, size: { type: 'string', default: 'tiny' }, speaker: { type: 'string' },
  'prompt-wav': { type: 'string' }, 'prompt-text': { type: 'string' },
  engine: { type: 'string', default: 'auto' }, threads: { type: 'string' }, 'flow-cache-mb': { type: 'string' },
  dtype: { type: 'string', default: 'f32' }, 'kv-dtype': { type: 'string', default: 'f32' },
  tuning: { type: 'string' }, 'no-tuning': { type: 'boolean', default: false }, 'prefill-chunk': { type: 'string' },
} as const;

/** Checks the parsed MODEL_ARGS (UsageError naming the flag). */
export function modelOptions(v: { [K in keyof typeof MODEL_ARGS]?: string | boolean }): CliModelOptions {
  const str = (k: keyof typeof MODEL_ARGS) => (typeof v[k] === 'string' ? (v[k] as string) : undefined);
  const dtype = str('dtype') ?? 'f32', kvDtype = str('kv-dtype') ?? 'f32', size = str('size') ?? 'tiny', engine = str('engine') ?? 'auto';
  if (dtype !== 'f32' && dtype !== 'f16' && dtype !== 'q8') throw new UsageError(`--dtype ${dtype}: use f32, f16 or q8`);
  if (dtype === 'q8' && engine === 'webgpu') throw new UsageError('--dtype q8 is the CPU fallback\'s weight storage (--engine wasm); WebGPU stores f32 or f16');
  if (kvDtype !== 'f32' && kvDtype !== 'f16') throw new UsageError(`--kv-dtype ${kvDtype}: use f32 or f16`);
  if (size !== 'tiny' && size !== 'full') throw new UsageError(`--size ${size}: use tiny or full`);
  if (str('tuning') && v['no-tuning']) throw new UsageError('--tuning and --no-tuning exclude each other');
  if (str('speaker') && str('prompt-wav')) throw new UsageError('--speaker and --prompt-wav exclude each other');
  if (str('prompt-text') !== undefined && !str('prompt-wav')) throw new UsageError('--prompt-text goes with --prompt-wav');
  if (engine !== 'auto' && engine !== 'webgpu' && engine !== 'wasm') throw new UsageError(`--engine ${engine}: use auto, webgpu or wasm`);
  const threads = str('threads') === undefined ? undefined : Number(str('threads'));
  if (threads !== undefined && !(Number.isInteger(threads) && threads >= 1)) throw new UsageError(`--threads ${str('threads')}: a whole number ≥ 1`);
  const flowCacheMb = str('flow-cache-mb') === undefined ? undefined : Number(str('flow-cache-mb'));
  if (flowCacheMb !== undefined && !(Number.isFinite(flowCacheMb) && flowCacheMb >= 0)) throw new UsageError(`--flow-cache-mb ${str('flow-cache-mb')}: a number ≥ 0`);
  const prefillChunk = str('prefill-chunk') === undefined ? undefined : Number(str('prefill-chunk'));
  if (prefillChunk !== undefined && !(Number.isInteger(prefillChunk) && prefillChunk >= 1 && prefillChunk <= DEFAULT_MAX_PREFILL)) throw new UsageError(`--prefill-chunk ${str('prefill-chunk')}: a whole number of rows in [1, ${DEFAULT_MAX_PREFILL}]`);
  return { model: str('model'), size, speaker: str('speaker'), promptWav: str('prompt-wav'), promptText: str('prompt-text'), engine, dtype, kvDtype, tuning: str('tuning'), 'no-tuning': !!v['no-tuning'], threads, flowCacheMb, prefillChunk };
}

/** The model folder (or the synthetic model), its text frontend, the speaker and the pipeline, with progress. */
export async function loadForCli(v: CliModelOptions, promptModels?: PromptModels): Promise<{ files: ModelFiles; speaker: SpeakerPrompt; tts: CosyVoicePipeline; rebuild: () => Promise<CosyVoicePipeline> }> {
  const t0 = performance.now();
  const progress = progressPrinter();
  let files: ModelFiles;
  let text: TextFrontend | undefined;
  if (v.model) {
    files = await loadModelFolder(v.model, progress);
    const tokDir = join(v.model, 'CosyVoice-BlankEN');
    if (existsSync(join(tokDir, 'tokenizer.json')) || existsSync(join(tokDir, 'vocab.json'))) text = new TokenizerFrontend(loadTokenizerDir(tokDir));
  } else {
    files = syntheticModelFiles(v.size === 'full' ? 'full' : 'tiny', 0);
  }
  text ??= new SyntheticTextFrontend(files.config.llm.textVocab);
  if (files.synthetic || !(text instanceof TokenizerFrontend)) {
    progress.log(`NOTE: ${files.synthetic ? files.source : 'no tokenizer files: byte-level stand-in tokenizer'} — the output is not speech`);
  }
  const speaker = v.speaker ? readSpeaker(v.speaker, files)
    : v.promptWav ? speakerFromFile(await speakerFromWav(v.promptWav, v.promptText, files, { model: v.model, size: v.size, threads: v.threads }, progress.log, promptModels))
    : syntheticSpeaker(files);
  const build = (log: (line: string) => void) =>
    buildPipeline(v.engine, files, text, { dtype: v.dtype, kvDtype: v.kvDtype, tuning: v.tuning, noTuning: !!v['no-tuning'], threads: v.threads, flowCacheMb: v.flowCacheMb, prefillChunk: v.prefillChunk }, log);
  const tts = await build(progress.log);
  progress.done(); // after the build: lazily loaded weights are read into place there
  console.log(`model: ${files.source}; loaded in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  // Again from the same files (lazily read weights are read from their files once more), e.g. on a new device.
  return { files, speaker, tts, rebuild: () => build((line) => console.log(line)) };
}

/** A speaker file (.cvspk or .json), checked against the model's dims. */
export function readSpeaker(path: string, files: ModelFiles): SpeakerPrompt {
  const c = files.config;
  return speakerFromFile(loadSpeakerFile(path, speakerExpectationsOf(c)));
}

/** WebGPU on this machine's adapter, or the CPU fallback (asked for, or `auto` without an adapter). */
async function buildPipeline(
  engine: Engine,
  files: ModelFiles,
  text: TextFrontend,
  o: { dtype: 'f32' | 'f16' | 'q8'; kvDtype: 'f32' | 'f16'; tuning?: string; noTuning: boolean; threads?: number; flowCacheMb?: number; prefillChunk?: number },
  log: (line: string) => void,
): Promise<CosyVoicePipeline> {
  if (engine === 'auto' && o.dtype === 'q8') log('NOTE: q8 weights run on the CPU fallback (WebAssembly)');
  else if (engine !== 'wasm') {
    try {
      const handle = await requestNodeDevice();
      log(`adapter: ${adapterLabel(handle.info)} (shader-f16 ${handle.features.has('shader-f16') ? 'available' : 'absent'})`);
      const tuning = o.noTuning ? undefined : o.tuning ? readTuningFile(o.tuning) : readDefaultTuning(adapterLabel(handle.info));
      if (tuning) log(`tuning: ${tuning.source} (${tuning.size} decisions)`);
      const ctx = new GpuContext(handle);
      if (engine === 'auto' && ctx.isCpuAdapter) {
        // Measured on a 2-core lavapipe machine (bench/results/engines.json): every stage runs faster on the CPU fallback.
        log('NOTE: this adapter is a CPU driver; --engine wasm (the CPU fallback) is usually faster here (bench/engines.ts)');
      }
      const flowCacheBytes = o.flowCacheMb === undefined ? undefined : Math.round(o.flowCacheMb * 2 ** 20);
      log(`flow: DiT prefix cache ${flowCacheLabel(o.flowCacheMb)}`);
      return await createWebGpuPipeline(ctx, files, { dtype: o.dtype as 'f32' | 'f16', kvDtype: o.kvDtype, text, tuning, flowCacheBytes, prefillChunk: o.prefillChunk });
    } catch (e) {
      if (engine === 'webgpu' || !(e instanceof NoAdapterError)) throw e;
      log(`NOTE: no WebGPU adapter (${e.message}); running the CPU fallback (WebAssembly)`);
    }
  }
  if (o.dtype === 'f16') log('NOTE: the CPU fallback stores f32 or q8 weights; --dtype f16 runs f32');
  if (o.kvDtype !== 'f32' || o.tuning) log('NOTE: the CPU fallback keeps an f32 cache and has no tuning; --kv-dtype and --tuning do not apply');
  const dtype = o.dtype === 'q8' ? 'q8' : 'f32';
  const tts = await createWasmPipeline(files, { text, threads: o.threads, dtype, flowCacheBytes: o.flowCacheMb === undefined ? undefined : Math.round(o.flowCacheMb * 2 ** 20) });
  log(`engine: wasm (CPU fallback: TypeScript models, WebAssembly SIMD matrix products, ${dtype} weights, ${o.threads ?? defaultCpuThreads()} thread(s), DiT prefix cache ${flowCacheLabel(o.flowCacheMb)})`);
  return tts;
}

function flowCacheLabel(mb: number | undefined): string {
  const v = mb ?? DEFAULT_FLOW_CACHE_BYTES / 2 ** 20;
  return v ? `${v} MiB` : 'off';
}

/** Standard input as UTF-8 text, piece by piece as it arrives (a character split across reads waits for the rest). */
async function* stdinPieces(): AsyncGenerator<string, void> {
  const decoder = new TextDecoder();
  for await (const chunk of process.stdin) {
    const piece = decoder.decode(chunk as Uint8Array, { stream: true });
    if (piece) yield piece;
  }
  const rest = decoder.decode();
  if (rest) yield rest;
}

/** Every chunk of a synthesis, joined, and its statistics; `log` prints each chunk's arrival. */
async function concatStream(gen: AsyncGenerator<Float32Array, SynthesisStats>, log = false): Promise<{ pcm: Float32Array; stats: SynthesisStats }> {
  const parts: Float32Array[] = [];
  const tStart = performance.now();
  let r = await gen.next();
  for (; !r.done; r = await gen.next()) {
    parts.push(r.value);
    if (log) console.log(`chunk ${parts.length}: ${r.value.length} samples at ${(performance.now() - tStart).toFixed(0)} ms`);
  }
  const pcm = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => (pcm.set(p, at), at + p.length), 0);
  return { pcm, stats: r.value };
}
