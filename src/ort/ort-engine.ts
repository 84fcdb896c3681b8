/**
 * Engine over the converted ONNX files, executed by onnxruntime-node (cpu EP): the oracle and speed baseline;
 * or by onnxruntime-web's WebAssembly backend in this process (`runtime: 'web'`), the like-for-like baseline of
 * our CPU fallback. Both are dev dependencies; this module is only imported by verify/bench/tests.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ortNode from 'onnxruntime-node';
import type { CosyVoiceConfig } from '../convert/config.js';
import { registerEngine, type Engine, type EstimatorInputs, type HiftOutputs, type LlmSession } from './engine.js';

export interface OrtEngineOptions {
  executionProviders?: string[];
  intraOpNumThreads?: number;
  /**
   * 'node' (default): onnxruntime-node with `executionProviders` (default cpu). 'web': onnxruntime-web's `wasm`
   * backend (WebAssembly SIMD) in this process, with intraOpNumThreads threads (default 1).
   */
  runtime?: 'node' | 'web';
  /** Open only these models' graphs (default all); the others' methods throw. */
  only?: ('llm' | 'flow' | 'hift')[];
}

const GRAPHS = { llm: ['llm.onnx', 'llm_embed.onnx'], flow: ['flow_encoder.onnx', 'flow.onnx'], hift: ['hift.onnx'] } as const;

type Ort = typeof ortNode;
type Session = ortNode.InferenceSession;

async function runtimeModule(o: OrtEngineOptions): Promise<Ort> {
  if (o.runtime !== 'web') return ortNode;
  const web = (await import('onnxruntime-web')) as unknown as Ort & { env: { wasm: { numThreads: number } } };
  web.env.wasm.numThreads = o.intraOpNumThreads ?? 1;
  return web;
}

async function open(ort: Ort, dir: string, file: string, o: OrtEngineOptions): Promise<Session> {
  if (o.runtime !== 'web') {
    return ort.InferenceSession.create(join(dir, file), {
      executionProviders: (o.executionProviders ?? ['cpu']) as ortNode.InferenceSession.ExecutionProviderConfig[],
      logSeverityLevel: 3,
      ...(o.intraOpNumThreads ? { intraOpNumThreads: o.intraOpNumThreads } : {}),
    });
  }
  // onnxruntime-web's Node build cannot mount external data files ("Module.MountedFiles is not available").
  if (existsSync(join(dir, `${file}.data`))) {
    throw new Error(`onnxruntime-web in Node cannot read ${file}'s external data: convert with externalThreshold above the file's size (all inline, < 2 GiB)`);
  }
  return ort.InferenceSession.create(new Uint8Array(readFileSync(join(dir, file))), { executionProviders: ['wasm'], logSeverityLevel: 3 });
}

export class OrtEngine implements Engine {
  readonly name: string;
  private constructor(
    readonly config: CosyVoiceConfig,
    /** The runtime module: tensors must come from the one that runs them. */
    private readonly ort: Ort,
    private readonly sessions: Map<string, Session>,
  ) {
    this.name = ort === ortNode ? 'ort' : 'ort-web';
  }

  static async create(dir: string, o: OrtEngineOptions = {}): Promise<OrtEngine> {
    const config = JSON.parse(readFileSync(join(dir, 'cosyvoice.json'), 'utf8')) as CosyVoiceConfig;
    const ort = await runtimeModule(o);
    const files = (o.only ?? (['llm', 'flow', 'hift'] as const)).flatMap((m) => GRAPHS[m]);
    const opened = await Promise.all(files.map((f) => open(ort, dir, f, o)));
    return new OrtEngine(config, ort, new Map(files.map((f, i) => [f, opened[i]])));
  }

  private session(file: string): Session {
    const s = this.sessions.get(file);
    if (!s) throw new Error(`${this.name} engine: ${file} was not opened (OrtEngineOptions.only)`);
    return s;
  }
  private get llm() {
    return this.session('llm.onnx');
  }
  private get embed() {
    return this.session('llm_embed.onnx');
  }
  private get enc() {
    return this.session('flow_encoder.onnx');
  }
  private get dit() {
    return this.session('flow.onnx');
  }
  private get voc() {
    return this.session('hift.onnx');
  }

  private f32(d: Float32Array, dims: number[]) {
    return new this.ort.Tensor('float32', d, dims);
  }
  private i64(v: number[], dims = [v.length]) {
    return new this.ort.Tensor('int64', BigInt64Array.from(v.map(BigInt)), dims);
  }
  private bool(v: boolean) {
    return new this.ort.Tensor('bool', Uint8Array.of(v ? 1 : 0), [1]);
  }

  private async embedRun(text: number[], speech: number[]) {
    const r = await this.embed.run({ text_ids: this.i64(text), speech_ids: this.i64(speech) });
    return { text: r.text_embeds.data as Float32Array, speech: r.speech_embeds.data as Float32Array };
  }
  async embedText(ids: number[]) {
    return (await this.embedRun(ids, [])).text;
  }
  async embedSpeech(ids: number[]) {
    return (await this.embedRun([], ids)).speech;
  }

  async llmSession(): Promise<LlmSession> {
    const c = this.config.llm;
    const sess = this.llm;
    const f32 = (d: Float32Array, dims: number[]) => this.f32(d, dims);
    let past: Record<string, ortNode.Tensor> = {};
    for (let i = 0; i < c.layers; i++) {
      for (const n of ['key', 'value']) past[`past_${n}_${i}`] = f32(new Float32Array(0), [1, c.kvHeads, 0, c.headDim]);
    }
    let cacheLen = 0;
    return {
      get cacheLen() {
        return cacheLen;
      },
      async step(embeds: Float32Array, T: number) {
        const r = await sess.run({ inputs_embeds: f32(embeds, [1, T, c.hidden]), ...past });
        const next: Record<string, ortNode.Tensor> = {};
        for (let i = 0; i < c.layers; i++) {
          next[`past_key_${i}`] = r[`present_key_${i}`];
          next[`past_value_${i}`] = r[`present_value_${i}`];
        }
        past = next;
        cacheLen += T;
        return { logits: r.logits.data as Float32Array, hidden: r.hidden.data as Float32Array };
      },
      dispose() {
        past = {};
      },
    };
  }

  async flowEncoder(tokens: number[], embedding: Float32Array, finalize: boolean) {
    const r = await this.enc.run({
      token: this.i64(tokens, [1, tokens.length]),
      embedding: this.f32(embedding, [1, embedding.length]),
      finalize: this.bool(finalize),
    });
    return { mu: r.mu.data as Float32Array, frames: r.mu.dims[2], spks: r.spks.data as Float32Array };
  }

  async flowEstimator(p: EstimatorInputs): Promise<Float32Array> {
    const C = this.config.flow.dit.melDim, B = p.batch, T = p.frames;
    const f32 = (d: Float32Array, dims: number[]) => this.f32(d, dims);
    const r = await this.dit.run({
      x: f32(p.x, [B, C, T]), mask: f32(p.mask, [B, 1, T]), mu: f32(p.mu, [B, this.config.flow.dit.muDim, T]),
      t: f32(p.t, [B]), spks: f32(p.spks, [B, this.config.flow.dit.spkDim]), cond: f32(p.cond, [B, C, T]),
      streaming: this.bool(p.streaming),
    });
    return r.estimator_out.data as Float32Array;
  }

  async hift(mel: Float32Array, frames: number, sineNoise: Float32Array, finalize: boolean): Promise<HiftOutputs> {
    const H = this.config.hift.nbHarmonics + 1;
    const r = await this.voc.run({
      speech_feat: this.f32(mel, [1, this.config.hift.inChannels, frames]),
      sine_noise: this.f32(sineNoise, [1, sineNoise.length / H, H]),
      finalize: this.bool(finalize),
    });
    return { speech: r.speech.data as Float32Array, source: r.source.data as Float32Array, f0: r.f0.data as Float64Array };
  }

  async dispose(): Promise<void> {
    await Promise.all([...this.sessions.values()].map((s) => s.release()));
  }
}

registerEngine('ort', (dir) => OrtEngine.create(dir));
