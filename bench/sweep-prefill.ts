/**
 * Sweep of the `linear` GEMM shapes (shaders/matmul.wgsl `gemm`) over the LLM prefill projections at the full
 * Qwen2 dims: GPU µs (timestamps, median of 5) per projection and tile form, f16 (packed) and f32 weights.
 * A 64×64 tile leaves o_proj and down_proj (N = 896) 14 workgroups wide: at 256 rows that is 56 workgroups,
 * fewer than an H200 has SMs (132). Smaller tiles fill the card at the cost of more shared loads (`gemm`'s GPU
 * tiles, kernels/matmul.ts gemmShape, were chosen from this sweep; GPUs now take gemm_rt where K % 8 == 0,
 * swept by bench/sweep-gemm-rt.ts).
 *   npx tsx bench/sweep-prefill.ts [--rows 256,512] [--dtypes f16,f32]
 * Tile forms: [BM, BN] rows × columns per workgroup, TM rows a thread (threads = BM/TM · BN/4), BK the K step.
 */
import { requestNodeDevice } from '../src/gpu/node-device.js';
import { GpuContext } from '../src/gpu/context.js';
import { linear, type LinearArgs } from '../kernels/matmul.js';
import { packWeightF16 } from '../kernels/quant.js';
import { rnd } from './suites/kernels.js';
import { gpuMedianUs, maxRelDiff } from './sweep-timing.js';

const opt = (name: string, dflt: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : dflt);
const rowList = opt('--rows', '256,512').split(',').map(Number);
const dtypes = opt('--dtypes', 'f16,f32').split(',') as ('f16' | 'f32')[];
const ctx = new GpuContext(await requestNodeDevice());
// Qwen2 prefill projections (GPU plan, 'split' SwiGLU): [N, K], bias, residual.
const projections: [string, number, number, boolean, boolean][] = [
  ['qkv', 1152, 896, true, false],
  ['o', 896, 896, false, true],
  ['gate_up', 9728, 896, false, false],
  ['down', 896, 4864, false, true],
];
// Every form names its whole tile (a partial one would take gemmShape's defaults for the rest); `default` is
// gemmShape's choice for the shape.
const tile = (bm: number, bn: number, tm: number, bk: number): Partial<LinearArgs> => ({ gemmTile: [bm, bn], gemmTM: tm, gemmBK: bk });
const forms: [string, Partial<LinearArgs>][] = [
  ['default', {}],
  ['64x64 tm8 bk32', tile(64, 64, 8, 32)],
  ['64x64 tm4 bk32', tile(64, 64, 4, 32)],
  ['128x64 tm8 bk16', tile(128, 64, 8, 16)],
  ['32x64 tm4 bk32', tile(32, 64, 4, 32)],
  ['64x32 tm8 bk32', tile(64, 32, 8, 32)],
  ['32x32 tm4 bk32', tile(32, 32, 4, 32)],
  ['32x32 tm4 bk16', tile(32, 32, 4, 16)],
];
for (const dtype of dtypes) {
  for (const M of rowList) {
    const total = new Array(forms.length).fill(0);
    for (const [name, N, K, hasBias, hasRes] of projections) {
      const wf = rnd(N * K, 2, 0.05);
      const w = dtype === 'f16' ? packWeightF16(ctx, wf, [N, K]) : ctx.upload(wf, 'f32', [N, K]);
      const x = ctx.upload(rnd(M * K, 1), 'f32', [M, K]);
      const y = ctx.tensor('f32', [M, N]);
      const bias = hasBias ? ctx.upload(rnd(N, 3), 'f32', [N]) : undefined;
      const residual = hasRes ? ctx.upload(rnd(M * N, 4), 'f32', [M, N]) : undefined;
      const line: string[] = [];
      let ref: Float32Array | undefined;
      for (let i = 0; i < forms.length; i++) {
        const [fname, o] = forms[i];
        try {
          const us = await gpuMedianUs(ctx, [linear(ctx, { x, w, y, bias, residual, mode: 'gemm', ...o }, fname)]);
          total[i] += us;
          // Every form must agree with the default's output (same sums, other order): flag a broken tile shape.
          const out = await ctx.readF32(y);
          ref ??= out;
          const err = maxRelDiff(out, ref);
          line.push(`${fname}: ${us.toFixed(1)}${err > 1e-4 ? ` MISMATCH ${err.toExponential(1)}` : ''}`);
        } catch (e) {
          total[i] = NaN;
          line.push(`${fname}: ERR ${(e as Error).message.slice(0, 80)}`);
        }
      }
      const gflop = (2 * M * N * K) / 1e9;
      console.log(`prefill ${dtype} M=${M} ${name} [${N},${K}] ${gflop.toFixed(2)} GFLOP (µs): ${line.join(' | ')}`);
    }
    console.log(`prefill ${dtype} M=${M} one layer's projections (µs): ${forms.map(([f], i) => `${f}: ${total[i].toFixed(1)}`).join(' | ')}`);
  }
}
process.exit(0);
