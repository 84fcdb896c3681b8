/**
 * Engine over the converted ONNX files, executed by onnxruntime-node (cpu EP): the oracle and speed baseline.
 * onnxruntime-node is a dev dependency; this module is only imported by verify/bench/tests.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import type { CosyVoiceConfig } from '../convert/config.js';
import { registerEngine, type Engine, type EstimatorInputs, type HiftOutputs, type LlmSession } from './engine.js';

export interface OrtEngineOptions {
  executionProviders?: string[];
  intraOpNumThreads?: number;
}

async function open(path: string, o: OrtEngineOptions): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(path, {
    executionProviders: (o.executionProviders ?? ['cpu']) as ort.InferenceSession.ExecutionProviderConfig[],
    logSeverityLevel: 3,
    ...(o.intraOpNumThreads ? { intraOpNumThreads: o.intraOpNumThreads } : {}),
  });
}

const f32 = (d: Float32Array, dims: number[]) => new ort.Tensor('float32', d, dims);
const i64 = (v: number[]) => new ort.Tensor('int64', BigInt64Array.from(v.map(BigInt)), [v.length]);
const bool = (v: boolean) => new ort.Tensor('bool', Uint8Array.of(v ? 1 : 0), [1]);

export class OrtEngine implements Engine {
  readonly name = 'ort';
  private constructor(
    readonly config: CosyVoiceConfig,
    private llm: ort.InferenceSession,
    private embed: ort.InferenceSession,
    private enc: ort.InferenceSession,
    private dit: ort.InferenceSession,
    private voc: ort.InferenceSession,
  ) {}

  static async create(dir: string, o: OrtEngineOptions = {}): Promise<OrtEngine> {
    const config = JSON.parse(readFileSync(join(dir, 'cosyvoice.json'), 'utf8')) as CosyVoiceConfig;
    const [llm, embed, enc, dit, voc] = await Promise.all(
      ['llm.onnx', 'llm_embed.onnx', 'flow_encoder.onnx', 'flow.onnx', 'hift.onnx'].map((f) => open(join(dir, f), o)),
    );
    return new OrtEngine(config, llm, embed, enc, dit, voc);
  }

  private async embedRun(text: number[], speech: number[]) {
    const r = await this.embed.run({ text_ids: i64(text), speech_ids: i64(speech) });
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
    let past: Record<string, ort.Tensor> = {};
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
        const next: Record<string, ort.Tensor> = {};
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
      token: new ort.Tensor('int64', BigInt64Array.from(tokens.map(BigInt)), [1, tokens.length]),
      embedding: f32(embedding, [1, embedding.length]),
      finalize: bool(finalize),
    });
    return { mu: r.mu.data as Float32Array, frames: r.mu.dims[2], spks: r.spks.data as Float32Array };
  }

  async flowEstimator(p: EstimatorInputs): Promise<Float32Array> {
    const C = this.config.flow.dit.melDim, B = p.batch, T = p.frames;
    const r = await this.dit.run({
      x: f32(p.x, [B, C, T]), mask: f32(p.mask, [B, 1, T]), mu: f32(p.mu, [B, this.config.flow.dit.muDim, T]),
      t: f32(p.t, [B]), spks: f32(p.spks, [B, this.config.flow.dit.spkDim]), cond: f32(p.cond, [B, C, T]),
      streaming: bool(p.streaming),
    });
    return r.estimator_out.data as Float32Array;
  }

  async hift(mel: Float32Array, frames: number, sineNoise: Float32Array, finalize: boolean): Promise<HiftOutputs> {
    const H = this.config.hift.nbHarmonics + 1;
    const r = await this.voc.run({
      speech_feat: f32(mel, [1, this.config.hift.inChannels, frames]),
      sine_noise: f32(sineNoise, [1, sineNoise.length / H, H]),
      finalize: bool(finalize),
    });
    return { speech: r.speech.data as Float32Array, source: r.source.data as Float32Array, f0: r.f0.data as Float64Array };
  }

  async dispose(): Promise<void> {
    await Promise.all([this.llm, this.embed, this.enc, this.dit, this.voc].map((s) => s.release()));
  }
}

registerEngine('ort', (dir) => OrtEngine.create(dir));
