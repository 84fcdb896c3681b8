/**
 * GpuContext.compileBatch and the explicit layouts behind it (src/gpu/pipeline-cache.ts): records made inside a
 * batch compile in the background and run once it settles, copies of them too; running one before that is a
 * typed error; layouts come from the WGSL declarations.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { activation, binary } from '../../kernels/elementwise.js';
import { GpuContext } from '../../src/gpu/context.js';
import { GpuError, ShaderError } from '../../src/gpu/errors.js';
import { declaredBindings } from '../../src/gpu/pipeline-cache.js';
import { requestNodeDevice } from '../../src/gpu/node-device.js';
import { expectClose } from '../helpers/compare.js';
import { SeededRng } from '../helpers/rng.js';

// A device of its own: the pipeline cache is per device, and these tests need variants nobody compiled yet.
const fresh: GpuContext[] = [];
/** A device of its own (an empty pipeline cache), destroyed after the test: Dawn keeps a device's pipelines until then. */
async function freshContext(): Promise<GpuContext> {
  const ctx = new GpuContext(await requestNodeDevice());
  fresh.push(ctx);
  return ctx;
}
afterEach(() => fresh.splice(0).forEach((ctx) => ctx.device.destroy()));

describe('compileBatch', () => {
  it('records made inside run after it settles (copies too) and equal the synchronous ones', async () => {
    const ctx = await freshContext();
    const x = new SeededRng(3).f32(1001, -4, 4), b = new SeededRng(4).f32(7);
    const tx = ctx.upload(x, 'f32', [143, 7]), tb = ctx.upload(b, 'f32', [7]);
    const [y1, y2, y3] = [0, 1, 2].map(() => ctx.tensor('f32', [143, 7]));
    let copy: ReturnType<typeof binary> | undefined;
    const before = ctx.counters.pipelinesCreated;
    const recs = await ctx.compileBatch(async () => {
      const a = activation(ctx, 'mish', tx, y1);
      const m = binary(ctx, 'mul', tx, tb, y2);
      expect(a.pipeline).toBeUndefined(); // still compiling
      copy = { ...m }; // a copy made before the batch settles (as DynRecords are)
      await Promise.resolve();
      return [a, m];
    });
    expect(ctx.counters.pipelinesCreated - before).toBe(2);
    expect(recs.every((r) => r.pipeline)).toBe(true);
    expect(copy!.pipeline).toBeUndefined();
    ctx.run([...recs, { ...copy!, bindGroup: binary(ctx, 'mul', tx, tb, y3).bindGroup }]);
    const mul = Float64Array.from(x, (v, i) => Math.fround(v * b[i % 7]));
    expectClose(await ctx.readF32(y2), mul, { atol: 0, label: 'mul (batch record)' });
    expectClose(await ctx.readF32(y3), mul, { atol: 0, label: 'mul (copy made inside the batch)' });
    // The same variant outside a batch is a cache hit on the pipeline the batch compiled.
    const y4 = ctx.tensor('f32', [143, 7]);
    const again = activation(ctx, 'mish', tx, y4);
    expect(again.pipeline).toBe(recs[0].pipeline);
    ctx.run([again]);
    expectClose(await ctx.readF32(y4), await ctx.readF32(y1), { atol: 0, label: 'mish batch vs cached' });
  });

  it('running a record whose pipeline still compiles is a typed error', async () => {
    const ctx = await freshContext();
    const tx = ctx.upload(new Float32Array(64), 'f32', [64]), y = ctx.tensor('f32', [64]);
    let err: unknown;
    await ctx.compileBatch(() => {
      const r = activation(ctx, 'gelu_tanh', tx, y);
      try {
        ctx.run([r]);
      } catch (e) {
        err = e;
      }
    });
    expect(err).toBeInstanceOf(GpuError);
    expect(String(err)).toMatch(/still compiling/);
  });
});

describe('explicit layouts', () => {
  it('declaredBindings reads group-0 buffer declarations', () => {
    const m = declaredBindings(`@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0)  @binding(3) var<storage, read_write> o: array<vec4<f32>>;
@group(1) @binding(2) var<storage, read> other: array<f32>;`);
    expect([...m.entries()]).toEqual([[0, 'uniform'], [1, 'read-only-storage'], [3, 'storage']]);
  });

  it('binding a resource the variant does not declare names the pipeline and binding', async () => {
    const ctx = await freshContext();
    const t = ctx.tensor('f32', [16]);
    expect(() => ctx.record({ shader: 'elementwise', entry: 'scale', defines: { WG: 256, ITEMS: 1 } }, [ctx.uniform(new Uint32Array(8)), t, t, t], [1, 1, 1]))
      .toThrow(ShaderError);
    expect(() => ctx.record({ shader: 'elementwise', entry: 'scale', defines: { WG: 256, ITEMS: 1 } }, [ctx.uniform(new Uint32Array(8)), t, t, t], [1, 1, 1]))
      .toThrow(/binding 3 is bound but not declared/);
  });
});
