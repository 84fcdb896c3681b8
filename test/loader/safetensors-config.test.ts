/**
 * safetensors reader (fixture + hand-built files), hyperpyyaml values of cosyvoice3.yaml and the Qwen2 config.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { toFloat32 } from '../../loader/dtype.js';
import { ConfigError, CorruptFileError, DTypeError, SizeLimitError } from '../../loader/errors.js';
import { evalArithmetic, parseHyperYaml, yamlNumber } from '../../loader/hyperyaml.js';
import { loadSafetensors, readHyperYaml, readQwen2Config } from '../../loader/node.js';
import { parseQwen2Config } from '../../loader/qwen2-config.js';
import { parseSafetensors } from '../../loader/safetensors.js';
import type { Progress } from '../../loader/types.js';
import { readManifest, TINY_DIR } from '../helpers/fixtures.js';

const ST_FILE = join(TINY_DIR, 'CosyVoice-BlankEN/model.safetensors');

function buildSt(header: Record<string, unknown>, data: Uint8Array): Uint8Array {
  const h = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setUint32(0, h.length, true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

describe('safetensors', () => {
  it('fixture: in-memory views and the Node range reader agree; shapes follow config.json', async () => {
    const bytes = new Uint8Array(readFileSync(ST_FILE));
    const mem = parseSafetensors(bytes, ST_FILE);
    const events: Progress[] = [];
    const disk = await loadSafetensors(ST_FILE, { onProgress: (p) => events.push(p) });
    expect([...disk.keys()]).toEqual([...mem.keys()]);
    for (const [k, t] of mem) {
      expect(t.bytes.buffer).toBe(bytes.buffer);
      expect(Buffer.from(disk.get(k)!.bytes).equals(Buffer.from(t.bytes))).toBe(true);
    }
    const cfg = readManifest().qwen2_config;
    const H = cfg.hidden_size;
    const kv = (cfg.num_key_value_heads * H) / cfg.num_attention_heads;
    expect(mem.get('model.embed_tokens.weight')!.dims).toEqual([cfg.vocab_size, H]);
    for (let l = 0; l < cfg.num_hidden_layers; l++) {
      expect(mem.get(`model.layers.${l}.self_attn.k_proj.weight`)!.dims).toEqual([kv, H]);
      expect(mem.get(`model.layers.${l}.mlp.up_proj.weight`)!.dims).toEqual([cfg.intermediate_size, H]);
    }
    expect(mem.size).toBe(2 + 12 * cfg.num_hidden_layers);
    expect(events[events.length - 1].loaded).toBe(events[events.length - 1].total);
    await expect(loadSafetensors(ST_FILE, { maxBytes: 1000 })).rejects.toBeInstanceOf(SizeLimitError);
  });

  it('dtypes and metadata', () => {
    const data = new Uint8Array(14);
    data.set(new Uint8Array(Uint16Array.of(0x3c00, 0x4000).buffer), 0);
    data.set(new Uint8Array(Uint16Array.of(0x4040).buffer), 4);
    data.set(new Uint8Array(BigInt64Array.of(-3n).buffer), 6);
    const s = parseSafetensors(
      buildSt({ __metadata__: { format: 'pt' }, h: { dtype: 'F16', shape: [2], data_offsets: [0, 4] }, b: { dtype: 'BF16', shape: [1], data_offsets: [4, 6] }, l: { dtype: 'I64', shape: [1, 1], data_offsets: [6, 14] } }, data),
    );
    expect(Array.from(toFloat32(s.get('h')!))).toEqual([1, 2]);
    expect(Array.from(toFloat32(s.get('b')!))).toEqual([3]);
    expect(Array.from(toFloat32(s.get('l')!))).toEqual([-3]);
  });

  it('bad header lengths, offsets, sizes and dtypes are typed errors naming the tensor', () => {
    const d = new Uint8Array(8);
    const bad = (h: Record<string, unknown>) => () => parseSafetensors(buildSt(h, d), 'x.safetensors');
    expect(bad({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 12] } })).toThrow(CorruptFileError);
    expect(bad({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } })).toThrow(/tensor w/);
    expect(bad({ w: { dtype: 'F32', shape: [2], data_offsets: [-4, 4] } })).toThrow(CorruptFileError);
    expect(bad({ w: { dtype: 'U16', shape: [4], data_offsets: [0, 8] } })).toThrow(DTypeError);
    expect(bad({ w: { dtype: 'F32', shape: [2 ** 40, 2 ** 10], data_offsets: [0, 8] } })).toThrow(SizeLimitError);
    expect(bad({ w: 'nope' } as Record<string, unknown>)).toThrow(CorruptFileError);
    const wrongLen = buildSt({}, d);
    new DataView(wrongLen.buffer).setUint32(0, 1e6, true);
    expect(() => parseSafetensors(wrongLen, 'x.safetensors')).toThrow(/header length/);
    expect(() => parseSafetensors(new Uint8Array(3), 'x.safetensors')).toThrow(CorruptFileError);
  });
});

describe('hyperpyyaml', () => {
  it('reads the numeric hyperparameters of cosyvoice3.yaml, resolving !ref (with arithmetic)', async () => {
    const y = await readHyperYaml(join(TINY_DIR, 'cosyvoice3.yaml'));
    const tiny = readManifest().tiny_config;
    expect(y.sample_rate).toBe(24000);
    expect(yamlNumber(y, 'llm.llm_input_size')).toBe(tiny.llm.hidden);
    expect(yamlNumber(y, 'llm.speech_token_size')).toBe(tiny.llm.speech_vocab);
    expect((y.llm as Record<string, unknown>).__target__).toBe('cosyvoice.llm.llm.CosyVoice3LM');
    expect(yamlNumber(y, 'llm.sampling.top_k')).toBe(25);
    expect(yamlNumber(y, 'flow.decoder.estimator.dim')).toBe(tiny.dit.dim);
    expect(yamlNumber(y, 'flow.decoder.estimator.depth')).toBe(tiny.dit.depth);
    expect(yamlNumber(y, 'flow.decoder.estimator.static_chunk_size')).toBe(50); // !ref <chunk_size> * <token_mel_ratio>
    expect(yamlNumber(y, 'flow.decoder.estimator.num_decoding_left_chunks')).toBe(-1);
    expect(yamlNumber(y, 'flow.decoder.cfm_params.content.inference_cfg_rate')).toBe(0.7);
    expect(yamlNumber(y, 'flow.decoder.cfm_params.content.sigma_min')).toBe(1e-6);
    expect(yamlNumber(y, 'hift.sampling_rate')).toBe(24000);
    expect(yamlNumber(y, 'hift.base_channels')).toBe(tiny.hift_base);
    expect((y.hift as Record<string, unknown>).upsample_rates).toEqual([8, 5, 3]);
    expect((y.hift as Record<string, unknown>).resblock_dilation_sizes).toEqual([[1, 3, 5], [1, 3, 5], [1, 3, 5]]);
    expect(yamlNumber(y, 'hift.istft_params.n_fft')).toBe(16);
    expect((y.__set_seed1 as Record<string, unknown>).__args__).toEqual([1986]);
    expect(() => yamlNumber(y, 'hift.nope', 'c.yaml')).toThrow(ConfigError);
  });

  it('forms found in the released training sections: empty !new:, object refs, multi-line flow lists, null', () => {
    const text = [
      'rate: 16000',
      'gen: !new:pkg.Gen',
      '    ch: 8',
      'disc: !new:pkg.Disc',
      '    a: !new:pkg.A',
      '    gen: !ref <gen>',
      'fn: !name:pkg.fn',
      '    rate: !ref <rate>',
      '    fmax: null',
      'plain: !name:pkg.other',
      'pipe: [',
      '    !ref <fn>,',
      '    !ref <plain>,',
      ']',
    ].join('\n');
    const y = parseHyperYaml(text);
    expect((y.disc as Record<string, unknown>).a).toEqual({ __tag__: 'new', __target__: 'pkg.A' });
    expect(((y.disc as Record<string, unknown>).gen as Record<string, unknown>).ch).toBe(8);
    expect((y.fn as Record<string, unknown>).rate).toBe(16000);
    expect((y.fn as Record<string, unknown>).fmax).toBeNull();
    expect((y.pipe as unknown[]).map((x) => (x as Record<string, unknown>).__target__)).toEqual(['pkg.fn', 'pkg.other']);
  });

  it('reference forms and errors', () => {
    const y = parseHyperYaml('a: 3\nb: {c: 4}\nd: !ref <a> * (<b.c> + 1) // 2\ne: !ref <b[c]>\nf: !ref <b>\ng: !ref <a> ** 2 - 1\n');
    expect([y.d, y.e, y.f, y.g]).toEqual([7, 4, { c: 4 }, 8]);
    expect(() => parseHyperYaml('a: !ref <zz>', 'y.yaml')).toThrow(/names no key.*y\.yaml/);
    expect(() => parseHyperYaml('a: !ref <b>\nb: !ref <a>')).toThrow(/cycle/);
    expect(() => parseHyperYaml('a: 1\nb: !ref <a> + __import__("os")')).toThrow(ConfigError);
    expect(() => parseHyperYaml('a: [1, 2')).toThrow(ConfigError);
    expect(() => parseHyperYaml('- 1\n- 2')).toThrow(/top level/);
    expect(evalArithmetic('-(2 + 3) * 4 % 7')).toBe(1);
  });
});

describe('Qwen2 config.json', () => {
  it('typed record from the fixture', async () => {
    const c = await readQwen2Config(join(TINY_DIR, 'CosyVoice-BlankEN/config.json'));
    const m = readManifest().qwen2_config;
    expect(c.hiddenSize).toBe(m.hidden_size);
    expect(c.numHiddenLayers).toBe(m.num_hidden_layers);
    expect(c.numAttentionHeads).toBe(m.num_attention_heads);
    expect(c.numKeyValueHeads).toBe(m.num_key_value_heads);
    expect(c.headDim).toBe(m.hidden_size / m.num_attention_heads);
    expect(c.intermediateSize).toBe(m.intermediate_size);
    expect(c.vocabSize).toBe(m.vocab_size);
    expect(c.rmsNormEps).toBe(1e-6);
    expect(c.ropeTheta).toBe(1e6);
    expect(c.tieWordEmbeddings).toBe(true);
    expect(Object.isFrozen(c)).toBe(true);
  });
  it('missing or wrong fields are ConfigError naming the key', () => {
    expect(() => parseQwen2Config('{"hidden_size": 64}', 'c.json')).toThrow(/num_attention_heads.*c\.json/);
    expect(() => parseQwen2Config('{not json', 'c.json')).toThrow(ConfigError);
    expect(() => parseQwen2Config({ model_type: 'llama' })).toThrow(/qwen2/);
    const base = { hidden_size: 64, num_attention_heads: 4, num_key_value_heads: 3, intermediate_size: 8, num_hidden_layers: 1, vocab_size: 9, rms_norm_eps: 1e-6 };
    expect(() => parseQwen2Config(base)).toThrow(/multiple/);
  });
});
