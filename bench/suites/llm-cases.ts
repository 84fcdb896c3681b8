/**
 * model-kernels case of the Qwen2 LLM's remaining fused kernel: the step after the fused q/k/v projection, which
 * rotates q and k (half-split RoPE) and writes K and V into the paged cache in one dispatch (kernels/kv-cache.ts).
 * ORT's side is the exporter's unfused rotary sequence (HF rotate_half: Split, Reshape, Slice, Neg, Concat, Mul,
 * Add for q and for k) with the three parts concatenated back into one [M, 1152] row, so that it chains through
 * its output; it writes no cache (ORT would add a ScatterND or a Concat of the past K/V), so ORT's side does less.
 */
import { qkvAppend } from '../../kernels/kv-cache.js';
import { ropeTable } from '../../kernels/rope.js';
import { UNIFORM } from '../../src/gpu/context.js';
import type { BenchCase } from '../harness.js';
import { f32, graph, i64, type NodeSpec } from '../ort-graphs.js';
import { rnd } from './kernels.js';

/** Qwen2-0.5B: 14 q / 2 kv heads × 64, rope θ 1e6, pages of 16 positions. */
export const QKV = { Hq: 14, Hkv: 2, D: 64, theta: 1e6, page: 16 };

/** HF apply_rotary_pos_emb on x [M, H, D] with cos/sin [M, 1, D]: x·cos + rotate_half(x)·sin. */
function ropeNodes(x: string, out: string): NodeSpec[] {
  return [
    { op: 'Slice', inputs: [x, 'lo0', 'lo1', 'last'], outputs: [`${x}1`] },
    { op: 'Slice', inputs: [x, 'hi0', 'hi1', 'last'], outputs: [`${x}2`] },
    { op: 'Neg', inputs: [`${x}2`], outputs: [`${x}2n`] },
    { op: 'Concat', inputs: [`${x}2n`, `${x}1`], outputs: [`${x}rh`], attrs: { axis: -1 } },
    { op: 'Mul', inputs: [x, 'cos'], outputs: [`${x}c`] },
    { op: 'Mul', inputs: [`${x}rh`, 'sin'], outputs: [`${x}s`] },
    { op: 'Add', inputs: [`${x}c`, `${x}s`], outputs: [out] },
  ];
}

/** M rows of q/k/v at positions start … start+M−1 (decode: M = 1 at the context's end; prefill: M rows from 0). */
export function ropeAppendCase(M: number, start: number): BenchCase {
  const { Hq, Hkv, D, theta, page } = QKV;
  const W = (Hq + 2 * Hkv) * D, half = D / 2, maxPos = start + M;
  return {
    name: 'RoPE q/k + paged KV append (fused)',
    shape: `qkv[${M},${W}] at ${start} page ${page}`,
    setup: ({ ctx }) => {
      const qkv = rnd(M * W, 97, 2);
      const table = ropeTable(theta, D, maxPos);
      const pages = Math.ceil(maxPos / page);
      const tq = ctx.upload(qkv, 'f32', [M, W]), tt = ctx.upload(table, 'f32', [maxPos, D]);
      const bt = ctx.upload(Uint32Array.from({ length: pages }, (_, i) => i), 'u32', [1, pages]);
      const q = ctx.tensor('f32', [M, Hq, D]), pool = ctx.tensor('f32', [pages, 2, page, Hkv, D]);
      const step = ctx.createBuffer(16, UNIFORM, 'bench.step');
      ctx.write(step, 0, Uint32Array.of(start, 0, 0, 0));
      // cos/sin rows [M, 1, D] as HF builds them: the D/2 angles twice.
      const cos = new Float32Array(M * D), sin = new Float32Array(M * D);
      for (let m = 0; m < M; m++) for (let i = 0; i < D; i++) {
        cos[m * D + i] = table[(start + m) * D + (i % half)];
        sin[m * D + i] = table[(start + m) * D + half + (i % half)];
      }
      const model = graph({
        inputs: [{ name: 'qkv', ...f32([M, W]) }],
        outputs: [{ name: 'y', ...f32([M, W]) }],
        inits: [
          { name: 'split', ...i64(Hq * D, Hkv * D, Hkv * D) },
          { name: 'qshape', ...i64(M, Hq, D) }, { name: 'kshape', ...i64(M, Hkv, D) },
          { name: 'qflat', ...i64(M, Hq * D) }, { name: 'kflat', ...i64(M, Hkv * D) },
          { name: 'lo0', ...i64(0) }, { name: 'lo1', ...i64(half) }, { name: 'hi0', ...i64(half) }, { name: 'hi1', ...i64(D) },
          { name: 'last', ...i64(2) },
          { name: 'cos', ...f32([M, 1, D]), data: cos }, { name: 'sin', ...f32([M, 1, D]), data: sin },
        ],
        nodes: [
          { op: 'Split', inputs: ['qkv', 'split'], outputs: ['q0', 'k0', 'v'], attrs: { axis: 1 } },
          { op: 'Reshape', inputs: ['q0', 'qshape'], outputs: ['q'] },
          { op: 'Reshape', inputs: ['k0', 'kshape'], outputs: ['k'] },
          ...ropeNodes('q', 'qr'),
          ...ropeNodes('k', 'kr'),
          { op: 'Reshape', inputs: ['qr', 'qflat'], outputs: ['qf'] },
          { op: 'Reshape', inputs: ['kr', 'kflat'], outputs: ['kf'] },
          { op: 'Concat', inputs: ['qf', 'kf', 'v'], outputs: ['y'], attrs: { axis: 1 } },
        ],
      });
      return {
        records: [qkvAppend(ctx, { qkv: tq, table: tt, blockTable: bt, q, pool, step })],
        bytes: 4 * (2 * M * W + M * D),
        flops: 3 * M * (Hq + Hkv) * D,
        // Our rotated q; ORT's output holds it in the first Hq·D columns of each row (rotated K and V in the rest,
        // ours in `pool`): the parity test compares both.
        output: q,
        taps: { pool },
        ort: { model, feeds: { qkv: { type: 'float32', data: qkv, dims: [M, W] } }, note: 'ORT: Split, Reshape, (Slice, Slice, Neg, Concat, Mul, Mul, Add) × 2, Reshape, Concat; no cache write' },
        dispose: () => {
          [tq, tt, bt, q, pool].forEach((t) => t.buffer.destroy());
          step.destroy();
        },
      };
    },
  };
}
