/** STUB — being written: the flow (PreLookahead encoder + DiT estimator) on the CPU. */
import type { ModelFiles } from '../../pipeline/model-files.js';
import type { EstimatorInputs } from '../../ort/engine.js';

export class CpuFlow {
  static async create(files: ModelFiles): Promise<CpuFlow> {
    void files;
    return new CpuFlow();
  }
  /** Token embedding + PreLookahead + repeat: mu [1, 80, frames]; spks [1, 80] (as Engine.flowEncoder). */
  encoder(tokens: number[], embedding: Float32Array, finalize: boolean): { mu: Float32Array; frames: number; spks: Float32Array } {
    throw new Error(`cpu flow: not implemented (${tokens.length}, ${embedding.length}, ${finalize})`);
  }
  /** The DiT estimator: velocity [B, 80, T] (as Engine.flowEstimator). */
  estimator(inp: EstimatorInputs): Float32Array {
    throw new Error(`cpu flow: not implemented (${inp.batch})`);
  }
}
