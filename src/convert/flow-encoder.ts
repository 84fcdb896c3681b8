/**
 * flow_encoder.onnx: the part of CausalMaskedDiffWithDiT.inference before the CFM solver (spec §4.1).
 *   token [1, N] int64 (prompt tokens ++ new tokens), embedding [1, spk_embed_dim] f32, finalize bool [1]
 *   → mu [1, 80, ratio·N'] (N' = N if finalize else N − pre_lookahead_len), spks [1, 80]
 *
 * spks = Linear(e / max(‖e‖₂, 1e-12)); X = input_embedding[max(token, 0)]; PreLookaheadLayer: finalize pads
 * pre_lookahead_len zero frames on the right, otherwise the last pre_lookahead_len tokens are the right context
 * (and leave the residual); conv1 (k = len+1, no pad) → LeakyReLU(0.01) → left pad 2 → conv2 (k3) → + X; then
 * repeat_interleave ×token_mel_ratio. `cond`, the noise slice and the CFG batch are assembled by the caller.
 * Kept apart from flow.onnx because the estimator runs 10× per call and this part once.
 */
import { Graph } from '../onnx/graph.js';
import { Builder, type StoreDType } from '../onnx/builder.js';
import type { FlowConfig } from './config.js';
import type { Weights } from './weights.js';

export function flowEncoderKeys(): string[] {
  return ['input_embedding', 'spk_embed_affine_layer', 'pre_lookahead_layer.conv1', 'pre_lookahead_layer.conv2']
    .flatMap((p) => (p === 'input_embedding' ? [`${p}.weight`] : [`${p}.weight`, `${p}.bias`]));
}

export function checkFlowEncoderShapes(w: Weights, c: FlowConfig): void {
  w.expect('input_embedding.weight', [c.vocabSize, c.inputSize]);
  w.expect('spk_embed_affine_layer.weight', [c.outputSize, c.spkEmbedDim]);
  w.expect('pre_lookahead_layer.conv1.weight', [c.preLookaheadChannels, c.inputSize, c.preLookaheadLen + 1]);
  w.expect('pre_lookahead_layer.conv2.weight', [c.inputSize, c.preLookaheadChannels, 3]);
}

export function buildFlowEncoder(w: Weights, c: FlowConfig, dtype: StoreDType): Graph {
  const g = new Graph('cosyvoice3_flow_encoder');
  const b = new Builder(g, w, dtype === 'int8' ? 'fp32' : dtype);
  const token = g.input('token', 'int64', [1, 'n_tokens']);
  const emb = g.input('embedding', 'float', [1, c.spkEmbedDim]);
  const finalize = g.input('finalize', 'bool', [1]);
  const fin = b.cast(finalize, 'int64');
  const nfin = b.sub(b.i64([1]), fin);

  const norm = b.sqrt(b.reduceSum(b.mul(emb, emb), [1]));
  const spks = b.linear(b.div(emb, b.op('Max', [norm, b.f32(1e-12)])), 'spk_embed_affine_layer');
  g.output('spks', spks, 'float', [1, c.outputSize]);

  const X = b.transpose(b.gather(b.weight('input_embedding.weight'), b.op('Max', [token, b.i64(0)])), [0, 2, 1]); // [1,80,N]
  const L = c.preLookaheadLen;
  const xp = b.op('Pad', [X, b.concat([b.i64([0, 0, 0, 0, 0]), b.mul(fin, b.i64([L]))], 0)]);
  let y = b.conv1d(xp, b.weight('pre_lookahead_layer.conv1.weight'), b.weight('pre_lookahead_layer.conv1.bias'), {});
  y = b.leakyRelu(y, 0.01);
  y = b.conv1d(y, b.weight('pre_lookahead_layer.conv2.weight'), b.weight('pre_lookahead_layer.conv2.bias'), { pads: [2, 0] });
  const n = b.shape(X, 2, 3);
  const h = b.add(y, b.sliceDyn(X, b.i64([0]), b.sub(n, b.mul(nfin, b.i64([L]))), [2]));
  const r = c.tokenMelRatio;
  const shp = b.concat([b.shape(h), b.i64([r])], 0);
  const mu = b.reshape(b.op('Expand', [b.unsqueeze(h, [3]), shp]), [0, 0, -1]);
  g.output('mu', mu, 'float', [1, c.inputSize, 'frames']);
  return g;
}
