/** STUB — being written: the Qwen2 speech-token LLM on the CPU (TypeScript + kernels/cpu-linear.ts WASM GEMM). */
import type { ModelFiles } from '../../pipeline/model-files.js';
import type { LlmSession } from '../../ort/engine.js';

export class CpuLlm {
  static async create(files: ModelFiles): Promise<CpuLlm> {
    void files;
    return new CpuLlm();
  }
  /** Rows of Qwen embed_tokens, [ids.length, H]. */
  embedText(ids: number[]): Float32Array {
    throw new Error(`cpu llm: not implemented (${ids.length})`);
  }
  /** Rows of speech_embedding (also sos / task_id), [ids.length, H]. */
  embedSpeech(ids: number[]): Float32Array {
    throw new Error(`cpu llm: not implemented (${ids.length})`);
  }
  /** A KV-cached session: step(embeds [T, H], T) → logits [T, S+200], hidden (after the final norm) [T, H]. */
  session(): LlmSession {
    throw new Error('cpu llm: not implemented');
  }
}
