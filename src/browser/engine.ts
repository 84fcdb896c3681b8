/**
 * Worker-side engine factory: picks and loads the TextToSpeech implementation for a model folder.
 *   - tone.json      → ToneEngine (test-tone model, tone-model.ts)
 *   - cosyvoice.json → the CosyVoice3 pipeline (cosyvoice-engine.ts over src/pipeline/webgpu.ts)
 * Detection asks the cache first, so a warm reload makes no network request.
 */
import type { GpuContext } from '../gpu/context.js';
import type { SpeakerPrompt, TextToSpeech } from '../pipeline/types.js';
import type { SpeakerExpectations } from '../speaker/speaker-file.js';
import { UnsupportedModelError } from './errors.js';
import type { ModelSource } from './model-source.js';
import { CosyVoiceEngine } from './cosyvoice-engine.js';
import { ToneEngine } from './test-tone.js';

export interface Engine extends TextToSpeech {
  readonly name: string;
  /** Whether the engine's kernels run in f16. */
  readonly shaderF16: boolean;
  /** Used when the page sends no speaker. */
  readonly defaultSpeaker: SpeakerPrompt;
  /** CosyVoice3: what a speaker must hold to suit the model (voices from audio are checked against it). */
  readonly speakerExpectations?: SpeakerExpectations;
}

export type EngineKind = 'tone' | 'cosyvoice';

export interface EngineOptions {
  engine?: 'auto' | EngineKind;
  disableF16?: boolean;
  /** CosyVoice3 weight storage (default f16 where the device has shader-f16, else f32). */
  dtype?: 'f32' | 'f16';
  /** CosyVoice3: a tuning table's JSON text (WorkerLoadOptions.tuning). */
  tuning?: string;
  /** The CPU fallback's weight storage (WorkerLoadOptions.cpuDtype). */
  cpuDtype?: 'f32' | 'q8';
  /** The CPU fallback's DiT prefix cache (WorkerLoadOptions.cpuFlowCacheBytes). */
  cpuFlowCacheBytes?: number;
  /** The WebGPU flow's prefix cache (WorkerLoadOptions.gpuFlowCacheBytes). */
  gpuFlowCacheBytes?: number;
}

const MANIFESTS: Record<EngineKind, string> = { cosyvoice: 'cosyvoice.json', tone: 'tone.json' };

export async function detectEngine(src: ModelSource & { isCached?(file: string): Promise<boolean> }): Promise<EngineKind> {
  const kinds = Object.keys(MANIFESTS) as EngineKind[];
  if (src.isCached) for (const k of kinds) if (await src.isCached(MANIFESTS[k])) return k;
  for (const k of kinds) if (await src.exists(MANIFESTS[k])) return k;
  throw new UnsupportedModelError(`${src.base} holds neither ${Object.values(MANIFESTS).join(' nor ')}; point the URL at a converted model folder`);
}

/** The CosyVoice3 engine on the CPU fallback (WebAssembly): only converted CosyVoice3 folders run there. */
export async function createWasmEngine(src: ModelSource, opts: EngineOptions = {}): Promise<Engine> {
  const kind = !opts.engine || opts.engine === 'auto' ? await detectEngine(src) : opts.engine;
  if (kind !== 'cosyvoice') throw new UnsupportedModelError(`${src.base}: the ${kind} engine needs WebGPU; the CPU fallback runs CosyVoice3 folders only`);
  return CosyVoiceEngine.loadWasm(src, opts.cpuDtype, opts.cpuFlowCacheBytes);
}

export async function createEngine(src: ModelSource, ctx: GpuContext, opts: EngineOptions = {}): Promise<Engine> {
  const kind = !opts.engine || opts.engine === 'auto' ? await detectEngine(src) : opts.engine;
  switch (kind) {
    case 'tone':
      return ToneEngine.load(src, ctx);
    case 'cosyvoice':
      return CosyVoiceEngine.load(src, ctx, { dtype: opts.dtype, disableF16: opts.disableF16, tuning: opts.tuning, flowCacheBytes: opts.gpuFlowCacheBytes });
  }
}
