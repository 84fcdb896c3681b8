/**
 * The WebGPU models behind the verify `Engine` contract (src/ort/engine.ts), so `verify --engine webgpu` runs
 * every manifest test on our kernels. The flow runs natively (the whole CFM solve on the GPU) through the
 * engine's flowInference override; the LLM through the paged runtime; HiFT with the caller's noise table.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CosyVoiceConfig } from '../convert/config.js';
import { GpuContext } from '../gpu/context.js';
import { requestNodeDevice } from '../gpu/node-device.js';
import { FlowModel } from '../models/flow/forward.js';
import { hiftConfigFromYaml, type HiftConfig } from '../models/hift/config.js';
import { createHift } from '../models/hift/forward.js';
import { loadHiftWeights, type HiftWeights } from '../models/hift/weights.js';
import { CosyVoice3Lm } from '../models/llm/cosyvoice3-lm.js';
import type { Engine, EstimatorInputs, LlmSession } from '../ort/engine.js';
import { registerEngine } from '../ort/engine.js';
import type { FlowInputs } from '../ort/pipeline.js';

type FlowResult = Awaited<ReturnType<NonNullable<Engine['flowInference']>>>;
import { loadModelFolder } from './node-model-files.js';

export class WebGpuEngine implements Engine {
  readonly name = 'webgpu';
  private constructor(
    readonly config: CosyVoiceConfig,
    private readonly ctx: GpuContext,
    private readonly lm: CosyVoice3Lm,
    private readonly flow: FlowModel,
    private readonly hcfg: HiftConfig,
    private readonly hw: HiftWeights,
  ) {}

  /**
   * Over a converted folder. `dtype` defaults to the folder's (fp16 files run with f16 weights on the GPU, others
   * with f32); `lazy` is loadModelFolder's (default true).
   */
  static async create(dir: string, opts: { dtype?: 'f32' | 'f16'; lazy?: boolean } = {}): Promise<WebGpuEngine> {
    const files = await loadModelFolder(dir, undefined, { lazy: opts.lazy });
    const config = JSON.parse(readFileSync(join(dir, 'cosyvoice.json'), 'utf8')) as CosyVoiceConfig;
    const dtype = opts.dtype ?? (config.dtype === 'fp16' ? 'f16' : 'f32');
    const ctx = new GpuContext(await requestNodeDevice());
    const lm = CosyVoice3Lm.fromStore(ctx, files.llm, files.qwen, files.yaml, { dtype });
    const flow = await FlowModel.load(ctx, { yaml: files.yaml, store: files.flow, dtype, maxFrames: 1000 });
    const hcfg = hiftConfigFromYaml(files.yaml);
    return new WebGpuEngine(config, ctx, lm, flow, hcfg, loadHiftWeights(files.hift, hcfg));
  }

  private rows(table: Float32Array, ids: number[]): Float32Array {
    const d = this.lm.cfg.hidden;
    const out = new Float32Array(ids.length * d);
    ids.forEach((id, i) => out.set(table.subarray(id * d, (id + 1) * d), i * d));
    return out;
  }
  async embedText(ids: number[]) {
    return this.lm.weights.textEmbedding.gather(ids);
  }
  async embedSpeech(ids: number[]) {
    return this.rows(this.lm.weights.speechEmbedding, ids);
  }

  async llmSession(): Promise<LlmSession> {
    const rt = this.lm.rt;
    const seq = rt.createSequence();
    return {
      get cacheLen() {
        return seq.length;
      },
      async step(embeds: Float32Array, T: number) {
        // Every row's logits and hidden state (teacher forcing reads them all); decode steps are one row.
        if (T === 1 && seq.length > 0) await rt.decode(seq, embeds);
        else await rt.prefill(seq, embeds, { allRows: true });
        return { logits: await rt.readLogits(), hidden: await rt.readHidden() };
      },
      dispose: () => rt.free(seq),
    };
  }

  async flowEncoder(): Promise<never> {
    throw new Error('webgpu engine: the flow encoder runs inside flowInference (fused on the GPU)');
  }

  async flowEstimator(inp: EstimatorInputs): Promise<Float32Array> {
    return this.flow.estimator({ x: inp.x, mask: inp.mask, mu: inp.mu, t: inp.t, spks: inp.spks, cond: inp.cond, streaming: inp.streaming });
  }

  /** The whole CFM solve on the GPU, with the taps verify compares (step-0 estimator I/O unpacked to [2, C, T]). */
  flowInference: NonNullable<Engine['flowInference']> = async (f: FlowInputs) => {
    const C = this.config.flow.outputSize;
    const N = f.promptToken.length + f.token.length;
    const T = this.config.tokenMelRatio * (f.finalize ? N : N - this.config.flow.preLookaheadLen);
    const noise = new Float32Array(C * T);
    for (let c = 0; c < C; c++) noise.set(f.noise.subarray(c * f.noiseFrames, c * f.noiseFrames + T), c * T);
    const r = await this.flow.inference(
      { tokens: Int32Array.from(f.token), promptTokens: Int32Array.from(f.promptToken), promptMel: f.promptFeat, embedding: f.embedding, streaming: f.streaming, finalize: f.finalize, noise },
      { taps: true },
    );
    const taps = r.taps!;
    const W = taps.step0Input.length / (2 * T); // [2T, x | cond | mu | spks] rows
    const spkC = taps.spks.length;
    const unpack = (from: number, width: number) => {
      const out = new Float32Array(2 * width * T);
      for (let b = 0; b < 2; b++) for (let t = 0; t < T; t++) for (let c = 0; c < width; c++) out[(b * width + c) * T + t] = taps.step0Input[(b * T + t) * W + from + c];
      return out;
    };
    const spk2 = new Float32Array(2 * spkC);
    for (let b = 0; b < 2; b++) for (let c = 0; c < spkC; c++) spk2[b * spkC + c] = taps.step0Input[b * T * W + 3 * C + c];
    const out = new Float32Array(2 * C * T);
    for (let b = 0; b < 2; b++) for (let t = 0; t < T; t++) for (let c = 0; c < C; c++) out[(b * C + c) * T + t] = taps.step0Output[(b * T + t) * C + c];
    return {
      mel: r.mel, melFrames: r.frames, mu: taps.mu, spks: taps.spks, cond: taps.cond, tSpan: this.flow.timeGrid,
      decoderOut: taps.decoderOut, frames: T, step0: { x: unpack(0, C), out }, mu2: unpack(2 * C, C), spk2, cond2: unpack(C, C),
    } as FlowResult;
  };

  async hift(mel: Float32Array, frames: number, sineNoise: Float32Array, finalize: boolean) {
    // The noise table is fixed per generator (read by absolute sample index), so verify builds one per table.
    const maxFrames = Math.min(frames, Math.floor(sineNoise.length / this.hcfg.harmonics / this.hcfg.samplesPerFrame));
    const h = createHift(this.ctx, this.hcfg, this.hw, { maxFrames, noise: sineNoise });
    try {
      const r = await h.inference(mel, frames, finalize, { source: true });
      return { speech: r.speech, source: r.source!, f0: r.f0 };
    } finally {
      h.dispose();
    }
  }

  async dispose(): Promise<void> {
    this.ctx.dispose();
    // The device is this engine's own (create): Dawn keeps a device and its compiled pipelines until destroyed.
    this.ctx.device.destroy();
  }
}

registerEngine('webgpu', (dir) => WebGpuEngine.create(dir));
