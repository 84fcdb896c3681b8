/**
 * model-kernels cases of the HiFT vocoder's remaining fused kernels, each against the unfused ONNX sequence of the
 * same math (bench/suites/model-kernels.ts lists the rest):
 *   - an upsampling stage as the trunk runs it: LeakyReLU(0.1) on the input, nearest ×u, causal K-tap conv, + the
 *     source branch; ours is one conv1d over the polyphase weight folded at load (foldUpsampleWeight: 3 taps per
 *     input channel instead of K) (ORT: LeakyRelu, Resize, Pad, Conv, Add);
 *   - the NSF source merge: per-frame sines nearest-upsampled to samples, + amplitude · uniform noise, the 1×1
 *     `l_linear` over the harmonics and tanh (ORT: Resize, Split, Mul, Add, Conv, Tanh).
 */
import { conv1d, foldUpsampleWeight, packConvWeight } from '../../kernels/conv1d.js';
import { sinegen } from '../../kernels/sinegen.js';
import type { BenchCase } from '../harness.js';
import { f32, graph, i64 } from '../ort-graphs.js';
import { rnd } from './kernels.js';

/** Upsampling stage: x [Cin, T] → [Cin/2, T·u] (HiFT full size at 1 s of audio: 512×50 ×8 k16, 256×400 ×5 k11). */
export function upsamplerCase(cin: number, T: number, u: number, k: number): BenchCase {
  const C = cin / 2, L = T * u;
  return {
    name: 'HiFT upsampler (LeakyReLU + nearest ×u + causal conv + source add)',
    shape: `[${cin},${T}] ×${u} k${k} → [${C},${L}]`,
    setup: ({ ctx }) => {
      const x = rnd(cin * T, 61, 2), w = rnd(C * cin * k, 67, 2 / Math.sqrt(cin * k)), b = rnd(C, 71, 0.1), si = rnd(C * L, 73);
      const f = foldUpsampleWeight(w, C, cin, k, u);
      const packed = packConvWeight(f.w, f.cout, cin, f.k);
      const tx = ctx.upload(x, 'f32', [cin, T]), tw = ctx.upload(packed, 'f32', [packed.length]);
      const tb = ctx.upload(b, 'f32', [C]), ts = ctx.upload(si, 'f32', [C, L]), out = ctx.tensor('f32', [C, L]);
      const model = graph({
        inputs: [{ name: 'x', ...f32([1, cin, T]) }],
        outputs: [{ name: 'y', ...f32([1, C, L]) }],
        inits: [
          { name: 'scales', ...f32([3]), data: Float32Array.of(1, 1, u) },
          { name: 'pads', ...i64(0, 0, k - 1, 0, 0, 0) },
          { name: 'w', ...f32([C, cin, k]), data: w },
          { name: 'b', ...f32([C]), data: b },
          { name: 'si', ...f32([1, C, L]), data: si },
        ],
        nodes: [
          { op: 'LeakyRelu', inputs: ['x'], outputs: ['a'], attrs: { alpha: { f: 0.1 } } },
          { op: 'Resize', inputs: ['a', '', 'scales'], outputs: ['r'], attrs: { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' } },
          { op: 'Pad', inputs: ['r', 'pads'], outputs: ['p'] },
          { op: 'Conv', inputs: ['p', 'w', 'b'], outputs: ['c'], attrs: { kernel_shape: [k] } },
          { op: 'Add', inputs: ['c', 'si'], outputs: ['y'] },
        ],
      });
      return {
        records: [conv1d(ctx, { x: tx, w: tw, bias: tb, out, cout: u * C, k: f.k, lout: T, phases: u, padLeft: f.k - 1, leakyIn: 0.1, residual: ts })],
        bytes: 4 * (cin * T + 2 * C * L + packed.length),
        // The MACs the folded form does (u phases × Kp taps per input sample), not the K taps ORT's conv does.
        flops: 2 * u * C * cin * f.k * T,
        output: out,
        ort: { model, feeds: { x: { type: 'float32', data: x, dims: [1, cin, T] } }, note: 'ORT: LeakyRelu, Resize(nearest), Pad, Conv, Add' },
        dispose: () => [tx, tw, tb, ts, out].forEach((t) => t.buffer.destroy()),
      };
    },
  };
}

/** NSF source merge at L samples: Tf = L / up frames of H sines + the noise amplitude (HiFT: up 480, H 9). */
export function nsfSourceCase(L: number, up = 480, H = 9): BenchCase {
  const Tf = Math.ceil(L / up);
  return {
    name: 'HiFT NSF source (upsample + noise + l_linear + tanh)',
    shape: `[${Tf},${H + 1}] ×${up} → [${L}]`,
    setup: ({ ctx }) => {
      const frames = rnd(Tf * (H + 1), 79, 0.1), lin = rnd(H + 1, 83, 0.5);
      const noise = Float32Array.from(rnd(L * H, 89), (v) => 0.5 + 0.5 * v); // the uniform [0, 1) table's range
      const tf = ctx.upload(frames, 'f32', [Tf, H + 1]), tn = ctx.upload(noise, 'f32', [L, H]), tl = ctx.upload(lin, 'f32', [H + 1]);
      const s = ctx.tensor('f32', [L]);
      // ORT's layouts are channel-first: frames as [1, H+1, Tf], the noise as [1, H, L].
      const framesCf = new Float32Array((H + 1) * Tf), noiseCf = new Float32Array(H * L);
      for (let f = 0; f < Tf; f++) for (let h = 0; h <= H; h++) framesCf[h * Tf + f] = frames[f * (H + 1) + h];
      for (let n = 0; n < L; n++) for (let h = 0; h < H; h++) noiseCf[h * L + n] = noise[n * H + h];
      const model = graph({
        inputs: [{ name: 'frames', ...f32([1, H + 1, Tf]) }],
        outputs: [{ name: 'y', ...f32([1, 1, L]) }],
        inits: [
          { name: 'scales', ...f32([3]), data: Float32Array.of(1, 1, up) },
          { name: 'split', ...i64(H, 1) },
          { name: 'starts', ...i64(0) },
          { name: 'ends', ...i64(L) },
          { name: 'axes', ...i64(2) },
          { name: 'noise', ...f32([1, H, L]), data: noiseCf },
          { name: 'lw', ...f32([1, H, 1]), data: lin.subarray(0, H) },
          { name: 'lb', ...f32([1]), data: lin.subarray(H) },
        ],
        nodes: [
          { op: 'Resize', inputs: ['frames', '', 'scales'], outputs: ['r'], attrs: { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' } },
          { op: 'Slice', inputs: ['r', 'starts', 'ends', 'axes'], outputs: ['rs'] },
          { op: 'Split', inputs: ['rs', 'split'], outputs: ['sines', 'amp'], attrs: { axis: 1 } },
          { op: 'Mul', inputs: ['amp', 'noise'], outputs: ['an'] },
          { op: 'Add', inputs: ['sines', 'an'], outputs: ['sw'] },
          { op: 'Conv', inputs: ['sw', 'lw', 'lb'], outputs: ['c'], attrs: { kernel_shape: [1] } },
          { op: 'Tanh', inputs: ['c'], outputs: ['y'] },
        ],
      });
      return {
        records: [sinegen(ctx, { frames: tf, noise: tn, lin: tl, s, len: L, up, harmonics: H })],
        bytes: 4 * (L * H + L + Tf * (H + 1)),
        flops: 4 * H * L,
        output: s,
        ort: { model, feeds: { frames: { type: 'float32', data: framesCf, dims: [1, H + 1, Tf] } }, note: 'ORT: Resize(nearest), Slice, Split, Mul, Add, Conv 1×1, Tanh' },
        dispose: () => [tf, tn, tl, s].forEach((t) => t.buffer.destroy()),
      };
    },
  };
}
