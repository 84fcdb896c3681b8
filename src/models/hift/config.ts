/**
 * HiFT vocoder configuration (CausalHiFTGenerator + CausalConvRNNF0Predictor), read from the `hift:` section of
 * cosyvoice3.yaml (as parsed by loader/ readHyperYaml). Every dimension comes from the file; channel counts are
 * cross-checked against the weights in weights.ts.
 */

export class HiftConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HiftConfigError';
  }
}

export interface HiftConfig {
  readonly inChannels: number;
  readonly baseChannels: number;
  /** nb_harmonics + 1 sines */
  readonly harmonics: number;
  readonly samplingRate: number;
  readonly nsfAlpha: number;
  readonly nsfSigma: number;
  readonly voicedThreshold: number;
  readonly upsampleRates: readonly number[];
  readonly upsampleKernels: readonly number[];
  readonly nFft: number;
  readonly hop: number;
  readonly resblockKernels: readonly number[];
  readonly resblockDilations: readonly (readonly number[])[];
  readonly sourceResblockKernels: readonly number[];
  readonly sourceResblockDilations: readonly (readonly number[])[];
  readonly lreluSlope: number;
  readonly audioLimit: number;
  readonly convPreLookRight: number;
  readonly f0InChannels: number;
  readonly f0CondChannels: number;
  readonly f0NumClass: number;
  /** Samples per mel frame: prod(upsample_rates)·hop. */
  readonly samplesPerFrame: number;
}

/** Upstream CausalConv1d padding: ⌊(k·d − d)/2⌋·2 + (k+1) mod 2 (equals (k−1)·d for every k, d used here). */
export function causalPadding(k: number, d = 1): number {
  return Math.floor((k * d - d) / 2) * 2 + ((k + 1) % 2);
}

function num(sec: Record<string, unknown>, key: string, file: string): number {
  const v = sec[key];
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new HiftConfigError(`${file}: hift.${key} must be a number, got ${JSON.stringify(v)}`);
  return v;
}
function nums(sec: Record<string, unknown>, key: string, file: string): number[] {
  const v = sec[key];
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'number')) throw new HiftConfigError(`${file}: hift.${key} must be a list of numbers`);
  return v as number[];
}
function nums2(sec: Record<string, unknown>, key: string, file: string): number[][] {
  const v = sec[key];
  if (!Array.isArray(v) || !v.every((r) => Array.isArray(r) && r.every((x) => typeof x === 'number'))) {
    throw new HiftConfigError(`${file}: hift.${key} must be a list of lists of numbers`);
  }
  return v as number[][];
}

/** Builds the config from a parsed hyperyaml record (the whole file or its `hift` section). */
export function hiftConfigFromYaml(yaml: Record<string, unknown>, file = 'cosyvoice3.yaml'): HiftConfig {
  const sec = (yaml.hift ?? yaml) as Record<string, unknown>;
  if (typeof sec !== 'object' || sec === null) throw new HiftConfigError(`${file}: no hift section`);
  const f0 = sec.f0_predictor as Record<string, unknown> | undefined;
  if (!f0 || typeof f0 !== 'object') throw new HiftConfigError(`${file}: hift.f0_predictor missing`);
  const istft = sec.istft_params as Record<string, unknown> | undefined;
  if (!istft) throw new HiftConfigError(`${file}: hift.istft_params missing`);
  const upsampleRates = nums(sec, 'upsample_rates', file);
  const hop = num(istft, 'hop_len', file);
  const cfg: HiftConfig = {
    inChannels: num(sec, 'in_channels', file),
    baseChannels: num(sec, 'base_channels', file),
    harmonics: num(sec, 'nb_harmonics', file) + 1,
    samplingRate: num(sec, 'sampling_rate', file),
    nsfAlpha: num(sec, 'nsf_alpha', file),
    nsfSigma: num(sec, 'nsf_sigma', file),
    voicedThreshold: num(sec, 'nsf_voiced_threshold', file),
    upsampleRates,
    upsampleKernels: nums(sec, 'upsample_kernel_sizes', file),
    nFft: num(istft, 'n_fft', file),
    hop,
    resblockKernels: nums(sec, 'resblock_kernel_sizes', file),
    resblockDilations: nums2(sec, 'resblock_dilation_sizes', file),
    sourceResblockKernels: nums(sec, 'source_resblock_kernel_sizes', file),
    sourceResblockDilations: nums2(sec, 'source_resblock_dilation_sizes', file),
    lreluSlope: num(sec, 'lrelu_slope', file),
    audioLimit: num(sec, 'audio_limit', file),
    convPreLookRight: num(sec, 'conv_pre_look_right', file),
    f0InChannels: num(f0, 'in_channels', file),
    f0CondChannels: num(f0, 'cond_channels', file),
    f0NumClass: num(f0, 'num_class', file),
    samplesPerFrame: upsampleRates.reduce((a, b) => a * b, 1) * hop,
  };
  if (cfg.upsampleKernels.length !== upsampleRates.length) throw new HiftConfigError(`${file}: upsample rates/kernels differ in length`);
  if (cfg.f0NumClass !== 1) throw new HiftConfigError(`${file}: f0_predictor.num_class ${cfg.f0NumClass} (only 1 is supported)`);
  if (cfg.sourceResblockKernels.length !== upsampleRates.length) {
    throw new HiftConfigError(`${file}: one source resblock per upsample stage expected`);
  }
  return Object.freeze(cfg);
}
