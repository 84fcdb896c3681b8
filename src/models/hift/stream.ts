/**
 * Streaming HiFT over a window: each chunk runs the vocoder on its new frames plus the trunk's left reach, not on
 * the whole mel so far, and gives the same samples, bit for bit, as upstream's re-run from the utterance start.
 *
 * Why that holds (spec §5):
 *   - Every trunk layer is causal with a finite left reach (conv_pre looks only right; the upsamplers, ResBlocks,
 *     conv_post and the iSTFT reach a bounded number of samples back). An output sample depends on mel frames
 *     down to `trunkReachFrames` before its own. Windows start at a whole mel frame, so every stage's samples
 *     keep their phase, and the kernels accumulate each output in an order that does not depend on its position.
 *   - What is not local is the NSF source: its phase is a running sum over all f0 frames from frame 0, and its
 *     noise is read by absolute sample. The stream keeps that state itself: the f0 frames it has finished, the
 *     source rows they give (sourceFrameTable with its running sum carried across calls), and the window's
 *     first frame, from which the noise table is read.
 *   - The f0 predictor is local too (frame t reads mel t − left … t + right): each call predicts its new f0 frames
 *     from a mel slice that starts `left` frames before them.
 *
 * Per call on T frames so far (E samples emitted, e = E / spf whole frames):
 *   f0       frames [done, T − right) (all T when finalizing) from mel [done − left, T)
 *   window   mel [w0, T) with w0 = max(0, e − reach), its source rows, its first frame w0
 *   out      the window's samples from E − spf·w0 on: spf·(T − 8) − E new samples (spf·T − E when finalizing)
 *
 * Cost per chunk: its new frames + reach (29 frames at CosyVoice3's HiFT) + the 8 held back, against all frames so
 * far for the re-run.
 */
import type { HiftConfig } from './config.js';
import { HiftInputError } from './forward.js';
import { sourceFrameTable } from './source.js';
import type { HiftWeights, ResBlockWeight } from './weights.js';

/** Where a window starts and the NSF source rows of its f0 frames (sourceFrameTable rows [tf, H+1]). */
export interface HiftWindow {
  /** absolute mel frame of the window's frame 0: the noise table is read from sample spf·first */
  first: number;
  rows: Float32Array;
}

/** The two halves of a HiFT implementation that a stream drives (HiftGenerator on WebGPU, CpuHift on the CPU). */
export interface HiftStages {
  readonly cfg: HiftConfig;
  readonly weights: Pick<HiftWeights, 'ups' | 'sourceDowns' | 'sourceResblocks' | 'resblocks' | 'convPost' | 'f0'>;
  /** f0 in f64 of mel [Cin, T]: T frames (finalize) or T − right. */
  predictF0(mel: Float32Array, T: number, finalize: boolean): Promise<Float64Array>;
  /** Speech of mel [Cin, T] whose frame 0 is absolute frame window.first: spf·T samples (finalize) or spf·(T − 8). */
  synthesize(mel: Float32Array, T: number, finalize: boolean, window: HiftWindow): Promise<Float32Array>;
}

/** Left reach of a ResBlock in its own samples: per dilation d, conv₁ reaches (k−1)·d back and conv₂ k−1. */
function resblockReach(rb: ResBlockWeight): number {
  return rb.dilations.reduce((a, d) => a + (rb.k - 1) * (d + 1), 0);
}

/**
 * How many mel frames before an output sample's own frame the trunk reads (a bound, in whole frames): per stage,
 * the mean of ResBlocks after the sum of the upsampled trunk (which reaches on into the earlier stages) and the
 * source branch (its ResBlock, the strided Down and the STFT window; the source itself is exact from the rows);
 * then conv_post and the iSTFT's overlap. 29 at CosyVoice3's HiFT.
 */
export function trunkReachFrames(cfg: HiftConfig, w: HiftStages['weights']): number {
  const spf = cfg.samplesPerFrame;
  const stftPerFrame = spf / cfg.hop;
  const stftReach = cfg.nFft / 2 / spf;
  const nk = cfg.resblockKernels.length;
  let rate = 1;
  let inner = 0; // reach of the current stage's output, in mel frames
  cfg.upsampleRates.forEach((u, i) => {
    const prevRate = rate;
    rate *= u;
    const last = i === cfg.upsampleRates.length - 1;
    const stride = stftPerFrame / rate;
    const down = stride > 1 ? (stride - 1) / stftPerFrame : (w.sourceDowns[i].k - 1) / stftPerFrame;
    const source = resblockReach(w.sourceResblocks[i]) / rate + down + stftReach;
    // nearest ×u then a causal conv: ⌈(K−1)/u⌉ input samples back; the last stage's reflection pad shifts by one.
    const up = Math.ceil((w.ups[i].k - 1) / u) / prevRate + (last ? 1 / rate : 0);
    const res = Math.max(...w.resblocks.slice(i * nk, (i + 1) * nk).map(resblockReach)) / rate;
    inner = res + Math.max(source, up + inner);
  });
  return Math.ceil(inner + (w.convPost.k - 1 + cfg.nFft / cfg.hop) / rate);
}

/** The f0 predictor's reach: `right` context frames of its first conv, `left` frames back through the rest. */
export function f0Reach(w: Pick<HiftWeights, 'f0'>): { left: number; right: number } {
  const [first, ...rest] = w.f0.layers;
  return { left: rest.reduce((a, l) => a + l.pad, 0), right: first.pad };
}

/** `a` if it holds `need` values, else a copy of its first `used` values in a buffer at least twice as long. */
function grown(a: Float32Array, need: number, used: number): Float32Array {
  if (need <= a.length) return a;
  const next = new Float32Array(Math.max(need, 2 * a.length));
  next.set(a.subarray(0, used));
  return next;
}

/** One utterance's vocoder stream: push the new mel frames of each chunk, get the new samples. */
export class HiftStream {
  private readonly bins: number;
  private readonly spf: number;
  private readonly H1: number;
  private readonly reach: number;
  private readonly f0: { left: number; right: number };
  /** mel so far, time-major [cap, bins] */
  private mel: Float32Array = new Float32Array(0);
  private frames = 0;
  /** source rows of the finished f0 frames, [cap, H+1] */
  private rows: Float32Array = new Float32Array(0);
  private done = 0;
  private readonly cum: Float64Array;
  private emitted = 0;
  private finished = false;
  /** Mel frames the last call ran the vocoder on (for benches and tests). */
  lastWindowFrames = 0;

  /** `opts.reach` overrides trunkReachFrames (tests: a shorter reach must change the bits). */
  constructor(
    private readonly stages: HiftStages,
    opts: { reach?: number } = {},
  ) {
    const { cfg, weights } = stages;
    this.bins = cfg.inChannels;
    this.spf = cfg.samplesPerFrame;
    this.H1 = cfg.harmonics + 1;
    this.reach = opts.reach ?? trunkReachFrames(cfg, weights);
    this.f0 = f0Reach(weights);
    this.cum = new Float64Array(cfg.harmonics);
  }

  get samplesEmitted(): number {
    return this.emitted;
  }

  /**
   * Appends mel [bins, n] (row-major, the chunk's new frames) and returns the samples past those already given:
   * up to spf·(frames − 8), or to the end with `finalize` (after which the stream takes nothing more). A chunk that
   * leaves no new samples returns an empty array.
   */
  async push(mel: Float32Array, n: number, finalize: boolean): Promise<Float32Array> {
    if (this.finished) throw new HiftInputError('hift stream: finalized already');
    if (mel.length !== this.bins * n) throw new HiftInputError(`hift stream: mel holds ${mel.length} values, [${this.bins}, ${n}] expected`);
    this.append(mel, n);
    const T = this.frames;
    const tf = finalize ? T : T - this.f0.right;
    const end = finalize ? this.spf * T : this.spf * Math.max(0, tf - this.stages.cfg.convPreLookRight - 1);
    this.finished = finalize;
    if (end <= this.emitted) return new Float32Array(0);
    await this.extendRows(tf, finalize);
    const w0 = Math.max(0, this.emitted / this.spf - this.reach);
    const tw = T - w0;
    this.lastWindowFrames = tw;
    const speech = await this.stages.synthesize(this.window(w0, tw), tw, finalize, { first: w0, rows: this.rows.subarray(w0 * this.H1, tf * this.H1) });
    const from = this.emitted - this.spf * w0;
    if (speech.length !== end - this.spf * w0) throw new HiftInputError(`hift stream: the window gave ${speech.length} samples, ${end - this.spf * w0} expected`);
    this.emitted = end;
    return speech.slice(from);
  }

  private append(mel: Float32Array, n: number): void {
    this.mel = grown(this.mel, (this.frames + n) * this.bins, this.frames * this.bins);
    for (let t = 0; t < n; t++) for (let b = 0; b < this.bins; b++) this.mel[(this.frames + t) * this.bins + b] = mel[b * n + t];
    this.frames += n;
  }

  /** Mel frames [w0, w0 + tw) as [bins, tw] row-major. */
  private window(w0: number, tw: number): Float32Array {
    const out = new Float32Array(this.bins * tw);
    for (let t = 0; t < tw; t++) for (let b = 0; b < this.bins; b++) out[b * tw + t] = this.mel[(w0 + t) * this.bins + b];
    return out;
  }

  /** Predicts f0 frames [done, tf) and appends their source rows, carrying the phase sum. */
  private async extendRows(tf: number, finalize: boolean): Promise<void> {
    if (tf <= this.done) return;
    const a = Math.max(0, this.done - this.f0.left);
    const f0 = await this.stages.predictF0(this.window(a, this.frames - a), this.frames - a, finalize);
    if (f0.length !== tf - a) throw new HiftInputError(`hift stream: the f0 predictor gave ${f0.length} frames, ${tf - a} expected`);
    this.rows = grown(this.rows, tf * this.H1, this.done * this.H1);
    sourceFrameTable(this.stages.cfg, f0.subarray(this.done - a), this.rows.subarray(this.done * this.H1, tf * this.H1), this.cum);
    this.done = tf;
  }
}
