/**
 * `serve` (src/cli/commands/serve.ts) on the synthetic tiny model over WebGPU: two streaming requests and one offline
 * request at once each return the WAV of the same synthesis run directly (16-bit samples equal), the streaming WAV
 * header says "length unknown", and bad requests get their status and a JSON error naming the problem.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pcm16 } from '../../src/audio/index.js';
import { parseRequest, startServer } from '../../src/cli/commands/serve.js';
import { GpuContext } from '../../src/gpu/context.js';
import { syntheticModelFiles } from '../../src/pipeline/model-files.js';
import { syntheticSpeaker } from '../../src/pipeline/speaker.js';
import type { CosyVoicePipeline } from '../../src/pipeline/tts.js';
import type { SpeakerPrompt } from '../../src/pipeline/types.js';
import { createWebGpuPipeline } from '../../src/pipeline/webgpu.js';
import { testContext } from '../helpers/gpu.js';
import { requestNodeDevice } from '../../src/gpu/node-device.js';

let tts: CosyVoicePipeline;
let speaker: SpeakerPrompt;
let server: Awaited<ReturnType<typeof startServer>>;

beforeAll(async () => {
  const files = syntheticModelFiles('tiny', 0);
  tts = await createWebGpuPipeline(new GpuContext((await testContext()).handle), files, { maxFrames: 400 });
  speaker = syntheticSpeaker(files);
  server = await startServer({ tts, speaker, synthetic: true, port: 0 });
});

afterAll(async () => {
  await server?.close();
  tts?.dispose();
});

const post = (body: unknown) => fetch(`${server.url}/tts`, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body) });

/** The 16-bit samples after a 44-byte header; the header's RIFF and data sizes. */
function parseWav(bytes: Uint8Array): { samples: Int16Array; riff: number; data: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  expect(new TextDecoder().decode(bytes.subarray(36, 40))).toBe('data');
  return { samples: new Int16Array(bytes.slice(44).buffer), riff: view.getUint32(4, true), data: view.getUint32(40, true) };
}

function expectSameSamples(a: Int16Array, b: Int16Array, what: string): void {
  expect(a.length, `${what}: samples`).toBe(b.length);
  const i = a.findIndex((v, j) => v !== b[j]);
  if (i >= 0) throw new Error(`${what}: first differing sample [${i}] ${a[i]} vs ${b[i]}`);
}

describe('serve', () => {
  it('three requests at once: each WAV holds the samples of the same synthesis run directly', async () => {
    const reqs = [
      { text: 'Hello there, this is a test.', seed: 1, tokens: 40 },
      { text: 'Another request entirely.', seed: 2, tokens: 30 },
      { text: 'Offline, one piece.', seed: 3, tokens: 20, stream: false },
    ];
    const direct = [];
    for (const r of reqs) direct.push(pcm16((await tts.synthesize(r.text, speaker, { seed: r.seed, forceTokens: r.tokens, stream: r.stream ?? true })).pcm));
    const res = await Promise.all(reqs.map((r) => post(r)));
    for (const [i, r] of res.entries()) {
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toBe('audio/wav');
      const wav = parseWav(new Uint8Array(await r.arrayBuffer()));
      expectSameSamples(wav.samples, direct[i], `request ${i}`);
      expect(wav.samples.length).toBe(960 * reqs[i].tokens);
      if (reqs[i].stream === false) expect(wav.data).toBe(2 * wav.samples.length);
      else expect([wav.riff, wav.data]).toEqual([0xffffffff, 0xffffffff]);
    }
  });

  it('health, and errors with their status and a JSON body naming the problem', async () => {
    const health = await (await fetch(`${server.url}/health`)).json();
    expect(health).toEqual({ model: 'synthetic', sampleRate: 24000, synthetic: true, state: 'ready', reloads: 0 });
    const cases: [unknown, number, RegExp][] = [
      ['{not json', 400, /not JSON/],
      [{}, 400, /"text".*required/],
      [{ text: '   ' }, 400, /empty/],
      [{ text: 'hi', speed: -1 }, 400, /"speed"/],
      [{ text: 'hi', speed: 2 }, 400, /offline/], // speed needs stream: false, as upstream
      [{ text: 'hi', colour: 'red' }, 400, /unknown field "colour"/],
    ];
    for (const [body, status, message] of cases) {
      const r = await post(body);
      const j = (await r.json()) as { error: string; message: string };
      expect(r.status, JSON.stringify(body)).toBe(status);
      expect(j.message).toMatch(message);
    }
    expect((await fetch(`${server.url}/nope`)).status).toBe(404);
    expect((await fetch(`${server.url}/tts`)).status).toBe(405);
  });

  it('parseRequest: defaults and field checks', () => {
    expect(parseRequest('{"text":"a"}')).toEqual({ text: 'a', stream: true, opts: { seed: undefined, speed: undefined, forceTokens: undefined, mode: undefined, instruct: undefined } });
    expect(() => parseRequest('[1]')).toThrow(/JSON object/);
    expect(() => parseRequest('{"text":"a","tokens":1.5}')).toThrow(/"tokens"/);
    expect(() => parseRequest('{"text":"a","mode":"sing"}')).toThrow(/"mode"/);
  });
});

describe('serve after a lost GPU device', () => {
  it('the request that meets the loss gets 503 + Retry-After; the pipeline is built again on a new device, and the next request gets the same samples', async () => {
    const files = syntheticModelFiles('tiny', 0);
    const contexts: GpuContext[] = [];
    const build = async () => {
      const ctx = new GpuContext(await requestNodeDevice());
      contexts.push(ctx);
      return createWebGpuPipeline(ctx, files, { maxFrames: 400 });
    };
    const srv = await startServer({ tts: await build(), rebuild: build, speaker: syntheticSpeaker(files), synthetic: true, port: 0 });
    const ask = () => fetch(`${srv.url}/tts`, { method: 'POST', body: JSON.stringify({ text: 'Hello again.', seed: 4, tokens: 12 }) });
    try {
      const before = await ask();
      expect(before.status).toBe(200);
      const samples = parseWav(new Uint8Array(await before.arrayBuffer())).samples;
      contexts[0].device.destroy();
      await contexts[0].handle.lost;
      const lost = await ask();
      expect(lost.status).toBe(503);
      expect(lost.headers.get('retry-after')).toBe('5');
      expect(((await lost.json()) as { error: string }).error).toBe('DeviceLostError');
      const after = await ask(); // waits for the rebuild
      expect(after.status).toBe(200);
      expectSameSamples(parseWav(new Uint8Array(await after.arrayBuffer())).samples, samples, 'after the rebuild');
      expect(contexts).toHaveLength(2);
      expect(await (await fetch(`${srv.url}/health`)).json()).toMatchObject({ state: 'ready', reloads: 1 });
    } finally {
      await srv.close();
      srv.pipeline().dispose();
    }
  });
});
