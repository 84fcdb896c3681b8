/**
 * Text-in streaming (src/sampling/bistream.ts, upstream Qwen2LM.inference_bistream, spec §3.7).
 *
 * 1. The algorithm against a scripted LM whose rows name themselves (speech / text id): which rows each forward
 *    is fed, which draws mask eos, where fill is forced or sampled, upstream's re-fed rows at the end of text, and
 *    its errors. The expected feeds are worked out by hand from the spec.
 * 2. On the tiny checkpoints with the head rows of every stop id but fill zeroed (random weights otherwise emit
 *    stop ids mid-text, where upstream raises): the WebGPU port, the CPU fallback's port and a reference without a
 *    KV cache (the CPU engine run on every row fed so far, one fresh session per forward) give the same 45 tokens,
 *    with argmax draws and with seeded torch draws. 13 text tokens and 20 prompt speech tokens take it through
 *    both mixed groups, a forced fill after 10 tokens, a text group after it, a second fill and the end of text.
 * 3. CosyVoicePipeline.streamText on WebGPU (unmodified tiny weights, a seed where the LLM ends with eos): the
 *    PCM equals streamTokens of the port's own tokens, bit for bit; cross-lingual and a mid-text stop id fail typed.
 */
import { describe, expect, it } from 'vitest';
import { GpuContext } from '../../src/gpu/context.js';
import type { ModelFiles } from '../../src/pipeline/model-files.js';
import { syntheticSpeaker } from '../../src/pipeline/speaker.js';
import { createWasmPipeline } from '../../src/pipeline/wasm.js';
import { WasmEngine } from '../../src/pipeline/wasm-engine.js';
import { createWebGpuPipeline } from '../../src/pipeline/webgpu.js';
import { TorchGenerator } from '../../src/rng/index.js';
import { argmaxSampler, BistreamError, bistreamTokens, parseMixRatio, sampleToken, TorchSampler, type BistreamInput, type BistreamLm, type Sampler } from '../../src/sampling/index.js';
import { SilenceFilter } from '../../src/pipeline/silence-filter.js';
import { TextInputError } from '../../src/text/index.js';
import { expectSameBits } from '../helpers/compare.js';
import { tinyModelFiles } from '../helpers/fixtures.js';
import { testContext } from '../helpers/gpu.js';
import { collect } from '../helpers/stream.js';

const S = 100, EOS = 101, TASK = 102, FILL = 103;

/** Rows [kind, id] (d = 2): 1 = speech, 0 = text. Records each forward's rows and each draw's ignore_eos. */
function scriptedLm(script: number[]) {
  const feeds: string[][] = [];
  const draws: boolean[] = [];
  const lm: BistreamLm = {
    speechTokenSize: S,
    textRows: async (ids) => Float32Array.from(ids.flatMap((id) => [0, id])),
    speechRows: async (ids) => Float32Array.from(ids.flatMap((id) => [1, id])),
    feed: async (rows, draw) => {
      const names: string[] = [];
      for (let i = 0; i < rows.length; i += 2) names.push(`${rows[i] ? 's' : 't'}${rows[i + 1]}`);
      feeds.push(names);
      if (!draw) return undefined;
      draws.push(draw.ignoreEos);
      if (!script.length) throw new Error('script exhausted');
      return script.shift()!;
    },
  };
  return { lm, feeds, draws };
}

const range = (a: number, b: number, tag: string) => Array.from({ length: b - a }, (_, i) => `${tag}${a + i}`);

describe('bistream: the algorithm', () => {
  it('20 prompt speech tokens, 2 prompt text tokens after <|endofprompt|>, 13 text tokens: the rows of every forward', async () => {
    // Speech 50..59, forced fill at 10 (next_fill = (⌊20/15⌋+1)·15 − 20), 15 more after the next 5 text tokens and a
    // forced fill at 26; end of text: 70, 71, eos.
    const script = [...range(50, 60, ''), ...range(80, 95, ''), 70, 71, EOS].map(Number);
    const { lm, feeds, draws } = scriptedLm(script);
    const input: BistreamInput = { promptText: [5, 6, 199, 7, 8], endOfPromptId: 199, promptSpeech: Array.from({ length: 20 }, (_, i) => i), text: Array.from({ length: 13 }, (_, i) => 20 + i) };
    const out = await collect(bistreamTokens(lm, input));
    expect(out).toEqual([...range(50, 60, ''), ...range(80, 95, ''), 70, 71].map(Number));
    // First forward: sos, prompt text to <|endofprompt|>, [7, 8, 20, 21, 22] + speech 0..14, [23..27] + speech 15..19.
    expect(feeds[0]).toEqual(['s100', 't5', 't6', 't199', 't7', 't8', 't20', 't21', 't22', ...range(0, 15, 's'), ...range(23, 28, 't'), ...range(15, 20, 's')]);
    // Then one row per token; the forward after s59 has its fill forced (no draw).
    expect(feeds.slice(1, 11)).toEqual(range(50, 60, 's').map((r) => [r]));
    // After the fill: the next 5 text tokens (28..32) alone, then 15 drawn tokens and the fill forced at index 26.
    expect(feeds[11]).toEqual(range(28, 33, 't'));
    expect(feeds.slice(12, 27)).toEqual(range(80, 95, 's').map((r) => [r]));
    // End of text: the rows fed before the fill once more (s94), no text left, task_id.
    expect(feeds[27]).toEqual(['s94', `s${TASK}`]);
    expect(feeds.slice(28)).toEqual([['s70'], ['s71']]);
    expect(draws).toEqual([...Array(25).fill(true), false, false, false]);
  });

  it('no prompt speech: decoding starts at the first text token; a sampled fill moves the next forced one', async () => {
    // next_fill = 15; a fill drawn at index 2 sets it to 18: 15 tokens after the next 5 text tokens, then forced.
    const script = [7, 8, FILL, ...range(60, 75, ''), EOS].map(Number);
    const { lm, feeds } = scriptedLm(script);
    const out = await collect(bistreamTokens(lm, { promptText: [199], endOfPromptId: 199, promptSpeech: [], text: [1, 2, 3, 4, 5, 6] }));
    expect(out).toEqual([7, 8, ...range(60, 75, '').map(Number)]);
    expect(feeds[0]).toEqual(['s100', 't199']); // text token 1 is still in text_cache
    expect(feeds[3]).toEqual(['t1', 't2', 't3', 't4', 't5']); // after the fill, at the 5th token
    expect(feeds[19]).toEqual(['s74', 't6', `s${TASK}`]); // s74 fed again, text_cache [6], task_id
  });

  it('the yaml\'s mix_ratio sets the groups: [2, 3] with 4 prompt speech tokens forces the fill after 2 tokens', async () => {
    const { lm, feeds } = scriptedLm([50, 51, EOS]);
    const out = await collect(bistreamTokens(lm, { promptText: [199], endOfPromptId: 199, promptSpeech: [0, 1, 2, 3], text: [1, 2, 3, 4], mixRatio: [2, 3] }));
    expect(out).toEqual([50, 51]);
    expect(feeds).toEqual([['s100', 't199', 't1', 't2', 's0', 's1', 's2', 't3', 't4', 's3'], ['s50'], ['s51'], ['s51', `s${TASK}`]]);
    expect(parseMixRatio(undefined)).toEqual([5, 15]);
    expect(parseMixRatio([2, 3])).toEqual([2, 3]);
    for (const bad of [[0, 3], [2], 'x', [1.5, 2]]) expect(parseMixRatio(bad)).toBeNull();
  });

  it('errors: no <|endofprompt|>; a stop id other than fill mid-text; other than eos at the end', async () => {
    await expect(collect(bistreamTokens(scriptedLm([]).lm, { promptText: [1, 2], endOfPromptId: 199, promptSpeech: [], text: [1] }))).rejects.toThrow(BistreamError);
    await expect(collect(bistreamTokens(scriptedLm([5, EOS]).lm, { promptText: [199], endOfPromptId: 199, promptSpeech: [], text: [1] }))).rejects.toThrow(/id 101 .* while text was still arriving/);
    await expect(collect(bistreamTokens(scriptedLm([TASK]).lm, { promptText: [199], endOfPromptId: 199, promptSpeech: [1], text: [1] }))).rejects.toThrow(/id 102 .* after the text ended/);
  });
});

/** The tiny files with every stop row of the head but fill zeroed. */
function withoutStops(files: ModelFiles): ModelFiles {
  const rec = files.llm.get('llm_decoder.weight')!;
  const [rows, d] = rec.dims;
  const w = new Float32Array(rec.bytes.slice().buffer);
  for (let r = S + 1; r < rows; r++) if (r !== FILL) w.fill(0, r * d, (r + 1) * d);
  const llm = new Map(files.llm);
  llm.set(rec.name, { name: rec.name, dtype: rec.dtype, dims: rec.dims, bytes: new Uint8Array(w.buffer) });
  return { ...files, llm };
}

/** A BistreamLm without a KV cache: every forward runs a fresh CPU session over all rows fed so far. */
function cacheFree(e: WasmEngine, sampler: Sampler): BistreamLm {
  const c = e.config.llm;
  let fed = new Float32Array(0);
  return {
    speechTokenSize: c.speechTokenSize,
    textRows: (ids) => e.embedText([...ids]),
    speechRows: (ids) => e.embedSpeech([...ids]),
    feed: async (rows, draw) => {
      const all = new Float32Array(fed.length + rows.length);
      all.set(fed);
      all.set(rows, fed.length);
      fed = all;
      const T = fed.length / c.hidden;
      const session = await e.llmSession();
      const { logits } = await session.step(fed, T);
      session.dispose();
      return draw && sampleToken(logits.subarray((T - 1) * c.headSize, T * c.headSize), draw.history, { speechTokenSize: S, ignoreEos: draw.ignoreEos, ras: c.sampling }, sampler);
    },
  };
}

async function take(gen: AsyncGenerator<number, void>, n: number): Promise<number[]> {
  const out: number[] = [];
  for await (const t of gen) if (out.push(t) >= n) break;
  return out;
}

describe('bistream on the tiny checkpoints', () => {
  it('WebGPU port = CPU port = the reference without a KV cache, 45 tokens, argmax and torch draws', { timeout: 300_000 }, async () => {
    const files = withoutStops(tinyModelFiles());
    const gpu = await createWebGpuPipeline(new GpuContext((await testContext()).handle), files, { maxFrames: 200 });
    const cpu = await createWasmPipeline(files, { threads: 1 });
    const engine = await WasmEngine.create(files, { threads: 1 });
    try {
      const input = (): BistreamInput => ({ promptText: [5, 6, 199, 7, 8], endOfPromptId: 199, promptSpeech: Array.from({ length: 20 }, (_, i) => (i * 7) % S), text: Array.from({ length: 13 }, (_, i) => 10 + 3 * i) });
      for (const [name, sampler] of [['argmax', () => argmaxSampler], ['torch seed 3', () => new TorchSampler(new TorchGenerator(3))]] as const) {
        const ref = await take(bistreamTokens(cacheFree(engine, sampler()), input()), 45);
        expect(ref.length, name).toBe(45);
        expect(await take(gpu.models.llm.bistream!(input(), { sampler: sampler() }), 45), `${name}: WebGPU`).toEqual(ref);
        expect(await take(cpu.models.llm.bistream!(input(), { sampler: sampler() }), 45), `${name}: CPU fallback`).toEqual(ref);
      }
    } finally {
      gpu.dispose();
      cpu.dispose();
      await engine.dispose();
    }
  });

  it('streamText: the PCM of streamTokens on the same tokens; cross-lingual and a mid-text stop id are typed errors', { timeout: 300_000 }, async () => {
    const files = tinyModelFiles();
    const pipe = await createWebGpuPipeline(new GpuContext((await testContext()).handle), files, { maxFrames: 200 });
    try {
      const speaker = syntheticSpeaker(files);
      async function* pieces() {
        for (const p of ['Hi', ' there']) yield await Promise.resolve(p);
      }
      const pcm = await collect(pipe.streamText(pieces(), speaker, { seed: 2 }));
      const t = pipe.models.text.bistream({ mode: 'zero-shot', promptText: speaker.promptText, promptSpeechTokens: speaker.promptTokens });
      const ids = ['Hi', ' there'].flatMap((p) => t.encode(p));
      const raw = await collect(pipe.models.llm.bistream!({ promptText: t.promptTextIds, endOfPromptId: t.endOfPromptId, promptSpeech: t.promptSpeechTokens, text: ids }, { sampler: new TorchSampler(new TorchGenerator(2)) }));
      const filter = new SilenceFilter();
      const tokens = Int32Array.from(raw.filter((x) => filter.accept(x)));
      expect(tokens.length).toBeGreaterThan(0);
      const ref = await collect(pipe.streamTokens(tokens, speaker, { streaming: true }));
      const join = (parts: Float32Array[]) => Float32Array.from(parts.flatMap((p) => [...p]));
      expect(join(pcm).length).toBe(960 * tokens.length);
      expectSameBits(join(pcm), join(ref), 'streamText vs streamTokens');
      await expect(collect(pipe.streamText(['Hi'], speaker, { mode: 'cross-lingual' }))).rejects.toThrow(TextInputError);
      await expect(collect(pipe.streamText(['Hi'], speaker, { seed: 0 }))).rejects.toThrow(BistreamError);
    } finally {
      pipe.dispose();
    }
  });
});
