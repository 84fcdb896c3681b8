/** STUB — being written: the HiFT vocoder on the CPU. */
import type { ModelFiles } from '../../pipeline/model-files.js';
import type { HiftOutputs } from '../../ort/engine.js';

export class CpuHift {
  static async create(files: ModelFiles): Promise<CpuHift> {
    void files;
    return new CpuHift();
  }
  /** mel [1, 80, frames] → speech, source, f0 (as Engine.hift; sineNoise is the fixed table [≥480·frames, 9]). */
  async inference(mel: Float32Array, frames: number, sineNoise: Float32Array, finalize: boolean): Promise<HiftOutputs> {
    throw new Error(`cpu hift: not implemented (${mel.length}, ${frames}, ${sineNoise.length}, ${finalize})`);
  }
}
