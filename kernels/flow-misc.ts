/**
 * Flow wrapper and DiT glue kernels (shaders/flow_misc.wgsl): PreLookahead convs (token embedding gather, look-ahead
 * conv + leaky ReLU, causal conv + residual, ×ratio repeat into channel-first mu), speaker projection, the DiT input
 * concat and the [B, C, T] output layout.
 */
import type { GpuContext } from '../src/gpu/context.js';
import { ceilDiv, packParams, type DispatchRecord } from '../src/gpu/dispatch.js';
import { ShapeMismatchError } from '../src/gpu/errors.js';
import { expectShape, type GpuTensor } from '../src/gpu/tensor.js';
import { dyn, flatGrid, sharedUniform, type DynRecord } from './flow-dims.js';

export interface PrelookArgs {
  dims: GPUBuffer;
  /** i32 [Nmax] token ids (prompt then generated) */
  tok: GpuTensor;
  /** [vocab, Cin] */
  emb: GpuTensor;
  /** conv1 [C1, Cin, KL], bias [C1] */
  w1: GpuTensor;
  b1: GpuTensor;
  /** conv2 [Cin, C1, K2], bias [Cin] */
  w2: GpuTensor;
  b2: GpuTensor;
  /** scratch [Nmax, C1] */
  y1: GpuTensor;
  /** out [Cin, Tmax], channel-first with live stride dims.T */
  mu: GpuTensor;
  /** frames per token */
  ratio: number;
}

/**
 * The two PreLookahead dispatches for `n` tokens in `tok` of which the first `nOut` produce frames (nOut = n when
 * finalizing, n − lookahead otherwise). Token counts vary per call, so these records are cheap to rebuild per call
 * (two bind groups) — they are planned per (n, nOut) and cached by the model.
 */
export function prelookahead(ctx: GpuContext, a: PrelookArgs, n: number, nOut: number, tag = ''): DispatchRecord[] {
  const [C1, Cin, KL] = a.w1.shape;
  expectShape(`prelookahead ${tag} w1`, a.w1, [C1, Cin, KL], ['f32']);
  expectShape(`prelookahead ${tag} emb`, a.emb, [-1, Cin], ['f32']);
  expectShape(`prelookahead ${tag} w2`, a.w2, [Cin, C1, -1], ['f32']);
  const K2 = a.w2.shape[2];
  expectShape(`prelookahead ${tag} b1`, a.b1, [C1], ['f32']);
  expectShape(`prelookahead ${tag} b2`, a.b2, [Cin], ['f32']);
  if (a.tok.dtype !== 'i32' || a.tok.numel < n) throw new ShapeMismatchError(`prelookahead ${tag}: tok must be i32 with ≥ ${n} ids`);
  if (nOut < 1 || nOut > n || a.y1.numel < nOut * C1) throw new ShapeMismatchError(`prelookahead ${tag}: ${nOut} output tokens of ${n} do not fit scratch [${a.y1.shape}]`);
  if (a.mu.shape[0] !== Cin || a.mu.shape[1] < nOut * a.ratio) throw new ShapeMismatchError(`prelookahead ${tag}: mu [${a.mu.shape}] cannot hold [${Cin}, ${nOut * a.ratio}]`);
  const p1 = sharedUniform(ctx, packParams([n, nOut, Cin, C1, KL]));
  const r1 = ctx.record({ shader: 'flow_misc', entry: 'prelook_conv1', defines: { PRELOOK1: true } },
    [null, p1, a.tok, a.emb, a.w1, a.b1, a.y1], flatGrid(ceilDiv(nOut * C1, 256)), `${tag}.conv1`);
  const p2 = sharedUniform(ctx, packParams([nOut, Cin, C1, K2, a.ratio]));
  const r2 = ctx.record({ shader: 'flow_misc', entry: 'prelook_conv2', defines: { PRELOOK2: true } },
    [a.dims, p2, a.tok, a.emb, a.w2, a.b2, a.y1, a.mu], flatGrid(ceilDiv(nOut * Cin, 256)), `${tag}.conv2`);
  return [r1, r2];
}

/** spks = Ws · e/max(‖e‖, 1e-12) + bs. e [E], Ws [S, E], bs [S], spks [S]. */
export function spkAffine(ctx: GpuContext, e: GpuTensor, ws: GpuTensor, bs: GpuTensor, spks: GpuTensor, tag = ''): DispatchRecord {
  const [S, E] = ws.shape;
  expectShape(`spkAffine ${tag} e`, e, [E], ['f32']);
  expectShape(`spkAffine ${tag} bs`, bs, [S], ['f32']);
  expectShape(`spkAffine ${tag} spks`, spks, [S], ['f32']);
  const p = sharedUniform(ctx, packParams([E, S]));
  return ctx.record({ shader: 'flow_misc', entry: 'spk_affine', defines: { SPK: true } }, [null, p, e, ws, bs, spks], [1, 1, 1], tag);
}

export interface PackArgs {
  dims: GPUBuffer;
  /** CFG: x [mel, Tmax], cond [mel, Tmax], mu [muC, Tmax], spks [S]. Batched: x/cond [B, mel, Tmax]-sized buffers etc. */
  x: GpuTensor;
  cond: GpuTensor;
  mu: GpuTensor;
  spks: GpuTensor;
  /** [Mmax, 2·mel + muC + S] */
  out: GpuTensor;
  mel: number;
  muC: number;
  spkC: number;
  /** true: single conditional inputs, zeros for the unconditional half. */
  cfg: boolean;
}

export function packInput(ctx: GpuContext, a: PackArgs, tag = ''): DynRecord {
  const Cin = 2 * a.mel + a.muC + a.spkC;
  expectShape(`packInput ${tag} out`, a.out, [-1, Cin], ['f32']);
  const p = sharedUniform(ctx, packParams([a.mel, a.muC, a.spkC, Cin]));
  const rec = ctx.record({ shader: 'flow_misc', entry: 'pack_input', defines: { PACK: true, CFG: a.cfg } },
    [a.dims, p, a.x, a.cond, a.mu, a.spks, a.out], [1, 1, 1], tag);
  return dyn(rec, (T, B) => flatGrid(ceilDiv(T * B * Cin, 256)));
}

/** out [B, C, T] (live, contiguous) from rows v [B·T, C]. */
export function toChannels(ctx: GpuContext, dims: GPUBuffer, v: GpuTensor, out: GpuTensor, tag = ''): DynRecord {
  const C = v.shape[1];
  if (out.numel < v.numel) throw new ShapeMismatchError(`toChannels ${tag}: out [${out.shape}] smaller than v [${v.shape}]`);
  const p = sharedUniform(ctx, packParams([C]));
  const rec = ctx.record({ shader: 'flow_misc', entry: 'to_channels', defines: { TOCH: true } }, [dims, p, v, out], [1, 1, 1], tag);
  return dyn(rec, (T, B) => flatGrid(ceilDiv(T * B * C, 256)));
}
