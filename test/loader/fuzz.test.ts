/**
 * Fuzz-style robustness: thousands of seeded mutations (truncation, byte flips, extreme 32/64-bit words, deleted
 * and duplicated ranges) of the fixture files go through every reader. The only acceptable outcomes are a valid
 * store (whose tensors have exactly the bytes their dims need) or a LoaderError subclass: no other exception, no
 * hang. Mutations favour the structural regions (pickle, zip directory, headers) where parsers make decisions.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MemorySource } from '../../loader/byte-source.js';
import { byteLengthOf, toFloat32 } from '../../loader/dtype.js';
import { LoaderError, SourceReadError } from '../../loader/errors.js';
import { parseHyperYaml } from '../../loader/hyperyaml.js';
import { resolveExternal } from '../../loader/onnx-external.js';
import { parseOnnx, parseOnnxModel } from '../../loader/onnx.js';
import { parsePt } from '../../loader/pt.js';
import { parseQwen2Config } from '../../loader/qwen2-config.js';
import { parseSafetensors } from '../../loader/safetensors.js';
import type { TensorStore } from '../../loader/types.js';
import { TINY_DIR } from '../helpers/fixtures.js';
import { SeededRng } from '../helpers/rng.js';
import { externalTensor, modelBytes, tensorProto } from './helpers/onnx-writer.js';

/** Per reader: stop after this long once MIN_RUNS mutations are done (8 readers → whole file well under 30 s). */
const BUDGET_MS = 3000;
const MIN_RUNS = 400;
const EXTREMES = [0, 1, 0x7f, 0x80, 0xff, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff];

function cat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** One mutated copy; `hot` ranges get most of the edits. */
function mutate(src: Uint8Array, rng: SeededRng, hot: [number, number][]): Uint8Array {
  const pos = () => {
    if (hot.length && rng.next() < 0.8) {
      const [a, b] = hot[rng.int(hot.length)];
      return Math.min(src.length - 1, a + rng.int(Math.max(1, b - a)));
    }
    return rng.int(src.length);
  };
  let out: Uint8Array = src.slice();
  const edits = 1 + rng.int(4);
  for (let e = 0; e < edits; e++) {
    const kind = rng.int(6);
    if (kind === 0) out = out.slice(0, rng.int(out.length)); // truncate
    else if (kind === 1) out[pos() % out.length] ^= 1 << rng.int(8); // bit flip
    else if (kind === 2) out[pos() % out.length] = rng.int(256); // random byte
    else if (kind === 3) {
      const p = pos() % Math.max(1, out.length - 8);
      const v = EXTREMES[rng.int(EXTREMES.length)];
      if (p + 8 <= out.length) new DataView(out.buffer, out.byteOffset).setUint32(p, v, true);
    } else if (kind === 4) {
      const p = pos() % out.length;
      const n = 1 + rng.int(64);
      out = cat(out.subarray(0, p), out.subarray(Math.min(out.length, p + n)));
    } else {
      const p = pos() % out.length;
      const n = 1 + rng.int(64);
      out = cat(out.subarray(0, p), out.subarray(p, p + n), out.subarray(p));
    }
    if (!out.length) break;
  }
  return out;
}

function checkStore(s: TensorStore): void {
  for (const t of s.values()) {
    if (t.bytes.length !== byteLengthOf(t.dtype, t.dims)) throw new Error(`inconsistent tensor ${t.name}`);
    if (t.bytes.length <= 1 << 16) toFloat32(t);
  }
}

interface Tally { ok: number; typed: number; names: Set<string> }

async function run(label: string, src: Uint8Array, n: number, seed: number, hot: [number, number][], parse: (b: Uint8Array) => unknown | Promise<unknown>): Promise<Tally> {
  const rng = new SeededRng(seed);
  const tally: Tally = { ok: 0, typed: 0, names: new Set() };
  const start = performance.now();
  let i = 0;
  for (; i < n; i++) {
    // Bounded time: the seeded sequence is the same everywhere, a loaded machine just runs a shorter prefix of it.
    if (i >= MIN_RUNS && performance.now() - start > BUDGET_MS) break;
    const b = mutate(src, rng, hot);
    const t0 = performance.now();
    try {
      const r = await parse(b);
      if (r instanceof Map) checkStore(r as TensorStore);
      tally.ok++;
    } catch (e) {
      if (!(e instanceof LoaderError)) {
        throw new Error(`${label} mutation ${i} (seed ${seed}) threw a non-loader error: ${(e as Error)?.stack ?? e}`);
      }
      tally.typed++;
      tally.names.add(e.name);
    }
    const ms = performance.now() - t0;
    if (ms > 2000) throw new Error(`${label} mutation ${i} took ${ms.toFixed(0)} ms`);
  }
  console.log(`${label}: ${i}/${n} mutations in ${(performance.now() - start).toFixed(0)} ms, ${tally.ok} parsed, ${tally.typed} typed errors (${[...tally.names].join(', ')})`);
  return tally;
}

const file = (p: string) => new Uint8Array(readFileSync(join(TINY_DIR, p)));
/** Structural regions of a torch zip: the pickle at the start and the central directory at the end. */
function ptHot(b: Uint8Array): [number, number][] {
  const dv = new DataView(b.buffer, b.byteOffset);
  const cd = dv.getUint32(b.length - 22 + 16, true);
  return [[0, 6000], [cd, b.length]];
}

describe('fuzz', () => {
  it.each(['llm.pt', 'flow.pt', 'hift.pt'])('%s: 2000 mutations through parsePt', async (name) => {
    const src = file(name);
    const t = await run(name, src, 2000, 1000 + name.length, ptHot(src), (b) => parsePt(b, name));
    expect(t.typed).toBeGreaterThan(MIN_RUNS / 2);
  });

  it('model.safetensors: 2000 mutations through parseSafetensors', async () => {
    const src = file('CosyVoice-BlankEN/model.safetensors');
    const hlen = new DataView(src.buffer).getUint32(0, true);
    const t = await run('safetensors', src, 2000, 7, [[0, 8 + hlen]], (b) => parseSafetensors(b, 'm.safetensors'));
    expect(t.typed).toBeGreaterThan(MIN_RUNS / 2);
  });

  it('flow.decoder.estimator.fp32.onnx: 2000 mutations through parseOnnx', async () => {
    const src = file('flow.decoder.estimator.fp32.onnx');
    const t = await run('onnx', src, 2000, 11, [], (b) => parseOnnx(b, 'e.onnx'));
    expect(t.typed).toBeGreaterThan(MIN_RUNS / 2);
  });

  it('small ONNX with external data: 2000 mutations through parse + resolveExternal', async () => {
    const weights = new Uint8Array(256).map((_, i) => i);
    const src = modelBytes([
      externalTensor('a', 1, [4, 2], 'weights.bin', 0, 32),
      externalTensor('b', 10, [3], 'sub/w.bin', 64, 6),
      tensorProto('c', 7, [2], { int64Data: [1, -1] }),
      tensorProto('d', 10, [2], { int32Data: [0x3c00, 1] }),
    ]);
    const open = async (rel: string) => {
      if (rel === 'weights.bin' || rel === 'sub/w.bin') return new MemorySource(weights, rel);
      throw new SourceReadError('no such file', { file: rel });
    };
    const t = await run('onnx-external', src, 2000, 13, [], async (b) => {
      const m = await resolveExternal(parseOnnxModel(b, 'x.onnx', { external: 'defer' }), open, { file: 'x.onnx' });
      return m.tensors;
    });
    expect(t.typed).toBeGreaterThan(MIN_RUNS / 2);
  });

  it('cosyvoice3.yaml and config.json: 1500 + 2000 mutations', async () => {
    const y = file('cosyvoice3.yaml');
    const dec = new TextDecoder();
    await run('hyperyaml', y, 1500, 17, [], (b) => parseHyperYaml(dec.decode(b), 'c.yaml'));
    const c = file('CosyVoice-BlankEN/config.json');
    await run('qwen2-config', c, 2000, 19, [], (b) => parseQwen2Config(dec.decode(b), 'config.json'));
  });
});
