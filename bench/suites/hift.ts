/**
 * HiFT benchmark: CausalHiFTGenerator at full size (base channels 512, F0 condnet 512) with seeded random
 * weights (src/pipeline/synthetic.ts, official names/shapes), 1 s of audio (50 mel frames) by default.
 *
 *   npx tsx bench/suites/hift.ts [--frames 50] [--reps 3] [--no-ort] [--ort-webgpu] [--profile] [--base 512]
 *                                [--f0 gpu|wasm|js] [--tune]   (tune the conv tiles on this adapter first: src/tune/)
 *
 * Reports ms per second of audio for: our whole inference (F0 + GPU generator + readback), its parts (the F0
 * predictor with its backend — `--f0`, default the generator's: 'gpu' (emulated f64, WGSL) on GPU adapters,
 * 'wasm' on CPU adapters — as wall time of predictF0 including its submit and readback, plus its GPU time alone
 * for 'gpu'; the CPU f64 forms for comparison; GPU trunk wall time), per-kernel GPU time (timestamp queries,
 * --profile), and
 * onnxruntime-node (`cpu`, optionally `webgpu`) running the converter's hift.onnx (src/convert/hift.ts) built from
 * the same state dict: the whole inference, mel → waveform, like ours (bench/suites/hift-onnx.ts). Results →
 * bench/results/hift.json.
 * Timings only, never asserted.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { tuneHift } from '../../src/tune/models.js';
import { tuneFor } from './tune-for.js';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseHyperYaml } from '../../loader/hyperyaml.js';
import { GpuContext } from '../../src/gpu/context.js';
import { adapterLabel } from '../../src/gpu/device.js';
import { requestNodeDevice } from '../../src/gpu/node-device.js';
import { profileDispatches, summariseTimings, timePass, wallTimeMs } from '../../src/gpu/timing.js';
import { hiftConfigFromYaml } from '../../src/models/hift/config.js';
import { predictF0 } from '../../src/models/hift/f0.js';
import { F0Wasm } from '../../src/models/hift/f0-wasm.js';
import { HiftGenerator, type F0Backend } from '../../src/models/hift/forward.js';
import { loadHiftWeights } from '../../src/models/hift/weights.js';
import { SYNTHETIC_SIZES, syntheticCheckpoint } from '../../src/pipeline/synthetic.js';
import { median } from '../stats.js';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const flag = (f: string) => args.includes(f);
const opt = (f: string, d: string) => (args.includes(f) ? args[args.indexOf(f) + 1] : d);

const frames = Number(opt('--frames', '50'));
const reps = Number(opt('--reps', '3'));
const base = Number(opt('--base', '512'));
const seconds = frames / 50;
const f0Arg = opt('--f0', '');
if (f0Arg && !['gpu', 'wasm', 'js'].includes(f0Arg)) throw new Error(`--f0 ${f0Arg}: expected gpu, wasm or js`);

async function main(): Promise<void> {
  // Only HiFT matters here: the LLM and flow stay at tiny size.
  const dims = { ...SYNTHETIC_SIZES.tiny, hift: { base, f0: base } };
  const ck = syntheticCheckpoint(dims, 7);
  const cfg = hiftConfigFromYaml(parseHyperYaml(ck.yaml));
  if (cfg.baseChannels !== base) throw new Error(`synthetic checkpoint has base ${cfg.baseChannels}, asked ${base}`);
  const weights = loadHiftWeights(ck.hift, cfg);
  const ctx = new GpuContext(await requestNodeDevice());
  const device = adapterLabel(ctx.handle.info);
  console.log(`[hift bench] device: ${device}; base ${base}; ${frames} mel frames = ${seconds} s`);
  const noise = new Float32Array(cfg.samplesPerFrame * frames * cfg.harmonics);
  for (let i = 0; i < noise.length; i++) noise[i] = ((i * 0.6180339887) % 1);
  const mel = new Float32Array(cfg.inChannels * frames);
  for (let i = 0; i < mel.length; i++) mel[i] = Math.sin(i * 0.37) * 2 - 5;
  const make = () => new HiftGenerator(ctx, cfg, weights, { maxFrames: frames, noise, ...(f0Arg ? { f0Backend: f0Arg as F0Backend } : {}) });
  // --tune: this adapter's conv tiles for this length first (src/tune/), then the timed generator takes them.
  const tuned = flag('--tune') ? await tuneFor(ctx, (table, log) => tuneHift(ctx, make, table, { frames, log })) : undefined;
  const hift = make();
  ctx.tuning = null;
  const f0Wasm = await F0Wasm.create(weights.f0); // the CPU f64 reference point, whatever the backend

  let t = performance.now();
  const plan = hift.plan(frames, true);
  const planMs = performance.now() - t;
  await hift.inference(mel, frames, true); // warm-up (first submit, lazy allocations)

  const f0Ms: number[] = [], f0JsMs: number[] = [], f0WasmMs: number[] = [], f0GpuMs: number[] = [], gpuMs: number[] = [], totalMs: number[] = [];
  const f0Backend = await hift.f0BackendInUse();
  const f0Plan = hift.f0Plan(frames, true);
  for (let r = 0; r < reps; r++) {
    t = performance.now();
    await hift.predictF0(mel, frames, true);
    f0Ms.push(performance.now() - t);
    if (f0Plan) {
      const ms = await timePass(ctx, f0Plan);
      if (ms !== null) f0GpuMs.push(ms);
    }
    if (f0Wasm) {
      t = performance.now();
      f0Wasm.predict(mel, cfg.inChannels, frames, true);
      f0WasmMs.push(performance.now() - t);
    }
    t = performance.now();
    predictF0(weights.f0, mel, cfg.inChannels, frames, true);
    f0JsMs.push(performance.now() - t);
    gpuMs.push(await wallTimeMs(ctx, plan));
    t = performance.now();
    await hift.inference(mel, frames, true);
    totalMs.push(performance.now() - t);
  }
  const row: Record<string, unknown> = {
    device,
    base,
    frames,
    seconds,
    dispatches: plan.length,
    planMs: Math.round(planMs),
    ours_total_ms_per_s: median(totalMs) / seconds,
    ours_gpu_ms_per_s: median(gpuMs) / seconds,
    f0_backend: f0Backend,
    ours_f0_ms_per_s: median(f0Ms) / seconds,
    ...(f0GpuMs.length ? { ours_f0_gpu_only_ms_per_s: median(f0GpuMs) / seconds } : {}),
    ...(f0WasmMs.length ? { f0_wasm_f64_ms_per_s: median(f0WasmMs) / seconds } : {}),
    f0_js_f64_ms_per_s: median(f0JsMs) / seconds,
    reps,
  };
  const f0Gpu = row.ours_f0_gpu_only_ms_per_s !== undefined ? `, its GPU time ${row.ours_f0_gpu_only_ms_per_s}` : '';
  console.log(`[hift bench] ours: total ${row.ours_total_ms_per_s} ms/s audio (GPU trunk ${row.ours_gpu_ms_per_s}, F0 ${f0Backend} ${row.ours_f0_ms_per_s}${f0Gpu}; CPU f64 F0: wasm ${row.f0_wasm_f64_ms_per_s ?? 'n/a'}, js ${row.f0_js_f64_ms_per_s}); plan ${planMs.toFixed(0)} ms, ${plan.length} dispatches`);
  if (flag('--profile')) {
    const timings = await profileDispatches(ctx, [...(f0Plan ?? []), ...plan]);
    if (timings) {
      const byKernel = new Map<string, number>();
      for (const x of timings) {
        const k = x.label.replace(/^[^/]*\//, '').replace(/_(RESIDUAL|RES_INPLACE|ACCUM|DIV|SNAKE_IN|SNAKE_OUT|LEAKY_IN|OUT_SHIFT)/g, '');
        byKernel.set(k, (byKernel.get(k) ?? 0) + x.ms);
      }
      const byLayer = summariseTimings(timings.map((x) => ({ label: x.label.split('/')[0].replace(/\.(convs[12])\.\d$/, '.$1'), ms: x.ms })));
      row.profile = { byKernel: Object.fromEntries([...byKernel].sort((a, b) => b[1] - a[1])), sumMs: timings.reduce((a, b) => a + b.ms, 0) };
      console.log('[hift bench] GPU ms by kernel variant:', row.profile);
      console.log('[hift bench] top layers:', byLayer.slice(0, 12));
    }
  }
  if (!flag('--no-ort')) {
    const { ortHiftBench } = await import('./hift-onnx.js');
    for (const ep of flag('--ort-webgpu') ? ['cpu', 'webgpu'] : ['cpu']) {
      try {
        const ms = await ortHiftBench(ck.hift, cfg, frames, ep as 'cpu' | 'webgpu', reps, mel, noise);
        row[`ort_${ep}_total_ms_per_s`] = ms / seconds;
        console.log(`[hift bench] onnxruntime-node ${ep}: ${(ms / seconds).toFixed(1)} ms/s audio (whole hift.onnx)`);
      } catch (e) {
        row[`ort_${ep}_error`] = String((e as Error).message ?? e).slice(0, 300);
        console.log(`[hift bench] onnxruntime-node ${ep} failed: ${row[`ort_${ep}_error`]}`);
      }
    }
  }
  const outDir = join(here, '..', 'results');
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'hift.json'), JSON.stringify({ date: new Date().toISOString(), ...row, ...(tuned && { tuned }) }, null, 2) + '\n');
  ctx.dispose();
}

await main();
