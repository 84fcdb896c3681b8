/** The benchmark runner's argument parsing and table (no timing is asserted anywhere). */
import { describe, expect, it } from 'vitest';
import { markdownTable, median, parseBenchArgs, SUITES, type CaseResult } from '../../bench/harness.js';

describe('bench harness', () => {
  it('parses the runner flags and rejects bad ones with a usage error', () => {
    expect(parseBenchArgs(['--suite', 'kernels', '--size', 'full', '--json', 'o.json', '--reps', '3', '--no-ort'])).toMatchObject({
      suite: 'kernels', size: 'full', json: 'o.json', reps: 3, ort: false,
    });
    expect(() => parseBenchArgs([])).toThrow(/--suite is required/);
    expect(() => parseBenchArgs(['--suite', 'nope'])).toThrow(/unknown suite "nope"/);
    expect(() => parseBenchArgs(['--suite', 'kernels', '--size', 'huge'])).toThrow(/tiny or full/);
    expect(() => parseBenchArgs(['--suite', 'kernels', '--reps', 'x'])).toThrow(/number/);
  });

  it('medians and the markdown table', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    const row: CaseResult = {
      suite: 's', name: 'gemv f32', shape: 'x[1,896]', adapter: 'a', ours_ms: 0.5, ours_min_ms: 0.4, ours_max_ms: 0.6,
      ours_timing: 'gpu-timestamp', ours_wall_ms: 0.7, ort_webgpu_ms: 1, ort_cpu_ms: null, ratio_vs_ort_webgpu: 0.5,
      counters: {}, gbps: 3.2, gflops: null, roofline_frac: 0.25,
    };
    const t = markdownTable('lavapipe', [row]);
    expect(t).toContain('adapter: lavapipe');
    expect(t).toContain('| gemv f32 | x[1,896] | 500 | gpu | 700 | 3.20 | — | 25.0% | 1000 | 0.500 | — |');
  });

  it('the kernels suite registers cases with distinct name+shape', async () => {
    const suite = await SUITES.kernels();
    for (const size of ['tiny', 'full'] as const) {
      const cases = await suite.cases({ size } as never);
      const keys = cases.map((c) => `${c.name} ${c.shape}`);
      expect(new Set(keys).size).toBe(keys.length);
      expect(keys.some((k) => k.startsWith('gemv f32 x[1,896] W[4864,896]'))).toBe(true);
    }
  });
});
