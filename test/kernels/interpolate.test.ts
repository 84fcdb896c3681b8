/** interpolate (nearest, linear align_corners=False) against a float64 reference of torch's formulas. */
import { describe, it } from 'vitest';
import { interpolate } from '../../kernels/interpolate.js';
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
        // Source position in f32 as torch computes it (area_pixel_compute_source_index in float).
        const f = Math.fround;
        const u = Math.max(f(f(f(t + 0.5) * s) - 0.5), 0);
        const i = Math.min(Math.floor(u), tin - 1);
        const l = f(u - i);
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
  ])('C=%i Tin=%i → Tout=%i, nearest and linear', async (C, tin, tout) => {
    const ctx = await testContext();
    const x = new SeededRng(C * tin + tout).f32(C * tin, -4, 4);
    const tx = ctx.upload(x, 'f32', [C, tin]);
    for (const mode of ['nearest', 'linear'] as const) {
      const out = ctx.tensor('f32', [C, tout]);
      ctx.run([interpolate(ctx, mode, tx, out)]);
      // Same f32 source positions; only the final blend is rounded differently (values in [-4, 4]).
      expectClose(await ctx.readF32(out), reference(mode, x, C, tin, tout), { atol: 2e-6, label: `${mode} ${C}x${tin}->${tout}` });
    }
  });
});
