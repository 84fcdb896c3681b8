/**
 * Speaker prompt files: everything the flow (and, in zero-shot mode, the LLM) needs about a voice, so that a
 * voice is prepared once and reused.
 *
 * Contents: prompt speech tokens int32 [P]; speaker embedding float32 [D] (CAMPPlus, D = 192 for CosyVoice3,
 * validated against the model's value); prompt mel float32 [T, numMels] row-major — upstream's
 * `prompt_speech_feat` [1, T, 80] without the batch axis, T = token_mel_ratio·P after alignment; optional
 * transcript (zero-shot prompt text) and sample rate of the mel (24000).
 *
 * Binary layout (little-endian), extension `.cvspk`:
 *   bytes 0..7   magic "CVSPK\0\0\1" (last byte = format version 1)
 *   bytes 8..11  u32 header length H
 *   bytes 12..   UTF-8 JSON header (H bytes), zero-padded to a multiple of 4
 *   then the three arrays back to back at the offsets the header names (each 4-byte aligned).
 * A plain-JSON variant (`speakerToJson`) stores the same fields as number arrays, for hand inspection.
 */

export class SpeakerFileError extends Error {
  override name = 'SpeakerFileError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`speaker file: ${field}: ${message}`);
  }
}

export interface SpeakerPrompt {
  /** int32 [P] prompt speech tokens. */
  promptSpeechTokens: Int32Array;
  /** float32 [D] speaker embedding. */
  embedding: Float32Array;
  /** float32 [melFrames, numMels] row-major prompt mel. */
  promptMel: Float32Array;
  melFrames: number;
  numMels: number;
  /** Sample rate the mel was computed at. */
  sampleRate: number;
  /** Transcript of the prompt audio (needed for zero-shot). */
  transcript?: string;
}

/** Model-side expectations a speaker file is checked against (read them from the model files). */
export interface SpeakerExpectations {
  embeddingDim?: number;
  numMels?: number;
  /** Tokens must be < speechTokenSize. */
  speechTokenSize?: number;
  /** mel frames must equal tokenMelRatio · P. */
  tokenMelRatio?: number;
  sampleRate?: number;
}

const MAGIC = [0x43, 0x56, 0x53, 0x50, 0x4b, 0, 0, 1]; // "CVSPK" \0 \0 v1

/** Validates shapes, ranges and finiteness; throws SpeakerFileError naming the field and shape. */
export function validateSpeaker(s: SpeakerPrompt, expect: SpeakerExpectations = {}): void {
  const P = s.promptSpeechTokens.length;
  const D = s.embedding.length;
  if (!(s.numMels > 0) || !Number.isInteger(s.numMels)) throw new SpeakerFileError('numMels', `invalid value ${s.numMels}`);
  if (!Number.isInteger(s.melFrames) || s.melFrames < 0) throw new SpeakerFileError('melFrames', `invalid value ${s.melFrames}`);
  if (s.promptMel.length !== s.melFrames * s.numMels) {
    throw new SpeakerFileError('promptMel', `has ${s.promptMel.length} values, expected [${s.melFrames}, ${s.numMels}] = ${s.melFrames * s.numMels}`);
  }
  if (expect.embeddingDim !== undefined && D !== expect.embeddingDim) {
    throw new SpeakerFileError('embedding', `shape [${D}], the model expects [${expect.embeddingDim}]`);
  }
  if (D === 0) throw new SpeakerFileError('embedding', 'is empty');
  if (expect.numMels !== undefined && s.numMels !== expect.numMels) {
    throw new SpeakerFileError('promptMel', `shape [${s.melFrames}, ${s.numMels}], the model expects [T, ${expect.numMels}]`);
  }
  if (expect.tokenMelRatio !== undefined && s.melFrames !== expect.tokenMelRatio * P) {
    throw new SpeakerFileError(
      'promptMel',
      `has ${s.melFrames} frames for ${P} prompt tokens; expected ${expect.tokenMelRatio}·${P} = ${expect.tokenMelRatio * P} (align with alignPromptFeatures)`,
    );
  }
  if (expect.sampleRate !== undefined && s.sampleRate !== expect.sampleRate) {
    throw new SpeakerFileError('sampleRate', `${s.sampleRate}, the model expects ${expect.sampleRate}`);
  }
  for (let i = 0; i < P; i++) {
    const t = s.promptSpeechTokens[i];
    if (t < 0 || (expect.speechTokenSize !== undefined && t >= expect.speechTokenSize)) {
      throw new SpeakerFileError('promptSpeechTokens', `token ${i} = ${t} is outside [0, ${expect.speechTokenSize ?? '∞'}) (shape [${P}])`);
    }
  }
  for (let i = 0; i < D; i++) {
    if (!Number.isFinite(s.embedding[i])) throw new SpeakerFileError('embedding', `value ${i} is ${s.embedding[i]} (shape [${D}])`);
  }
  for (let i = 0; i < s.promptMel.length; i++) {
    if (!Number.isFinite(s.promptMel[i])) {
      throw new SpeakerFileError('promptMel', `value at [${Math.floor(i / s.numMels)}, ${i % s.numMels}] is ${s.promptMel[i]}`);
    }
  }
}

interface Header {
  format: 'cosyvoice-speaker';
  version: 1;
  sampleRate: number;
  transcript?: string;
  promptSpeechTokens: { offset: number; shape: [number]; dtype: 'int32' };
  embedding: { offset: number; shape: [number]; dtype: 'float32' };
  promptMel: { offset: number; shape: [number, number]; dtype: 'float32' };
}

const align4 = (n: number) => (n + 3) & ~3;

export function encodeSpeaker(s: SpeakerPrompt): Uint8Array {
  validateSpeaker(s);
  const P = s.promptSpeechTokens.length, D = s.embedding.length;
  const header: Header = {
    format: 'cosyvoice-speaker',
    version: 1,
    sampleRate: s.sampleRate,
    ...(s.transcript !== undefined ? { transcript: s.transcript } : {}),
    promptSpeechTokens: { offset: 0, shape: [P], dtype: 'int32' },
    embedding: { offset: 4 * P, shape: [D], dtype: 'float32' },
    promptMel: { offset: 4 * (P + D), shape: [s.melFrames, s.numMels], dtype: 'float32' },
  };
  const hBytes = new TextEncoder().encode(JSON.stringify(header));
  const dataStart = 12 + align4(hBytes.length);
  const out = new Uint8Array(dataStart + 4 * (P + D + s.promptMel.length));
  out.set(MAGIC, 0);
  const dv = new DataView(out.buffer);
  dv.setUint32(8, hBytes.length, true);
  out.set(hBytes, 12);
  let o = dataStart;
  for (const v of s.promptSpeechTokens) (dv.setInt32(o, v, true), (o += 4));
  for (const v of s.embedding) (dv.setFloat32(o, v, true), (o += 4));
  for (const v of s.promptMel) (dv.setFloat32(o, v, true), (o += 4));
  return out;
}

export function decodeSpeaker(bytes: Uint8Array, expect: SpeakerExpectations = {}): SpeakerPrompt {
  if (bytes.length < 12 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new SpeakerFileError('magic', 'not a CosyVoice speaker file (expected "CVSPK" version 1 header)');
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hLen = dv.getUint32(8, true);
  if (12 + hLen > bytes.length) throw new SpeakerFileError('header', `length ${hLen} runs past the end of the file (${bytes.length} bytes)`);
  let h: Header;
  try {
    h = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + hLen)));
  } catch (e) {
    throw new SpeakerFileError('header', `invalid JSON (${(e as Error).message})`);
  }
  if (h.format !== 'cosyvoice-speaker' || h.version !== 1) throw new SpeakerFileError('header', `unknown format ${h.format} v${h.version}`);
  const dataStart = 12 + align4(hLen);
  const read = <T>(field: string, spec: { offset: number; shape: number[] }, Ctor: new (n: number) => T & { [i: number]: number }, get: (o: number) => number): T => {
    const n = spec.shape.reduce((a, b) => a * b, 1);
    if (!spec.shape.every((d) => Number.isInteger(d) && d >= 0)) throw new SpeakerFileError(field, `invalid shape [${spec.shape}]`);
    const start = dataStart + spec.offset;
    if (spec.offset % 4 !== 0 || start + 4 * n > bytes.length) {
      throw new SpeakerFileError(field, `shape [${spec.shape}] at offset ${spec.offset} runs past the end of the file (${bytes.length} bytes)`);
    }
    const arr = new Ctor(n);
    for (let i = 0; i < n; i++) arr[i] = get(start + 4 * i);
    return arr;
  };
  const tokens = read('promptSpeechTokens', h.promptSpeechTokens, Int32Array, (o) => dv.getInt32(o, true));
  const embedding = read('embedding', h.embedding, Float32Array, (o) => dv.getFloat32(o, true));
  const mel = read('promptMel', h.promptMel, Float32Array, (o) => dv.getFloat32(o, true));
  const s: SpeakerPrompt = {
    promptSpeechTokens: tokens,
    embedding,
    promptMel: mel,
    melFrames: h.promptMel.shape[0],
    numMels: h.promptMel.shape[1],
    sampleRate: h.sampleRate,
    ...(h.transcript !== undefined ? { transcript: h.transcript } : {}),
  };
  validateSpeaker(s, expect);
  return s;
}

/** Plain-JSON form (number arrays). */
export function speakerToJson(s: SpeakerPrompt): string {
  validateSpeaker(s);
  return JSON.stringify({
    format: 'cosyvoice-speaker-json',
    version: 1,
    sampleRate: s.sampleRate,
    transcript: s.transcript,
    promptSpeechTokens: Array.from(s.promptSpeechTokens),
    embedding: Array.from(s.embedding),
    promptMelShape: [s.melFrames, s.numMels],
    promptMel: Array.from(s.promptMel),
  });
}

export function speakerFromJson(text: string, expect: SpeakerExpectations = {}): SpeakerPrompt {
  let j: any;
  try {
    j = JSON.parse(text);
  } catch (e) {
    throw new SpeakerFileError('json', `invalid JSON (${(e as Error).message})`);
  }
  if (j?.format !== 'cosyvoice-speaker-json') throw new SpeakerFileError('format', `expected "cosyvoice-speaker-json", got ${j?.format}`);
  const arr = (field: string) => {
    if (!Array.isArray(j[field]) || !j[field].every((v: unknown) => typeof v === 'number')) {
      throw new SpeakerFileError(field, 'must be an array of numbers');
    }
    return j[field] as number[];
  };
  const shape = j.promptMelShape;
  if (!Array.isArray(shape) || shape.length !== 2) throw new SpeakerFileError('promptMelShape', `must be [T, numMels], got ${JSON.stringify(shape)}`);
  const tokens = arr('promptSpeechTokens');
  if (!tokens.every(Number.isInteger)) throw new SpeakerFileError('promptSpeechTokens', 'must be integers');
  const s: SpeakerPrompt = {
    promptSpeechTokens: Int32Array.from(tokens),
    embedding: Float32Array.from(arr('embedding')),
    promptMel: Float32Array.from(arr('promptMel')),
    melFrames: shape[0],
    numMels: shape[1],
    sampleRate: j.sampleRate,
    ...(typeof j.transcript === 'string' ? { transcript: j.transcript } : {}),
  };
  validateSpeaker(s, expect);
  return s;
}
