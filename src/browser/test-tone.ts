/**
 * ToneEngine: the TextToSpeech implementation over the test-tone model (tone-model.ts). Runs on any GpuContext
 * (Worker in a browser, Dawn in Node), so the Node tests can compute the reference PCM the browser must match.
 * Like a real model it builds its per-chunk step once at load (GEMM + scale over preallocated tensors) and per chunk
 * only writes the frame amplitudes, runs one submit and reads the samples back.
 */
import type { GpuContext } from '../gpu/context.js';
import type { DispatchRecord } from '../gpu/dispatch.js';
import type { GpuTensor } from '../gpu/tensor.js';
import { scale } from '../../kernels/elementwise.js';
import { linear } from '../../kernels/matmul.js';
import type { SpeakerPrompt, SynthesisOptions, SynthesisStats, TextToSpeech } from '../pipeline/types.js';
import { UnsupportedModelError } from './errors.js';
import type { ModelSource } from './model-source.js';
import { TONE_FORMAT, type ToneHeader, type ToneTensorRef } from './tone-model.js';

const now = (): number => globalThis.performance?.now() ?? Date.now();

async function readTensor(src: ModelSource, name: string, ref: ToneTensorRef): Promise<Float32Array> {
  const [a, b] = ref.shape;
  if (!Number.isSafeInteger(a) || !Number.isSafeInteger(b) || a <= 0 || b <= 0) {
    throw new UnsupportedModelError(`tone.json: tensor ${name} has bad shape [${ref.shape}]`);
  }
  const bytes = await (await src.open(ref.file)).read(ref.offset, a * b * 4);
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

export class ToneEngine implements TextToSpeech {
  readonly name = 'test-tone';
  readonly shaderF16 = false;
  readonly sampleRate: number;
  readonly defaultSpeaker: SpeakerPrompt = { promptTokens: new Int32Array(0), embedding: new Float32Array(0), promptMel: new Float32Array(0) };
  private readonly owned: GpuTensor[];
  private readonly step: DispatchRecord[];
  private readonly frames: Float32Array;
  private busy = false;

  private constructor(
    private readonly ctx: GpuContext,
    readonly header: ToneHeader,
    private readonly voices: Float32Array,
    basis: Float32Array,
  ) {
    const { hop, harmonics: K, framesPerChunk: M, gain } = header;
    this.sampleRate = header.sampleRate;
    const w = ctx.upload(basis, 'f32', [hop, K], 'tone.basis');
    const x = ctx.tensor('f32', [M, K], 'tone.frames');
    const y = ctx.tensor('f32', [M, hop], 'tone.y');
    const out = ctx.tensor('f32', [M, hop], 'tone.pcm');
    this.owned = [w, x, y, out];
    this.step = [linear(ctx, { x, w, y }, 'tone.synth'), scale(ctx, y, gain, out, 'tone.gain')];
    this.frames = new Float32Array(M * K);
  }

  static async load(src: ModelSource, ctx: GpuContext, file = 'tone.json'): Promise<ToneEngine> {
    const h = await src.json<ToneHeader>(file);
    if (h?.format !== TONE_FORMAT || h.version !== 1) throw new UnsupportedModelError(`${src.base}${file} is not a ${TONE_FORMAT} v1 header`);
    for (const k of ['sampleRate', 'hop', 'harmonics', 'framesPerChar', 'framesPerChunk'] as const) {
      if (!Number.isSafeInteger(h[k]) || h[k] <= 0) throw new UnsupportedModelError(`${file}: ${k} must be a positive integer, got ${h[k]}`);
    }
    const [basis, voices] = await Promise.all([readTensor(src, 'basis', h.tensors.basis), readTensor(src, 'voices', h.tensors.voices)]);
    if (h.tensors.basis.shape[0] !== h.hop || h.tensors.basis.shape[1] !== h.harmonics || h.tensors.voices.shape[1] !== h.harmonics) {
      throw new UnsupportedModelError(
        `${file}: basis [${h.tensors.basis.shape}] must be [hop=${h.hop}, harmonics=${h.harmonics}], voices [${h.tensors.voices.shape}] [V, ${h.harmonics}]`,
      );
    }
    const engine = new ToneEngine(ctx, h, voices, basis);
    // Warm-up: the first dispatch compiles the pipelines (seconds on SwiftShader); do it at load, not in TTFA.
    ctx.run(engine.step);
    await ctx.finish();
    return engine;
  }

  /** Frame count of a text (framesPerChar per code point). */
  framesFor(text: string): number {
    return [...text].length * this.header.framesPerChar;
  }

  /** Fills frame amplitudes for frames [f0, f0 + M) of the text. */
  private fillFrames(chars: number[], f0: number): void {
    const { harmonics: K, framesPerChar: F, framesPerChunk: M } = this.header;
    const V = this.voices.length / K;
    this.frames.fill(0);
    for (let m = 0; m < M; m++) {
      const f = f0 + m;
      const c = chars[Math.floor(f / F)];
      if (c === undefined || c === 32) continue;
      const env = Math.sin((Math.PI * ((f % F) + 0.5)) / F);
      const v = c % V;
      for (let k = 0; k < K; k++) this.frames[m * K + k] = this.voices[v * K + k] * env;
    }
  }

  async *stream(text: string, _speaker: SpeakerPrompt, opts: SynthesisOptions = {}): AsyncGenerator<Float32Array, SynthesisStats> {
    if (this.busy) throw new UnsupportedModelError('ToneEngine runs one synthesis at a time; wait for the previous stream to end');
    this.busy = true;
    const t0 = now();
    const { hop, framesPerChunk: M } = this.header;
    const chars = [...text].map((ch) => ch.codePointAt(0)!);
    const total = chars.length * this.header.framesPerChar;
    let ttfa = 0;
    let gpuMs = 0;
    let samples = 0;
    let frames = 0;
    try {
      for (let f0 = 0; f0 < total && !opts.signal?.aborted; f0 += M) {
        const t1 = now();
        this.fillFrames(chars, f0);
        this.ctx.write(this.owned[1].buffer, 0, this.frames);
        this.ctx.run(this.step);
        const all = await this.ctx.readF32(this.owned[3]);
        gpuMs += now() - t1;
        const n = Math.min(M, total - f0);
        const pcm = n === M ? all : all.slice(0, n * hop);
        frames += n;
        samples += pcm.length;
        if (!ttfa) ttfa = now() - t0;
        yield pcm;
      }
    } finally {
      this.busy = false;
    }
    const totalMs = now() - t0;
    const audioSeconds = samples / this.sampleRate;
    return { ttfaMs: ttfa, totalMs, audioSeconds, rtf: audioSeconds ? totalMs / 1000 / audioSeconds : 0, tokens: frames, llmMs: 0, flowMs: 0, hiftMs: gpuMs };
  }

  async synthesize(text: string, speaker: SpeakerPrompt, opts?: SynthesisOptions): Promise<{ pcm: Float32Array; stats: SynthesisStats }> {
    const parts: Float32Array[] = [];
    const gen = this.stream(text, speaker, opts);
    let r = await gen.next();
    while (!r.done) {
      parts.push(r.value);
      r = await gen.next();
    }
    return { pcm: concatPcm(parts), stats: r.value };
  }

  dispose(): void {
    for (const t of this.owned) t.buffer.destroy();
    this.owned.length = 0;
  }
}

export function concatPcm(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
