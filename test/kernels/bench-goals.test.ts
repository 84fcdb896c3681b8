// bench/goals.ts: the kernel goals judged from result files (only like-for-like measures decide), and the
// committed bench/results/goals.md is what the committed JSON files say.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { caseGoal, GOALS_FILE, goalFiles, goalsMarkdown, goalsSection, judge } from '../../bench/goals.js';
import type { CaseResult } from '../../bench/harness.js';

const row = (over: Partial<CaseResult>): CaseResult => ({
  suite: 'model-kernels', name: 'snake', shape: '[64,6001]', adapter: 'a', ours_ms: 1, ours_min_ms: 1, ours_max_ms: 1,
  ours_timing: 'gpu-timestamp', ours_wall_ms: 1, ort_webgpu_ms: 10, ort_cpu_ms: 1, ratio_vs_ort_webgpu: 0.1,
  counters: {}, gbps: null, gflops: null, roofline_frac: null, ...over,
});

describe('kernel goals (bench/goals.ts)', () => {
  it('names each case its goal: model-kernels and SwiGLU fused, the rest single, reference lines none', () => {
    expect(caseGoal('model-kernels', 'snake')).toBe('fused');
    expect(caseGoal('kernels', 'swiglu f16')).toBe('fused');
    expect(caseGoal('kernels', 'gemv f32')).toBe('single');
    expect(caseGoal('kernels', 'no-op dispatch')).toBeNull();
    expect(caseGoal('kernels', 'copy')).toBeNull();
    expect(caseGoal('model-kernels', 'DiT attention, 3-pass form (CFG batch)')).toBeNull();
    expect(caseGoal('model-kernels', 'DiT attention (CFG batch)')).toBe('fused');
  });

  it('a fused case meets 2× only if every like-for-like measure does', () => {
    // GPU 0.4 and per op 0.45: met.
    expect(judge(row({ ort_webgpu_gpu_ms: 2.5, ours_per_op_ms: 0.9, ort_webgpu_per_op_ms: 2 }))).toMatchObject({ goal: 'fused', met: true, gpu: 0.4, perOp: 0.45 });
    // Per op 0.6 fails it although ORT's GPU time says 0.4.
    expect(judge(row({ ort_webgpu_gpu_ms: 2.5, ours_per_op_ms: 1.2, ort_webgpu_per_op_ms: 2 })).met).toBe(false);
    // One measure is enough when the other is missing (or zero: a chain that added nothing measurable).
    expect(judge(row({ ort_webgpu_gpu_ms: 1.6, ort_webgpu_per_op_ms: 0, ours_per_op_ms: 0.5 }))).toMatchObject({ met: false, perOp: null });
    // A single op: ≤ 1 is enough.
    expect(judge(row({ suite: 'kernels', name: 'transpose', ort_webgpu_gpu_ms: 1.25 })).met).toBe(true);
  });

  it('decides nothing from one ORT run, a CPU fallback, an error or a missing twin', () => {
    expect(judge(row({}))).toMatchObject({ met: null, run: 0.1, why: 'one ORT run only (host copies included)' });
    expect(judge(row({ ort_note: 'webgpu: some nodes fell back to the CPU EP', ort_webgpu_per_op_ms: 0.002, ours_per_op_ms: 0.05 })).why).toMatch(/its CPU/);
    expect(judge(row({ error: 'boom', ort_webgpu_gpu_ms: 5 })).why).toBe('error: boom');
    expect(judge(row({ ort_webgpu_ms: null, ratio_vs_ort_webgpu: null })).why).toBe('no ORT WebGPU twin');
  });

  it('a file becomes a section with one line per case with a goal and the tally', () => {
    const md = goalsSection('bench/results/x.json', {
      suite: 'kernels', size: 'full', date: 'd', adapter_label: 'lavapipe',
      cases: [
        row({ suite: 'kernels', name: 'no-op dispatch' }),
        row({ suite: 'kernels', name: 'gemv f32', ort_webgpu_gpu_ms: 0.5 }),
        row({ suite: 'kernels', name: 'gemm f32', ort_webgpu_gpu_ms: 2 }),
        row({ suite: 'kernels', name: 'gemv f16', ort_webgpu_ms: null, ratio_vs_ort_webgpu: null }),
      ],
    });
    expect(md).toContain('on lavapipe: **1 met, 1 not met**, 1 without a like-for-like ORT number; 1 reference or alternative-form line not judged.');
    expect(md).toContain('| gemv f32 | [64,6001] | single ≤ 1 | 1000 | 500 | 2.000 | — | 0.100 | **not met** |');
    expect(md).toContain('| gemm f32 | [64,6001] | single ≤ 1 | 1000 | 2000 | 0.500 | — | 0.100 | met |');
    expect(md).not.toContain('no-op dispatch');
  });

  it('reads only the kernel suites\' files, this folder and the card subfolders', () => {
    const files = goalFiles();
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) expect(['kernels', 'model-kernels']).toContain(f.data.suite);
    expect(files.some((f) => f.path === 'bench/results/kernels.json')).toBe(true);
    expect(files.some((f) => f.path.startsWith('bench/results/nvidia-h200/'))).toBe(true);
  });

  it('the committed bench/results/goals.md is what the committed result files say (npx tsx bench/goals.ts rewrites it)', () => {
    expect(readFileSync(GOALS_FILE, 'utf8')).toBe(goalsMarkdown());
  });
});
