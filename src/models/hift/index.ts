/** HiFT vocoder (CausalHiFTGenerator) on WebGPU: config, weights, generator. See forward.ts for the data flow. */
export { hiftConfigFromYaml, causalPadding, HiftConfigError, type HiftConfig } from './config.js';
export { loadHiftWeights, HiftWeightError, type HiftWeights } from './weights.js';
export { HiftGenerator, createHift, HiftInputError, type HiftOptions, type HiftResult, type HiftShape, type F0Backend } from './forward.js';
export { predictF0, F0InputError } from './f0.js';
export { F0Wasm } from './f0-wasm.js';
export { F0Gpu } from './f0-gpu.js';
export { sourceFrameTable } from './source.js';
export { HiftStream, trunkReachFrames, f0Reach, type HiftStages, type HiftWindow } from './stream.js';
