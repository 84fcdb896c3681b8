/**
 * convert on bad input: missing files, state_dict key mismatches (missing and unexpected keys listed), shapes
 * that disagree with the yaml/config, an existing output folder (refused without --force), and no half-written
 * output after a failure. Each case starts from a copy of the tiny fixture folder.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePt } from '../../loader/pt.js';
import { convertCommand } from '../../src/cli/commands/convert.js';
import { verifyCommand } from '../../src/cli/commands/verify.js';
import { MissingFileError, OutputExistsError, ShapeMismatchError, StateDictKeysError } from '../../src/convert/errors.js';
import { convertModel } from '../../src/convert/index.js';
import { saveStateDict } from '../../src/convert/torch-save.js';
import { TINY_DIR, requireFixtures } from '../helpers/fixtures.js';

let root: string;
let n = 0;

function copyTiny(): string {
  const d = join(root, `model${n++}`);
  cpSync(TINY_DIR, d, { recursive: true });
  return d;
}

beforeAll(() => {
  requireFixtures();
  root = mkdtempSync(join(tmpdir(), 'cv-bad-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Rewrites `file` in `dir` through our torch.save writer after editing its key list. */
function rewritePt(dir: string, file: string, edit: (names: string[]) => string[]) {
  const store = parsePt(readFileSync(join(dir, file)), file);
  const names = edit([...store.keys()]);
  const ts = names.map((k) => ({ name: k, dims: store.get(k)?.dims ?? [3] }));
  saveStateDict(join(dir, file), ts, (t) => store.get(t.name)?.bytes ?? new Uint8Array(12));
}

describe('convert: bad input', () => {
  it('a missing checkpoint is a MissingFileError naming it', async () => {
    const d = copyTiny();
    rmSync(join(d, 'hift.pt'));
    const err = await convertModel(d, join(root, 'o-missing')).catch((e) => e);
    expect(err).toBeInstanceOf(MissingFileError);
    expect(err.message).toContain('hift.pt');
    expect(existsSync(join(root, 'o-missing'))).toBe(false);
  });

  it('missing and unexpected state_dict keys are listed together', async () => {
    const d = copyTiny();
    rewritePt(d, 'llm.pt', (ks) => [...ks.filter((k) => k !== 'llm.model.model.layers.1.mlp.up_proj.weight'), 'llm.extra_head.weight']);
    const err = await convertModel(d, join(root, 'o-keys')).catch((e) => e);
    expect(err).toBeInstanceOf(StateDictKeysError);
    expect(err.missing).toEqual(['llm.model.model.layers.1.mlp.up_proj.weight']);
    expect(err.unexpected).toEqual(['llm.extra_head.weight']);
    expect(err.message).toMatch(/llm\.pt.*missing keys: llm\.model\.model\.layers\.1\.mlp\.up_proj\.weight.*unexpected keys: llm\.extra_head\.weight/);
  });

  it('a hift.pt with legacy weight_g/weight_v names converts to the same graph; a missing pair member is reported', async () => {
    const legacy = copyTiny();
    const store = parsePt(readFileSync(join(legacy, 'hift.pt')), 'hift.pt');
    const rename = (k: string) => k.replace('.parametrizations.weight.original0', '.weight_g').replace('.parametrizations.weight.original1', '.weight_v');
    const back = new Map([...store.keys()].map((k) => [rename(k), k]));
    saveStateDict(join(legacy, 'hift.pt'), [...back.keys()].map((k) => ({ name: `generator.${k}`, dims: store.get(back.get(k)!)!.dims })),
      (t) => store.get(back.get(t.name.slice('generator.'.length))!)!.bytes);
    await convertModel(legacy, join(root, 'o-legacy'));
    await convertModel(TINY_DIR, join(root, 'o-ref'));
    expect(readFileSync(join(root, 'o-legacy', 'hift.onnx')).equals(readFileSync(join(root, 'o-ref', 'hift.onnx')))).toBe(true);
    const d = copyTiny();
    rewritePt(d, 'hift.pt', (ks) => ks.filter((k) => k !== 'conv_post.parametrizations.weight.original1'));
    const err = await convertModel(d, join(root, 'o-wn')).catch((e) => e);
    expect(err).toBeInstanceOf(StateDictKeysError);
    expect(err.message).toContain('conv_post.parametrizations.weight.original1');
  });

  it('a yaml dimension that disagrees with the tensors is a ShapeMismatchError naming the tensor', async () => {
    const d = copyTiny();
    const y = readFileSync(join(d, 'cosyvoice3.yaml'), 'utf8').replace(/dim_head: 16/, 'dim_head: 8');
    writeFileSync(join(d, 'cosyvoice3.yaml'), y);
    const err = await convertModel(d, join(root, 'o-shape')).catch((e) => e);
    expect(err).toBeInstanceOf(ShapeMismatchError);
    expect(err.message).toContain('decoder.estimator.rotary_embed.inv_freq');
    const d2 = copyTiny();
    const cfg = JSON.parse(readFileSync(join(d2, 'CosyVoice-BlankEN/config.json'), 'utf8'));
    cfg.intermediate_size += 1;
    writeFileSync(join(d2, 'CosyVoice-BlankEN/config.json'), JSON.stringify(cfg));
    const err2 = await convertModel(d2, join(root, 'o-shape2')).catch((e) => e);
    expect(err2).toBeInstanceOf(ShapeMismatchError);
    expect(err2.message).toContain('mlp.gate_proj.weight');
  });

  it('refuses an existing output folder unless forced, and leaves no temp folder', async () => {
    const out = join(root, 'o-exists');
    await convertModel(TINY_DIR, out);
    const err = await convertModel(TINY_DIR, out).catch((e) => e);
    expect(err).toBeInstanceOf(OutputExistsError);
    await convertModel(TINY_DIR, out, { force: true });
    expect(readdirSync(out).sort()).toEqual(['CosyVoice-BlankEN', 'cosyvoice.json', 'cosyvoice3.yaml', 'flow.onnx', 'flow_encoder.onnx', 'hift.onnx', 'llm.onnx', 'llm_embed.onnx']);
    expect(readdirSync(root).filter((f) => f.includes('.tmp-'))).toEqual([]);
    const cfg = JSON.parse(readFileSync(join(out, 'cosyvoice.json'), 'utf8'));
    expect(cfg.llm).toMatchObject({ hidden: 64, layers: 2, heads: 4, kvHeads: 2, speechTokenSize: 100, sos: 100, eos: 101, taskId: 102, headSize: 300 });
    expect(cfg.flow.dit).toMatchObject({ dim: 64, depth: 2, heads: 4, dimHead: 16, staticChunkSize: 50 });
  });

  it('CLI exit codes: 0 ok, 1 bad input, 2 usage', async () => {
    const errs: string[] = [];
    const orig = console.error;
    console.error = (m: string) => errs.push(String(m));
    const origLog = console.log;
    console.log = () => {};
    try {
      expect(await convertCommand([TINY_DIR])).toBe(2);
      expect(await convertCommand([TINY_DIR, join(root, 'cli-o'), '--dtype', 'bf16'])).toBe(2);
      expect(await convertCommand([join(root, 'nope'), join(root, 'cli-o')])).toBe(1);
      expect(errs.some((e) => e.startsWith('MissingFileError'))).toBe(true);
      expect(await convertCommand([TINY_DIR, join(root, 'cli-o')])).toBe(0);
      expect(await convertCommand([TINY_DIR, join(root, 'cli-o')])).toBe(1);
      const noManifest = copyTiny();
      rmSync(join(noManifest, 'manifest.json'));
      expect(await verifyCommand([noManifest])).toBe(1);
      expect(await verifyCommand([TINY_DIR, '--engine', 'nope'])).toBe(2);
      expect(await verifyCommand([TINY_DIR, '--dtype', 'int8'])).toBe(2);
      expect(await verifyCommand([TINY_DIR, '--only', 'hift_inference'])).toBe(0);
    } finally {
      console.error = orig;
      console.log = origLog;
    }
  });
});
