/**
 * CosyVoice3's token2wav (cli/model.py CosyVoice3Model.token2wav, spec §2.5 and §6): tokens → mel (flow) → PCM
 * (HiFT), offline or chunk by chunk.
 *
 * Streaming follows upstream exactly: every chunk re-runs the flow on ALL tokens so far (plus the prompt), keeps
 * the mel frames from token_mel_ratio·offset on, appends them to the accumulated mel, re-runs HiFT on the whole
 * accumulated mel and emits the samples past what was already emitted. HiFT is causal and its noise is indexed
 * by absolute sample, so re-running reproduces earlier samples exactly and chunks join without crossfades.
 * Where the HiFT port opens a stream (src/models/hift/stream.ts), each chunk's vocoder runs on a window of its
 * new frames instead, with the same samples.
 */
import type { StreamChunk } from '../sampling/index.js';
import type { HiftStream } from '../models/hift/stream.js';
import type { FlowPort, HiftPort } from './ports.js';
import { resampleMel } from './speed.js';
import type { SpeakerPrompt } from './types.js';

export interface StageTimes {
  flowMs: number;
  hiftMs: number;
}

export class Token2Wav {
  private melBlocks: { mel: Float32Array; frames: number }[] = [];
  private melFrames = 0;
  private emitted = 0;
  private readonly stream: HiftStream | undefined;
  readonly times: StageTimes = { flowMs: 0, hiftMs: 0 };

  constructor(
    private readonly flow: FlowPort,
    private readonly hift: HiftPort,
    private readonly speaker: SpeakerPrompt,
  ) {
    this.stream = hift.openStream?.();
  }

  /** Samples emitted so far. */
  get samplesEmitted(): number {
    return Math.max(this.stream?.samplesEmitted ?? 0, this.emitted);
  }

  /**
   * One call of upstream's token2wav over tokens[0, chunk.tokenEnd); returns the new samples. `streaming` is
   * token2wav's `stream` argument (the DiT's static chunk mask); by default it is on exactly for non-final chunks,
   * as upstream's tts() calls it.
   */
  async chunk(
    tokens: Int32Array,
    chunk: Pick<StreamChunk, 'tokenEnd' | 'tokenOffset' | 'finalize'>,
    streaming = !chunk.finalize,
  ): Promise<Float32Array> {
    const { mel, frames } = await this.flowMel(tokens.subarray(0, chunk.tokenEnd), streaming, chunk.finalize);
    const t1 = performance.now();
    const skip = chunk.tokenOffset * this.flow.tokenMelRatio;
    const keep = Math.max(0, frames - skip);
    const fresh = sliceFrames(mel, frames, skip, keep, this.flow.melBins);
    const pcm = this.stream ? await this.stream.push(fresh, keep, chunk.finalize) : await this.rerun(fresh, keep, chunk.finalize);
    this.times.hiftMs += performance.now() - t1;
    return pcm;
  }

  /** The flow's mel of the generated part for these tokens (with the speaker's prompt), timed into times.flowMs. */
  private async flowMel(tokens: Int32Array, streaming: boolean, finalize: boolean): Promise<{ mel: Float32Array; frames: number }> {
    const t0 = performance.now();
    const r = await this.flow.inference({ tokens, promptTokens: this.speaker.promptTokens, promptMel: this.speaker.promptMel, embedding: this.speaker.embedding, streaming, finalize });
    this.times.flowMs += performance.now() - t0;
    return r;
  }

  /** Upstream's way: HiFT on the whole mel so far, keeping the samples past those emitted. */
  private async rerun(mel: Float32Array, frames: number, finalize: boolean): Promise<Float32Array> {
    this.melBlocks.push({ mel, frames });
    this.melFrames += frames;
    const pcm = await this.hift.inference(concatFrames(this.melBlocks, this.melFrames, this.flow.melBins), this.melFrames, finalize);
    const fresh = pcm.slice(this.emitted);
    this.emitted = Math.max(this.emitted, pcm.length);
    return fresh;
  }

  /**
   * The offline path: all tokens, full attention, finalize. `speed` ≠ 1 resamples the mel to int(T / speed) frames
   * before HiFT, as upstream's token2wav does (offline only; src/pipeline/speed.ts).
   */
  async offline(tokens: Int32Array, speed = 1): Promise<Float32Array> {
    if (speed === 1) return this.chunk(tokens, { tokenEnd: tokens.length, tokenOffset: 0, finalize: true }, false);
    const { mel, frames } = await this.flowMel(tokens, false, true);
    const t1 = performance.now();
    const scaled = resampleMel(mel, this.flow.melBins, frames, speed);
    const pcm = await this.hift.inference(scaled.mel, scaled.frames, true);
    this.times.hiftMs += performance.now() - t1;
    this.emitted = pcm.length;
    return pcm;
  }
}

/** Frames [start, start+count) of a [bins, frames] mel. */
function sliceFrames(mel: Float32Array, frames: number, start: number, count: number, bins: number): Float32Array {
  const out = new Float32Array(bins * count);
  for (let b = 0; b < bins; b++) out.set(mel.subarray(b * frames + start, b * frames + start + count), b * count);
  return out;
}

function concatFrames(blocks: { mel: Float32Array; frames: number }[], total: number, bins: number): Float32Array {
  if (blocks.length === 1) return blocks[0].mel;
  const out = new Float32Array(bins * total);
  let at = 0;
  for (const { mel, frames } of blocks) {
    for (let b = 0; b < bins; b++) out.set(mel.subarray(b * frames, (b + 1) * frames), b * total + at);
    at += frames;
  }
  return out;
}
