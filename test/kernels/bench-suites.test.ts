// Every case of the kernel suites at the tiny size: it sets up, its dispatches run once on the adapter, and its
// ORT graph loads and runs on ORT's cpu EP with the case's feeds (a broken case or graph fails here, not in a
// bench run an hour later). Timing is the bench's business, not this test's.
import ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { ortTensors, SUITES } from '../../bench/harness.js';
import { testContext } from '../helpers/gpu.js';

describe('bench suites: every case runs at the tiny size', () => {
  it.each([['kernels'], ['model-kernels']])('%s', async (name) => {
    const ctx = await testContext();
    const suite = await SUITES[name]();
    const cases = await suite.cases({ ctx, size: 'tiny' } as never);
    expect(cases.length).toBeGreaterThan(10);
    const failed: string[] = [];
    for (const c of cases) {
      const label = `${c.name} ${c.shape}`;
      try {
        const plan = await c.setup({ ctx, size: 'tiny' } as never);
        if (plan.records) ctx.run(plan.records);
        else await plan.run!();
        await ctx.finish();
        ctx.checkValidation();
        if (plan.ort) {
          const s = await ort.InferenceSession.create(plan.ort.model, { executionProviders: ['cpu'] });
          const out = await s.run(ortTensors(ort, plan.ort.feeds));
          await s.release();
          expect(Object.keys(out).length, label).toBeGreaterThan(0);
        }
        plan.dispose?.();
      } catch (e) {
        failed.push(`${label}: ${(e as Error).message.split('\n')[0]}`);
      }
    }
    expect(failed, failed.join('\n')).toEqual([]);
  });
});
