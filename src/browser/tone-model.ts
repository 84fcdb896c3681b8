/**
 * The "test tone" model: a deliberately small stand-in with the same shape of work as the real pipeline (weights
 * downloaded from a model folder, a GPU GEMM per chunk, streamed PCM), used to test the browser path end to end
 * (Worker, GPU, transfer, AudioWorklet, cache, cancel) before and beside the real CosyVoice3 pipeline.
 *
 * Files: tone.json (this header) + tone.bin (f32 little-endian tensors at the offsets the header names):
 *   basis  [hop, harmonics]  basis[n, k] = sin(2π (k+1) n / hop): harmonic k+1 of sampleRate/hop Hz, periodic per hop
 *   voices [voiceCount, harmonics]  per-character harmonic amplitudes (seeded, rows sum to 1)
 * Synthesis: each character of the text is `framesPerChar` frames; frame amplitudes a[k] = voices[c % voiceCount, k]
 * times a sine envelope over the character (spaces are silence); a frame's samples are basis · a (one GEMM row per
 * frame), times `gain`.
 */

export const TONE_FORMAT = 'cosyvoice-webgpu/test-tone';

export interface ToneTensorRef {
  file: string;
  /** Byte offset in `file`. */
  offset: number;
  shape: [number, number];
}

export interface ToneHeader {
  format: typeof TONE_FORMAT;
  version: 1;
  sampleRate: number;
  hop: number;
  harmonics: number;
  framesPerChar: number;
  framesPerChunk: number;
  gain: number;
  tensors: { basis: ToneTensorRef; voices: ToneTensorRef };
}

export interface ToneModelOptions {
  sampleRate?: number;
  hop?: number;
  harmonics?: number;
  voiceCount?: number;
  framesPerChar?: number;
  framesPerChunk?: number;
  gain?: number;
  seed?: number;
}

/** mulberry32: a tiny seeded generator, so the built model files are identical on every machine. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Builds tone.json + tone.bin. */
export function makeToneModel(o: ToneModelOptions = {}): { header: ToneHeader; bin: Uint8Array } {
  const sampleRate = o.sampleRate ?? 24000;
  const hop = o.hop ?? 480;
  const K = o.harmonics ?? 16;
  const V = o.voiceCount ?? 128;
  const rand = mulberry32(o.seed ?? 1234);
  const basis = new Float32Array(hop * K);
  for (let n = 0; n < hop; n++) for (let k = 0; k < K; k++) basis[n * K + k] = Math.sin((2 * Math.PI * (k + 1) * n) / hop);
  const voices = new Float32Array(V * K);
  for (let v = 0; v < V; v++) {
    let sum = 0;
    const row = new Float64Array(K);
    for (let k = 0; k < K; k++) sum += row[k] = rand() / (k + 1);
    for (let k = 0; k < K; k++) voices[v * K + k] = row[k] / sum;
  }
  const bin = new Uint8Array(basis.byteLength + voices.byteLength);
  bin.set(new Uint8Array(basis.buffer), 0);
  bin.set(new Uint8Array(voices.buffer), basis.byteLength);
  const header: ToneHeader = {
    format: TONE_FORMAT,
    version: 1,
    sampleRate,
    hop,
    harmonics: K,
    framesPerChar: o.framesPerChar ?? 5,
    framesPerChunk: o.framesPerChunk ?? 10,
    gain: o.gain ?? 0.5,
    tensors: {
      basis: { file: 'tone.bin', offset: 0, shape: [hop, K] },
      voices: { file: 'tone.bin', offset: basis.byteLength, shape: [V, K] },
    },
  };
  return { header, bin };
}
