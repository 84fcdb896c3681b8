/**
 * CosyVoice3LM configuration: the Qwen2 body dims from CosyVoice-BlankEN/config.json, the speech vocabulary from
 * cosyvoice3.yaml (`llm.speech_token_size`) and the sampling partial, cross-checked against tensor shapes.
 * Nothing here is hard-coded to the tiny or full size.
 */
import { parseQwen2Config, type Qwen2Config } from '../../../loader/qwen2-config.js';
import type { TensorStore } from '../../../loader/types.js';
import { parseMixRatio } from '../../sampling/bistream.js';
import { COSYVOICE3_RAS, type RasOptions } from '../../sampling/ras.js';

export class LlmConfigError extends Error {
  override name = 'LlmConfigError';
}

export interface LlmConfig {
  readonly hidden: number;
  readonly layers: number;
  readonly heads: number;
  readonly kvHeads: number;
  readonly headDim: number;
  readonly intermediate: number;
  readonly textVocab: number;
  readonly ropeTheta: number;
  readonly rmsEps: number;
  /** S = speech_token_size; head/embedding rows = S + 200 (sos = S, eos = S+1, task_id = S+2, fill = S+3). */
  readonly speechTokenSize: number;
  readonly speechVocab: number;
  readonly sos: number;
  readonly eos: number;
  readonly taskId: number;
  readonly fill: number;
  readonly ras: Readonly<RasOptions>;
  /** llm.mix_ratio: text tokens, then speech tokens per group in text-in streaming ([5, 15]). */
  readonly mixRatio: readonly [number, number];
  /** min_len = int(|text| · minRatio), max_len = int(|text| · maxRatio) (llm.py inference defaults). */
  readonly minTokenTextRatio: number;
  readonly maxTokenTextRatio: number;
}

function num(o: unknown, key: string): number | undefined {
  if (o && typeof o === 'object' && key in o) {
    const v = (o as Record<string, unknown>)[key];
    if (typeof v === 'number') return v;
  }
  return undefined;
}

/**
 * @param qwen config.json (text or parsed) of CosyVoice-BlankEN
 * @param yaml parsed cosyvoice3.yaml (loader/hyperyaml), optional: speech_token_size and sampling are read from
 *   `llm` when present, else derived from the `llm_decoder.weight` rows and upstream defaults
 * @param store the llm.pt state dict, for shape cross-checks
 */
function mixRatio(v: unknown): [number, number] {
  const r = parseMixRatio(v);
  if (!r) throw new LlmConfigError(`llm.mix_ratio must be two positive integers, got ${JSON.stringify(v)}`);
  return r;
}

export function llmConfig(qwen: Qwen2Config | string | Record<string, unknown>, yaml?: Record<string, unknown>, store?: TensorStore): LlmConfig {
  const q: Qwen2Config = typeof qwen === 'object' && 'hiddenSize' in qwen ? (qwen as Qwen2Config) : parseQwen2Config(qwen as string);
  if (q.useSlidingWindow) throw new LlmConfigError('config.json: use_sliding_window=true is not supported (CosyVoice3 has it off)');
  if (q.hiddenAct !== 'silu') throw new LlmConfigError(`config.json: hidden_act ${q.hiddenAct} is not supported (expected silu)`);
  const llm = yaml?.llm as Record<string, unknown> | undefined;
  let S = num(llm, 'speech_token_size');
  const dec = store?.get('llm_decoder.weight');
  if (dec) {
    const fromShape = dec.dims[0] - 200;
    if (S === undefined) S = fromShape;
    else if (S !== fromShape) {
      throw new LlmConfigError(`llm_decoder.weight [${dec.dims}] has ${dec.dims[0]} rows but speech_token_size + 200 = ${S + 200}`);
    }
    if (dec.dims[1] !== q.hiddenSize) throw new LlmConfigError(`llm_decoder.weight [${dec.dims}] does not match hidden_size ${q.hiddenSize}`);
  }
  if (S === undefined) throw new LlmConfigError('speech_token_size: not in the yaml and no llm_decoder.weight to derive it from');
  const samp = llm?.sampling as Record<string, unknown> | undefined;
  const ras: RasOptions = {
    topP: num(samp, 'top_p') ?? COSYVOICE3_RAS.topP,
    topK: num(samp, 'top_k') ?? COSYVOICE3_RAS.topK,
    winSize: num(samp, 'win_size') ?? COSYVOICE3_RAS.winSize,
    tauR: num(samp, 'tau_r') ?? COSYVOICE3_RAS.tauR,
  };
  return Object.freeze({
    hidden: q.hiddenSize,
    layers: q.numHiddenLayers,
    heads: q.numAttentionHeads,
    kvHeads: q.numKeyValueHeads,
    headDim: q.headDim,
    intermediate: q.intermediateSize,
    textVocab: q.vocabSize,
    ropeTheta: q.ropeTheta,
    rmsEps: q.rmsNormEps,
    speechTokenSize: S,
    speechVocab: S + 200,
    sos: S,
    eos: S + 1,
    taskId: S + 2,
    fill: S + 3,
    ras: Object.freeze(ras),
    mixRatio: mixRatio(llm?.mix_ratio),
    minTokenTextRatio: 2,
    maxTokenTextRatio: 20,
  });
}
