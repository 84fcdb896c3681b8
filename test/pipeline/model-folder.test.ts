/** Official and converted folders load into the same ModelFiles, and the WebGPU models accept both. */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toFloat32 } from '../../loader/index.js';
import { convertModel } from '../../src/convert/index.js';
import { folderKind, loadModelFolder, ModelFolderError } from '../../src/pipeline/node-model-files.js';
import { TINY_DIR } from '../helpers/fixtures.js';

let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cv-folder-'));
  await convertModel(TINY_DIR, join(dir, 'conv'));
  // Older converted folders lack the yaml; the converter copies it now, this keeps the test independent of that.
  cpSync(join(TINY_DIR, 'cosyvoice3.yaml'), join(dir, 'conv', 'cosyvoice3.yaml'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('model folders', () => {
  it('official and converted folders give the same LLM and flow weights (HiFT: weight norm folded)', async () => {
    const off = await loadModelFolder(TINY_DIR);
    const conv = await loadModelFolder(join(dir, 'conv'));
    expect(folderKind(TINY_DIR)).toBe('official');
    expect(folderKind(join(dir, 'conv'))).toBe('converted');
    for (const part of ['llm', 'flow'] as const) {
      const want = [...off[part].keys()].filter((k) => k !== 'llm.model.lm_head.weight').sort();
      expect([...conv[part].keys()].sort(), part).toEqual(want);
      for (const k of want) expect(toFloat32(conv[part].get(k)!), k).toEqual(toFloat32(off[part].get(k)!));
    }
    expect(conv.hift.has('conv_pre.weight')).toBe(true);
    expect(conv.config).toEqual(off.config);
  });

  it('a folder that is neither gives a typed error naming what is missing', async () => {
    await expect(loadModelFolder(join(dir, 'nope'))).rejects.toThrow(ModelFolderError);
    const half = join(dir, 'half');
    cpSync(join(TINY_DIR, 'cosyvoice3.yaml'), join(half, 'cosyvoice3.yaml'));
    await expect(loadModelFolder(half)).rejects.toThrow(/missing CosyVoice-BlankEN\/config.json, llm.pt, flow.pt, hift.pt/);
  });
});
