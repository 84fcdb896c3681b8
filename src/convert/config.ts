/**
 * The converted model's configuration (`cosyvoice.json`): every dimension, special id and sampling parameter,
 * read from cosyvoice3.yaml, CosyVoice-BlankEN/config.json and checked against tensor shapes by the converters.
 *
 * The yaml is HyperPyYAML, read by the loader (loader/hyperyaml.ts): tags keep their argument maps and `!ref`
 * expressions such as `<chunk_size> * <token_mel_ratio>` are resolved without evaluating code.
 */
import { parseHyperYaml } from '../../loader/hyperyaml.js';
import { parseMixRatio } from '../sampling/bistream.js';
import { ConvertError } from './errors.js';

export interface LlmConfig {
  hidden: number; layers: number; heads: number; kvHeads: number; headDim: number; intermediate: number;
  textVocab: number; ropeTheta: number; rmsEps: number;
  speechTokenSize: number; headSize: number; sos: number; eos: number; taskId: number; fill: number;
  stopFrom: number; minLenRatio: number; maxLenRatio: number;
  sampling: { topP: number; topK: number; winSize: number; tauR: number };
  /** llm.mix_ratio: text tokens, then speech tokens per group in text-in streaming (absent in older files: [5, 15]). */
  mixRatio?: [number, number];
}
export interface FlowConfig {
  inputSize: number; outputSize: number; spkEmbedDim: number; vocabSize: number; tokenMelRatio: number;
  preLookaheadLen: number; preLookaheadChannels: number; cfgRate: number; nTimesteps: number;
  dit: { dim: number; depth: number; heads: number; dimHead: number; ffMult: number; staticChunkSize: number;
    melDim: number; muDim: number; spkDim: number; outChannels: number; timeFreqDim: number };
}
export interface HiftConfig {
  inChannels: number; baseChannels: number; nbHarmonics: number; sampleRate: number; nsfAlpha: number;
  nsfSigma: number; voicedThreshold: number; upsampleRates: number[]; upsampleKernelSizes: number[];
  nFft: number; hop: number; resblockKernelSizes: number[]; resblockDilations: number[][];
  sourceResblockKernelSizes: number[]; sourceResblockDilations: number[][]; lreluSlope: number;
  audioLimit: number; convPreLookRight: number; f0CondChannels: number; f0LookRight: number;
}
export interface CosyVoiceConfig {
  format: 'cosyvoice-webgpu/1';
  dtype: 'fp32' | 'fp16' | 'int8';
  sampleRate: number; tokenFrameRate: number; tokenMelRatio: number; chunkSize: number;
  streaming: { tokenHopLen: number; tokenMaxHopLen: number; streamScaleFactor: number; hiftHoldBackFrames: number };
  llm: LlmConfig; flow: FlowConfig; hift: HiftConfig;
  files: Record<string, string>;
}

type Y = Record<string, any>;

/** The yaml through the loader's hyperpyyaml reader (values only: tags become plain maps, `!ref` resolved). */
export function parseYamlConfig(text: string): Y {
  try {
    return parseHyperYaml(text, 'cosyvoice3.yaml');
  } catch (e) {
    throw new ConvertError(`cosyvoice3.yaml: ${(e as Error).message}`);
  }
}

function need<T>(o: Y | undefined, path: string, file = 'cosyvoice3.yaml'): T {
  let cur: any = o;
  for (const k of path.split('.')) cur = cur?.[k];
  if (cur === undefined || cur === null) throw new ConvertError(`${file}: missing key ${path}`);
  return cur as T;
}

function mixRatio(v: unknown): [number, number] {
  const r = parseMixRatio(v);
  if (!r) throw new ConvertError(`llm.mix_ratio must be two positive integers, got ${JSON.stringify(v)}`);
  return r;
}

/** Builds the config from the yaml and Qwen2 config.json (shape checks happen in the converters). */
export function buildConfig(yamlText: string, qwen: Y, dtype: CosyVoiceConfig['dtype']): CosyVoiceConfig {
  const y = parseYamlConfig(yamlText);
  const S = need<number>(y, 'llm.speech_token_size');
  const samp = need<Y>(y, 'llm.sampling');
  const qf = 'CosyVoice-BlankEN/config.json';
  const hidden = need<number>(qwen, 'hidden_size', qf);
  const heads = need<number>(qwen, 'num_attention_heads', qf);
  const llm: LlmConfig = {
    hidden, layers: need(qwen, 'num_hidden_layers', qf), heads, kvHeads: need(qwen, 'num_key_value_heads', qf),
    headDim: qwen.head_dim ?? hidden / heads, intermediate: need(qwen, 'intermediate_size', qf),
    textVocab: need(qwen, 'vocab_size', qf), ropeTheta: need(qwen, 'rope_theta', qf), rmsEps: need(qwen, 'rms_norm_eps', qf),
    speechTokenSize: S, headSize: S + 200, sos: S, eos: S + 1, taskId: S + 2, fill: S + 3, stopFrom: S,
    minLenRatio: 2, maxLenRatio: 20,
    sampling: { topP: need(samp, 'top_p'), topK: need(samp, 'top_k'), winSize: need(samp, 'win_size'), tauR: need(samp, 'tau_r') },
    mixRatio: mixRatio(y.llm?.mix_ratio),
  };
  const f = need<Y>(y, 'flow');
  const est = need<Y>(f, 'decoder.estimator');
  const flow: FlowConfig = {
    inputSize: need(f, 'input_size'), outputSize: need(f, 'output_size'), spkEmbedDim: need(f, 'spk_embed_dim'),
    vocabSize: need(f, 'vocab_size'), tokenMelRatio: need(f, 'token_mel_ratio'), preLookaheadLen: need(f, 'pre_lookahead_len'),
    preLookaheadChannels: need(f, 'pre_lookahead_layer.channels'),
    cfgRate: need(f, 'decoder.cfm_params.content.inference_cfg_rate'), nTimesteps: 10,
    dit: {
      dim: need(est, 'dim'), depth: need(est, 'depth'), heads: need(est, 'heads'), dimHead: need(est, 'dim_head'),
      ffMult: need(est, 'ff_mult'), staticChunkSize: need(est, 'static_chunk_size'), melDim: need(est, 'mel_dim'),
      muDim: est.mu_dim ?? need(est, 'mel_dim'), spkDim: need(est, 'spk_dim'), outChannels: need(est, 'out_channels'),
      timeFreqDim: 256,
    },
  };
  const h = need<Y>(y, 'hift');
  const hift: HiftConfig = {
    inChannels: need(h, 'in_channels'), baseChannels: need(h, 'base_channels'), nbHarmonics: need(h, 'nb_harmonics'),
    sampleRate: need(h, 'sampling_rate'), nsfAlpha: need(h, 'nsf_alpha'), nsfSigma: need(h, 'nsf_sigma'),
    voicedThreshold: need(h, 'nsf_voiced_threshold'), upsampleRates: need(h, 'upsample_rates'),
    upsampleKernelSizes: need(h, 'upsample_kernel_sizes'), nFft: need(h, 'istft_params.n_fft'), hop: need(h, 'istft_params.hop_len'),
    resblockKernelSizes: need(h, 'resblock_kernel_sizes'), resblockDilations: need(h, 'resblock_dilation_sizes'),
    sourceResblockKernelSizes: need(h, 'source_resblock_kernel_sizes'),
    sourceResblockDilations: need(h, 'source_resblock_dilation_sizes'), lreluSlope: need(h, 'lrelu_slope'),
    audioLimit: need(h, 'audio_limit'), convPreLookRight: need(h, 'conv_pre_look_right'),
    f0CondChannels: need(h, 'f0_predictor.cond_channels'), f0LookRight: 3,
  };
  const chunk = need<number>(y, 'chunk_size');
  return {
    format: 'cosyvoice-webgpu/1', dtype,
    sampleRate: need(y, 'sample_rate'), tokenFrameRate: need(y, 'token_frame_rate'), tokenMelRatio: need(y, 'token_mel_ratio'),
    chunkSize: chunk,
    streaming: { tokenHopLen: chunk, tokenMaxHopLen: 100, streamScaleFactor: 2, hiftHoldBackFrames: hift.convPreLookRight + hift.f0LookRight + 1 },
    llm, flow, hift, files: {},
  };
}
