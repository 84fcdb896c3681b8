/**
 * llm.onnx: one Qwen2 prefill/decode step of CosyVoice3LM plus the speech head.
 *   inputs_embeds [1, T, H] f32, past_key_i / past_value_i [1, kvH, P, D] f32 (P may be 0)
 *   → logits [1, T, S+200] (llm_decoder, no bias), hidden [1, T, H] (after the final RMSNorm, what CosyVoice reads),
 *     present_key_i / present_value_i [1, kvH, P+T, D].
 * Positions are P..P+T−1 and attention is causal over past+new: batch 1 never has padding, so no attention_mask or
 * position input is needed (both are derived from P = past length).
 *
 * llm_embed.onnx (design choice): the two embedding tables live in a separate small graph,
 *   text_ids [N] int64 → text_embeds [N, H] (Qwen embed_tokens), speech_ids [M] int64 → speech_embeds [M, H],
 * so the step graph stays table-free and the caller assembles [sos, text, task_id, prompt speech] itself (empty id
 * lists are fine). lm_head is tied to embed_tokens and never used by CosyVoice: it is not exported.
 *
 * GQA without copying K/V: q is viewed as [1, kvH, g, T, D] against k/v [1, kvH, 1, S, D] (broadcast MatMul).
 * RMSNorm is Pow → ReduceMean → Add(eps) → Sqrt → Div → Mul(w), the pattern ORT fuses.
 */
import { Graph } from '../onnx/graph.js';
import { Builder, type StoreDType } from '../onnx/builder.js';
import type { LlmConfig } from './config.js';
import type { Weights } from './weights.js';

const Q = 'llm.model.model';

export function llmKeys(c: LlmConfig): string[] {
  const k = [`${Q}.embed_tokens.weight`, `${Q}.norm.weight`, 'llm_decoder.weight', 'speech_embedding.weight'];
  for (let i = 0; i < c.layers; i++) {
    const p = `${Q}.layers.${i}`;
    for (const n of ['q_proj', 'k_proj', 'v_proj']) k.push(`${p}.self_attn.${n}.weight`, `${p}.self_attn.${n}.bias`);
    k.push(`${p}.self_attn.o_proj.weight`, `${p}.mlp.gate_proj.weight`, `${p}.mlp.up_proj.weight`, `${p}.mlp.down_proj.weight`,
      `${p}.input_layernorm.weight`, `${p}.post_attention_layernorm.weight`);
  }
  return k;
}

export function checkLlmShapes(w: Weights, c: LlmConfig): void {
  w.expect(`${Q}.embed_tokens.weight`, [c.textVocab, c.hidden]);
  w.expect('llm_decoder.weight', [c.headSize, c.hidden]);
  w.expect('speech_embedding.weight', [c.headSize, c.hidden]);
  for (let i = 0; i < c.layers; i++) {
    const p = `${Q}.layers.${i}`;
    w.expect(`${p}.self_attn.q_proj.weight`, [c.heads * c.headDim, c.hidden]);
    w.expect(`${p}.self_attn.k_proj.weight`, [c.kvHeads * c.headDim, c.hidden]);
    w.expect(`${p}.mlp.gate_proj.weight`, [c.intermediate, c.hidden]);
  }
}

function rmsNorm(b: Builder, x: string, w: string, eps: number): string {
  const v = b.reduceMean(b.op('Pow', [x, b.f32(2)]), [-1]);
  return b.mul(b.weight(w), b.div(x, b.sqrt(b.add(v, b.f32(eps)))));
}

export function buildLlm(w: Weights, c: LlmConfig, dtype: StoreDType): Graph {
  const g = new Graph('cosyvoice3_llm_step');
  const b = new Builder(g, w, dtype);
  const { heads: H, kvHeads: KV, headDim: D } = c;
  const grp = H / KV;
  let x = g.input('inputs_embeds', 'float', [1, 'seq_len', c.hidden]);
  const pasts: [string, string][] = [];
  for (let i = 0; i < c.layers; i++) {
    pasts.push([g.input(`past_key_${i}`, 'float', [1, KV, 'past_len', D]), g.input(`past_value_${i}`, 'float', [1, KV, 'past_len', D])]);
  }
  // positions P..P+T−1, RoPE (rotate_half layout): cos/sin [T, D] = [cos φ, cos φ] with φ = p·inv_freq (f32)
  const Pn = b.squeeze(b.shape(pasts[0][0], 2, 3), [0]);
  const Tn = b.squeeze(b.shape(x, 1, 2), [0]);
  const S = b.add(Pn, Tn);
  const qpos = b.op('Range', [Pn, S, b.i64(1)]);
  const kpos = b.op('Range', [b.i64(0), S, b.i64(1)]);
  const invFreq = new Float32Array(D / 2).map((_, i) => 1 / Math.fround(Math.pow(c.ropeTheta, Math.fround((2 * i) / D))));
  const phi = b.mul(b.unsqueeze(b.cast(qpos, 'float'), [1]), b.table('rope.inv_freq', invFreq, [1, D / 2]));
  const phi2 = b.concat([phi, phi], -1);
  const cosT = b.cos(phi2), sinT = b.sin(phi2);
  const rope = (t: string) => {
    const [a, z] = b.split(t, [D / 2, D / 2], -1);
    return b.add(b.mul(t, cosT), b.mul(b.concat([b.neg(z), a], -1), sinT));
  };
  // causal additive mask [T, S]: key j visible to query at absolute position p iff j ≤ p
  const mask = b.where(b.op('Greater', [b.unsqueeze(kpos, [0]), b.unsqueeze(qpos, [1])]), b.f32(-Infinity), b.f32(0));
  const scale = b.f32(1 / Math.sqrt(D));

  for (let i = 0; i < c.layers; i++) {
    const p = `${Q}.layers.${i}`;
    x = g.scope(`layer${i}`, () => {
      const n = rmsNorm(b, x, `${p}.input_layernorm.weight`, c.rmsEps);
      // q: [1,T,H·D] → [1,T,KV,g,D] → [1,KV,g,T,D]; k/v: [1,T,KV·D] → [1,KV,T,D]
      const q = rope(b.transpose(b.reshape(b.linear(n, `${p}.self_attn.q_proj`), [1, -1, KV, grp, D]), [0, 2, 3, 1, 4]));
      const k = rope(b.transpose(b.reshape(b.linear(n, `${p}.self_attn.k_proj`), [1, -1, KV, D]), [0, 2, 1, 3]));
      const v = b.transpose(b.reshape(b.linear(n, `${p}.self_attn.v_proj`), [1, -1, KV, D]), [0, 2, 1, 3]);
      const kAll = b.concat([pasts[i][0], k], 2);
      const vAll = b.concat([pasts[i][1], v], 2);
      g.output(`present_key_${i}`, kAll, 'float', [1, KV, 'total_len', D]);
      g.output(`present_value_${i}`, vAll, 'float', [1, KV, 'total_len', D]);
      const kT = b.transpose(b.unsqueeze(kAll, [2]), [0, 1, 2, 4, 3]); // [1,KV,1,D,S]
      const sc = b.add(b.mul(b.matmul(q, kT), scale), mask); // [1,KV,g,T,S]
      const o = b.matmul(b.softmax(sc, -1), b.unsqueeze(vAll, [2])); // [1,KV,g,T,D]
      const oc = b.reshape(b.transpose(o, [0, 3, 1, 2, 4]), [1, -1, H * D]);
      const h = b.add(x, b.linear(oc, `${p}.self_attn.o_proj`, false));
      const n2 = rmsNorm(b, h, `${p}.post_attention_layernorm.weight`, c.rmsEps);
      const gate = b.silu(b.linear(n2, `${p}.mlp.gate_proj`, false));
      const mlp = b.linear(b.mul(gate, b.linear(n2, `${p}.mlp.up_proj`, false)), `${p}.mlp.down_proj`, false);
      return b.add(h, mlp);
    });
  }
  const hidden = rmsNorm(b, x, `${Q}.norm.weight`, c.rmsEps);
  g.output('hidden', hidden, 'float', [1, 'seq_len', c.hidden]);
  g.output('logits', b.linear(hidden, 'llm_decoder', false), 'float', [1, 'seq_len', c.headSize]);
  return g;
}

export function buildLlmEmbed(w: Weights, c: LlmConfig, dtype: StoreDType): Graph {
  const g = new Graph('cosyvoice3_llm_embed');
  const b = new Builder(g, w, dtype === 'int8' ? 'fp16' : dtype); // tables are gathered, not multiplied: fp16 under int8
  const t = g.input('text_ids', 'int64', ['n_text']);
  const s = g.input('speech_ids', 'int64', ['n_speech']);
  g.output('text_embeds', b.gather(b.weight(`${Q}.embed_tokens.weight`), t), 'float', ['n_text', c.hidden]);
  g.output('speech_embeds', b.gather(b.weight('speech_embedding.weight'), s), 'float', ['n_speech', c.hidden]);
  return g;
}
