/**
 * The kernel library's speed goals read off the committed result files (issue 5): every kernel at least as fast
 * as the same op on ONNX Runtime's WebGPU EP, and the fused ones (norm+matmul, SwiGLU, attention, conv+Snake, …)
 * at least 2× faster than ORT's sequence of unfused ops, on the same adapter.
 *
 *   npx tsx bench/goals.ts            rewrites bench/results/goals.md from the kernel suites' JSON and prints it
 *
 * bench/run.ts rewrites goals.md itself after each kernel-suite run, and test/kernels/bench-goals.test.ts fails
 * when the committed goals.md is not what the committed JSON files say.
 *
 * Which number decides. Only like-for-like measures count towards a verdict:
 *   - "GPU": our GPU-timestamped time / ORT's own per-kernel GPU time from its profiler (`--ort-profile`);
 *   - "per op": both sides' marginal cost of one more op in a chain (`--ort-chain R`), which cancels ORT's
 *     per-run overhead and host copies.
 * A goal is met when every like-for-like measure the file has meets it. A single `session.run` (ORT's wall time,
 * host copies included) is shown but decides nothing: on a real GPU those copies dwarf the kernels.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CaseResult } from './harness.js';
import { fmt } from './stats.js';

export type Goal = 'single' | 'fused';

/** ours / ORT at most this. */
export const GOAL_BOUND: Record<Goal, number> = { single: 1, fused: 0.5 };

/** The suites whose cases carry an ORT twin and a goal. */
export const GOAL_SUITES = ['kernels', 'model-kernels'];

/**
 * A case's goal: every model-kernels case is one of our kernels against ORT's unfused sequence of the same math;
 * in the kernels suite only SwiGLU (gate and up projections with their activation) is fused. None for the
 * reference lines (the no-op and the plain copy: no ORT twin) and for the cases that time a form the model does
 * not run by default ("DiT attention, tiled form …"), which sit beside the model's own case for comparison.
 */
export function caseGoal(suite: string, name: string): Goal | null {
  if (/, [\w-]+ form\b/.test(name)) return null;
  if (suite === 'model-kernels') return 'fused';
  if (name === 'no-op dispatch' || name === 'copy') return null;
  return name.startsWith('swiglu') ? 'fused' : 'single';
}

export interface Verdict {
  goal: Goal | null;
  /** ours / ORT by GPU time (ORT's profiler), by marginal cost per op (chained), and by one run (wall). */
  gpu: number | null;
  perOp: number | null;
  run: number | null;
  /** true / false from the like-for-like measures; null when there are none (the reason in `why`). */
  met: boolean | null;
  why?: string;
}

const positive = (v: number | null | undefined): v is number => v != null && Number.isFinite(v) && v > 0;

export function judge(r: CaseResult): Verdict {
  const goal = caseGoal(r.suite, r.name);
  const gpu = positive(r.ort_webgpu_gpu_ms) && positive(r.ours_ms) ? r.ours_ms / r.ort_webgpu_gpu_ms : null;
  const perOp = positive(r.ort_webgpu_per_op_ms) && positive(r.ours_per_op_ms) ? r.ours_per_op_ms / r.ort_webgpu_per_op_ms : null;
  const run = positive(r.ratio_vs_ort_webgpu) ? r.ratio_vs_ort_webgpu : null;
  const v: Verdict = { goal, gpu, perOp, run, met: null };
  if (!goal) return { ...v, why: 'reference line or alternative form' };
  if (r.error) return { ...v, why: `error: ${r.error}` };
  if (r.ort_note?.includes('fell back')) return { ...v, why: "ORT runs this node on its CPU, not its WebGPU EP" };
  const fair = [gpu, perOp].filter((x): x is number => x !== null);
  if (!fair.length) return { ...v, why: r.ort_webgpu_ms == null ? 'no ORT WebGPU twin' : 'one ORT run only (host copies included)' };
  return { ...v, met: fair.every((x) => x <= GOAL_BOUND[goal]) };
}

interface ResultFile {
  adapter_label?: string;
  adapter?: unknown;
  suite: string;
  size?: string;
  date?: string;
  cases: CaseResult[];
}

const ratio = (x: number | null) => (x === null ? '—' : x.toFixed(3));
const us = (ms: number | null | undefined) => fmt(ms == null ? null : ms * 1000);

/** One result file as a markdown section: each case's goal, its measures and the verdict, then the tally. */
export function goalsSection(path: string, f: ResultFile): string {
  const rows = f.cases.map((r) => ({ r, v: judge(r) })).filter(({ v }) => v.goal);
  const omitted = f.cases.length - rows.length;
  const count = (m: boolean | null) => rows.filter(({ v }) => v.met === m).length;
  const lines = rows.map(({ r, v }) => {
    const verdict = v.met === true ? 'met' : v.met === false ? '**not met**' : `— (${v.why})`;
    const goal = v.goal === 'fused' ? 'fused ≤ 0.5' : 'single ≤ 1';
    return `| ${r.name} | ${r.shape} | ${goal} | ${us(r.ours_ms)} | ${us(r.ort_webgpu_gpu_ms)} | ${ratio(v.gpu)} | ${ratio(v.perOp)} | ${ratio(v.run)} | ${verdict} |`;
  });
  const label = f.adapter_label ?? (typeof f.adapter === 'string' ? f.adapter : 'unknown adapter');
  return [
    `### \`${path}\``,
    '',
    `${f.suite} suite, ${f.size ?? '?'} size, ${f.date ?? 'undated'}, on ${label}: **${count(true)} met, ${count(false)} not met**, ${count(null)} without a like-for-like ORT number${omitted ? `; ${omitted} reference or alternative-form line${omitted > 1 ? 's' : ''} not judged` : ''}.`,
    '',
    '| case | shape | goal (ours / ORT) | ours µs | ORT GPU µs | ours / ORT GPU | ours / ORT per op | ours / ORT one run | verdict |',
    '|---|---|---|---|---|---|---|---|---|',
    ...lines,
  ].join('\n');
}

const here = dirname(fileURLToPath(import.meta.url));
/** bench/results: beside this file in the sources; from the bundled CLI (which has no bench/ folder), ./bench/results. */
export const RESULTS_DIR = /[\\/]bench$/.test(here) ? join(here, 'results') : join(process.cwd(), 'bench', 'results');
export const GOALS_FILE = join(RESULTS_DIR, 'goals.md');

/** The kernel-suite result files under bench/results (this adapter's, then each subfolder's), newest first within a folder. */
export function goalFiles(dir = RESULTS_DIR): { path: string; data: ResultFile }[] {
  const read = (folder: string) =>
    readdirSync(folder)
      .filter((n) => n.endsWith('.json'))
      .map((n) => join(folder, n))
      .map((p) => ({ path: 'bench/results/' + relative(dir, p).split('\\').join('/'), data: JSON.parse(readFileSync(p, 'utf8')) as ResultFile }))
      .filter(({ data }) => GOAL_SUITES.includes(data.suite) && Array.isArray(data.cases))
      .sort((a, b) => (b.data.date ?? '').localeCompare(a.data.date ?? ''));
  const subdirs = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => join(dir, e.name)).sort();
  return [dir, ...subdirs].flatMap(read);
}

export function goalsMarkdown(files = goalFiles()): string {
  return [
    '# Kernel goals against ONNX Runtime\'s WebGPU EP',
    '',
    'Written by `bench/goals.ts` from the result files beside it (bench/run.ts rewrites it after each kernel-suite',
    'run); do not edit by hand. Goal: ours / ORT ≤ 1 for every kernel, ≤ 0.5 for the fused ones against ORT\'s',
    'unfused sequence. A verdict counts only like-for-like measures: ORT\'s own GPU time from its profiler',
    '(`--ort-profile`) and both sides\' marginal cost per op in a chain (`--ort-chain`); every one the file has',
    'must meet the goal. The one-run ratio includes ORT\'s host copies and decides nothing. Files under a',
    'subfolder come from that card (see its README); the others from this repository\'s CI machine (lavapipe).',
    '',
    ...files.flatMap(({ path, data }) => [goalsSection(path, data), '']),
  ].join('\n');
}

/** Rewrites `<dir>/goals.md` from the result files in `dir`. */
export function writeGoals(dir = RESULTS_DIR): string {
  const text = goalsMarkdown(goalFiles(dir));
  writeFileSync(join(dir, 'goals.md'), text);
  return text;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) console.log(writeGoals());
