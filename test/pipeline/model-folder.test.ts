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

  it('an int8 conversion: int8 weights load as float32 (q · per-row scale) within int8 rounding of fp32, no _scale left', async () => {
    await convertModel(TINY_DIR, join(dir, 'int8'), { dtype: 'int8' });
    cpSync(join(TINY_DIR, 'cosyvoice3.yaml'), join(dir, 'int8', 'cosyvoice3.yaml'));
    const [q, f] = [await loadModelFolder(join(dir, 'int8')), await loadModelFolder(join(dir, 'conv'))];
    let checked = 0;
    for (const part of ['llm', 'flow', 'hift'] as const) {
      expect([...q[part].keys()].filter((k) => k.endsWith('_scale')), part).toEqual([]);
      expect([...q[part].keys()].sort(), part).toEqual([...f[part].keys()].sort());
      for (const [k, t] of q[part]) {
        expect(t.dtype, k).not.toBe('int8');
        // The conversion keeps some tensors float16 (the embeddings) and small ones float32.
        if (t.dtype !== 'float32' || t.dims.length !== 2) continue;
        const a = toFloat32(t), b = toFloat32(f[part].get(k)!);
        // Per row: |q·s − w| ≤ s/2 with s = max|w_row| / 127 (symmetric int8).
        const [N, K] = t.dims;
        for (let n = 0; n < N; n++) {
          let m = 0;
          for (let j = 0; j < K; j++) m = Math.max(m, Math.abs(b[n * K + j]));
          for (let j = 0; j < K; j++) expect(Math.abs(a[n * K + j] - b[n * K + j]), `${k}[${n}, ${j}]`).toBeLessThanOrEqual((m / 127) * 0.5 + 1e-6 * m);
        }
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(10);
  });

  it('a folder that is neither gives a typed error naming what is missing', async () => {
    await expect(loadModelFolder(join(dir, 'nope'))).rejects.toThrow(ModelFolderError);
    const half = join(dir, 'half');
    cpSync(join(TINY_DIR, 'cosyvoice3.yaml'), join(half, 'cosyvoice3.yaml'));
    await expect(loadModelFolder(half)).rejects.toThrow(/missing CosyVoice-BlankEN\/config.json, llm.pt, flow.pt, hift.pt/);
  });
});
