/**
 * `cosyvoice-webgpu speaker`: a voice (speaker file) from a prompt WAV and its transcript, as upstream's zero-shot
 * frontend makes it, with the model folder's speech_tokenizer_v3.onnx and campplus.onnx run by the CPU ONNX
 * interpreter (src/onnx-run; no ONNX Runtime):
 *
 *   speaker --wav prompt.wav --text "transcript" --out voice.cvspk|voice.json [--model <dir> | --size tiny|full] [--threads N]
 *
 * Without --model it uses random stand-ins of the two models (and the synthetic model's dims): the file is then a
 * speaker for the synthetic model, not a voice. synth and serve take the same --prompt-wav/--prompt-text directly.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { syntheticModelFiles, type ModelFiles } from '../../pipeline/model-files.js';
import { speakerExpectationsOf } from '../../pipeline/speaker.js';
import { loadModelFolder } from '../../pipeline/node-model-files.js';
import type { PromptModels } from '../../speaker/prompt-models.js';
import { loadPromptModels, syntheticPromptModels } from '../../speaker/prompt-models-node.js';
import { saveSpeakerFile } from '../../speaker/speaker-io.js';
import type { SpeakerPrompt } from '../../speaker/speaker-file.js';
import { UsageError } from './synth.js';

const HELP = `usage: cosyvoice-webgpu speaker --wav prompt.wav --text "transcript" --out voice.cvspk [options]
  --wav <file>      prompt audio: a WAV (PCM or float, any channels, ≥ 16 kHz; the speech tokenizer takes ≤ 30 s)
  --text "…"        what the prompt says (zero-shot synthesis needs it; cross-lingual and instruct do not)
  --out <file>      speaker file to write: .json (plain) or anything else (binary .cvspk)
  --model <dir>     model folder holding speech_tokenizer_v3.onnx and campplus.onnx (official or converted)
  --size tiny|full  without --model: random stand-ins of the two models for the synthetic model (not a voice)
  --threads N       threads of the interpreter's matrix products (default: this machine's cores, at most 8)`;

/** Where a voice from audio gets its prompt models and its dims. */
export interface PromptSource {
  /** The model folder (undefined: the synthetic model's random stand-ins). */
  model?: string;
  size?: string;
  threads?: number;
}

/** The folder's prompt models, or the synthetic model's random stand-ins (of `size`) without a folder. */
export function openPromptModels(src: PromptSource): Promise<PromptModels> {
  return src.model ? loadPromptModels(src.model, { threads: src.threads }) : syntheticPromptModels(src.size === 'full' ? 'full' : 'tiny', { threads: src.threads });
}

/** The prompt WAV as a speaker of `files`' dims: tokens, embedding, prompt mel, aligned as upstream's frontend. */
export async function speakerFromWav(
  wavPath: string,
  transcript: string | undefined,
  files: ModelFiles,
  src: PromptSource,
  log: (line: string) => void = console.log,
  opened?: PromptModels,
): Promise<SpeakerPrompt> {
  const wav = readWavFile(wavPath, '--prompt-wav/--wav');
  const t0 = performance.now();
  const models = opened ?? (await openPromptModels(src));
  try {
    const c = files.config;
    const s = await models.speaker(wav, transcript, speakerExpectationsOf(c), wavPath);
    log(`voice from ${wavPath}: ${s.promptSpeechTokens.length} prompt tokens, ${s.melFrames} mel frames, embedding of ${s.embedding.length}${src.model ? '' : ' (random stand-in prompt models: not a voice)'}; ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    return s;
  } finally {
    if (!opened) models.dispose();
  }
}

/** A WAV file's bytes (UsageError naming the flag when it cannot be read). */
export function readWavFile(path: string, flag: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    throw new UsageError(`${flag} ${path}: cannot read (${(e as Error).message})`);
  }
}

export async function speakerCommand(argv: string[]): Promise<number> {
  const { values: v } = parseArgs({
    args: argv,
    options: {
      wav: { type: 'string' }, text: { type: 'string' }, out: { type: 'string' }, model: { type: 'string' },
      size: { type: 'string', default: 'tiny' }, threads: { type: 'string' }, help: { type: 'boolean', default: false },
    },
  });
  if (v.help) {
    console.log(HELP);
    return 0;
  }
  if (!v.wav || !v.out) throw new UsageError(`--wav and --out are required\n${HELP}`);
  if (v.size !== 'tiny' && v.size !== 'full') throw new UsageError(`--size ${v.size}: use tiny or full`);
  const threads = v.threads === undefined ? undefined : Number(v.threads);
  if (threads !== undefined && !(Number.isInteger(threads) && threads >= 1)) throw new UsageError(`--threads ${v.threads}: a whole number ≥ 1`);
  const files = v.model ? await loadModelFolder(v.model) : syntheticModelFiles(v.size, 0);
  const s = await speakerFromWav(v.wav, v.text, files, { model: v.model, size: v.size, threads });
  saveSpeakerFile(v.out, s);
  console.log(`wrote ${v.out}`);
  return 0;
}
