/**
 * WAV reading and writing through the `wavefile` package.
 *
 * Reading follows what upstream's `torchaudio.load` (soundfile backend, libsndfile normalisation) gives:
 * integer PCM scaled by 1/2^(bits−1) (8-bit: unsigned, offset 128), float data as stored; channels are then
 * averaged to mono (upstream: `speech.mean(dim=0)`). Writing produces mono 16-bit PCM (x·32767, rounded,
 * clipped to ±1 first) or 32-bit float.
 */
import * as wavefileNs from 'wavefile';
import type { WaveFile as WaveFileType } from 'wavefile';
import { AudioInputError } from './mel.js';

// wavefile is CommonJS for Node (WaveFile on the default export) and ESM for bundlers (a named export).
const ns = wavefileNs as unknown as { WaveFile?: typeof WaveFileType; default?: { WaveFile: typeof WaveFileType } };
const WaveFile = (ns.WaveFile ?? ns.default?.WaveFile) as typeof WaveFileType;

export class WavFormatError extends Error {
  override name = 'WavFormatError';
}

export interface DecodedWav {
  /** Mono samples in [−1, 1] (channel mean). */
  samples: Float32Array;
  sampleRate: number;
  /** Channels in the file before the mono mix. */
  channels: number;
  /** wavefile bit-depth code of the file ('16', '24', '32', '32f', '64', '8'). */
  bitDepth: string;
}

interface WaveFmt {
  numChannels: number;
  sampleRate: number;
  audioFormat: number;
}

/** Decodes a RIFF/RIFX/RF64 WAV (PCM 8–32 bit or IEEE float 32/64) to mono float samples. */
export function readWav(bytes: Uint8Array, label = 'WAV'): DecodedWav {
  let wav: WaveFileType;
  try {
    wav = new WaveFile(bytes);
  } catch (e) {
    throw new WavFormatError(`${label}: not a readable WAV file (${(e as Error).message})`);
  }
  const fmt = wav.fmt as WaveFmt;
  const bitDepth = (wav as unknown as { bitDepth: string }).bitDepth;
  const channels = fmt.numChannels;
  if (!(channels >= 1)) throw new WavFormatError(`${label}: ${channels} channels`);
  if (!(fmt.sampleRate > 0)) throw new WavFormatError(`${label}: invalid sample rate ${fmt.sampleRate}`);
  let scale: number;
  let offset = 0;
  if (bitDepth === '32f' || bitDepth === '64') scale = 1;
  else if (bitDepth === '8') {
    scale = 1 / 128;
    offset = -128;
  } else {
    const bits = Number(bitDepth);
    if (!Number.isInteger(bits) || bits < 8 || bits > 32 || (fmt.audioFormat !== 1 && fmt.audioFormat !== 65534)) {
      throw new WavFormatError(`${label}: unsupported encoding (bit depth ${bitDepth}, format tag ${fmt.audioFormat}); use PCM or float WAV`);
    }
    scale = 1 / 2 ** (bits - 1);
  }
  const raw = wav.getSamples(false, Float64Array) as unknown as Float64Array | Float64Array[];
  const chans: Float64Array[] = channels === 1 ? [raw as Float64Array] : (raw as Float64Array[]);
  const n = chans[0].length;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let c = 0; c < channels; c++) s += (chans[c][i] + offset) * scale;
    out[i] = s / channels;
  }
  return { samples: out, sampleRate: fmt.sampleRate, channels, bitDepth };
}

export type WavEncoding = 'pcm16' | 'float32';

function checkFinite(samples: Float32Array | Float64Array): void {
  for (let i = 0; i < samples.length; i++) {
    if (!Number.isFinite(samples[i])) throw new AudioInputError(`sample ${i} is not finite (${samples[i]}); refusing to write a WAV`);
  }
}

/** Samples in [−1, 1] (clamped) as 16-bit PCM, as writeWav stores them; a non-finite sample is refused. */
export function pcm16(samples: Float32Array | Float64Array): Int16Array {
  checkFinite(samples);
  const ints = new Int16Array(samples.length);
  for (let i = 0; i < samples.length; i++) ints[i] = Math.round(Math.max(-1, Math.min(1, samples[i])) * 32767);
  return ints;
}

/**
 * The 44-byte header of a mono 16-bit WAV whose length is not known yet (a stream): the RIFF and data sizes are
 * 0xFFFFFFFF, which players read as "until the end of the stream".
 */
export function streamingWavHeader(sampleRate: number): Uint8Array {
  const header = writeWav(new Float32Array(0), sampleRate).slice(0, 44);
  const view = new DataView(header.buffer, header.byteOffset, 44);
  view.setUint32(4, 0xffffffff, true);
  view.setUint32(40, 0xffffffff, true);
  return header;
}

/** Encodes mono samples as a WAV file. */
export function writeWav(samples: Float32Array | Float64Array, sampleRate: number, encoding: WavEncoding = 'pcm16'): Uint8Array {
  if (!Number.isInteger(sampleRate) || sampleRate <= 0) throw new AudioInputError(`invalid sample rate ${sampleRate}`);
  const wav = new WaveFile();
  if (encoding === 'pcm16') {
    wav.fromScratch(1, sampleRate, '16', pcm16(samples));
  } else {
    checkFinite(samples);
    wav.fromScratch(1, sampleRate, '32f', Float32Array.from(samples));
  }
  return wav.toBuffer();
}
