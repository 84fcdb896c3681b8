/**
 * Zero-shot voices from a WAV: upstream's frontend (cli/frontend.py `frontend_zero_shot`) without ONNX Runtime.
 * The prompt audio is read to mono, resampled to 16 kHz, and fed to the two prompt models of the official folder,
 * run by the CPU ONNX interpreter (src/onnx-run):
 *
 *   - `speech_tokenizer_v3.onnx`: whisper log-mel [1, 128, T] and its length [T] (int32) → speech tokens (25 Hz);
 *   - `campplus.onnx`: Kaldi fbank [1, T, 80], mean over time subtracted → the 192-d speaker embedding;
 *
 * and the 24 kHz flow prompt mel and the token/mel alignment complete the speaker (from-audio.ts), as upstream's.
 * The same tokenizer makes a voice conversion's source tokens (`sourceTokens`, upstream's frontend_vc).
 * Both models run once per prompt, on the CPU, as upstream runs CAMPPlus (the tokenizer it runs on CUDA where it
 * can). Browser-safe: the caller hands in the parsed graphs (Node: loadPromptModels in prompt-models-node.ts).
 */
import { kaldiFbank, TOKENIZER_MAX_SECONDS, whisperLogMel } from '../audio/features16k.js';
import { AudioInputError } from '../audio/mel.js';
import { resample } from '../audio/resample.js';
import { readWav } from '../audio/wav.js';
import type { OnnxModel } from '../../loader/onnx.js';
import { OnnxSession, type OnnxSessionOptions } from '../onnx-run/session.js';
import { OnnxRunError, type Value } from '../onnx-run/tensor.js';
import { speakerFromSources } from './from-audio.js';
import type { SpeakerExpectations, SpeakerPrompt } from './speaker-file.js';

/** The prompt models' file names in an official model folder. */
export const PROMPT_MODEL_FILES = { tokenizer: 'speech_tokenizer_v3.onnx', campplus: 'campplus.onnx' } as const;

export interface PromptModelGraphs {
  tokenizer: OnnxModel;
  campplus: OnnxModel;
}

export class PromptModels {
  private constructor(
    private readonly tokenizer: OnnxSession,
    private readonly campplus: OnnxSession,
  ) {
    if (tokenizer.inputs.length !== 2) throw new OnnxRunError(`${tokenizer.label}: the speech tokenizer takes 2 inputs (log-mel, length), this graph ${tokenizer.inputs.length}`);
    if (campplus.inputs.length !== 1) throw new OnnxRunError(`${campplus.label}: CAMPPlus takes 1 input (fbank), this graph ${campplus.inputs.length}`);
  }

  /** Checks both graphs (every operator supported) and prepares their sessions. */
  static async create(graphs: PromptModelGraphs, opts: Omit<OnnxSessionOptions, 'label'> = {}): Promise<PromptModels> {
    const tok = await OnnxSession.create(graphs.tokenizer, { ...opts, label: PROMPT_MODEL_FILES.tokenizer });
    let cam: OnnxSession | undefined;
    try {
      cam = await OnnxSession.create(graphs.campplus, { ...opts, label: PROMPT_MODEL_FILES.campplus });
      return new PromptModels(tok, cam);
    } catch (e) {
      // Neither session's GEMM threads outlive a refusal (the constructor checks their inputs).
      tok.dispose();
      cam?.dispose();
      throw e;
    }
  }

  dispose(): void {
    this.tokenizer.dispose();
    this.campplus.dispose();
  }

  /** Speech tokens of 16 kHz mono audio (at most 30 s, as upstream asserts). */
  async speechTokens(pcm16k: Float32Array): Promise<Int32Array> {
    const f = whisperLogMel(pcm16k);
    const T = f.shape[1];
    const [mel, len] = this.tokenizer.inputs;
    const out = await this.tokenizer.run({
      [mel.name]: { dtype: 'float32', dims: [1, f.shape[0], T], data: f.data },
      [len.name]: { dtype: len.elemType === 'int64' ? 'int64' : 'int32', dims: [1], data: Float64Array.of(T) },
    });
    return Int32Array.from(firstOutput(out, this.tokenizer).data);
  }

  /** The CAMPPlus embedding of 16 kHz mono audio. */
  async embedding(pcm16k: Float32Array): Promise<Float32Array> {
    const f = kaldiFbank(pcm16k, true);
    const [x] = this.campplus.inputs;
    const out = await this.campplus.run({ [x.name]: { dtype: 'float32', dims: [1, f.shape[0], f.shape[1]], data: f.data } });
    return Float32Array.from(firstOutput(out, this.campplus).data);
  }

  /**
   * A zero-shot speaker from prompt WAV bytes (any PCM/float WAV of ≥ 16 kHz; channels averaged) and, for
   * zero-shot synthesis, its transcript.
   */
  async speaker(wav: Uint8Array, transcript?: string, expect: SpeakerExpectations = {}, label = 'prompt WAV'): Promise<SpeakerPrompt> {
    const pcm16k = read16k(wav, label);
    const speechTokens = await this.speechTokens(pcm16k);
    const embedding = await this.embedding(pcm16k);
    return speakerFromSources({ audio: wav, speechTokens, embedding, ...(transcript !== undefined ? { transcript } : {}) }, expect);
  }

  /**
   * The speech tokens of a source WAV for voice conversion (upstream's frontend_vc: the source's tokens take the
   * LLM's place; CosyVoicePipeline.streamTokens speaks them in a speaker's voice). At most 30 s, as upstream asserts.
   */
  async sourceTokens(wav: Uint8Array, label = 'source WAV'): Promise<Int32Array> {
    const pcm16k = read16k(wav, label);
    const seconds = pcm16k.length / 16000;
    if (seconds > TOKENIZER_MAX_SECONDS) throw new AudioInputError(`${label}: ${seconds.toFixed(2)} s; the speech tokenizer takes at most ${TOKENIZER_MAX_SECONDS} s (upstream asserts the same): convert it in parts`);
    return this.speechTokens(pcm16k);
  }
}

/** WAV bytes as 16 kHz mono (channels averaged), refusing rates below 16 kHz by the file's label. */
function read16k(wav: Uint8Array, label: string): Float32Array {
  const w = readWav(wav, label);
  if (w.sampleRate < 16000) throw new AudioInputError(`${label}: sample rate ${w.sampleRate} Hz is below the 16000 Hz minimum`);
  return resample(w.samples, w.sampleRate, 16000);
}

function firstOutput(out: Record<string, Value>, s: OnnxSession): Value {
  const v = out[s.outputs[0].name];
  if (!v) throw new OnnxRunError(`${s.label}: no output`);
  return v;
}
