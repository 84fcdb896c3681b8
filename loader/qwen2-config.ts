/**
 * Qwen2 config.json (the CosyVoice-BlankEN folder) as a frozen, typed record. Every field the runtime needs is
 * checked for presence and type; unknown fields are ignored. Browser-safe.
 */
import { ConfigError } from './errors.js';

export interface Qwen2Config {
  readonly hiddenSize: number;
  readonly intermediateSize: number;
  readonly numHiddenLayers: number;
  readonly numAttentionHeads: number;
  readonly numKeyValueHeads: number;
  /** hidden_size / num_attention_heads unless config.json gives head_dim. */
  readonly headDim: number;
  readonly vocabSize: number;
  readonly rmsNormEps: number;
  readonly ropeTheta: number;
  readonly maxPositionEmbeddings: number;
  readonly hiddenAct: string;
  readonly tieWordEmbeddings: boolean;
  readonly useSlidingWindow: boolean;
  readonly slidingWindow: number | null;
  readonly torchDtype: string | null;
  readonly ropeScaling: unknown;
  readonly bosTokenId: number | null;
  readonly eosTokenId: number | number[] | null;
  /** The parsed JSON, for fields not modelled here. */
  readonly raw: Readonly<Record<string, unknown>>;
}

/** Parses config.json text or an already-parsed object. */
export function parseQwen2Config(json: string | Record<string, unknown>, file?: string): Qwen2Config {
  let o: Record<string, unknown>;
  if (typeof json === 'string') {
    try {
      o = JSON.parse(json);
    } catch {
      throw new ConfigError('config.json is not valid JSON', { file });
    }
  } else o = json;
  if (!o || typeof o !== 'object' || Array.isArray(o)) throw new ConfigError('config.json is not an object', { file });
  const int = (k: string, fallback?: number): number => {
    const v = o[k] ?? fallback;
    if (!Number.isSafeInteger(v) || (v as number) <= 0) throw new ConfigError(`${k} must be a positive integer, got ${JSON.stringify(v)}`, { file });
    return v as number;
  };
  const num = (k: string, fallback?: number): number => {
    const v = o[k] ?? fallback;
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new ConfigError(`${k} must be a positive number, got ${JSON.stringify(v)}`, { file });
    return v;
  };
  const optInt = (k: string): number | null => (Number.isSafeInteger(o[k]) ? (o[k] as number) : null);
  if (o.model_type !== undefined && o.model_type !== 'qwen2') {
    throw new ConfigError(`model_type is ${JSON.stringify(o.model_type)}, expected "qwen2"`, { file });
  }
  const hiddenSize = int('hidden_size');
  const numAttentionHeads = int('num_attention_heads');
  const headDim = int('head_dim', hiddenSize / numAttentionHeads);
  const numKeyValueHeads = int('num_key_value_heads', numAttentionHeads);
  if (numAttentionHeads % numKeyValueHeads) {
    throw new ConfigError(`num_attention_heads ${numAttentionHeads} is not a multiple of num_key_value_heads ${numKeyValueHeads}`, { file });
  }
  const eos = o.eos_token_id;
  return Object.freeze({
    hiddenSize,
    intermediateSize: int('intermediate_size'),
    numHiddenLayers: int('num_hidden_layers'),
    numAttentionHeads,
    numKeyValueHeads,
    headDim,
    vocabSize: int('vocab_size'),
    rmsNormEps: num('rms_norm_eps'),
    ropeTheta: num('rope_theta', 10000),
    maxPositionEmbeddings: int('max_position_embeddings', 32768),
    hiddenAct: typeof o.hidden_act === 'string' ? o.hidden_act : 'silu',
    tieWordEmbeddings: o.tie_word_embeddings === true,
    useSlidingWindow: o.use_sliding_window === true,
    slidingWindow: optInt('sliding_window'),
    torchDtype: typeof o.torch_dtype === 'string' ? o.torch_dtype : null,
    ropeScaling: o.rope_scaling ?? null,
    bosTokenId: optInt('bos_token_id'),
    eosTokenId: Array.isArray(eos) && eos.every(Number.isSafeInteger) ? (eos as number[]) : optInt('eos_token_id'),
    raw: Object.freeze({ ...o }),
  });
}
