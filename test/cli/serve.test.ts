/**
 * `serve` (src/cli/commands/serve.ts) on the synthetic tiny model over WebGPU: two streaming requests and one offline
 * request at once each return the WAV of the same synthesis run directly (16-bit samples equal), the streaming WAV
 * header says "length unknown", and bad requests get their status and a JSON error naming the problem.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pcm16, writeWav } from '../../src/audio/index.js';
import { syntheticPromptModels } from '../../src/speaker/prompt-models-node.js';
import { apiKeyOf, parseRequest, readVoices, startServer } from '../../src/cli/commands/serve.js';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { saveSpeakerFile } from '../../src/speaker/index.js';
import { GpuContext } from '../../src/gpu/context.js';
import { syntheticModelFiles } from '../../src/pipeline/model-files.js';
import { speakerExpectationsOf, syntheticSpeaker } from '../../src/pipeline/speaker.js';
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
    expect(health).toMatchObject({ model: 'synthetic', sampleRate: 24000, synthetic: true, state: 'ready', reloads: 0 });
    // The first test's three requests were served; the LLM batched their decode steps.
    expect(health.requests).toEqual({ inFlight: 0, served: 3, cancelled: 0, failed: 0 }); // before the cancellation test
    expect(health.llmSteps.decodeRows).toBeGreaterThan(health.llmSteps.steps - health.llmSteps.prefills);
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

  it('a client that disconnects mid-stream cancels its synthesis and frees its KV slot', async () => {
    type Health = { requests: Record<string, number>; llmSteps: { steps: number } };
    const health = async () => (await (await fetch(`${server.url}/health`)).json()) as Health;
    const h0 = await health();
    // Five in a row: the KV cache has 4 sequence slots, so a cancelled request that kept its slot would leave the
    // fifth (and the request after) waiting for one forever.
    for (let n = 1; n <= 5; n++) {
      const ac = new AbortController();
      const r = await fetch(`${server.url}/tts`, { method: 'POST', body: JSON.stringify({ text: 'A long one.', tokens: 400 }), signal: ac.signal });
      const reader = r.body!.getReader();
      await reader.read(); // the header and the first chunk have arrived
      ac.abort();
      await reader.read().catch(() => undefined);
      let h = await health();
      for (let i = 0; i < 100 && (h.requests.inFlight > 0 || h.requests.cancelled < h0.requests.cancelled + n); i++) {
        await new Promise((w) => setTimeout(w, 100));
        h = await health();
      }
      expect(h.requests).toMatchObject({ inFlight: 0, cancelled: h0.requests.cancelled + n, served: h0.requests.served });
    }
    // The LLM stopped long before the 5 × 400 tokens asked for, and a request after them gets its audio.
    expect((await health()).llmSteps.steps - h0.llmSteps.steps).toBeLessThan(5 * 200);
    const after = await fetch(`${server.url}/tts`, { method: 'POST', body: JSON.stringify({ text: 'And then.', tokens: 5 }), signal: AbortSignal.timeout(60_000) });
    expect(after.status).toBe(200);
    expect(parseWav(new Uint8Array(await after.arrayBuffer())).samples.length).toBe(960 * 5);
  });

  it('parseRequest: defaults and field checks, on both routes', () => {
    expect(parseRequest('/tts', '{"text":"a"}')).toEqual({ text: 'a', stream: true, format: 'wav', voice: undefined, opts: { seed: undefined, speed: undefined, forceTokens: undefined, mode: undefined, instruct: undefined } });
    expect(() => parseRequest('/tts', '[1]')).toThrow(/JSON object/);
    expect(() => parseRequest('/tts', '{"text":"a","tokens":1.5}')).toThrow(/"tokens"/);
    expect(() => parseRequest('/tts', '{"text":"a","mode":"sing"}')).toThrow(/"mode"/);
    expect(parseRequest('/v1/audio/speech', '{"model":"tts-1","input":"a","voice":"x","instructions":"slowly","speed":1.5}')).toEqual({
      text: 'a', stream: false, format: 'wav', voice: 'x', opts: { speed: 1.5, mode: 'instruct', instruct: 'slowly' },
    });
    expect(() => parseRequest('/v1/audio/speech', '{"input":"a","response_format":"mp3"}')).toThrow(/mp3 is not served here/);
    expect(() => parseRequest('/v1/audio/speech', '{"input":"a","speed":5}')).toThrow(/"speed"/);
    expect(() => parseRequest('/v1/audio/speech', '{"text":"a"}')).toThrow(/unknown field "text"/);
  });
});

describe('serve after a lost GPU device', () => {
  it('the request that meets the loss gets 503 + Retry-After; the pipeline is built again (on another device), and the next request gets the same samples', async () => {
    const files = syntheticModelFiles('tiny', 0);
    // The first pipeline on a device of its own, which the test destroys; the rebuild on the tests' shared device
    // (a new device costs ~350 MB of compiled pipelines in this one test process, until it is destroyed).
    const contexts: GpuContext[] = [new GpuContext(await requestNodeDevice())];
    const first = await createWebGpuPipeline(contexts[0], files, { maxFrames: 400 });
    const build = async () => {
      contexts.push(new GpuContext((await testContext()).handle));
      return createWebGpuPipeline(contexts.at(-1)!, files, { maxFrames: 400 });
    };
    const srv = await startServer({ tts: first, rebuild: build, speaker: syntheticSpeaker(files), synthetic: true, port: 0 });
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

describe('serve: voices and the OpenAI speech route', () => {
  it('a request picks a voice of --voices by name; /v1/audio/speech answers with pcm or wav; unknown voices are 400', async () => {
    const files = syntheticModelFiles('tiny', 0);
    const dir = mkdtempSync(join(tmpdir(), 'voices-'));
    try {
      const asFile = (p: SpeakerPrompt) => ({ promptSpeechTokens: p.promptTokens, embedding: p.embedding, promptMel: p.promptMel, melFrames: p.promptMel.length / 80, numMels: 80, sampleRate: 24000, transcript: p.promptText });
      saveSpeakerFile(join(dir, 'alice.cvspk'), asFile(syntheticSpeaker(files, 1)));
      saveSpeakerFile(join(dir, 'bob.cvspk'), asFile(syntheticSpeaker(files, 2)));
      writeFileSync(join(dir, 'notes.txt'), 'not a voice');
      const voices = readVoices(dir, files);
      expect([...voices.keys()]).toEqual(['alice', 'bob']);
      const srv = await startServer({ tts, speaker, voices, synthetic: true, port: 0 });
      try {
        expect(await (await fetch(`${srv.url}/voices`)).json()).toEqual({ voices: ['alice', 'bob'] });
        const bob = voices.get('bob')!;
        const direct = pcm16((await tts.synthesize('Hi from Bob.', bob, { seed: 5, forceTokens: 15, stream: true })).pcm);
        const r = await fetch(`${srv.url}/tts`, { method: 'POST', body: JSON.stringify({ text: 'Hi from Bob.', voice: 'bob', seed: 5, tokens: 15, format: 'pcm' }) });
        expect(r.headers.get('content-type')).toBe('audio/pcm');
        expectSameSamples(new Int16Array(await r.arrayBuffer()), direct, 'voice bob, pcm');
        // OpenAI's route: no seed or length there, so the synthetic model's 50 tokens and seed 0.
        const openai = (body: unknown) => fetch(`${srv.url}/v1/audio/speech`, { method: 'POST', body: JSON.stringify(body) });
        const alice = voices.get('alice')!;
        const streamed = pcm16((await tts.synthesize('Hello from Alice.', alice, { forceTokens: 50, stream: true })).pcm);
        const o1 = await openai({ model: 'tts-1', input: 'Hello from Alice.', voice: 'alice', response_format: 'pcm' });
        expect(o1.status).toBe(200);
        expectSameSamples(new Int16Array(await o1.arrayBuffer()), streamed, 'openai pcm');
        const offline = pcm16((await tts.synthesize('Hello from Alice.', alice, { forceTokens: 50, speed: 2 })).pcm);
        const o2 = await openai({ model: 'tts-1', input: 'Hello from Alice.', voice: 'alice', speed: 2 });
        const wav = parseWav(new Uint8Array(await o2.arrayBuffer()));
        expectSameSamples(wav.samples, offline, 'openai wav at speed 2 (offline)');
        expect(wav.data).toBe(2 * wav.samples.length);
        const bad = await openai({ input: 'x', voice: 'carol' });
        expect(bad.status).toBe(400);
        expect(((await bad.json()) as { message: string }).message).toMatch(/no voice "carol" \(voices: alice, bob\)/);
      } finally {
        await srv.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('serve: voices from uploaded WAVs', () => {
  it('POST /voices makes a voice from a WAV (saved to the voices folder) that /tts then speaks with; bad uploads get 400/501', async () => {
    const files = syntheticModelFiles('tiny', 0);
    const dir = mkdtempSync(join(tmpdir(), 'voices-up-'));
    const models = await syntheticPromptModels('tiny', { threads: 1 });
    const c = files.config;
    const expectations = speakerExpectationsOf(c);
    const srv = await startServer({ tts, speaker, synthetic: true, port: 0, voicesDir: dir, voiceFromWav: (wav, text) => models.speaker(wav, text, expectations) });
    const noVoices = await startServer({ tts, speaker, synthetic: true, port: 0 });
    try {
      const pcm = Float32Array.from({ length: 16000 * 2 }, (_, i) => 0.3 * Math.sin(i * 0.05 + 1e-5 * i * i));
      const wav = writeWav(pcm, 16000) as Uint8Array<ArrayBuffer>;
      const up = await fetch(`${srv.url}/voices?name=carol&text=${encodeURIComponent('what carol said')}`, { method: 'POST', body: wav });
      expect(up.status).toBe(201);
      const info = (await up.json()) as { voice: string; promptTokens: number; replaced: boolean };
      expect(info).toMatchObject({ voice: 'carol', replaced: false });
      const direct = await models.speaker(wav, 'what carol said', expectations);
      expect(info.promptTokens).toBe(direct.promptSpeechTokens.length);
      expect(await (await fetch(`${srv.url}/voices`)).json()).toEqual({ voices: ['carol'] });
      // Saved: the folder's file reads back as the same speaker.
      const saved = readVoices(dir, files).get('carol')!;
      expect(Array.from(saved.promptTokens)).toEqual(Array.from(direct.promptSpeechTokens));
      const want = pcm16((await tts.synthesize('Hi from Carol.', saved, { seed: 4, forceTokens: 12, stream: true })).pcm);
      const r = await fetch(`${srv.url}/tts`, { method: 'POST', body: JSON.stringify({ text: 'Hi from Carol.', voice: 'carol', seed: 4, tokens: 12, format: 'pcm' }) });
      expectSameSamples(new Int16Array(await r.arrayBuffer()), want, 'uploaded voice carol');
      const bad: [string, Uint8Array<ArrayBuffer>, number, RegExp][] = [
        ['/voices?name=../x', wav, 400, /voice name/],
        ['/voices?name=dave', new TextEncoder().encode('not a wav'), 400, /WavFormatError|WAV/],
        ['/voices?name=dave', writeWav(new Float32Array(8000), 8000) as Uint8Array<ArrayBuffer>, 400, /16000 Hz minimum/],
      ];
      for (const [path, body, status, msg] of bad) {
        const b = await fetch(`${srv.url}${path}`, { method: 'POST', body: body });
        expect(b.status, path).toBe(status);
        expect(JSON.stringify(await b.json()), path).toMatch(msg);
      }
      const none = await fetch(`${noVoices.url}/voices?name=erin`, { method: 'POST', body: wav });
      expect(none.status).toBe(501);
      // DELETE forgets the voice and its file; a second DELETE is 404, a bad name 400.
      const del = await fetch(`${srv.url}/voices/carol`, { method: 'DELETE' });
      expect(await del.json()).toEqual({ voice: 'carol', files: ['carol.cvspk'] });
      expect(existsSync(join(dir, 'carol.cvspk'))).toBe(false);
      expect(await (await fetch(`${srv.url}/voices`)).json()).toEqual({ voices: [] });
      expect((await fetch(`${srv.url}/voices/carol`, { method: 'DELETE' })).status).toBe(404);
      expect((await fetch(`${srv.url}/voices/..%2Fx`, { method: 'DELETE' })).status).toBe(400);
    } finally {
      await srv.close();
      await noVoices.close();
      models.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('serve: voice conversion', () => {
  it('POST /vc speaks the source WAV\'s tokens in a voice (streamed WAV, offline pcm, speed); bad queries and bodies 400, no tokenizer 501', async () => {
    const files = syntheticModelFiles('tiny', 0);
    const models = await syntheticPromptModels('tiny', { threads: 1 });
    const alice = syntheticSpeaker(files, 7);
    const voices = new Map([['alice', alice]]);
    const srv = await startServer({ tts, speaker, voices, synthetic: true, port: 0, sourceTokens: (wav) => models.sourceTokens(wav) });
    const noVc = await startServer({ tts, speaker, synthetic: true, port: 0 });
    try {
      const src = writeWav(Float32Array.from({ length: 16000 * 1.2 }, (_, i) => 0.3 * Math.sin(i * 0.07 + 2e-5 * i * i)), 16000) as Uint8Array<ArrayBuffer>;
      const tokens = await models.sourceTokens(src);
      expect(tokens.length).toBeGreaterThan(20);
      const direct = async (streaming: boolean, speed?: number) => {
        const parts: Float32Array[] = [];
        const g = tts.streamTokens(tokens, alice, { streaming, speed });
        for (let r = await g.next(); !r.done; r = await g.next()) parts.push(r.value);
        return pcm16(Float32Array.from(parts.flatMap((p) => [...p])));
      };
      const streamed = await fetch(`${srv.url}/vc?voice=alice`, { method: 'POST', body: src });
      expect(streamed.status).toBe(200);
      const wav = parseWav(new Uint8Array(await streamed.arrayBuffer()));
      expect(wav.data).toBe(0xffffffff);
      expectSameSamples(wav.samples, await direct(true), 'vc streamed');
      expect(wav.samples.length).toBe(960 * tokens.length);
      const offline = await fetch(`${srv.url}/vc?voice=alice&stream=false&format=pcm&speed=1.5`, { method: 'POST', body: src });
      expect(offline.headers.get('content-type')).toBe('audio/pcm');
      expectSameSamples(new Int16Array(await offline.arrayBuffer()), await direct(false, 1.5), 'vc offline, speed 1.5');
      const bad: [string, Uint8Array<ArrayBuffer>, number, RegExp][] = [
        ['/vc?voice=bob', src, 400, /no voice "bob"/],
        ['/vc?pitch=2', src, 400, /unknown query parameter "pitch"/],
        ['/vc?stream=maybe', src, 400, /"stream": maybe is not true or false/],
        ['/vc?speed=0', src, 400, /"speed": 0 is not a number > 0/],
        ['/vc?speed=2', src, 400, /SpeedError|offline/],
        ['/vc', new TextEncoder().encode('not a wav'), 400, /WavFormatError|WAV/],
        ['/vc', writeWav(new Float32Array(16000 * 31), 16000) as Uint8Array<ArrayBuffer>, 400, /at most 30 s/],
      ];
      for (const [path, body, status, msg] of bad) {
        const b = await fetch(`${srv.url}${path}`, { method: 'POST', body });
        expect(b.status, path).toBe(status);
        const e = (await b.json()) as { error: string; message: string };
        expect(`${e.error}: ${e.message}`, path).toMatch(msg);
      }
      const none = await fetch(`${noVc.url}/vc`, { method: 'POST', body: src });
      expect(none.status).toBe(501);
    } finally {
      await srv.close();
      await noVc.close();
      models.dispose();
    }
  });
});

describe('serve: API key and request limit', () => {
  it('with a key, every request but /health needs "Authorization: Bearer <key>" (401); past --max-requests a request is 429', async () => {
    const srv = await startServer({ tts, speaker, synthetic: true, port: 0, apiKey: 'k3y-for-tests', maxRequests: 1 });
    try {
      const tts1 = (auth?: string, body: object = { text: 'Hi.', tokens: 6, stream: false, format: 'pcm' }) =>
        fetch(`${srv.url}/tts`, { method: 'POST', body: JSON.stringify(body), headers: auth ? { authorization: auth } : {} });
      expect((await fetch(`${srv.url}/health`)).status).toBe(200);
      for (const auth of [undefined, 'Bearer wrong-key-xx', 'k3y-for-tests', 'Basic k3y-for-tests']) {
        const r = await tts1(auth);
        expect(r.status, String(auth)).toBe(401);
        expect(r.headers.get('www-authenticate')).toBe('Bearer');
      }
      expect((await fetch(`${srv.url}/voices`)).status).toBe(401);
      const ok = await tts1('Bearer k3y-for-tests');
      expect(ok.status).toBe(200);
      expect((await ok.arrayBuffer()).byteLength).toBe(2 * 960 * 6);
      // One request at most: a second while the first streams is 429; after it ends, requests run again.
      const first = await tts1('Bearer k3y-for-tests', { text: 'A longer one.', tokens: 120 });
      expect(first.status).toBe(200);
      const second = await tts1('Bearer k3y-for-tests');
      expect(second.status).toBe(429);
      expect(second.headers.get('retry-after')).toBe('1');
      expect(((await second.json()) as { error: string }).error).toBe('TooManyRequests');
      await first.arrayBuffer();
      // The first counts until its response closes, just after its last byte: retry briefly, as a client would.
      let third = await tts1('Bearer k3y-for-tests');
      for (let i = 0; i < 40 && third.status === 429; i++) {
        await new Promise((r) => setTimeout(r, 50));
        third = await tts1('Bearer k3y-for-tests');
      }
      expect(third.status).toBe(200);
    } finally {
      await srv.close();
    }
    expect(apiKeyOf(undefined, 'from-the-env-1')).toBe('from-the-env-1');
    expect(apiKeyOf(undefined, undefined)).toBeUndefined();
    expect(() => apiKeyOf(undefined, 'short')).toThrow(/8 or more printable characters/);
    const dir = mkdtempSync(join(tmpdir(), 'key-'));
    writeFileSync(join(dir, 'key'), 'from-a-file-123\n');
    expect(apiKeyOf(join(dir, 'key'), 'ignored-env-key')).toBe('from-a-file-123');
    expect(() => apiKeyOf(join(dir, 'none'))).toThrow(/--api-key-file .*cannot read/);
    rmSync(dir, { recursive: true, force: true });
  });
});
