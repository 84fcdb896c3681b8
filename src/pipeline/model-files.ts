/**
 * A model as the runtime consumes it: the config and three tensor stores keyed by upstream state_dict names.
 * Three sources give the same shape of data: an official folder (.pt + yaml), a converted folder (cosyvoice.json
 * + our ONNX files; src/pipeline/node-model-files.ts), and the built-in synthetic model.
 */
import type { TensorStore } from '../../loader/index.js';
import { buildConfig, type CosyVoiceConfig } from '../convert/config.js';
import { syntheticCheckpoint, type SyntheticDims } from './synthetic.js';

export interface ModelFiles {
  config: CosyVoiceConfig;
  llm: TensorStore;
  flow: TensorStore;
  hift: TensorStore;
  /** Where it came from, for messages and benchmark labels. */
  source: string;
  /** True for random weights: the audio is noise, and every output says so. */
  synthetic: boolean;
}

export function syntheticModelFiles(size: 'tiny' | 'full' | SyntheticDims = 'tiny', seed = 0): ModelFiles {
  const ckpt = syntheticCheckpoint(size, seed);
  return {
    config: buildConfig(ckpt.yaml, ckpt.qwenConfig, 'fp32'),
    llm: ckpt.llm,
    flow: ckpt.flow,
    hift: ckpt.hift,
    source: `synthetic-${typeof size === 'string' ? size : 'custom'} (seed ${seed}, random weights: not speech)`,
    synthetic: true,
  };
}
