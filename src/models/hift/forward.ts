/**
 * CausalHiFTGenerator.inference on WebGPU: mel [80, T] → waveform, offline (finalize) or streaming.
 *
 *   f0 = F0Predictor(mel) in float64: on the GPU in emulated f64 (f0-gpu.ts; default on GPUs, one submit and a
 *               readback of f0 [T]) or on the CPU (f0-wasm.ts / f0.ts; default on CPU adapters)
 *   CPU (f32):  per-frame sines and noise amplitude         (src/models/hift/source.ts)
 *   GPU:        s = tanh(l_linear(sines·uv + amp·U[n]))     sinegen
 *               S = STFT(s) [N+2, F]                        stft
 *               x = conv_pre(mel)                           conv1d (right look-ahead)
 *               per stage i: si = SrcRes_i(Down_i(S)); x = Up_i(leaky(x)) (+ReflectionPad last) + si;
 *                            x = mean_j ResBlock_ij(x)      conv1d ×(2·3 per ResBlock), Snake/residual fused
 *               y = conv_post(leaky₀.₀₁(x)); wave = clamp(iSTFT(exp/clip, sin(y)))   conv1d, istft
 *
 * Streaming (finalize = false), exactly as upstream: f0 uses the last pad₀ (3) mel frames as right context and
 * has T−3 frames; the trunk sees mel[:, :T−3] and conv_pre takes its last `look` (4) frames as context (T−7
 * frames); the STFT keeps 120·4 fewer frames; the iSTFT drops its last spf samples. A call on T frames returns
 * spf·(T−8) samples equal to the start of the finalize output on any longer mel.
 *
 * Plans (flat DispatchRecord lists over the preallocated scratch) are built once per (T, finalize) and cached
 * (the most recent MAX_PLANS); a call then writes the mel and the frame table, submits once and reads back once.
 * A new length costs one plan build (~120 small uniform buffers and bind groups, no new activations).
 *
 * Random tables: SineGen2's uniform table U [samples, 9] comes from the caller (`noise`), read by absolute
 * sample index from the utterance start (each call restarts at 0, as upstream slices `sine_waves[:, :L]`).
 * The fixtures pass upstream's own table. For real checkpoints upstream draws it with torch.rand at model
 * construction from the global RNG stream, so no checkpoint fixes it and any U[0,1) table is equally faithful;
 * the pipeline uses src/pipeline/noise.ts (TorchGenerator seed 0, prefix-stable). rand_ini is inert (it only
 * touches sample 0, which the ↓480 interpolation never reads) and SourceModuleHnNSF's own noise branch is unused.
 */

const MAX_PLANS = 8;
import { conv1d, foldUpsampleWeight, packConvWeight, packSnakeAlpha } from '../../../kernels/conv1d.js';
import { istft } from '../../../kernels/istft.js';
import { sinegen, sinegenParams } from '../../../kernels/sinegen.js';
import { snake } from '../../../kernels/snake.js';
import { stft, stftTables } from '../../../kernels/stft.js';
import type { GpuContext } from '../../gpu/context.js';
import type { DispatchRecord } from '../../gpu/dispatch.js';
import { PlanCache } from '../../gpu/plan-cache.js';
import type { GpuTensor } from '../../gpu/tensor.js';
import type { HiftConfig } from './config.js';
import { predictF0 } from './f0.js';
import { F0Gpu } from './f0-gpu.js';
import { F0Wasm } from './f0-wasm.js';
import { allocHiftScratch, view, type HiftScratch } from './scratch.js';
import { sourceFrameTable } from './source.js';
import type { HiftStages, HiftWindow } from './stream.js';
import type { ConvWeight, HiftWeights, ResBlockWeight } from './weights.js';

export class HiftInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HiftInputError';
  }
}

interface GpuConv {
  w: GpuTensor;
  bias: GpuTensor;
  src: ConvWeight;
  /** Taps of the packed weight: src.k, or the polyphase taps of an upsampler (foldUpsampleWeight). */
  k: number;
}

export interface HiftResult {
  speech: Float32Array;
  /** f0 per frame (f64, as upstream's predictor returns it before the f32 cast) */
  f0: Float64Array;
  /** harmonic source [spf·T_f] (only when asked: one extra readback) */
  source?: Float32Array;
}

export interface HiftOptions {
  maxFrames: number;
  /**
   * The SineGen2 uniform [0,1) table [rows, H] (upstream: torch.rand(1, 300·24000, 9) drawn at construction),
   * read by absolute sample index; rows ≥ spf·maxFrames.
   */
  noise: Float32Array;
  /**
   * F0 predictor backend: 'gpu' (WGSL in emulated double precision, ≈ 48-bit mantissas, measured ≤ 2.4e-12
   * relative to f64; the default on GPU adapters; H200: 1.7 ms of GPU time per second of audio, 2.4 ms with its
   * submit and readback, against 77 ms for 'wasm'), 'wasm' (AssemblyScript f64x2; the default on CPU adapters
   * such as lavapipe, where the CPU runs it faster than the emulation) or 'js' (plain TypeScript f64).
   */
  f0Backend?: F0Backend;
}

export type F0Backend = 'gpu' | 'wasm' | 'js';

/** Sizes of one call. */
export interface HiftShape {
  T: number;
  finalize: boolean;
  /** f0 / source frames */
  tf: number;
  /** trunk frames after conv_pre */
  t0: number;
  samples: number;
}

export class HiftGenerator implements HiftStages {
  readonly scratch: HiftScratch;
  private readonly convs = new Map<string, GpuConv>();
  private readonly alphas = new Map<Float32Array, GpuTensor>();
  private readonly tables: GpuTensor;
  private readonly noise: GpuTensor;
  private readonly lin: GpuTensor;
  /** sinegen's Params, written per call: every plan reads the noise table from the call's first sample. */
  private readonly sourceParams: GPUBuffer;
  private readonly plans = new PlanCache(MAX_PLANS);
  private f0Wasm: Promise<F0Wasm | null> | undefined;
  private readonly f0Gpu: F0Gpu | undefined;

  constructor(readonly ctx: GpuContext, readonly cfg: HiftConfig, readonly weights: HiftWeights, opts: HiftOptions) {
    const H = cfg.harmonics;
    if (opts.noise.length < cfg.samplesPerFrame * opts.maxFrames * H) {
      throw new HiftInputError(`hift: noise table holds ${opts.noise.length / H} rows of ${H}; ${cfg.samplesPerFrame * opts.maxFrames} needed for ${opts.maxFrames} frames`);
    }
    this.scratch = allocHiftScratch(ctx, cfg, opts.maxFrames);
    const f0Backend = opts.f0Backend ?? (ctx.isCpuAdapter ? 'wasm' : 'gpu');
    if (f0Backend === 'wasm') this.f0Wasm = F0Wasm.create(weights.f0);
    if (f0Backend === 'gpu') this.f0Gpu = new F0Gpu(ctx, weights.f0, opts.maxFrames);
    this.tables = ctx.upload(stftTables(cfg.nFft), 'f32', [3, cfg.nFft], 'hift.stft_tables');
    this.noise = ctx.upload(opts.noise.subarray(0, cfg.samplesPerFrame * opts.maxFrames * H), 'f32', [cfg.samplesPerFrame * opts.maxFrames, H], 'hift.noise');
    this.lin = ctx.upload(weights.lLinear, 'f32', [H + 1], 'hift.l_linear');
    this.sourceParams = ctx.uniform(sinegenParams(0, cfg.samplesPerFrame), 'hift.sinegen_params');
    const all: ConvWeight[] = [weights.convPre, ...weights.ups, ...weights.sourceDowns, weights.convPost];
    for (const rb of [...weights.sourceResblocks, ...weights.resblocks]) all.push(...rb.convs1, ...rb.convs2);
    for (const c of all) {
      // The upsamplers (nearest ×u + causal conv) run polyphase: ⌈(K−1)/u⌉ + 1 taps at the input rate over u·C
      // channels instead of K taps at the output rate (ups ×8 k16 / ×5 k11 / ×3 k7: 3 taps each).
      const u = cfg.upsampleRates[weights.ups.indexOf(c)] ?? 1;
      const f = u > 1 ? foldUpsampleWeight(c.w, c.cout, c.cin, c.k, u) : c;
      const packed = packConvWeight(f.w, f.cout, c.cin, f.k);
      this.convs.set(c.name, {
        w: ctx.upload(packed, 'f32', [packed.length], `${c.name}.w`),
        bias: ctx.upload(c.bias, 'f32', [c.cout], `${c.name}.b`),
        src: c,
        k: f.k,
      });
    }
  }

  private alpha(a: Float32Array): GpuTensor {
    let t = this.alphas.get(a);
    if (!t) this.alphas.set(a, (t = this.ctx.upload(packSnakeAlpha(a), 'f32', [a.length, 2], 'snake.alpha')));
    return t;
  }

  shape(T: number, finalize: boolean): HiftShape {
    const pad0 = this.weights.f0.layers[0].pad;
    const tf = finalize ? T : T - pad0;
    const t0 = finalize ? tf : tf - this.cfg.convPreLookRight;
    const samples = this.cfg.samplesPerFrame * (finalize ? t0 : t0 - 1);
    if (samples < 1) throw new HiftInputError(`hift: ${T} mel frames give no audio with finalize=${finalize} (need > ${finalize ? 0 : pad0 + this.cfg.convPreLookRight + 1})`);
    if (T > this.scratch.maxFrames) throw new HiftInputError(`hift: ${T} mel frames exceed maxFrames ${this.scratch.maxFrames}`);
    return { T, finalize, tf, t0, samples };
  }

  private resblock(rb: ResBlockWeight, x: GpuTensor, dest: GpuTensor, L: number, mode: { accumulate?: boolean; divide?: number }, rec: DispatchRecord[]): void {
    const C = rb.channels;
    const A = view(this.scratch.a, [C, L]);
    const B = view(this.scratch.b, [C, L]);
    const SX = view(this.scratch.sx, [C, L]);
    const nd = rb.dilations.length;
    for (let m = 0; m < nd; m++) {
      const d = rb.dilations[m];
      const c1 = this.convs.get(rb.convs1[m].name)!, c2 = this.convs.get(rb.convs2[m].name)!;
      const input = m === 0 ? x : B;
      // Snake₁ once per element into SX (applying it inside the conv's loads would redo it per channel block).
      rec.push(snake(this.ctx, { x: input, alpha: this.alpha(rb.alpha1[m]), out: SX }, `${rb.name}.activations1.${m}`));
      rec.push(conv1d(this.ctx, {
        x: SX, w: c1.w, bias: c1.bias, out: A, cout: C, k: rb.k, lout: L, dilation: d, padLeft: (rb.k - 1) * d,
        snakeOut: this.alpha(rb.alpha2[m]),
      }, `${rb.name}.convs1.${m}`));
      const last = m === nd - 1;
      rec.push(conv1d(this.ctx, {
        x: A, w: c2.w, bias: c2.bias, cout: C, k: rb.k, lout: L, padLeft: rb.k - 1,
        ...(last
          ? { out: dest, residual: input, accumulate: mode.accumulate, divide: mode.divide }
          : m === 0 ? { out: B, residual: x } : { out: B, resInplace: true }),
      }, `${rb.name}.convs2.${m}`));
    }
  }

  /**
   * Plans streaming and final calls at a few lengths, from 16 mel frames to maxFrames, so that their pipelines
   * compile with the load's (GpuContext.compileBatch): a conv's workgroup width follows its output length
   * (kernels/conv1d.ts: 32 lanes for short outputs, 64 past that), so short and long calls use different
   * variants, and the shortest and longest calls bracket them all.
   */
  planAhead(): void {
    for (const T of new Set([16, 32, 64, 100, this.scratch.maxFrames])) {
      for (const finalize of [false, true]) {
        try {
          this.shape(T, finalize);
        } catch (e) {
          if (e instanceof HiftInputError) continue; // too short to give audio in this mode
          throw e;
        }
        this.plan(T, finalize);
        this.f0Gpu?.plan(T, finalize);
      }
    }
  }

  /** The dispatch list for one call shape (cached). */
  plan(T: number, finalize: boolean): DispatchRecord[] {
    return this.plans.get(`${T}:${finalize}`, () => this.buildPlan(T, finalize));
  }

  private buildPlan(T: number, finalize: boolean): DispatchRecord[] {
    const { cfg, ctx, scratch: s, weights: W } = this;
    const sh = this.shape(T, finalize);
    const spf = cfg.samplesPerFrame, H = cfg.harmonics, NC = cfg.nFft + 2;
    const L = spf * sh.tf;
    const framesPerMel = spf / cfg.hop;
    const fk = L / cfg.hop + 1 - (finalize ? 0 : framesPerMel * cfg.convPreLookRight);
    const rec: DispatchRecord[] = [];
    rec.push(sinegen(ctx, { frames: s.frames, noise: this.noise, lin: this.lin, s: s.source, len: L, up: spf, harmonics: H, params: this.sourceParams }, 'm_source'));
    const S = view(s.spec, [NC, fk]);
    rec.push(stft(ctx, { s: s.source, len: L, tables: this.tables, out: S, nFft: cfg.nFft, hop: cfg.hop, frames: fk }, 'stft'));
    const pre = this.convs.get('conv_pre')!;
    let prev = view(s.xs[1], [cfg.baseChannels, sh.t0]);
    rec.push(conv1d(ctx, { x: view(s.mel, [cfg.inChannels, sh.tf]), w: pre.w, bias: pre.bias, out: prev, cout: cfg.baseChannels, k: pre.src.k, lout: sh.t0 }, 'conv_pre'));
    let lprev = sh.t0;
    const nStages = cfg.upsampleRates.length, nk = cfg.resblockKernels.length;
    for (let i = 0; i < nStages; i++) {
      const C = cfg.baseChannels >> (i + 1);
      const lastStage = i === nStages - 1;
      const Li = lprev * cfg.upsampleRates[i] + (lastStage ? 1 : 0);
      // Source branch: Down_i (strided causal conv of the STFT), then its ResBlock.
      const dn = this.convs.get(`source_downs.${i}`)!;
      const stride = cfg.upsampleRates.slice(i + 1).reduce((a, b) => a * b, 1);
      const lDown = stride === 1 ? fk : Math.floor((fk + stride - 1 - dn.src.k) / stride) + 1;
      if (lDown !== Li) throw new HiftInputError(`hift: source_downs.${i} gives ${lDown} frames, stage ${i} has ${Li}`);
      const D = view(s.d, [C, Li]);
      rec.push(conv1d(ctx, { x: S, w: dn.w, bias: dn.bias, out: D, cout: C, k: dn.src.k, lout: Li, stride, padLeft: stride === 1 ? 0 : stride - 1 }, `source_downs.${i}`));
      const SI = view(s.si, [C, Li]);
      this.resblock(W.sourceResblocks[i], D, SI, Li, {}, rec);
      // Trunk: LeakyReLU → nearest ×u → causal conv (polyphase), (ReflectionPad1d((1,0)) on the last stage) + source.
      const up = this.convs.get(`ups.${i}`)!;
      const u = cfg.upsampleRates[i];
      const X = view(s.x, [C, Li]);
      rec.push(conv1d(ctx, {
        x: prev, w: up.w, bias: up.bias, out: X, cout: u * C, k: up.k, lout: lprev, phases: u,
        padLeft: up.k - 1, leakyIn: cfg.lreluSlope, residual: SI, outShift: lastStage,
      }, `ups.${i}`));
      const XS = view(s.xs[i % 2], [C, Li]);
      for (let j = 0; j < nk; j++) {
        this.resblock(W.resblocks[i * nk + j], X, XS, Li, { accumulate: j > 0, divide: j === nk - 1 ? nk : undefined }, rec);
      }
      prev = XS;
      lprev = Li;
    }
    const post = this.convs.get('conv_post')!;
    const Y = view(s.y, [NC, lprev]);
    rec.push(conv1d(ctx, { x: prev, w: post.w, bias: post.bias, out: Y, cout: NC, k: post.src.k, lout: lprev, padLeft: post.src.k - 1, leakyIn: 0.01 }, 'conv_post'));
    rec.push(istft(ctx, { y: Y, frames: lprev, tables: this.tables, wave: s.wave, nFft: cfg.nFft, hop: cfg.hop, nOut: sh.samples, clip: 100, limit: cfg.audioLimit }, 'istft'));
    return rec;
  }

  /**
   * mel [Cin, T] row-major → speech, re-run from the utterance start: streaming callers that pass the whole mel so
   * far with finalize=false keep the samples past those already emitted, as upstream does. HiftStream
   * (stream.ts) gives the same samples from a window of frames.
   */
  async inference(mel: Float32Array, T: number, finalize: boolean, opts: { source?: boolean } = {}): Promise<HiftResult> {
    const { cfg } = this;
    if (mel.length !== cfg.inChannels * T) throw new HiftInputError(`hift: mel holds ${mel.length} values, [${cfg.inChannels}, ${T}] expected`);
    const sh = this.shape(T, finalize);
    const f0 = await this.predictF0(mel, T, finalize);
    // synthesize submits its work and its readback before it first awaits; the source readback is queued right
    // behind them, so another call on this generator cannot run in between and overwrite the source scratch.
    const speech = this.synthesize(mel, T, finalize, { first: 0, rows: sourceFrameTable(cfg, f0) });
    const source = opts.source ? this.ctx.readBytes(this.scratch.source.buffer, 0, cfg.samplesPerFrame * sh.tf * 4) : undefined;
    const out: HiftResult = { speech: await speech, f0 };
    if (source) out.source = new Float32Array(await source);
    return out;
  }

  /**
   * The vocoder after the f0 predictor: mel [Cin, T] whose frame 0 is absolute frame `window.first`, with the
   * source rows of its f0 frames ([tf, H+1], sourceFrameTable); one submit, one readback.
   */
  async synthesize(mel: Float32Array, T: number, finalize: boolean, window: HiftWindow): Promise<Float32Array> {
    const { cfg, ctx, scratch: s } = this;
    if (mel.length !== cfg.inChannels * T) throw new HiftInputError(`hift: mel holds ${mel.length} values, [${cfg.inChannels}, ${T}] expected`);
    const sh = this.shape(T, finalize);
    if (window.rows.length !== sh.tf * (cfg.harmonics + 1)) throw new HiftInputError(`hift: ${window.rows.length / (cfg.harmonics + 1)} source rows for ${sh.tf} f0 frames`);
    if (window.first + sh.tf > s.maxFrames) throw new HiftInputError(`hift: frames up to ${window.first + sh.tf} exceed the noise table's ${s.maxFrames} (maxFrames)`);
    const rec = this.plan(T, finalize);
    // Trunk mel = mel[:, :tf], packed with row stride tf.
    const trunk = new Float32Array(cfg.inChannels * sh.tf);
    for (let c = 0; c < cfg.inChannels; c++) trunk.set(mel.subarray(c * T, c * T + sh.tf), c * sh.tf);
    ctx.write(s.mel.buffer, 0, trunk);
    ctx.write(s.frames.buffer, 0, window.rows);
    ctx.write(this.sourceParams, 0, sinegenParams(cfg.samplesPerFrame * sh.tf, cfg.samplesPerFrame, cfg.samplesPerFrame * window.first));
    ctx.run(rec);
    return new Float32Array(await ctx.readBytes(s.wave.buffer, 0, sh.samples * 4));
  }

  /** The float64 F0 predictor: on the GPU (emulated f64), or on the CPU (WASM when available, else TypeScript). */
  async predictF0(mel: Float32Array, T: number, finalize: boolean): Promise<Float64Array> {
    if (this.f0Gpu) return this.f0Gpu.predict(mel, this.cfg.inChannels, T, finalize);
    const w = this.f0Wasm ? await this.f0Wasm : null;
    return w ? w.predict(mel, this.cfg.inChannels, T, finalize) : predictF0(this.weights.f0, mel, this.cfg.inChannels, T, finalize);
  }

  /** The GPU F0 predictor's dispatch list for a call shape (the 'gpu' backend only; benches time it). */
  f0Plan(T: number, finalize: boolean): DispatchRecord[] | undefined {
    return this.f0Gpu?.plan(T, finalize);
  }

  /** Which F0 backend runs ('gpu' when chosen; 'wasm' once the module is instantiated). */
  async f0BackendInUse(): Promise<F0Backend> {
    if (this.f0Gpu) return 'gpu';
    return (this.f0Wasm && (await this.f0Wasm)) ? 'wasm' : 'js';
  }

  dispose(): void {
    this.plans.clear();
    this.f0Gpu?.dispose();
  }
}

export function createHift(ctx: GpuContext, cfg: HiftConfig, weights: HiftWeights, opts: HiftOptions): HiftGenerator {
  return new HiftGenerator(ctx, cfg, weights, opts);
}

export { allocHiftScratch };
