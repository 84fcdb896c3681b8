/**
 * Several syntheses at once on one pipeline (a server's requests): each gives the same PCM, bit for bit, as when it
 * runs alone, on WebGPU (where the LLM batches their decode steps) and on the CPU fallback. Before the LLM's steps went through one queue
 * (src/models/qwen2/steps.ts), two streams on the WebGPU pipeline mapped the LLM's staging buffer twice and the
 * second stream died with Dawn's OperationError.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { GpuContext } from '../../src/gpu/context.js';
import type { ModelFiles } from '../../src/pipeline/model-files.js';
import type { CosyVoicePipeline } from '../../src/pipeline/tts.js';
import type { SpeakerPrompt } from '../../src/pipeline/types.js';
import { createWasmPipeline } from '../../src/pipeline/wasm.js';
import { createWebGpuPipeline } from '../../src/pipeline/webgpu.js';
import { argmaxSampler } from '../../src/sampling/index.js';
import { expectSameBits } from '../helpers/compare.js';
import { readFixtureSet, tinyModelFiles } from '../helpers/fixtures.js';
import { testContext } from '../helpers/gpu.js';

let files: ModelFiles;
let speaker: SpeakerPrompt;

beforeAll(() => {
  files = tinyModelFiles();
  // The fixture's prompt four times over: long enough (more than one 50-frame chunk) for prepareSpeaker to solve it.
  const fx = readFixtureSet('token2wav_offline', 0);
  const times4 = <T extends Int32Array | Float32Array>(a: T): T => {
    const out = new (a.constructor as new (n: number) => T)(4 * a.length);
    for (let i = 0; i < 4; i++) out.set(a, i * a.length);
    return out;
  };
  speaker = {
    promptTokens: times4(Int32Array.from(fx.inputs[1].data as ArrayLike<number>, Number)),
    promptMel: times4(Float32Array.from(fx.inputs[2].data)),
    embedding: Float32Array.from(fx.inputs[3].data),
    promptText: 'hi',
  };
});

type Request = { name: string; run: (pipe: CosyVoicePipeline, log: string[]) => Promise<Float32Array> };

/** Every chunk of a stream, concatenated; `log` gets the request's name at each chunk's arrival. */
async function drain(name: string, gen: AsyncGenerator<Float32Array, unknown>, log: string[]): Promise<Float32Array> {
  const parts: Float32Array[] = [];
  for await (const c of gen) {
    parts.push(c);
    log.push(name);
  }
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
  return out;
}

// A: the forced path (benchmarks' forceTokens), argmax. B: upstream's RAS sampling, seeded, ending where the LLM
// stops or at max_len (several chunks). C: offline, one chunk. Two texts of several sentences, so that A and B
// each give several segments.
const requests: Request[] = [
  { name: 'A', run: (p, log) => drain('A', p.stream('Hello there, this is a test. And a second sentence.', speaker, { sampler: argmaxSampler, forceTokens: 40 }), log) },
  { name: 'B', run: (p, log) => drain('B', p.stream('Hi there, how are you today?', speaker, { seed: 1 }), log) },
  { name: 'C', run: (p, log) => drain('C', p.segments('Another one.', speaker, { seed: 9, forceTokens: 25 }), log) },
];

async function alone(pipe: CosyVoicePipeline): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (const r of requests) out.push(await r.run(pipe, []));
  return out;
}

async function together(pipe: CosyVoicePipeline): Promise<{ pcm: Float32Array[]; log: string[]; prepared: boolean }> {
  const log: string[] = [];
  const [prepared, ...pcm] = await Promise.all([pipe.prepareSpeaker(speaker), ...requests.map((r) => r.run(pipe, log))]);
  return { pcm, log, prepared: prepared as boolean };
}

function check(engine: string, seq: Float32Array[], par: { pcm: Float32Array[]; log: string[] }): void {
  console.log(`[concurrent] ${engine}: samples ${seq.map((p) => p.length).join(' / ')}; chunk arrivals ${par.log.join('')}`);
  requests.forEach((r, i) => {
    expect(seq[i].length, `${r.name} has audio`).toBeGreaterThan(0);
    expectSameBits(par.pcm[i], seq[i], `${engine}: request ${r.name} run with the others vs alone`);
  });
  // They did run at once: the chunks did not arrive request after request (A was asked for first).
  const oneByOne = requests.map((r) => r.name.repeat(par.log.filter((n) => n === r.name).length)).join('');
  expect(par.log.join('')).not.toBe(oneByOne);
}

describe('concurrent syntheses on one pipeline give the PCM each gives alone', () => {
  it('WebGPU: three requests and a prepareSpeaker at once', async () => {
    const pipe = await createWebGpuPipeline(new GpuContext((await testContext()).handle), files, { maxFrames: 400 });
    const seq = await alone(pipe);
    const counts = pipe.models.llm.stepCounts!;
    const c0 = { ...counts };
    const par = await together(pipe);
    check('webgpu', seq, par);
    expect(par.prepared).toBe(true);
    // The LLM batched the requests' decode steps while their chunks rendered.
    const decodeSteps = counts.steps - c0.steps - (counts.prefills - c0.prefills);
    const meanBatch = (counts.decodeRows - c0.decodeRows) / decodeSteps;
    console.log(`[concurrent] webgpu: ${decodeSteps} decode steps, mean batch ${meanBatch.toFixed(2)}`);
    expect(meanBatch).toBeGreaterThan(1.3);
    pipe.dispose();
  });

  it('CPU fallback (2 threads): the same', async () => {
    const pipe = await createWasmPipeline(files, { threads: 2 });
    const seq = await alone(pipe);
    const par = await together(pipe);
    check('wasm', seq, par);
    pipe.dispose();
  });
});
