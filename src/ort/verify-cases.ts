/**
 * One handler per manifest test kind: reads the set's inputs, runs the pipeline on the engine, and returns the
 * produced tensors under the manifest's output names (verify.ts compares them).
 */
import type { Engine } from './engine.js';
import { ints, type FxSet, type FxTensor, type Manifest, type TensorData } from './fixture.js';
import * as P from './pipeline.js';
import { greedyPick, rasPick, type LlmPrompt } from './pipeline.js';

// Each stage uses the engine's own implementation when it has one, else the generic pipeline over primitives.
const llmTeacherForced = (e: Engine, ...a: Parameters<typeof P.llmTeacherForced> extends [Engine, ...infer R] ? R : never) =>
  e.llmTeacherForced ? e.llmTeacherForced(...a) : P.llmTeacherForced(e, ...a);
const llmDecode = (e: Engine, ...a: Parameters<typeof P.llmDecode> extends [Engine, ...infer R] ? R : never) =>
  e.llmDecode ? e.llmDecode(...a) : P.llmDecode(e, ...a);
const flowInference = (e: Engine, ...a: Parameters<typeof P.flowInference> extends [Engine, ...infer R] ? R : never) =>
  e.flowInference ? e.flowInference(...a) : P.flowInference(e, ...a);
const token2wav = (e: Engine, ...a: Parameters<typeof P.token2wav> extends [Engine, ...infer R] ? R : never) =>
  e.token2wav ? e.token2wav(...a) : P.token2wav(e, ...a);

export type Produced = Record<string, TensorData | number[]>;
export type Handler = (e: Engine, fx: FxSet, set: number, m: Manifest) => Promise<Produced>;

function inp(fx: FxSet, name: string): FxTensor {
  const t = fx.inputs.get(name);
  if (!t) throw new Error(`${fx.dir}: input ${name} missing`);
  return t;
}
const f32 = (t: FxTensor) => t.data as Float32Array;

function prompt(fx: FxSet): LlmPrompt {
  return { promptText: ints(inp(fx, 'prompt_text')), text: ints(inp(fx, 'text')), promptSpeech: ints(inp(fx, 'prompt_speech_token')) };
}

const cat = (xs: Float32Array[]) => {
  const out = new Float32Array(xs.reduce((a, x) => a + x.length, 0));
  let o = 0;
  for (const x of xs) {
    out.set(x, o);
    o += x.length;
  }
  return out;
};

/**
 * flow_inference modes. finalize is read from the shapes (the mel covers ratio·N frames only when finalized); upstream
 * never runs finalize=False without streaming. For finalized sets the streaming flag is not recoverable from the
 * data, so the fixture README's order is used: set 0 offline, later finalized sets streaming.
 */
function flowMode(fx: FxSet, set: number, ratio: number) {
  const finalize = fx.outputs.get('mel')!.dims[2] === ratio * inp(fx, 'token').dims[1];
  return { finalize, streaming: !finalize || set > 0 };
}

function flowArgs(fx: FxSet) {
  const pf = inp(fx, 'prompt_feat'), noise = inp(fx, 'noise');
  return {
    token: ints(inp(fx, 'token')), promptToken: ints(inp(fx, 'prompt_token')), promptFeat: f32(pf), promptFrames: pf.dims[1],
    embedding: f32(inp(fx, 'embedding')), noise: f32(noise), noiseFrames: noise.dims[2],
  };
}

export const CASES: Record<string, Handler> = {
  async llm_teacher_forced(e, fx) {
    const r = await llmTeacherForced(e, prompt(fx), ints(inp(fx, 'speech_token')));
    return { lm_input: r.lmInput, hidden: r.hidden, logits: r.logits };
  },
  async llm_incremental_kv(e, fx) {
    const K = fx.outputs.get('step_logits')?.dims[0] ?? 12;
    const tr = await llmDecode(e, prompt(fx), greedyPick, K);
    return {
      step_logits: cat(tr.stepLogits), step_logp: cat(tr.stepLogp), step_tokens: tr.stepTokens,
      step_hidden: cat(tr.stepHidden), step_cache_len: tr.stepCacheLen,
    };
  },
  async llm_greedy(e, fx) {
    const tr = await llmDecode(e, prompt(fx), greedyPick);
    return { tokens: tr.tokens, last_step_logits: tr.stepLogits[tr.stepLogits.length - 1] };
  },
  async llm_ras_argmax(e, fx) {
    const tr = await llmDecode(e, prompt(fx), rasPick(e));
    return { tokens: tr.tokens };
  },
  async flow_estimator(e, fx, set) {
    const x = inp(fx, 'x');
    const streaming = /streaming=True/.test(fx.notes ?? '') || (fx.notes === undefined && set === 1);
    const out = await e.flowEstimator({
      x: f32(x), mask: f32(inp(fx, 'mask')), mu: f32(inp(fx, 'mu')), t: f32(inp(fx, 't')), spks: f32(inp(fx, 'spks')),
      cond: f32(inp(fx, 'cond')), batch: x.dims[0], frames: x.dims[2], streaming,
    });
    return { estimator_out: out };
  },
  async flow_inference(e, fx, set) {
    const r = await flowInference(e, { ...flowArgs(fx), ...flowMode(fx, set, e.config.tokenMelRatio) });
    return {
      mel: r.mel, mu: r.mu, spks: r.spks, cond: r.cond, t_span: r.tSpan, decoder_out: r.decoderOut,
      step0_estimator_in_x: r.step0.x, step0_estimator_in_mu: r.mu2, step0_estimator_in_spks: r.spk2,
      step0_estimator_in_cond: r.cond2, step0_estimator_in_t: Float32Array.of(r.tSpan[0], r.tSpan[0]),
      step0_estimator_out: r.step0.out,
    };
  },
  async hift_inference(e, fx) {
    const mel = inp(fx, 'speech_feat');
    const finalize = fx.outputs.get('f0')!.dims[1] === mel.dims[2];
    const h = await e.hift(f32(mel), mel.dims[2], f32(inp(fx, 'sine_noise')), finalize);
    return { speech: h.speech, source: h.source, f0: h.f0 };
  },
  async token2wav_offline(e, fx) {
    const r = await token2wav(e, {
      ...flowArgs(fx), tokenOffset: 0, finalize: true, stream: false, melCache: new Float32Array(0), melCacheFrames: 0,
      sineNoise: f32(inp(fx, 'sine_noise')),
    });
    return { mel: r.flowMel, tts_speech: r.speech };
  },
  // The fixture's flow_mel is documented as "flow.inference output (streaming=True)" for every chunk, the final
  // (finalize=True) one included, so the chunk mask stays on; upstream tts() passes stream=False on the last call.
  async token2wav_streaming(e, fx) {
    const finalize = ints(inp(fx, 'finalize'))[0] === 1;
    const cache = inp(fx, 'hift_mel_cache');
    const r = await token2wav(e, {
      ...flowArgs(fx), tokenOffset: ints(inp(fx, 'token_offset'))[0], finalize, stream: true,
      melCache: f32(cache), melCacheFrames: cache.dims[2], sineNoise: f32(inp(fx, 'sine_noise')),
    });
    return { flow_mel: r.flowMel, hift_mel: r.hiftMel, tts_speech: r.speech };
  },
};
