/**
 * Upstream's streaming token2wav schedule (cosyvoice/cli/model.py `CosyVoice2Model.tts(stream=True)`, used by
 * CosyVoice3), as a pure state machine over token counts.
 *
 * - pad = ceil(P / hop)·hop − P for P prompt tokens, with hop the hop length at request start; the first chunk's
 *   hop is hop + pad, so prompt + first hop is a multiple of hop (the DiT's static 25-token chunks then line up).
 * - a chunk is due when available − offset ≥ thisHop + pre_lookahead; it renders tokens[0 : offset + thisHop +
 *   pre_lookahead] with token_offset = offset and finalize = false; then offset += thisHop and
 *   hop = min(max_hop, hop · scale) (25 → 50 → 100 → 100 …).
 * - once the LLM has finished and fewer than thisHop + pre_lookahead tokens remain, one last call renders ALL
 *   tokens with token_offset = offset and finalize = true (the flow then runs with full attention).
 * - upstream mutates `self.token_hop_len` on the shared model and never resets it, so a second request starts at
 *   the grown hop; `initialHop` lets a caller reproduce that, the default is a fresh model (25).
 *
 * - the loop's exit test reuses the hop computed at the top of the same iteration (before a chunk grew it), so
 *   one iteration can emit a chunk and then finish; `poll` mirrors one iteration and returns 0, 1 or 2 chunks.
 *
 * Audio accounting (spec §5.7/§6): after a non-final chunk the accumulated mel holds token_mel_ratio·(offset +
 * thisHop) frames (the look-ahead tokens' frames are not kept) and a non-final HiFT call on T frames yields
 * 480·(T − 8) samples; the final call completes the total to token_mel_ratio·N·480. Exposed as `samplesEnd`.
 */

export class StreamScheduleError extends Error {
  override name = 'StreamScheduleError';
}

export interface StreamScheduleOptions {
  /** Prompt speech tokens given to the flow (P). */
  promptTokens: number;
  /** token_hop_len (25, must equal the DiT chunk in tokens). */
  tokenHopLen?: number;
  /** token_max_hop_len (100). */
  tokenMaxHopLen?: number;
  /** stream_scale_factor (2). */
  streamScaleFactor?: number;
  /** flow.pre_lookahead_len (3). */
  preLookaheadLen?: number;
  /** hop at request start if the shared-model quirk is reproduced (default tokenHopLen). */
  initialHop?: number;
  /** flow.token_mel_ratio (2) and samples per mel frame (480), for `samplesEnd`. */
  tokenMelRatio?: number;
  samplesPerFrame?: number;
  /** Mel frames a non-final HiFT call withholds (8: 3 f0 context + 4 conv_pre context + 480 samples). */
  hiftHeldFrames?: number;
}

export interface StreamChunk {
  /** Tokens [0, tokenEnd) are passed to token2wav. */
  tokenEnd: number;
  /** token_offset: mel frames from tokenMelRatio·tokenOffset on are new. */
  tokenOffset: number;
  finalize: boolean;
  /** Hop used for this chunk (tokens newly covered = hop; 0 meaning "the rest" on the final chunk). */
  hop: number;
  /** Total audio samples emitted once this chunk has been rendered. */
  samplesEnd: number;
}

export class StreamSchedule {
  private offset = 0;
  private hopLen: number;
  private readonly pad: number;
  private finished = false;
  private readonly o: Required<Omit<StreamScheduleOptions, 'initialHop'>>;

  constructor(opts: StreamScheduleOptions) {
    this.o = {
      promptTokens: opts.promptTokens,
      tokenHopLen: opts.tokenHopLen ?? 25,
      tokenMaxHopLen: opts.tokenMaxHopLen ?? 100,
      streamScaleFactor: opts.streamScaleFactor ?? 2,
      preLookaheadLen: opts.preLookaheadLen ?? 3,
      tokenMelRatio: opts.tokenMelRatio ?? 2,
      samplesPerFrame: opts.samplesPerFrame ?? 480,
      hiftHeldFrames: opts.hiftHeldFrames ?? 8,
    };
    if (!Number.isInteger(opts.promptTokens) || opts.promptTokens < 0) {
      throw new StreamScheduleError(`promptTokens must be an integer ≥ 0, got ${opts.promptTokens}`);
    }
    this.hopLen = opts.initialHop ?? this.o.tokenHopLen;
    if (!(this.hopLen > 0)) throw new StreamScheduleError(`hop length must be > 0, got ${this.hopLen}`);
    const P = opts.promptTokens;
    this.pad = Math.ceil(P / this.hopLen) * this.hopLen - P;
  }

  /** Prompt padding added to the first hop. */
  get promptPad(): number {
    return this.pad;
  }

  get tokenOffset(): number {
    return this.offset;
  }

  /** The hop length the model object would hold now (grows after every chunk). */
  get currentHopLen(): number {
    return this.hopLen;
  }

  get done(): boolean {
    return this.finished;
  }

  private thisHop(): number {
    return this.offset === 0 ? this.hopLen + this.pad : this.hopLen;
  }

  /**
   * One polling iteration of upstream's loop: given how many tokens exist and whether the LLM has ended, returns
   * the chunks to render now (none, one, or a last regular chunk followed by the final one). Call until `done`.
   */
  poll(available: number, llmDone: boolean): StreamChunk[] {
    if (this.finished) throw new StreamScheduleError('poll() after the final chunk');
    if (available < this.offset) {
      throw new StreamScheduleError(`token count went backwards: ${available} < offset ${this.offset}`);
    }
    const { preLookaheadLen, tokenMelRatio, samplesPerFrame, hiftHeldFrames } = this.o;
    const hop = this.thisHop();
    const out: StreamChunk[] = [];
    if (available - this.offset >= hop + preLookaheadLen) {
      out.push({
        tokenEnd: this.offset + hop + preLookaheadLen,
        tokenOffset: this.offset,
        finalize: false,
        hop,
        samplesEnd: (tokenMelRatio * (this.offset + hop) - hiftHeldFrames) * samplesPerFrame,
      });
      this.offset += hop;
      this.hopLen = Math.min(this.o.tokenMaxHopLen, this.hopLen * this.o.streamScaleFactor);
    }
    // Exit test with the hop from the top of this iteration (upstream's stale `this_token_hop_len`).
    if (llmDone && available - this.offset < hop + preLookaheadLen) {
      this.finished = true;
      out.push({
        tokenEnd: available,
        tokenOffset: this.offset,
        finalize: true,
        hop: 0,
        samplesEnd: tokenMelRatio * available * samplesPerFrame,
      });
    }
    return out;
  }
}

/**
 * Every chunk for N tokens when the LLM has already finished. A trickling LLM gives the same chunks, except in the
 * stale-hop corner case (first hop + pad larger than the grown hop, only possible with `initialHop` = max hop).
 */
export function planStreamChunks(totalTokens: number, opts: StreamScheduleOptions): StreamChunk[] {
  const s = new StreamSchedule(opts);
  const out: StreamChunk[] = [];
  while (!s.done) out.push(...s.poll(totalTokens, true));
  return out;
}
