/**
 * The F0 predictor on the GPU in emulated double precision (kernels/f0.ts, shaders/f0.wgsl): the same math and
 * streaming semantics as predictF0 (f0.ts) — conv₀ reads mel t..t+K₀−1 (zero right padding when finalizing,
 * else the last pad₀ frames are context and produce no output), then causal convs, ELU after each, then
 * |Linear| — with every value a (hi, lo) f32 pair (≈ 48 significant bits instead of f64's 53).
 *
 *   mel [Cin, T] f32 → df64 pairs → conv₀+ELU → convᵢ+ELU (ping-pong buffers) → head → f0 [Tout] df64 → f64
 *
 * One submit and one readback of 8·Tout bytes per call (f0 feeds sourceFrameTable on the CPU, whose f64 sines
 * need it there anyway); plans (dispatch lists) are cached per (T, finalize).
 * Measured: ≤ 2.4e-12 relative to the f64 reference (lavapipe and H200); H200, 50 frames: 1.7 ms GPU time,
 * 2.4 ms wall per second of audio (WASM f64: 77 ms).
 * The folded f64 weights are split into (hi, lo) pairs once, here, at load.
 */
import { f0Conv, f0Head, packDf64, unpackDf64 } from '../../../kernels/f0.js';
import type { GpuContext } from '../../gpu/context.js';
import type { DispatchRecord } from '../../gpu/dispatch.js';
import { PlanCache } from '../../gpu/plan-cache.js';
import { GpuTensor } from '../../gpu/tensor.js';
import { checkF0Input, f0OutFrames, F0InputError } from './f0.js';
import type { F0Weights } from './weights.js';

const MAX_PLANS = 8;

/** A df64 [...shape] view (shape·2 f32) over the start of `t`'s buffer. */
function pairsView(t: GpuTensor, shape: readonly number[]): GpuTensor {
  return new GpuTensor(t.buffer, 'f32', [...shape, 2], 0, undefined, t.label);
}

export class F0Gpu {
  private readonly layers: { w: GpuTensor; bias: GpuTensor }[];
  private readonly cls: GpuTensor;
  private readonly clsBias: GpuTensor;
  private readonly mel: GpuTensor;
  private readonly h: [GpuTensor, GpuTensor];
  private readonly out: GpuTensor;
  private readonly plans = new PlanCache(MAX_PLANS);

  constructor(readonly ctx: GpuContext, readonly f: F0Weights, readonly maxFrames: number) {
    this.layers = f.layers.map((l, i) => ({
      w: ctx.upload(packDf64(l.w), 'f32', [l.cout, l.cin, l.k, 2], `f0.condnet.${i}.w`),
      bias: ctx.upload(packDf64(l.bias), 'f32', [l.cout, 2], `f0.condnet.${i}.b`),
    }));
    this.cls = ctx.upload(packDf64(f.classifier), 'f32', [f.classifier.length, 2], 'f0.classifier.w');
    this.clsBias = ctx.upload(packDf64([f.classifierBias]), 'f32', [1, 2], 'f0.classifier.b');
    const C = Math.max(...f.layers.map((l) => l.cout));
    this.mel = ctx.tensor('f32', [f.layers[0].cin * maxFrames * 2], 'f0.mel');
    this.h = [ctx.tensor('f32', [C * maxFrames * 2], 'f0.h0'), ctx.tensor('f32', [C * maxFrames * 2], 'f0.h1')];
    this.out = ctx.tensor('f32', [maxFrames * 2], 'f0.out');
  }

  /** Output frames for T mel frames; throws F0InputError as predictF0 does. */
  outFrames(T: number, finalize: boolean): number {
    const tOut = f0OutFrames(this.f, T, finalize);
    if (T > this.maxFrames) throw new F0InputError(`f0 predictor: ${T} mel frames exceed maxFrames ${this.maxFrames}`);
    return tOut;
  }

  /** The dispatch list for one call shape (cached, most recent MAX_PLANS). */
  plan(T: number, finalize: boolean): DispatchRecord[] {
    return this.plans.get(`${T}:${finalize}`, () => this.buildPlan(T, finalize));
  }

  private buildPlan(T: number, finalize: boolean): DispatchRecord[] {
    const tOut = this.outFrames(T, finalize);
    const { ctx, f } = this;
    const rec: DispatchRecord[] = [];
    const l0 = f.layers[0];
    let x = pairsView(this.mel, [l0.cin, T]);
    let lin = T;
    f.layers.forEach((l, i) => {
      const out = pairsView(this.h[i % 2], [l.cout, tOut]);
      // Layer 0 looks right (taps t..t+K−1 of the T mel frames); the others are causal over the tOut frames.
      rec.push(f0Conv(ctx, {
        x, w: this.layers[i].w, bias: this.layers[i].bias, out, cin: l.cin, lin, cout: l.cout, k: l.k, lout: tOut,
        padLeft: i === 0 ? 0 : l.pad,
      }, `f0.condnet.${i}`));
      x = out;
      lin = tOut;
    });
    const c = f.layers[f.layers.length - 1].cout;
    rec.push(f0Head(ctx, { h: x, w: this.cls, bias: this.clsBias, out: pairsView(this.out, [tOut]), c, lout: tOut }, 'f0.classifier'));
    return rec;
  }

  /** mel [Cin, T] → f0 [T] (finalize) or [T − pad₀], as float64 (hi + lo of each pair). */
  async predict(mel: ArrayLike<number>, cin: number, T: number, finalize: boolean): Promise<Float64Array> {
    checkF0Input(this.f, mel, cin, T, finalize);
    const tOut = this.outFrames(T, finalize);
    const rec = this.plan(T, finalize);
    const pairs = new Float32Array(2 * cin * T); // lo = 0: the mel is f32, exact in hi
    for (let i = 0; i < cin * T; i++) pairs[2 * i] = mel[i];
    this.ctx.write(this.mel.buffer, 0, pairs);
    this.ctx.run(rec);
    return unpackDf64(new Float32Array(await this.ctx.readBytes(this.out.buffer, 0, 8 * tOut)), tOut);
  }

  dispose(): void {
    this.plans.clear();
  }
}
