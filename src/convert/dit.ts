/**
 * flow.onnx: the DiT estimator (`decoder.estimator.*` of flow.pt) with upstream's interface
 *   x, mask, mu, cond [B, 80, T], t [B], spks [B, 80]  →  estimator_out [B, 80, T]
 * plus one extra input `streaming` (bool [1]; not an overridable initializer with a default, because
 * onnxruntime-node hides those from its inputs and drops their feeds): true applies the static chunk mask (key j visible to query i iff
 * j < (⌊i/C⌋+1)·C, C = static_chunk_size), as `DiT.forward(streaming=True)`; upstream's export has no such input.
 * Batch is symbolic (upstream's export fixes it at 2); CFG runs as a batch of 2.
 *
 * Math (spec §4.3): sinusoidal time embedding (256, scale 1000, [sin, cos]) → MLP(SiLU); input proj of
 * cat(x, cond, mu, spks); causal grouped conv position embedding (left pad k−1, Mish, twice, residual); blocks of
 * AdaLN-zero (shift, scale, gate ×2), attention with interleaved RoPE on channels [0, dim_head) of q/k before the
 * head split, output re-masked by the padding mask, tanh-GELU FF; final AdaLN (scale, shift); proj_out.
 * Internally [B, T, C]. SDPA is written as (q·√s)(kᵀ·√s) like PyTorch 2.x's math path.
 */
import { Graph } from '../onnx/graph.js';
import { Builder, type StoreDType } from '../onnx/builder.js';
import type { FlowConfig } from './config.js';
import type { Weights } from './weights.js';

const P = 'decoder.estimator';

export function ditKeys(cfg: FlowConfig): string[] {
  const k = [`${P}.time_embed.time_mlp.0`, `${P}.time_embed.time_mlp.2`, `${P}.input_embed.proj`,
    `${P}.input_embed.conv_pos_embed.conv1.0`, `${P}.input_embed.conv_pos_embed.conv2.0`, `${P}.norm_out.linear`, `${P}.proj_out`];
  for (let i = 0; i < cfg.dit.depth; i++) {
    const b = `${P}.transformer_blocks.${i}`;
    k.push(`${b}.attn_norm.linear`, `${b}.attn.to_q`, `${b}.attn.to_k`, `${b}.attn.to_v`, `${b}.attn.to_out.0`, `${b}.ff.ff.0.0`, `${b}.ff.ff.2`);
  }
  return [...k.flatMap((x) => [`${x}.weight`, `${x}.bias`]), `${P}.rotary_embed.inv_freq`];
}

export function checkDitShapes(w: Weights, cfg: FlowConfig): void {
  const d = cfg.dit, inner = d.heads * d.dimHead;
  const inDim = d.melDim * 2 + d.muDim + d.spkDim;
  w.expect(`${P}.time_embed.time_mlp.0.weight`, [d.dim, d.timeFreqDim]);
  w.expect(`${P}.input_embed.proj.weight`, [d.dim, inDim]);
  w.expect(`${P}.rotary_embed.inv_freq`, [d.dimHead / 2]);
  w.expect(`${P}.proj_out.weight`, [d.outChannels, d.dim]);
  for (let i = 0; i < d.depth; i++) {
    const b = `${P}.transformer_blocks.${i}`;
    w.expect(`${b}.attn_norm.linear.weight`, [6 * d.dim, d.dim]);
    w.expect(`${b}.attn.to_q.weight`, [inner, d.dim]);
    w.expect(`${b}.ff.ff.0.0.weight`, [d.dim * d.ffMult, d.dim]);
  }
}

export function buildDit(w: Weights, cfg: FlowConfig, dtype: StoreDType): Graph {
  const d = cfg.dit;
  const g = new Graph('cosyvoice3_dit_estimator');
  const b = new Builder(g, w, dtype);
  const x = g.input('x', 'float', ['batch', d.melDim, 'seq_len']);
  const mask = g.input('mask', 'float', ['batch', 1, 'seq_len']);
  const mu = g.input('mu', 'float', ['batch', d.muDim, 'seq_len']);
  const t = g.input('t', 'float', ['batch']);
  const spks = g.input('spks', 'float', ['batch', d.spkDim]);
  const cond = g.input('cond', 'float', ['batch', d.melDim, 'seq_len']);
  const streaming = g.input('streaming', 'bool', [1]);

  // time embedding: (1000·t)·f_i, f_i = exp(−i·ln(1e4)/(half−1)) (f32 table, as torch builds it)
  const half = d.timeFreqDim / 2;
  const step = Math.fround(Math.log(10000) / (half - 1));
  const freqs = new Float32Array(half).map((_, i) => Math.exp(Math.fround(i * -step)));
  const arg = b.mul(b.unsqueeze(b.mul(t, b.f32(1000)), [1]), b.table(`${P}.time_embed.freqs`, freqs, [1, half]));
  const temb = g.scope('time_embed', () => {
    const e = b.concat([b.sin(arg), b.cos(arg)], -1);
    return b.linear(b.silu(b.linear(e, `${P}.time_embed.time_mlp.0`)), `${P}.time_embed.time_mlp.2`);
  });
  const tact = b.silu(temb);

  // input embedding
  const xt = b.transpose(x, [0, 2, 1]);
  const T = b.shape(xt, 1, 2); // [1] int64
  const spkT = b.op('Expand', [b.unsqueeze(spks, [1]), b.concat([b.shape(xt, 0, 1), T, b.i64([d.spkDim])], 0)]);
  const cat = b.concat([xt, b.transpose(cond, [0, 2, 1]), b.transpose(mu, [0, 2, 1]), spkT], -1);
  let h = b.linear(cat, `${P}.input_embed.proj`);
  h = g.scope('conv_pos_embed', () => {
    let c = b.transpose(h, [0, 2, 1]);
    for (const n of ['conv1', 'conv2']) {
      const wt = w.get(`${P}.input_embed.conv_pos_embed.${n}.0.weight`);
      const k = wt.dims[2];
      c = b.conv1d(c, b.weight(`${P}.input_embed.conv_pos_embed.${n}.0.weight`), b.weight(`${P}.input_embed.conv_pos_embed.${n}.0.bias`),
        { group: d.dim / wt.dims[1], kernel_shape: [k], pads: [k - 1, 0] });
      c = b.mul(c, b.tanh(b.op('Softplus', [c]))); // Mish
    }
    return b.add(b.transpose(c, [0, 2, 1]), h);
  });

  // rotary table [T, dim_head]: φ(p, i) = p·inv_freq_i, interleave-duplicated
  const pos = b.cast(b.op('Range', [b.i64(0), b.squeeze(T, [0]), b.i64(1)]), 'float');
  const phi = b.mul(b.unsqueeze(pos, [1]), b.unsqueeze(b.weight(`${P}.rotary_embed.inv_freq`), [0]));
  const phi2 = b.reshape(b.concat([b.unsqueeze(phi, [2]), b.unsqueeze(phi, [2])], 2), [-1, d.dimHead]);
  const cosT = b.cos(phi2), sinT = b.sin(phi2);
  const rope = (q: string) => {
    const [r, pass] = b.split(q, [d.dimHead, d.heads * d.dimHead - d.dimHead], -1);
    const [a0, a1] = b.split(b.reshape(r, [0, 0, d.dimHead / 2, 2]), [1, 1], -1);
    const rot = b.reshape(b.concat([b.neg(a1), a0], -1), [0, 0, d.dimHead]);
    return b.concat([b.add(b.mul(r, cosT), b.mul(rot, sinT)), pass], -1);
  };

  // masks: additive [B, 1, T, T] (0 / −inf) and the output re-mask [B, T, 1]
  const pad = b.cast(b.squeeze(mask, [1]), 'bool'); // [B, T]
  const posI = b.op('Range', [b.i64(0), b.squeeze(T, [0]), b.i64(1)]);
  const C = d.staticChunkSize;
  const block = b.mul(b.add(b.div(posI, b.i64(C)), b.i64(1)), b.i64(C));
  const chunk = b.op('Less', [b.unsqueeze(posI, [0]), b.unsqueeze(block, [1])]); // [T, T]
  const allowed = b.op('Or', [chunk, b.op('Not', [streaming])]);
  const full = b.op('And', [b.unsqueeze(allowed, [0, 1]), b.unsqueeze(pad, [1, 2])]);
  const addMask = b.where(full, b.f32(0), b.f32(-Infinity));
  const outMask = b.transpose(mask, [0, 2, 1]);
  const sq = Math.fround(Math.sqrt(1 / Math.sqrt(d.dimHead)));

  for (let i = 0; i < d.depth; i++) {
    const p = `${P}.transformer_blocks.${i}`;
    h = g.scope(`block${i}`, () => {
      const mod = b.unsqueeze(b.linear(tact, `${p}.attn_norm.linear`), [1]);
      const [s1, c1, g1, s2, c2, g2] = b.split(mod, new Array(6).fill(d.dim), -1);
      const n1 = b.add(b.mul(b.layerNormNoAffine(h, d.dim, 1e-6), b.add(c1, b.f32(1))), s1);
      const q = rope(b.linear(n1, `${p}.attn.to_q`));
      const k = rope(b.linear(n1, `${p}.attn.to_k`));
      const v = b.linear(n1, `${p}.attn.to_v`);
      const qh = b.mul(b.transpose(b.reshape(q, [0, 0, d.heads, d.dimHead]), [0, 2, 1, 3]), b.f32(sq));
      const kh = b.mul(b.transpose(b.reshape(k, [0, 0, d.heads, d.dimHead]), [0, 2, 3, 1]), b.f32(sq));
      const vh = b.transpose(b.reshape(v, [0, 0, d.heads, d.dimHead]), [0, 2, 1, 3]);
      const att = b.softmax(b.add(b.matmul(qh, kh), addMask), -1);
      const o = b.reshape(b.transpose(b.matmul(att, vh), [0, 2, 1, 3]), [0, 0, d.heads * d.dimHead]);
      const ao = b.mul(b.linear(o, `${p}.attn.to_out.0`), outMask);
      const h1 = b.add(h, b.mul(g1, ao));
      const n2 = b.add(b.mul(b.layerNormNoAffine(h1, d.dim, 1e-6), b.add(c2, b.f32(1))), s2);
      const f = b.linear(gelu(b, b.linear(n2, `${p}.ff.ff.0.0`)), `${p}.ff.ff.2`);
      return b.add(h1, b.mul(g2, f));
    });
  }
  const out = g.scope('norm_out', () => {
    const [sc, sh] = b.split(b.unsqueeze(b.linear(tact, `${P}.norm_out.linear`), [1]), [d.dim, d.dim], -1);
    const n = b.add(b.mul(b.layerNormNoAffine(h, d.dim, 1e-6), b.add(sc, b.f32(1))), sh);
    return b.transpose(b.linear(n, `${P}.proj_out`), [0, 2, 1]);
  });
  g.output('estimator_out', out, 'float', ['batch', d.outChannels, 'seq_len']);
  return g;
}

/** GELU, tanh approximation: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). */
export function gelu(b: Builder, x: string): string {
  const x3 = b.mul(b.mul(x, x), x);
  const inner = b.mul(b.add(x, b.mul(x3, b.f32(0.044715))), b.f32(Math.sqrt(2 / Math.PI)));
  return b.mul(b.mul(x, b.f32(0.5)), b.add(b.tanh(inner), b.f32(1)));
}
