/**
 * CausalMaskedDiffWithDiT on the CPU (the WASM engine's flow): the token wrapper (`encoder`: speech-token
 * embedding → PreLookahead → ×token_mel_ratio, and the speaker projection) and the DiT estimator (dit.ts). The
 * CFM solve around them is src/ort/pipeline.ts flowInference. All matrix products — linears and the
 * convolutions as im2col GEMMs — run in one WebAssembly memory (kernels/cpu-linear.ts) per model.
 */
import { CpuKernels, type CpuKernelOptions, type CpuMatrix, type CpuWeightDtype } from '../../../kernels/cpu-linear.js';
import type { EstimatorInputs } from '../../ort/engine.js';
import type { ModelFiles } from '../../pipeline/model-files.js';
import { flowConfig, type FlowConfig } from '../flow/config.js';
import { FlowInputError } from '../flow/errors.js';
import { CpuConvs, type CpuConvWeight } from './conv.js';
import { CpuDit } from './dit.js';
import { FlowTensorReader } from '../flow/weights.js';

interface WrapperWeights {
  /** input_embedding [vocab, Cin] */
  emb: Float32Array;
  /** spk_embed_affine_layer [spk, E] */
  spk: CpuMatrix;
  /** PreLookahead conv1 [C1, Cin, KL] (look-ahead taps), conv2 [Cin, C1, K2] (causal taps) */
  pre1: CpuConvWeight;
  pre2: CpuConvWeight;
}

export class CpuFlow {
  private constructor(
    private readonly k: CpuKernels,
    private readonly convs: CpuConvs,
    readonly cfg: FlowConfig,
    private readonly w: WrapperWeights,
    private readonly dit: CpuDit,
  ) {}

  /**
   * `opts.dtype`: how the DiT's linears are stored (the encoder's convolutions and tables stay f32);
   * `opts.cacheBytes`: the DiT's streaming prefix cache (dit-cache.ts; default 0, off).
   */
  static async create(files: ModelFiles, opts: CpuKernelOptions & { dtype?: CpuWeightDtype; cacheBytes?: number } = {}): Promise<CpuFlow> {
    const cfg = flowConfig(files.yaml, (name) => files.flow.get(name)?.dims);
    const k = await CpuKernels.create(opts);
    const r = new FlowTensorReader(files.flow);
    const convs = new CpuConvs(k);
    const { inputSize: Cin, preLookaheadChannels: C1, preLookaheadLen: L } = cfg;
    const KL = L + 1;
    const K2 = files.flow.get('pre_lookahead_layer.conv2.weight')?.dims[2] ?? 3;
    const w: WrapperWeights = {
      emb: r.f32('input_embedding.weight', [cfg.vocabSize, Cin]),
      spk: k.matrix(r.f32('spk_embed_affine_layer.weight', [cfg.spkDim, cfg.spkEmbedDim]), cfg.spkDim, cfg.spkEmbedDim, r.f32('spk_embed_affine_layer.bias', [cfg.spkDim]), 'spk'),
      pre1: convs.weight(r.f32('pre_lookahead_layer.conv1.weight', [C1, Cin, KL]), r.f32('pre_lookahead_layer.conv1.bias', [C1]), C1, Cin, KL, 'pre1'),
      pre2: convs.weight(r.f32('pre_lookahead_layer.conv2.weight', [Cin, C1, K2]), r.f32('pre_lookahead_layer.conv2.bias', [Cin]), Cin, C1, K2, 'pre2'),
    };
    const dit = CpuDit.load(k, cfg, r, opts.dtype);
    dit.cacheBytes = opts.cacheBytes ?? 0;
    r.finish();
    return new CpuFlow(k, convs, cfg, w, dit);
  }

  /** Token embedding + PreLookahead + repeat: mu [1, 80, frames]; spks [1, 80] (as Engine.flowEncoder). */
  encoder(tokens: number[], embedding: Float32Array, finalize: boolean): { mu: Float32Array; frames: number; spks: Float32Array } {
    const { cfg } = this;
    const N = tokens.length;
    // Without finalize the last pre_lookahead_len tokens are only right context: they produce no frames.
    const nOut = finalize ? N : N - cfg.preLookaheadLen;
    if (nOut < 1) throw new FlowInputError(`flow encoder: ${N} tokens give no frames (finalize ${finalize}, look-ahead ${cfg.preLookaheadLen})`);
    if (embedding.length !== cfg.spkEmbedDim) throw new FlowInputError(`flow encoder: speaker embedding has ${embedding.length} values, expected ${cfg.spkEmbedDim}`);
    const h = this.prelookahead(this.embed(tokens), N, nOut);
    const frames = nOut * cfg.tokenMelRatio;
    return { mu: this.repeatToFrames(h, nOut), frames, spks: this.speaker(embedding) };
  }

  /** The DiT estimator: velocity [B, 80, T] (as Engine.flowEstimator). */
  estimator(inp: EstimatorInputs): Float32Array {
    return this.dit.forward(inp);
  }

  /** The DiT's streaming prefix cache: bytes held, frames served from it and computed, and emptying it. */
  get cacheHeld(): number {
    return this.dit.cacheHeld;
  }
  get cacheBudget(): number {
    return this.dit.cacheBytes;
  }
  get frameCounts(): { readonly cached: number; readonly computed: number } {
    return this.dit.frameCounts;
  }
  clearCache(): void {
    this.dit.clearCache();
  }

  /** X [N, Cin] = input_embedding rows (negative ids read row 0, as upstream's clamp). */
  /** Stops the GEMM worker threads. */
  dispose(): void {
    this.k.dispose();
  }

  private embed(tokens: number[]): Float32Array {
    const { vocabSize, inputSize: Cin } = this.cfg;
    const x = new Float32Array(tokens.length * Cin);
    tokens.forEach((id, j) => {
      if (!Number.isInteger(id) || id >= vocabSize) throw new FlowInputError(`flow encoder: token ${id} is not below vocab ${vocabSize}`);
      const r = Math.max(id, 0) * Cin;
      x.set(this.w.emb.subarray(r, r + Cin), j * Cin);
    });
    return x;
  }

  /**
   * PreLookaheadLayer, time-major: y1 = leaky_relu(conv1 over X and the KL − 1 following rows — zeros past N),
   * H = conv2(y1, left pad K2 − 1) + X. Returns H [nOut, Cin].
   */
  private prelookahead(x: Float32Array, N: number, nOut: number): Float32Array {
    const { convs, w } = this;
    const y1 = convs.run(w.pre1, x, N, new Float32Array(nOut * w.pre1.cout), nOut);
    for (let i = 0; i < y1.length; i++) if (y1[i] < 0) y1[i] *= 0.01;
    const h = convs.run(w.pre2, y1, nOut, new Float32Array(nOut * w.pre2.cout), nOut, { padLeft: w.pre2.k - 1 });
    for (let i = 0; i < h.length; i++) h[i] += x[i];
    return h;
  }

  /** mu [Cin, ratio·nOut], channel-first: every token row repeated token_mel_ratio times along time. */
  private repeatToFrames(h: Float32Array, nOut: number): Float32Array {
    const { inputSize: Cin, tokenMelRatio: r } = this.cfg;
    const T = nOut * r;
    const mu = new Float32Array(Cin * T);
    for (let t = 0; t < nOut; t++) for (let c = 0; c < Cin; c++) mu.fill(h[t * Cin + c], c * T + r * t, c * T + r * t + r);
    return mu;
  }

  /** spks = W · e / max(‖e‖₂, 1e-12) + b. */
  private speaker(e: Float32Array): Float32Array {
    let ss = 0;
    for (const v of e) ss += v * v;
    const norm = Math.max(Math.sqrt(ss), 1e-12);
    return this.k.linear(e.map((v) => v / norm), 1, this.w.spk);
  }
}
