/**
 * Reference pipeline over any `Engine` (spec §2.5, §3.4–3.5, §4.1–4.2, §6): LLM prompt layout and decode loops
 * (greedy / injected-draw RAS), the CFM Euler solver with CFG as a batch of 2, and token2wav offline/streaming.
 * Arithmetic that upstream does in f32 is rounded with Math.fround at each step so results match bit-for-bit
 * where the engine does.
 */
import { cosineTimeGrid } from '../models/flow/schedule.js';
import type { Engine } from './engine.js';
import { argmax, argmaxSampler, logSoftmax, rasSampling } from '../sampling/index.js';

const fr = Math.fround;

export interface LlmPrompt { promptText: number[]; text: number[]; promptSpeech: number[] }

/** [sos, TE(prompt_text ++ text), task_id, SE(prompt_speech), SE(extra)] as [L, H]. */
export async function llmInput(e: Engine, p: LlmPrompt, extraSpeech: number[] = []): Promise<Float32Array> {
  const c = e.config.llm;
  const text = await e.embedText([...p.promptText, ...p.text]);
  const sp = await e.embedSpeech([c.sos, c.taskId, ...p.promptSpeech, ...extraSpeech]);
  const H = c.hidden;
  const out = new Float32Array(text.length + sp.length);
  out.set(sp.subarray(0, H), 0);
  out.set(text, H);
  out.set(sp.subarray(H), H + text.length);
  return out;
}

export async function llmTeacherForced(e: Engine, p: LlmPrompt, speech: number[]) {
  const lmInput = await llmInput(e, p, speech);
  const L = lmInput.length / e.config.llm.hidden;
  const s = await e.llmSession();
  const r = await s.step(lmInput, L);
  s.dispose();
  return { lmInput, hidden: r.hidden, logits: r.logits };
}

export type Pick = (logp: Float32Array, outTokens: number[]) => number;
export const greedyPick: Pick = (logp) => argmax(logp);

export interface DecodeTrace {
  tokens: number[]; stepLogits: Float32Array[]; stepLogp: Float32Array[]; stepHidden: Float32Array[];
  stepCacheLen: number[]; stepTokens: number[];
}

/** CosyVoice3LM.inference: prefill, then one token per step; stops on any id ≥ S or after maxSteps. */
export async function llmDecode(e: Engine, p: LlmPrompt, pick: Pick, maxSteps?: number): Promise<DecodeTrace> {
  const c = e.config.llm;
  const minLen = Math.floor(p.text.length * c.minLenRatio);
  const maxLen = Math.floor(p.text.length * c.maxLenRatio);
  const limit = Math.min(maxLen, maxSteps ?? Infinity);
  const s = await e.llmSession();
  const tr: DecodeTrace = { tokens: [], stepLogits: [], stepLogp: [], stepHidden: [], stepCacheLen: [], stepTokens: [] };
  try {
    let input = await llmInput(e, p);
    for (let i = 0; i < limit; i++) {
      const T = input.length / c.hidden;
      tr.stepCacheLen.push(s.cacheLen);
      const r = await s.step(input, T);
      const logits = r.logits.slice((T - 1) * c.headSize, T * c.headSize);
      tr.stepLogits.push(logits);
      tr.stepHidden.push(r.hidden.slice((T - 1) * c.hidden, T * c.hidden));
      const logp = logSoftmax(logits);
      tr.stepLogp.push(logp.slice());
      if (i < minLen) logp[c.speechTokenSize] = -Infinity; // upstream masks index S (= sos in CosyVoice3)
      const tok = pick(logp, tr.tokens);
      tr.stepTokens.push(tok);
      if (tok >= c.stopFrom) break;
      tr.tokens.push(tok);
      input = await e.embedSpeech([tok]);
    }
  } finally {
    s.dispose();
  }
  return tr;
}

/** Upstream ras_sampling with its multinomial draws replaced by argmax (what the llm_ras_argmax fixture records). */
export const rasPick = (e: Engine): Pick => (logp, out) => rasSampling(logp, out, e.config.llm.sampling, argmaxSampler);

/** t_k = 1 − cos(linspace(0,1,n+1)·0.5·π) in f32: the flow model's own grid. */
export const tSpan = cosineTimeGrid;

export interface FlowInputs {
  token: number[]; promptToken: number[]; promptFeat: Float32Array /* [2P, 80] */; promptFrames: number;
  embedding: Float32Array; noise: Float32Array /* [80, ≥Tm] rows of length noiseFrames */; noiseFrames: number;
  streaming: boolean; finalize: boolean;
}

export async function flowInference(e: Engine, f: FlowInputs) {
  const cfg = e.config.flow, C = cfg.outputSize;
  const enc = await e.flowEncoder([...f.promptToken, ...f.token], f.embedding, f.finalize);
  const T = enc.frames, P = f.promptFrames;
  const cond = new Float32Array(C * T);
  // T < P when the call holds the prompt alone (its look-ahead cut): then every frame is a prompt frame.
  for (let t = 0; t < Math.min(P, T); t++) for (let c = 0; c < C; c++) cond[c * T + t] = f.promptFeat[t * C + c];
  let x = new Float32Array(C * T);
  for (let c = 0; c < C; c++) x.set(f.noise.subarray(c * f.noiseFrames, c * f.noiseFrames + T), c * T);
  const ts = tSpan(cfg.nTimesteps);
  const n = C * T;
  const mask = new Float32Array(2 * T).fill(1);
  const mu2 = new Float32Array(2 * n), spk2 = new Float32Array(2 * C), cond2 = new Float32Array(2 * n);
  mu2.set(enc.mu);
  spk2.set(enc.spks);
  cond2.set(cond);
  const a = fr(1 + cfg.cfgRate), bcoef = fr(cfg.cfgRate);
  let t = ts[0], dt = fr(ts[1] - ts[0]);
  let step0: { x: Float32Array; out: Float32Array } | undefined;
  for (let k = 1; k <= cfg.nTimesteps; k++) {
    const x2 = new Float32Array(2 * n);
    x2.set(x);
    x2.set(x, n);
    const v = await e.flowEstimator({ x: x2, mask, mu: mu2, t: Float32Array.of(t, t), spks: spk2, cond: cond2, batch: 2, frames: T, streaming: f.streaming });
    if (k === 1) step0 = { x: x2, out: v };
    const nx = new Float32Array(n);
    for (let i = 0; i < n; i++) nx[i] = fr(x[i] + fr(dt * fr(fr(a * v[i]) - fr(bcoef * v[n + i]))));
    x = nx;
    t = fr(t + dt);
    if (k < cfg.nTimesteps) dt = fr(ts[k + 1] - t);
  }
  const melFrames = Math.max(0, T - P);
  const mel = new Float32Array(C * melFrames);
  for (let c = 0; c < C; c++) mel.set(x.subarray(c * T + T - melFrames, c * T + T), c * melFrames);
  return { mel, melFrames, mu: enc.mu, spks: enc.spks, cond, tSpan: ts, decoderOut: x, frames: T, step0: step0!, mu2, spk2, cond2 };
}

/** Concatenates [80, a] and [80, b] mels along time. */
export function catMel(a: Float32Array, fa: number, b: Float32Array, fb: number, C: number): Float32Array {
  const out = new Float32Array(C * (fa + fb));
  for (let c = 0; c < C; c++) {
    out.set(a.subarray(c * fa, c * fa + fa), c * (fa + fb));
    out.set(b.subarray(c * fb, c * fb + fb), c * (fa + fb) + fa);
  }
  return out;
}

export interface Token2WavInputs extends Omit<FlowInputs, 'streaming' | 'finalize'> {
  tokenOffset: number; finalize: boolean; stream: boolean;
  melCache: Float32Array; melCacheFrames: number; sineNoise: Float32Array;
}

/**
 * CosyVoice3Model.token2wav: flow on all tokens so far, keep mel from 2·offset, append to the mel cache, HiFT on
 * the whole cache, emit from the speech offset. The offset after a non-final call on Tc cached frames is
 * 480·(Tc − hold-back) — what the earlier calls emitted — so a chunk can be replayed from its inputs alone.
 */
export async function token2wav(e: Engine, p: Token2WavInputs) {
  const C = e.config.flow.outputSize, r = e.config.tokenMelRatio;
  const args = { ...p, streaming: p.stream, finalize: p.finalize };
  // An engine that runs the whole flow natively (WebGPU) is used through its override.
  const fl = await (e.flowInference ? e.flowInference(args) : flowInference(e, args));
  const skip = p.tokenOffset * r;
  const keep = fl.melFrames - skip;
  const tail = new Float32Array(C * keep);
  for (let c = 0; c < C; c++) tail.set(fl.mel.subarray(c * fl.melFrames + skip, (c + 1) * fl.melFrames), c * keep);
  const hiftMel = catMel(p.melCache, p.melCacheFrames, tail, keep, C);
  const frames = p.melCacheFrames + keep;
  const h = await e.hift(hiftMel, frames, p.sineNoise, p.finalize);
  const samplesPerFrame = e.config.sampleRate / (e.config.tokenFrameRate * r);
  const offset = p.melCacheFrames > 0 ? Math.max(0, samplesPerFrame * (p.melCacheFrames - e.config.streaming.hiftHoldBackFrames)) : 0;
  return { flowMel: fl.mel, flowFrames: fl.melFrames, hiftMel, hiftFrames: frames, speech: h.speech.slice(offset) };
}
