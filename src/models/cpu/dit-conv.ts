/**
 * The DiT conv position embedding on the CPU: causal grouped Conv1d (left pad KS − 1) + Mish, optionally + a
 * residual, over time-major rows [B·T, C]. Each group of each batch item is a plain conv of the group's channels
 * (conv.ts CpuConvs: im2col against the group's resident [CPG, KS·CPG] matrix), so the WebAssembly kernel does
 * all the multiply-adds; the item's own left padding comes from running the items separately.
 */
import type { CpuKernels } from '../../../kernels/cpu-linear.js';
import { CpuConvs, type CpuConvWeight } from './conv.js';
import { mish } from './dit-ops.js';
import { atLeast } from './scratch.js';

export class CpuConvPos {
  private readonly groups: CpuConvWeight[] = [];
  private readonly convs: CpuConvs;
  /** one group's channels of one item [T, CPG], and its conv output */
  private xg = new Float32Array(0);
  private yg = new Float32Array(0);

  /** w: the Conv1d weight [C, CPG, KS] (group g = output channels g·CPG …); bias [C]. */
  constructor(
    k: CpuKernels,
    w: Float32Array,
    bias: Float32Array,
    private readonly C: number,
    private readonly cpg: number,
    private readonly ks: number,
    name: string,
  ) {
    this.convs = new CpuConvs(k);
    const per = cpg * cpg * ks;
    for (let g = 0; g * cpg < C; g++) {
      this.groups.push(this.convs.weight(w.subarray(g * per, (g + 1) * per), bias.subarray(g * cpg, (g + 1) * cpg), cpg, cpg, ks, `${name}.g${g}`));
    }
  }

  /** y[m, :] = mish(conv(x)[m, :]) (+ res[m, :]); x, y, res [B·T, C]; y must not alias x. */
  run(x: Float32Array, B: number, T: number, y: Float32Array, res?: Float32Array): void {
    const { C, cpg } = this;
    this.xg = atLeast(this.xg, T * cpg);
    this.yg = atLeast(this.yg, T * cpg);
    const { xg, yg } = this;
    this.groups.forEach((g, gi) => {
      const col = gi * cpg;
      for (let b = 0; b < B; b++) {
        for (let t = 0; t < T; t++) for (let i = 0; i < cpg; i++) xg[t * cpg + i] = x[(b * T + t) * C + col + i];
        this.convs.run(g, xg, T, yg, T, { padLeft: this.ks - 1 });
        for (let t = 0; t < T; t++) {
          const d = (b * T + t) * C + col;
          for (let o = 0; o < cpg; o++) y[d + o] = mish(yg[t * cpg + o]) + (res ? res[d + o] : 0);
        }
      }
    });
  }
}
