/** The benchmark runner's argument parsing and table (no timing is asserted anywhere). */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import ort from 'onnxruntime-node';
import { markdownTable, median, parseBenchArgs, SUITES, type CaseResult } from '../../bench/harness.js';
import { gemmGraph, graph, repeatGraph } from '../../bench/ort-graphs.js';
import { kernelTimesPerRun, ortGpuTime } from '../../bench/ort-profile.js';

describe('bench harness', () => {
  it('parses the runner flags and rejects bad ones with a usage error', () => {
    expect(parseBenchArgs(['--suite', 'kernels', '--size', 'full', '--json', 'o.json', '--reps', '3', '--no-ort'])).toMatchObject({
      suite: 'kernels', size: 'full', json: 'o.json', reps: 3, ort: false,
    });
    expect(() => parseBenchArgs([])).toThrow(/--suite is required/);
    expect(() => parseBenchArgs(['--suite', 'nope'])).toThrow(/unknown suite "nope"/);
    expect(() => parseBenchArgs(['--suite', 'kernels', '--size', 'huge'])).toThrow(/tiny or full/);
    expect(() => parseBenchArgs(['--suite', 'kernels', '--reps', 'x'])).toThrow(/number/);
    expect(parseBenchArgs(['--suite', 'kernels', '--ort-chain', '8'])).toMatchObject({ ortChain: 8 });
    expect(parseBenchArgs(['--suite', 'kernels', '--ort-profile'])).toMatchObject({ ortProfile: true });
    expect(parseBenchArgs(['--suite', 'kernels', '--tune'])).toMatchObject({ tune: true });
  });

  it('--tune: a case is tuned on its own buffers, then set up again with the chosen tile and timed', async () => {
    const { linear } = await import('../../kernels/matmul.js');
    const { runSuite } = await import('../../bench/harness.js');
    let setups = 0;
    SUITES['tune-test'] = async () => ({
      name: 'tune-test',
      description: 'one gemm_rt case',
      cases: () => [{
        name: 'gemm_rt 40×72×64',
        shape: 'x[40,64]',
        setup: ({ ctx }) => {
          setups++;
          const x = ctx.upload(Float32Array.from({ length: 40 * 64 }, (_, i) => Math.sin(i)), 'f32', [40, 64]);
          const w = ctx.upload(Float32Array.from({ length: 72 * 64 }, (_, i) => Math.cos(i)), 'f32', [72, 64]);
          const y = ctx.tensor('f32', [40, 72]);
          return { records: [linear(ctx, { x, w, y, mode: 'gemm_rt' })], output: y, reps: 2, dispose: () => [x, w, y].forEach((t) => t.buffer.destroy()) };
        },
      }],
    });
    try {
      const json = join(mkdtempSync(join(tmpdir(), 'cv-bench-')), 'r.json');
      const { cases } = await runSuite({ suite: 'tune-test', size: 'tiny', tune: true, ort: false, json, resultsFile: false, log: () => {} });
      expect(cases[0].error).toBeUndefined();
      expect(setups).toBe(2);
      expect(cases[0].tuned).toHaveLength(1);
      expect(cases[0].tuned![0].key).toBe('linear:64x72x64xf32xp');
      expect(cases[0].tuned![0].chosen_us).toBeGreaterThan(0);
    } finally {
      delete SUITES['tune-test'];
    }
  });

  it('repeatGraph chains a graph through its output (run by ORT cpu), and refuses graphs that cannot chain', async () => {
    // y = (x + c) · s with an internal tensor, c and s shared; 3 copies give ((x + c)s + c)s + c)s.
    const c = Float32Array.of(1, 2, 3), sc = Float32Array.of(2);
    const spec = {
      inputs: [{ name: 'x', dtype: 'float32' as const, dims: [3] }],
      outputs: [{ name: 'y', dtype: 'float32' as const, dims: [3] }],
      inits: [{ name: 'c', dtype: 'float32' as const, dims: [3], data: c }, { name: 's', dtype: 'float32' as const, dims: [], data: sc }],
      nodes: [{ op: 'Add', inputs: ['x', 'c'], outputs: ['t'] }, { op: 'Mul', inputs: ['t', 's'], outputs: ['y'] }],
    };
    const chained = repeatGraph(graph(spec), 3)!;
    const sess = await ort.InferenceSession.create(chained, { executionProviders: ['cpu'] });
    const x = Float32Array.of(0.5, -1, 4);
    const y = (await sess.run({ x: new ort.Tensor('float32', x, [3]) })).y.data as Float32Array;
    const want = Array.from(x, (v, i) => ((((v + c[i]) * 2 + c[i]) * 2 + c[i]) * 2));
    expect(Array.from(y)).toEqual(want);
    await sess.release();
    // Output [4] from input [3]: nothing to chain through. Bytes not made by graph(): no spec to rebuild.
    expect(repeatGraph(graph({ ...spec, outputs: [{ name: 'y', dtype: 'float32', dims: [4] }] }), 3)).toBeNull();
    expect(repeatGraph(new Uint8Array(graph(spec)), 3)).toBeNull();
  });

  it("ORT's profiler events split into per-run GPU sums (kernels in time order, host events ignored)", () => {
    const ev = (cat: string, ts: number, dur: number) => ({ cat, name: 'k', ts, dur });
    const events = [ev('Api', 30, 4000), ev('Node', 1, 99), ev('Api', 10, 1000), ev('Api', 20, 2000), ev('Session', 0, 5), ev('Api', 40, 8000)];
    expect(kernelTimesPerRun(events, 2)).toEqual({ perRun: [3, 12], kernels: 2 });
    expect(kernelTimesPerRun(events, 3)).toBeNull(); // 4 kernels do not split over 3 runs
    expect(kernelTimesPerRun([ev('Node', 1, 1)], 1)).toBeNull();
  });

  it("ortGpuTime reads a Gemm's GPU time from ORT WebGPU's profiler on this adapter", async () => {
    const M = 8, N = 16, K = 32;
    const w = Float32Array.from({ length: N * K }, (_, i) => Math.sin(i));
    const x = new ort.Tensor('float32', Float32Array.from({ length: M * K }, (_, i) => Math.cos(i)), [M, K]);
    const t = await ortGpuTime(ort, gemmGraph(M, N, K, w), { x }, 2, 60_000);
    expect(t.note).toBeUndefined();
    expect(t.kernels).toBeGreaterThanOrEqual(1);
    expect(t.times).toHaveLength(2);
    expect(t.ms).toBeGreaterThan(0);
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
    // With --ort-chain the per-op column appears.
    expect(markdownTable('h', [{ ...row, ours_per_op_ms: 0.125, ort_webgpu_per_op_ms: 0.25 }])).toContain('| 1000 | 0.500 | 125 | 250 | — |');
    // With --ort-profile: ORT's GPU time, its kernel count and ours / that.
    expect(markdownTable('h', [{ ...row, ort_webgpu_gpu_ms: 2, ort_webgpu_kernels: 5, ratio_gpu_vs_ort_webgpu: 0.25 }])).toContain('| 1000 | 0.500 | 2000 | 5 | 0.250 | — |');
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
