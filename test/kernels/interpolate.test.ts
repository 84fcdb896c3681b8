/** interpolate (nearest, linear align_corners=False) against a float64 reference of torch's formulas. */
import { describe, expect, it } from 'vitest';
import { interpolate } from '../../kernels/interpolate.js';
import { ShapeMismatchError } from '../../src/gpu/errors.js';
import { expectClose } from '../helpers/compare.js';
import { testContext } from '../helpers/gpu.js';
import { SeededRng } from '../helpers/rng.js';

function reference(mode: 'nearest' | 'linear', x: Float32Array, C: number, tin: number, tout: number): Float64Array {
  const s = Math.fround(tin / tout);
  const out = new Float64Array(C * tout);
  for (let c = 0; c < C; c++) {
    for (let t = 0; t < tout; t++) {
      if (mode === 'nearest') {
        out[c * tout + t] = x[c * tin + Math.min(Math.floor(t * s), tin - 1)];
      } else {
        // The exact source position (t + 0.5)·Tin/Tout − 0.5. torch computes it in f32
        // (area_pixel_compute_source_index), which moves λ by up to an ulp of u depending on FMA contraction;
        // the kernel takes the exact value, the one reference that does not depend on the backend.
        const u = Math.max(((2 * t + 1) * tin - tout) / (2 * tout), 0);
        const i = Math.min(Math.floor(u), tin - 1);
        const l = u - i;
        out[c * tout + t] = (1 - l) * x[c * tin + i] + l * x[c * tin + Math.min(i + 1, tin - 1)];
      }
    }
  }
  return out;
}

describe('interpolate along time', () => {
  it.each([
    [80, 100, 90], // speed 1.1 on a mel
    [80, 100, 125], // speed 0.8
    [3, 1, 7],
    [5, 17, 1],
    [80, 501, 500],
    [2, 3001, 2728], // a long mel: u near 3000, where an f32 source position is only good to 2.4e-4
  ])('C=%i Tin=%i → Tout=%i, nearest and linear', async (C, tin, tout) => {
    const ctx = await testContext();
    const x = new SeededRng(C * tin + tout).f32(C * tin, -4, 4);
    const tx = ctx.upload(x, 'f32', [C, tin]);
    for (const mode of ['nearest', 'linear'] as const) {
      const out = ctx.tensor('f32', [C, tout]);
      ctx.run([interpolate(ctx, mode, tx, out)]);
      // Same source positions (nearest: torch's f32 scale; linear: exact); only λ's division and the final
      // blend round differently (values in [-4, 4]).
      expectClose(await ctx.readF32(out), reference(mode, x, C, tin, tout), { atol: 2e-6, label: `${mode} ${C}x${tin}->${tout}` });
    }
  });

  it('linear beyond the u32 source-position range is a typed error', async () => {
    const ctx = await testContext();
    const x = ctx.tensor('f32', [1, 50000]);
    const out = ctx.tensor('f32', [1, 50000]);
    expect(() => interpolate(ctx, 'linear', x, out, 'mel')).toThrow(ShapeMismatchError);
    expect(() => interpolate(ctx, 'linear', x, out, 'mel')).toThrow(/2·Tin·Tout < 2\^32/);
    interpolate(ctx, 'nearest', x, out, 'mel'); // nearest has no such limit
  });
});
