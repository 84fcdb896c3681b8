/**
 * Speaker prompt files: binary and JSON round trips of the fixture's prompt (token2wav_offline: prompt tokens,
 * prompt mel [2P, 80], CAMPPlus-sized embedding), validated against dimensions read from the fixtures, and the
 * typed errors for each kind of bad file.
 */
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readFixtureSet, readManifest } from '../helpers/fixtures.js';
import { writeWav } from '../../src/audio/index.js';
import {
  SpeakerFileError,
  decodeSpeaker,
  encodeSpeaker,
  loadSpeakerFile,
  saveSpeakerFile,
  speakerFromJson,
  speakerFromSources,
  speakerToJson,
  type SpeakerExpectations,
  type SpeakerPrompt,
} from '../../src/speaker/index.js';

const set = readFixtureSet('token2wav_offline', 0);
const [, promptToken, promptFeat, embedding] = set.inputs;
const manifest = readManifest();

function fixtureSpeaker(): SpeakerPrompt {
  return {
    promptSpeechTokens: Int32Array.from(promptToken.raw as Int32Array),
    embedding: Float32Array.from(embedding.raw as Float32Array),
    promptMel: Float32Array.from(promptFeat.raw as Float32Array),
    melFrames: promptFeat.dims[1],
    numMels: promptFeat.dims[2],
    sampleRate: 24000,
    transcript: 'You are a helpful assistant.<|endofprompt|>hello',
  };
}

const expectFromModel: SpeakerExpectations = {
  embeddingDim: embedding.dims[1],
  numMels: promptFeat.dims[2],
  speechTokenSize: manifest.special_tokens.speech_token_size,
  tokenMelRatio: promptFeat.dims[1] / promptToken.dims[1],
  sampleRate: 24000,
};

function expectSame(a: SpeakerPrompt, b: SpeakerPrompt) {
  expect(Array.from(a.promptSpeechTokens)).toEqual(Array.from(b.promptSpeechTokens));
  expect(Array.from(a.embedding)).toEqual(Array.from(b.embedding));
  expect(Array.from(a.promptMel)).toEqual(Array.from(b.promptMel));
  expect([a.melFrames, a.numMels, a.sampleRate, a.transcript]).toEqual([b.melFrames, b.numMels, b.sampleRate, b.transcript]);
}

describe('speaker file', () => {
  it('round-trips the fixture prompt exactly (binary and JSON, in memory and on disk)', () => {
    const s = fixtureSpeaker();
    expect(expectFromModel.embeddingDim).toBe(192);
    const bin = encodeSpeaker(s);
    expectSame(decodeSpeaker(bin, expectFromModel), s);
    expectSame(speakerFromJson(speakerToJson(s), expectFromModel), s);
    const dir = mkdtempSync(join(tmpdir(), 'spk-'));
    for (const name of ['voice.cvspk', 'voice.json']) {
      saveSpeakerFile(join(dir, name), s);
      expectSame(loadSpeakerFile(join(dir, name), expectFromModel), s);
    }
    expect(readdirSync(dir).sort()).toEqual(['voice.cvspk', 'voice.json']);
    console.log(`binary speaker file: ${bin.length} bytes for P=${s.promptSpeechTokens.length}, D=${s.embedding.length}, mel [${s.melFrames}, ${s.numMels}]`);
  });

  it('names the field and shape of a mismatch', () => {
    const s = fixtureSpeaker();
    const bad = (patch: Partial<SpeakerPrompt>) => () => decodeSpeaker(encodeSpeaker({ ...s, ...patch }), expectFromModel);
    expect(bad({ embedding: new Float32Array(80) })).toThrow(/embedding: shape \[80\], the model expects \[192\]/);
    expect(bad({ promptSpeechTokens: s.promptSpeechTokens.slice(0, 20) })).toThrow(/promptMel: has 50 frames for 20 prompt tokens/);
    expect(bad({ promptSpeechTokens: Int32Array.from(s.promptSpeechTokens, (t, i) => (i === 3 ? 100 : t)) })).toThrow(
      /promptSpeechTokens: token 3 = 100 is outside \[0, 100\)/,
    );
    expect(bad({ sampleRate: 22050 })).toThrow(SpeakerFileError);
    const nan = s.promptMel.slice();
    nan[81] = NaN;
    expect(() => encodeSpeaker({ ...s, promptMel: nan })).toThrow(/promptMel: value at \[1, 1\] is NaN/);
    expect(() => encodeSpeaker({ ...s, melFrames: 49 })).toThrow(/promptMel: has 4000 values, expected \[49, 80\]/);
  });

  it('rejects foreign, truncated and malformed files', () => {
    const bin = encodeSpeaker(fixtureSpeaker());
    expect(() => decodeSpeaker(new Uint8Array(20))).toThrow(/magic/);
    expect(() => decodeSpeaker(bin.subarray(0, bin.length - 4))).toThrow(/promptMel: shape \[50,80\] .* runs past the end/);
    expect(() => speakerFromJson('{"format":"x"}')).toThrow(/format/);
    expect(() => speakerFromJson('{nope')).toThrow(/invalid JSON/);
    const dir = mkdtempSync(join(tmpdir(), 'spk-'));
    expect(() => loadSpeakerFile(join(dir, 'missing.cvspk'))).toThrow(/cannot read/);
    expect(existsSync(join(dir, 'missing.cvspk'))).toBe(false);
  });
});

describe('speakerFromSources', () => {
  it('computes the 24 kHz prompt mel from a WAV and aligns tokens to 2 frames each', () => {
    const pcm = Float32Array.from({ length: 48000 }, (_, i) => 0.2 * Math.sin((2 * Math.PI * 220 * i) / 48000));
    const s = speakerFromSources(
      { audio: writeWav(pcm, 48000, 'float32'), speechTokens: Array.from({ length: 30 }, (_, i) => i), embedding: new Float32Array(192), transcript: 'hi' },
      expectFromModel,
    );
    // 1 s at 24 kHz = 50 frames → L = min(25, 30) = 25 tokens, 50 frames.
    expect([s.promptSpeechTokens.length, s.melFrames, s.numMels]).toEqual([25, 50, 80]);
    expect(decodeSpeaker(encodeSpeaker(s), expectFromModel).transcript).toBe('hi');
    expect(() => speakerFromSources({ audio: writeWav(pcm, 48000), speechTokens: [], embedding: new Float32Array(192) })).toThrow(
      /no prompt tokens after alignment/,
    );
    expect(() => speakerFromSources({ audio: writeWav(pcm, 48000), speechTokens: [1, 2], embedding: new Float32Array(10) }, expectFromModel)).toThrow(
      /embedding: shape \[10\]/,
    );
  });
});
