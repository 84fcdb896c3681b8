/**
 * Test-only float64 CPU reference of the tiny CosyVoice3 LLM (Qwen2 body + speech_embedding + llm_decoder),
 * a straight-line full-sequence forward without a KV cache, so the sampling tests can run the whole official
 * decode loop (greedy and ras_sampling) on the CPU without a GPU. Spec §3.2: RMSNorm eps from config, biases on
 * q/k/v only, GQA, half-split RoPE θ from config, SiLU MLP, state read after the final norm.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadPt, toFloat32 } from '../../loader/node.js';
import { TINY_DIR } from '../helpers/fixtures.js';

export interface TinyLm {
  /** Logits [S+200] for the last position of the embedded sequence. */
  lastLogits(inputs: Float64Array[]): Float32Array;
  textEmbedding(id: number): Float64Array;
  speechEmbedding(id: number): Float64Array;
  hidden: number;
}

/**
 * `matrices` maps each projection and head weight [N, K] (not the norms or tables) before use: e.g. to the
 * values a quantised engine holds.
 */
export async function loadTinyLm(dir = TINY_DIR, matrices?: (w: Float32Array, N: number, K: number) => Float32Array): Promise<TinyLm> {
  const cfg = JSON.parse(readFileSync(join(dir, 'CosyVoice-BlankEN', 'config.json'), 'utf8'));
  const store = await loadPt(join(dir, 'llm.pt'));
  const W = (k: string) => {
    const t = store.get(k);
    if (!t) throw new Error(`llm.pt: missing ${k}`);
    const f = toFloat32(t);
    const m = matrices && t.dims.length === 2 && !k.includes('embed') ? matrices(f, t.dims[0], t.dims[1]) : f;
    return { data: Float64Array.from(m), dims: t.dims };
  };
  const D: number = cfg.hidden_size;
  const H: number = cfg.num_attention_heads;
  const KV: number = cfg.num_key_value_heads;
  const hd = D / H;
  const eps: number = cfg.rms_norm_eps;
  const theta: number = cfg.rope_theta;
  const L: number = cfg.num_hidden_layers;
  const p = 'llm.model.model.';
  const layers = Array.from({ length: L }, (_, l) => {
    const q = `${p}layers.${l}.`;
    return {
      ln1: W(`${q}input_layernorm.weight`).data,
      ln2: W(`${q}post_attention_layernorm.weight`).data,
      wq: W(`${q}self_attn.q_proj.weight`).data, bq: W(`${q}self_attn.q_proj.bias`).data,
      wk: W(`${q}self_attn.k_proj.weight`).data, bk: W(`${q}self_attn.k_proj.bias`).data,
      wv: W(`${q}self_attn.v_proj.weight`).data, bv: W(`${q}self_attn.v_proj.bias`).data,
      wo: W(`${q}self_attn.o_proj.weight`).data,
      wg: W(`${q}mlp.gate_proj.weight`), wu: W(`${q}mlp.up_proj.weight`).data, wd: W(`${q}mlp.down_proj.weight`).data,
    };
  });
  const normF = W(`${p}norm.weight`).data;
  const embed = W(`${p}embed_tokens.weight`).data;
  const speech = W('speech_embedding.weight').data;
  const dec = W('llm_decoder.weight');
  const F = layers[0].wg.dims[0];
  const V = dec.dims[0];

  const linear = (x: Float64Array, w: Float64Array, out: number, bias?: Float64Array) => {
    const n = x.length;
    const y = new Float64Array(out);
    for (let o = 0; o < out; o++) {
      let s = bias ? bias[o] : 0;
      for (let i = 0; i < n; i++) s += w[o * n + i] * x[i];
      y[o] = s;
    }
    return y;
  };
  const rms = (x: Float64Array, w: Float64Array) => {
    let ss = 0;
    for (const v of x) ss += v * v;
    const r = 1 / Math.sqrt(ss / x.length + eps);
    return x.map((v, i) => w[i] * v * r);
  };
  const rope = (v: Float64Array, pos: number, heads: number) => {
    const half = hd / 2;
    for (let h = 0; h < heads; h++) {
      for (let i = 0; i < half; i++) {
        const a = pos / Math.pow(theta, (2 * i) / hd);
        const c = Math.cos(a), s = Math.sin(a);
        const x1 = v[h * hd + i], x2 = v[h * hd + i + half];
        v[h * hd + i] = x1 * c - x2 * s;
        v[h * hd + i + half] = x2 * c + x1 * s;
      }
    }
  };

  function lastLogits(inputs: Float64Array[]): Float32Array {
    let xs = inputs.map((x) => x.slice());
    for (const ly of layers) {
      const hs = xs.map((x) => rms(x, ly.ln1));
      const qs = hs.map((h, t) => { const q = linear(h, ly.wq, D, ly.bq); rope(q, t, H); return q; });
      const ks = hs.map((h, t) => { const k = linear(h, ly.wk, KV * hd, ly.bk); rope(k, t, KV); return k; });
      const vs = hs.map((h) => linear(h, ly.wv, KV * hd, ly.bv));
      xs = xs.map((x, t) => {
        const att = new Float64Array(D);
        for (let h = 0; h < H; h++) {
          const g = Math.floor(h / (H / KV));
          const sc = new Float64Array(t + 1);
          let m = -Infinity;
          for (let u = 0; u <= t; u++) {
            let s = 0;
            for (let i = 0; i < hd; i++) s += qs[t][h * hd + i] * ks[u][g * hd + i];
            sc[u] = s / Math.sqrt(hd);
            m = Math.max(m, sc[u]);
          }
          let z = 0;
          for (let u = 0; u <= t; u++) z += (sc[u] = Math.exp(sc[u] - m));
          for (let u = 0; u <= t; u++) for (let i = 0; i < hd; i++) att[h * hd + i] += (sc[u] / z) * vs[u][g * hd + i];
        }
        const o = linear(att, ly.wo, D);
        const x1 = x.map((v, i) => v + o[i]);
        const h2 = rms(x1, ly.ln2);
        const gt = linear(h2, ly.wg.data, F), up = linear(h2, ly.wu, F);
        const act = gt.map((v, i) => (v / (1 + Math.exp(-v))) * up[i]);
        const d = linear(act, ly.wd, D);
        return x1.map((v, i) => v + d[i]);
      });
    }
    const hLast = rms(xs[xs.length - 1], normF);
    return Float32Array.from(linear(hLast, dec.data, V));
  }

  return {
    lastLogits,
    textEmbedding: (id) => embed.slice(id * D, (id + 1) * D),
    speechEmbedding: (id) => speech.slice(id * D, (id + 1) * D),
    hidden: D,
  };
}
