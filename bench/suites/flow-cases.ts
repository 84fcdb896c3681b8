/**
 * model-kernels case of the DiT flow's remaining fused kernel:
 *   - the CFG Euler step of the 10-step solver, x ← x + dt·(wc·v_cond − wu·v_uncond) with v in the estimator's
 *     row layout [2·T, 80] and x channel-first [80, T] (ORT: Slice, Slice, Mul, Mul, Sub, Mul, Transpose, Add).
 */
import { eulerCfg } from '../../kernels/euler.js';
import { atLength, createDims } from '../../kernels/flow-dims.js';
import type { BenchCase } from '../harness.js';
import { f32, graph, i64 } from '../ort-graphs.js';
import { rnd } from './kernels.js';

/** One Euler step at T frames (80 mel bins, CFG batch 2), cfg_rate 0.7, the first step's dt of the cosine grid. */
export function eulerCase(T: number, mel = 80): BenchCase {
  const dt = Math.fround(1 - Math.cos(Math.PI / 20)), wc = Math.fround(1.7), wu = Math.fround(0.7);
  return {
    name: 'DiT Euler CFG step (fused)',
    shape: `x[${mel},${T}] v[2·${T},${mel}]`,
    setup: ({ ctx }) => {
      const x = rnd(mel * T, 101), v = rnd(2 * T * mel, 103, 2);
      const dims = createDims(ctx, { T, B: 2, chunk: 0 });
      const tx = ctx.upload(x, 'f32', [mel, T]), tv = ctx.upload(v, 'f32', [2 * T, mel]);
      const model = graph({
        // v is an input, not an initializer: ORT would fold the whole v-side of the step into one constant.
        inputs: [{ name: 'x', ...f32([mel, T]) }, { name: 'v', ...f32([2 * T, mel]) }],
        outputs: [{ name: 'y', ...f32([mel, T]) }],
        inits: [
          { name: 's0', ...i64(0) }, { name: 's1', ...i64(T) }, { name: 's2', ...i64(2 * T) }, { name: 'ax', ...i64(0) },
          { name: 'wc', ...f32([]), data: Float32Array.of(wc) },
          { name: 'wu', ...f32([]), data: Float32Array.of(wu) },
          { name: 'dt', ...f32([]), data: Float32Array.of(dt) },
        ],
        nodes: [
          { op: 'Slice', inputs: ['v', 's0', 's1', 'ax'], outputs: ['vc'] },
          { op: 'Slice', inputs: ['v', 's1', 's2', 'ax'], outputs: ['vu'] },
          { op: 'Mul', inputs: ['vc', 'wc'], outputs: ['a'] },
          { op: 'Mul', inputs: ['vu', 'wu'], outputs: ['b'] },
          { op: 'Sub', inputs: ['a', 'b'], outputs: ['d'] },
          { op: 'Mul', inputs: ['d', 'dt'], outputs: ['e'] },
          { op: 'Transpose', inputs: ['e'], outputs: ['et'], attrs: { perm: [1, 0] } },
          { op: 'Add', inputs: ['x', 'et'], outputs: ['y'] },
        ],
      });
      return {
        // In place on x, as the solver runs it: every run moves x one more step (the timing does not depend on it).
        records: atLength([eulerCfg(ctx, { dims, v: tv, x: tx, dt, wc, wu })], T, 2),
        bytes: 4 * 4 * mel * T,
        flops: 5 * mel * T,
        output: tx,
        ort: {
          model,
          feeds: { x: { type: 'float32', data: x, dims: [mel, T] }, v: { type: 'float32', data: v, dims: [2 * T, mel] } },
          note: 'ORT: Slice, Slice, Mul, Mul, Sub, Mul, Transpose, Add',
          noChain: "only the Add reads x: ORT merges the v-side nodes of every chained copy into one",
        },
        dispose: () => [tx, tv].forEach((t) => t.buffer.destroy()),
      };
    },
  };
}
