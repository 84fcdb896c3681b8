/** precise_sin / precise_cos (shaders/precise_trig.wgsl) against float64 Math.sin/cos, including large arguments. */
import { describe, it } from 'vitest';
import { registerShaders } from '../../src/gpu/shader-registry.js';
import { packParams } from '../../src/gpu/dispatch.js';
import { expectClose } from '../helpers/compare.js';
import { testContext } from '../helpers/gpu.js';
import { SeededRng } from '../helpers/rng.js';

registerShaders({
  test_precise_trig: `#include "precise_trig"
struct P { n: u32, a: u32, b: u32, c: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  if (g.x >= p.n) { return; }
  y[g.x] = precise_sin(x[g.x]);
  y[p.n + g.x] = precise_cos(x[g.x]);
}`,
});

describe('precise_trig', () => {
  it.each([
    ['[-π, π]', Math.PI],
    ['[-100, 100]', 100],
    ['[-3000, 3000]', 3000],
  ])('sin and cos on %s within 3e-7 of float64 (Cody–Waite reduction keeps large arguments exact)', async (_, range) => {
    const ctx = await testContext();
    const n = 4099;
    const x = new SeededRng(Math.round(range)).f32(n, -range, range);
    const tx = ctx.upload(x, 'f32', [n]);
    const ty = ctx.tensor('f32', [2 * n]);
    ctx.run([ctx.record({ shader: 'test_precise_trig', entry: 'main' }, [ctx.uniform(packParams([n])), tx, ty], [Math.ceil(n / 64), 1, 1])]);
    const y = await ctx.readF32(ty);
    const atol = 3e-7;
    expectClose(y.subarray(0, n), Float64Array.from(x, Math.sin), { atol, label: 'precise_sin' });
    expectClose(y.subarray(n), Float64Array.from(x, Math.cos), { atol, label: 'precise_cos' });
  });
});
