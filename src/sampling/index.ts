export { SamplingInputError, argmax, logSoftmax, logSumExp, softmax } from './softmax.js';
export { InverseCdfSampler, TorchSampler, argmaxSampler } from './sampler.js';
export type { Sampler } from './sampler.js';
export {
  COSYVOICE3_RAS,
  nucleusKeep,
  nucleusSampling,
  randomSampling,
  rasSampling,
  rasShouldRedraw,
  repetitionCount,
  sampleToken,
  topKStable,
} from './ras.js';
export type { RasOptions, SampleTokenOptions } from './ras.js';
export { sampleTokenTopK, topKCandidates } from './topk.js';
export type { FullLogitsFetch, TopKCandidates } from './topk.js';
export { SpeechTokenDecoder, llmLengthLimits } from './llm-decode.js';
export type { DecodeStepResult, LengthLimits, SpeechTokenDecoderOptions, StopReason } from './llm-decode.js';
export { StreamSchedule, StreamScheduleError, planStreamChunks } from './stream-schedule.js';
export type { StreamChunk, StreamScheduleOptions } from './stream-schedule.js';
export { BistreamError, MIX_RATIO, bistreamTokens, parseMixRatio } from './bistream.js';
export type { BistreamInput, BistreamLm, Draw } from './bistream.js';
