/**
 * CausalHiFTGenerator.inference on the CPU: the same stages, padding and streaming trims as the WebGPU forward
 * (src/models/hift/forward.ts, which documents the data flow), with every convolution a GEMM through the WASM
 * kernel (src/models/cpu/conv.ts) on time-major activations [L, C]. The stage activations live in the kernels'
 * memory: the convolutions read and write them in place, and the Snake, LeakyReLU and residual sums run there
 * (CpuKernels.snake etc.), so between conv_pre and conv_post no activation crosses to JavaScript.
 *
 *   f0      F0 predictor in float64 (f0-wasm.ts, or f0.ts when the module is missing)
 *   source  per-frame sines (source.ts) merged with the noise table: s [L]; its STFT S [F, N+2]
 *   trunk   conv_pre; per stage: Down(S) → source ResBlock; LeakyReLU → polyphase Up (+ReflectionPad on the
 *           last stage) + source; mean of the stage's ResBlocks
 *   head    LeakyReLU(0.01) → conv_post → exp/sin → iSTFT → clamp
 *
 * The upsamplers (nearest ×u then a causal conv) use kernels/conv1d.ts foldUpsampleWeight: u phase outputs per
 * input time with ⌈(K−1)/u⌉+1 taps each (3 for every stage) instead of K taps at the output rate; the GEMM's
 * [Lin, u·C] output is the upsampled [u·Lin, C] in time-major order.
 */
import { foldUpsampleWeight, packSnakeAlpha } from '../../../kernels/conv1d.js';
import { CpuKernels, type CpuKernelOptions, type CpuTensor } from '../../../kernels/cpu-linear.js';
import { stftTables } from '../../../kernels/stft.js';
import type { HiftOutputs } from '../../ort/engine.js';
import type { ModelFiles } from '../../pipeline/model-files.js';
import { hiftConfigFromYaml, type HiftConfig } from '../hift/config.js';
import { predictF0 } from '../hift/f0.js';
import { F0Wasm } from '../hift/f0-wasm.js';
import { HiftInputError } from '../hift/forward.js';
import { stageElements } from '../hift/scratch.js';
import { sourceFrameTable } from '../hift/source.js';
import type { HiftWindow } from '../hift/stream.js';
import { loadHiftWeights, type ConvWeight, type HiftWeights, type ResBlockWeight } from '../hift/weights.js';
import { CpuConvs, type CpuConvWeight } from './conv.js';
import { Istft, mergeSource, stftTimeMajor } from './hift-dsp.js';
import { ScratchPool } from './scratch.js';

/** Upstream's magnitude clip before the iSTFT. */
const MAG_CLIP = 100;
/** conv_post's LeakyReLU uses torch's default slope, not lrelu_slope. */
const POST_SLOPE = 0.01;

interface CpuResBlock {
  channels: number;
  k: number;
  dilations: readonly number[];
  convs1: CpuConvWeight[];
  convs2: CpuConvWeight[];
  /** resident [2, C]: the α row, then packSnakeAlpha's 1/(α+1e-9) row */
  alpha1: CpuTensor[];
  alpha2: CpuTensor[];
}

interface CpuStage {
  channels: number;
  rate: number;
  /** product of the later stages' rates: the source downsampler's stride */
  stride: number;
  down: CpuConvWeight;
  sourceRes: CpuResBlock;
  /** polyphase upsampler: [u·C, Cin, taps], output channel r·C + c is phase r of channel c */
  up: CpuConvWeight;
  res: CpuResBlock[];
}

/** Sizes of one call (see forward.ts for the streaming rules). */
interface CallShape {
  /** f0 / source frames */
  tf: number;
  /** trunk frames after conv_pre */
  t0: number;
  /** source STFT frames kept */
  fk: number;
  samples: number;
}

/**
 * Stage activations, resident in the kernels' memory (the convolutions read and write them in place, the Snake,
 * LeakyReLU and residual sums run there too): each [L, C] with C·L ≤ stageElements(cfg, frames).
 */
const STAGE_BUFFERS = ['x', 'xs', 'd', 'si', 'sx', 'a', 'p', 'q'] as const;
type StageBuffer = (typeof STAGE_BUFFERS)[number];

export class CpuHift {
  /** Reused across calls, reallocated only when a call needs more. */
  private stageCap = 0;
  private stageBufs = {} as Record<StageBuffer, CpuTensor>;
  private readonly pool = new ScratchPool();

  private constructor(
    readonly cfg: HiftConfig,
    readonly weights: HiftWeights,
    private readonly convs: CpuConvs,
    private readonly pre: CpuConvWeight,
    private readonly stages: CpuStage[],
    private readonly post: CpuConvWeight,
    private readonly f0Wasm: F0Wasm | null,
    private readonly tables: Float32Array,
    private readonly istft: Istft,
  ) {}

  static async create(files: ModelFiles, opts: CpuKernelOptions = {}): Promise<CpuHift> {
    const cfg = hiftConfigFromYaml(files.yaml);
    const w = loadHiftWeights(files.hift, cfg);
    const convs = new CpuConvs(await CpuKernels.create(opts));
    const conv = (c: ConvWeight) => convs.weight(c.w, c.bias, c.cout, c.cin, c.k, c.name);
    const alpha = (a: Float32Array, name: string): CpuTensor => {
      const pairs = packSnakeAlpha(a), C = a.length;
      const t = convs.kernels.resident(2 * C, name);
      const v = t.view();
      for (let c = 0; c < C; c++) (v[c] = pairs[2 * c]), (v[C + c] = pairs[2 * c + 1]);
      return t;
    };
    const resblock = (rb: ResBlockWeight): CpuResBlock => ({
      channels: rb.channels,
      k: rb.k,
      dilations: rb.dilations,
      convs1: rb.convs1.map(conv),
      convs2: rb.convs2.map(conv),
      alpha1: rb.alpha1.map((a, m) => alpha(a, `${rb.convs1[m].name}.alpha1`)),
      alpha2: rb.alpha2.map((a, m) => alpha(a, `${rb.convs2[m].name}.alpha2`)),
    });
    const nk = cfg.resblockKernels.length;
    const stages = cfg.upsampleRates.map((u, i): CpuStage => {
      const c = w.ups[i];
      const folded = foldUpsampleWeight(c.w, c.cout, c.cin, c.k, u);
      // Every phase of channel c shares c's bias.
      const bias = new Float32Array(u * c.cout).map((_, n) => c.bias[n % c.cout]);
      return {
        channels: c.cout,
        rate: u,
        stride: cfg.upsampleRates.slice(i + 1).reduce((a, b) => a * b, 1),
        down: conv(w.sourceDowns[i]),
        sourceRes: resblock(w.sourceResblocks[i]),
        up: convs.weight(folded.w, bias, folded.cout, c.cin, folded.k, c.name),
        res: w.resblocks.slice(i * nk, (i + 1) * nk).map(resblock),
      };
    });
    const tables = stftTables(cfg.nFft);
    return new CpuHift(cfg, w, convs, conv(w.convPre), stages, conv(w.convPost), await F0Wasm.create(w.f0), tables, new Istft(cfg.nFft, cfg.hop, tables));
  }

  /** mel [1, 80, frames] → speech, source, f0 (as Engine.hift; sineNoise is the fixed table [≥480·frames, 9]). */
  async inference(mel: Float32Array, frames: number, sineNoise: Float32Array, finalize: boolean): Promise<HiftOutputs> {
    const f0 = await this.predictF0(mel, frames, finalize);
    const { speech, source } = this.run(mel, frames, finalize, { first: 0, rows: sourceFrameTable(this.cfg, f0) }, sineNoise);
    return { speech, source: source.slice(), f0 };
  }

  /** The F0 predictor in float64: f0 [frames] (finalize) or [frames − 3]. */
  async predictF0(mel: Float32Array, frames: number, finalize: boolean): Promise<Float64Array> {
    const cin = this.cfg.inChannels;
    if (mel.length !== cin * frames) throw new HiftInputError(`hift: mel holds ${mel.length} values, [${cin}, ${frames}] expected`);
    return this.f0Wasm ? this.f0Wasm.predict(mel, cin, frames, finalize) : predictF0(this.weights.f0, mel, cin, frames, finalize);
  }

  /**
   * The vocoder after the F0 predictor (src/models/hift/stream.ts HiftStages.synthesize): mel frames whose frame 0
   * is absolute frame window.first, with its source rows; sineNoise is read from sample 480·window.first.
   */
  synthesize(mel: Float32Array, frames: number, finalize: boolean, window: HiftWindow, sineNoise: Float32Array): Float32Array {
    return this.run(mel, frames, finalize, window, sineNoise).speech;
  }

  private run(mel: Float32Array, frames: number, finalize: boolean, window: HiftWindow, sineNoise: Float32Array): { speech: Float32Array; source: Float32Array } {
    const { cfg } = this;
    const cin = cfg.inChannels, H = cfg.harmonics, NC = cfg.nFft + 2;
    if (mel.length !== cin * frames) throw new HiftInputError(`hift: mel holds ${mel.length} values, [${cin}, ${frames}] expected`);
    const sh = this.shape(frames, finalize);
    const L = cfg.samplesPerFrame * sh.tf;
    if (window.rows.length !== sh.tf * (H + 1)) throw new HiftInputError(`hift: ${window.rows.length / (H + 1)} source rows for ${sh.tf} f0 frames`);
    const n0 = cfg.samplesPerFrame * window.first;
    if (sineNoise.length < (n0 + L) * H) throw new HiftInputError(`hift: the noise table holds ${Math.floor(sineNoise.length / H)} rows of ${H}, ${n0 + L} needed`);

    const source = mergeSource(window.rows, sineNoise.subarray(n0 * H), this.weights.lLinear, H, cfg.samplesPerFrame, L, this.pool.get('source', L));
    const spec = stftTimeMajor(source, L, this.tables, cfg.nFft, cfg.hop, sh.fk, this.pool.get('spec', sh.fk * NC));

    this.ensureStageBuffers(stageElements(cfg, sh.tf));
    const b = this.stageBufs;
    // Trunk mel = mel[:, :tf] as [tf, Cin]; conv_pre reads frames t..t+look (zeros, or context frames, past tf).
    const melT = this.pool.get('mel', sh.tf * cin);
    for (let t = 0; t < sh.tf; t++) for (let c = 0; c < cin; c++) melT[t * cin + c] = mel[c * frames + t];
    this.convs.run(this.pre, melT, sh.tf, b.xs, sh.t0);
    let len = sh.t0, ch = cfg.baseChannels;
    this.stages.forEach((st, i) => {
      len = this.stage(st, i === this.stages.length - 1, len, ch, spec, sh.fk);
      ch = st.channels;
    });

    const y = this.pool.get('y', len * NC);
    this.kernels.leakyRelu(b.xs, b.a, len * ch, POST_SLOPE);
    this.convs.run(this.post, b.a, len, y, len, { padLeft: this.post.k - 1 });
    const speech = this.istft.run(y, len, sh.samples, MAG_CLIP, cfg.audioLimit, new Float32Array(sh.samples));
    return { speech, source: source.subarray(0, L) };
  }

  /** Stops the GEMM worker threads. */
  dispose(): void {
    this.convs.kernels.dispose();
  }

  /** Frame counts of a call on T mel frames; streaming keeps pad₀ f0 context frames and conv_pre's look-ahead. */
  private shape(T: number, finalize: boolean): CallShape {
    const { cfg } = this;
    const look = cfg.convPreLookRight;
    const tf = finalize ? T : T - this.weights.f0.layers[0].pad;
    const t0 = finalize ? tf : tf - look;
    const samples = cfg.samplesPerFrame * (finalize ? t0 : t0 - 1);
    if (samples < 1) throw new HiftInputError(`hift: ${T} mel frames give no audio with finalize=${finalize}`);
    const stftPerFrame = cfg.samplesPerFrame / cfg.hop;
    return { tf, t0, fk: stftPerFrame * tf + 1 - (finalize ? 0 : stftPerFrame * look), samples };
  }

  /**
   * One upsampling stage: xs [lin, cin] (the previous stage's output) → xs [Li, C]; returns Li.
   * Li = u·lin, plus the ReflectionPad1d((1, 0)) row on the last stage.
   */
  private stage(st: CpuStage, last: boolean, lin: number, cin: number, spec: Float32Array, fk: number): number {
    const b = this.stageBufs, C = st.channels;
    const Li = lin * st.rate + (last ? 1 : 0);
    // Source branch: strided causal conv of the STFT (left pad stride−1), then its ResBlock.
    const lDown = Math.floor((fk - 1 - st.down.k + st.stride) / st.stride) + 1;
    if (lDown !== Li) throw new HiftInputError(`hift: ${st.down.name} gives ${lDown} frames, the stage has ${Li}`);
    this.convs.run(st.down, spec, fk, b.d, Li, { stride: st.stride, padLeft: st.stride - 1 });
    this.resblock(st.sourceRes, b.d, Li, b.si, false);
    // Trunk: LeakyReLU, then the polyphase upsampler ([lin, u·C] ≡ [u·lin, C]), one row later on the last stage.
    const k = this.kernels;
    k.leakyRelu(b.xs, b.a, lin * cin, this.cfg.lreluSlope);
    this.convs.run(st.up, b.a, lin, last ? b.x.slice(C, b.x.length - C) : b.x, lin, { padLeft: st.up.k - 1 });
    if (last) b.x.view().copyWithin(0, 2 * C, 3 * C); // ReflectionPad1d((1, 0)) prepends time 1
    const n = Li * C;
    k.addInto(b.x, b.si, n);
    st.res.forEach((rb, j) => this.resblock(rb, b.x, Li, b.xs, j > 0));
    k.divideBy(b.xs, n, st.res.length);
    return Li;
  }

  /**
   * dest = ResBlock(x) (or dest += with accumulate), x and dest [L, C], distinct. Per dilation d:
   * x ← x + conv₂(Snake₂(conv₁,d(Snake₁(x)))), both convs causal (left pads (k−1)·d and k−1).
   */
  private resblock(rb: CpuResBlock, x: CpuTensor, L: number, dest: CpuTensor, accumulate: boolean): void {
    const b = this.stageBufs, C = rb.channels, k = rb.k, n = L * C, kern = this.kernels;
    let input = x;
    rb.dilations.forEach((d, m) => {
      kern.snake(input, b.sx, L, C, rb.alpha1[m]);
      this.convs.run(rb.convs1[m], b.sx, L, b.a, L, { dilation: d, padLeft: (k - 1) * d });
      kern.snake(b.a, b.a, L, C, rb.alpha2[m]);
      const last = m === rb.dilations.length - 1;
      // The output ping-pongs between p and q (never the buffer it reads as residual).
      const out = last && !accumulate ? dest : input === b.p ? b.q : b.p;
      this.convs.run(rb.convs2[m], b.a, L, out, L, { padLeft: k - 1 });
      if (last && accumulate) kern.addInto(dest, out, n, input);
      else kern.addInto(out, input, n);
      input = out;
    });
  }

  private get kernels(): CpuKernels {
    return this.convs.kernels;
  }

  /** Grows the stage activations (their old space given back first, so that the new ones can reuse it). */
  private ensureStageBuffers(n: number): void {
    if (n <= this.stageCap) return;
    // Zeros before each buffer for the widest causal left padding (k − 1 rows of the widest stage input), so that
    // the stride-1 undilated convolutions read their padding in place instead of building im2col rows.
    const maxK = Math.max(...this.cfg.resblockKernels, this.post.k, ...this.stages.map((st) => st.up.k));
    const zeros = Math.ceil(((maxK - 1) * this.cfg.baseChannels) / 4) * 4;
    for (const name of STAGE_BUFFERS) if (this.stageBufs[name]) this.kernels.release(this.stageBufs[name]);
    for (const name of STAGE_BUFFERS) this.stageBufs[name] = this.kernels.resident(n, `hift.${name}`, zeros);
    this.stageCap = n;
  }
}
