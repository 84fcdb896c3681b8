/**
 * The built-in synthetic model: the real CosyVoice3 architecture at a chosen size with seeded random weights,
 * laid out exactly like an official model folder (state dicts under upstream names, hyperpyyaml text, Qwen2
 * config), so that a fresh machine can run and benchmark the whole pipeline. IT DOES NOT SPEAK: the weights are
 * noise, and so is the audio.
 *
 * Sizes: `tiny` = the dims of ../shared/fixtures/tiny-cosyvoice3; `full` = Fun-CosyVoice3-0.5B (spec §3.1, §4.5,
 * §5.9: 293 / 330 / 328 keys). Values are scaled (≈ N(0, 1/fan_in), norms 1, weight-norm g = ‖v‖) so activations
 * stay finite through every layer.
 */
import type { TensorRecord, TensorStore } from '../../loader/index.js';

export interface SyntheticDims {
  llm: { hidden: number; layers: number; heads: number; kvHeads: number; intermediate: number; textVocab: number; speechTokens: number };
  dit: { dim: number; depth: number; heads: number; dimHead: number; ffMult: number };
  preLookaheadChannels: number;
  hiftBase: number;
  f0Cond: number;
}

export const SYNTHETIC_SIZES: Record<'tiny' | 'full', SyntheticDims> = {
  tiny: {
    llm: { hidden: 64, layers: 2, heads: 4, kvHeads: 2, intermediate: 160, textVocab: 200, speechTokens: 100 },
    dit: { dim: 64, depth: 2, heads: 4, dimHead: 16, ffMult: 2 },
    preLookaheadChannels: 64,
    hiftBase: 32,
    f0Cond: 32,
  },
  full: {
    llm: { hidden: 896, layers: 24, heads: 14, kvHeads: 2, intermediate: 4864, textVocab: 151936, speechTokens: 6561 },
    dit: { dim: 1024, depth: 22, heads: 16, dimHead: 64, ffMult: 2 },
    preLookaheadChannels: 1024,
    hiftBase: 512,
    f0Cond: 512,
  },
};

/** xorshift128+ → approximately normal values (sum of 4 uniforms, rescaled): fast and good enough for noise. */
class Noise {
  private s0: number;
  private s1: number;
  constructor(seed: number) {
    this.s0 = (seed ^ 0x9e3779b9) >>> 0 || 1;
    this.s1 = (Math.imul(seed, 0x85ebca6b) ^ 0xc2b2ae35) >>> 0 || 2;
  }
  private u32(): number {
    let x = this.s0;
    const y = this.s1;
    this.s0 = y;
    x ^= x << 23;
    x ^= x >>> 17;
    x ^= y ^ (y >>> 26);
    this.s1 = x >>> 0;
    return (this.s0 + this.s1) >>> 0;
  }
  fill(a: Float32Array, std: number, mean = 0): void {
    // Sum of 4 U(0,1) has variance 1/3: (Σ − 2)·√3 has unit variance.
    const k = std * Math.sqrt(3) / 4294967296;
    for (let i = 0; i < a.length; i++) a[i] = mean + (this.u32() + this.u32() + this.u32() + this.u32() - 2 * 4294967296) * k;
  }
}

type Spec = [name: string, dims: number[], init: 'w' | 'b' | 'one' | 'emb' | 'g' | 'alpha' | 'invfreq'];

function store(specs: Spec[], seed: number, file: string): TensorStore {
  const noise = new Noise(seed);
  const out: TensorStore = new Map();
  const byName = new Map<string, Float32Array>();
  for (const [name, dims, init] of specs) {
    const n = dims.reduce((a, b) => a * b, 1);
    const a = new Float32Array(n);
    const fanIn = dims.length > 1 ? n / dims[0] : dims[0];
    if (init === 'w') noise.fill(a, 1 / Math.sqrt(fanIn));
    else if (init === 'b') noise.fill(a, 0.02);
    else if (init === 'emb') noise.fill(a, 1);
    else if (init === 'one' || init === 'alpha') a.fill(1);
    else if (init === 'invfreq') for (let i = 0; i < n; i++) a[i] = 10000 ** (-(2 * i) / (2 * n));
    else if (init === 'g') {
      // Weight norm g = ‖v‖ per output channel, so the folded weight equals v (the v tensor precedes g here).
      const v = byName.get(name.replace(/original0$/, 'original1'))!;
      const per = v.length / dims[0];
      for (let o = 0; o < dims[0]; o++) {
        let s = 0;
        for (let i = 0; i < per; i++) s += v[o * per + i] ** 2;
        a[o] = Math.sqrt(s);
      }
    }
    byName.set(name, a);
    const rec: TensorRecord = { name, dtype: 'float32', dims, bytes: new Uint8Array(a.buffer) };
    out.set(name, rec);
  }
  void file;
  return out;
}

/**
 * Random head rows make a stop id (≥ S, 200 of them) likely at every step, so synthetic runs would end at once:
 * the stop rows are scaled down (their logits stay near 0, below the top-k of the speech rows), and decoding runs
 * to max_len or a forced length instead.
 */
function quietStopRows(llm: TensorStore, S: number): void {
  const head = llm.get('llm_decoder.weight')!;
  const w = new Float32Array(head.bytes.buffer, head.bytes.byteOffset, head.bytes.byteLength / 4);
  const d = head.dims[1];
  for (let i = S * d; i < w.length; i++) w[i] *= 0.05;
}

function llmSpecs(d: SyntheticDims['llm']): Spec[] {
  const hd = d.hidden / d.heads;
  const kv = d.kvHeads * hd;
  const s: Spec[] = [['llm.model.model.embed_tokens.weight', [d.textVocab, d.hidden], 'emb']];
  for (let l = 0; l < d.layers; l++) {
    const p = `llm.model.model.layers.${l}`;
    s.push(
      [`${p}.self_attn.q_proj.weight`, [d.hidden, d.hidden], 'w'], [`${p}.self_attn.q_proj.bias`, [d.hidden], 'b'],
      [`${p}.self_attn.k_proj.weight`, [kv, d.hidden], 'w'], [`${p}.self_attn.k_proj.bias`, [kv], 'b'],
      [`${p}.self_attn.v_proj.weight`, [kv, d.hidden], 'w'], [`${p}.self_attn.v_proj.bias`, [kv], 'b'],
      [`${p}.self_attn.o_proj.weight`, [d.hidden, d.hidden], 'w'],
      [`${p}.mlp.gate_proj.weight`, [d.intermediate, d.hidden], 'w'], [`${p}.mlp.up_proj.weight`, [d.intermediate, d.hidden], 'w'],
      [`${p}.mlp.down_proj.weight`, [d.hidden, d.intermediate], 'w'],
      [`${p}.input_layernorm.weight`, [d.hidden], 'one'], [`${p}.post_attention_layernorm.weight`, [d.hidden], 'one'],
    );
  }
  s.push(
    ['llm.model.model.norm.weight', [d.hidden], 'one'],
    ['llm_decoder.weight', [d.speechTokens + 200, d.hidden], 'w'],
    ['speech_embedding.weight', [d.speechTokens + 200, d.hidden], 'emb'],
  );
  return s;
}

function flowSpecs(d: SyntheticDims): Spec[] {
  const { dim, depth, heads, dimHead, ffMult } = d.dit;
  const inner = heads * dimHead;
  const e = 'decoder.estimator';
  const s: Spec[] = [
    ['input_embedding.weight', [d.llm.speechTokens, 80], 'emb'],
    ['spk_embed_affine_layer.weight', [80, 192], 'w'], ['spk_embed_affine_layer.bias', [80], 'b'],
    ['pre_lookahead_layer.conv1.weight', [d.preLookaheadChannels, 80, 4], 'w'], ['pre_lookahead_layer.conv1.bias', [d.preLookaheadChannels], 'b'],
    ['pre_lookahead_layer.conv2.weight', [80, d.preLookaheadChannels, 3], 'w'], ['pre_lookahead_layer.conv2.bias', [80], 'b'],
    [`${e}.time_embed.time_mlp.0.weight`, [dim, 256], 'w'], [`${e}.time_embed.time_mlp.0.bias`, [dim], 'b'],
    [`${e}.time_embed.time_mlp.2.weight`, [dim, dim], 'w'], [`${e}.time_embed.time_mlp.2.bias`, [dim], 'b'],
    [`${e}.input_embed.proj.weight`, [dim, 320], 'w'], [`${e}.input_embed.proj.bias`, [dim], 'b'],
    [`${e}.input_embed.conv_pos_embed.conv1.0.weight`, [dim, dim / 16, 31], 'w'], [`${e}.input_embed.conv_pos_embed.conv1.0.bias`, [dim], 'b'],
    [`${e}.input_embed.conv_pos_embed.conv2.0.weight`, [dim, dim / 16, 31], 'w'], [`${e}.input_embed.conv_pos_embed.conv2.0.bias`, [dim], 'b'],
    [`${e}.rotary_embed.inv_freq`, [dimHead / 2], 'invfreq'],
  ];
  for (let l = 0; l < depth; l++) {
    const p = `${e}.transformer_blocks.${l}`;
    s.push([`${p}.attn_norm.linear.weight`, [6 * dim, dim], 'w'], [`${p}.attn_norm.linear.bias`, [6 * dim], 'b']);
    for (const m of ['to_q', 'to_k', 'to_v']) s.push([`${p}.attn.${m}.weight`, [inner, dim], 'w'], [`${p}.attn.${m}.bias`, [inner], 'b']);
    s.push(
      [`${p}.attn.to_out.0.weight`, [dim, inner], 'w'], [`${p}.attn.to_out.0.bias`, [dim], 'b'],
      [`${p}.ff.ff.0.0.weight`, [dim * ffMult, dim], 'w'], [`${p}.ff.ff.0.0.bias`, [dim * ffMult], 'b'],
      [`${p}.ff.ff.2.weight`, [dim, dim * ffMult], 'w'], [`${p}.ff.ff.2.bias`, [dim], 'b'],
    );
  }
  s.push(
    [`${e}.norm_out.linear.weight`, [2 * dim, dim], 'w'], [`${e}.norm_out.linear.bias`, [2 * dim], 'b'],
    [`${e}.proj_out.weight`, [80, dim], 'w'], [`${e}.proj_out.bias`, [80], 'b'],
  );
  return s;
}

function wn(s: Spec[], name: string, v: number[], bias = true): void {
  s.push([`${name}.parametrizations.weight.original1`, v, 'w'], [`${name}.parametrizations.weight.original0`, [v[0], 1, 1], 'g']);
  if (bias) s.push([`${name}.bias`, [v[0]], 'b']);
}

function hiftSpecs(d: SyntheticDims): Spec[] {
  const C = d.hiftBase;
  const chans = [C / 2, C / 4, C / 8];
  const upK = [16, 11, 7];
  const s: Spec[] = [['m_source.l_linear.weight', [1, 9], 'w'], ['m_source.l_linear.bias', [1], 'b']];
  wn(s, 'conv_pre', [C, 80, 5]);
  chans.forEach((c, i) => wn(s, `ups.${i}`, [c, i === 0 ? C : chans[i - 1], upK[i]]));
  const downK = [30, 6, 1];
  chans.forEach((c, i) => s.push([`source_downs.${i}.weight`, [c, 18, downK[i]], 'w'], [`source_downs.${i}.bias`, [c], 'b']));
  const block = (p: string, c: number, k: number) => {
    for (const conv of ['convs1', 'convs2']) for (let j = 0; j < 3; j++) wn(s, `${p}.${conv}.${j}`, [c, c, k]);
    for (const act of ['activations1', 'activations2']) for (let j = 0; j < 3; j++) s.push([`${p}.${act}.${j}.alpha`, [c], 'alpha']);
  };
  [7, 7, 11].forEach((k, i) => block(`source_resblocks.${i}`, chans[i], k));
  for (let n = 0; n < 9; n++) block(`resblocks.${n}`, chans[Math.floor(n / 3)], [3, 7, 11][n % 3]);
  wn(s, 'conv_post', [18, chans[2], 7]);
  for (let i = 0; i < 5; i++) wn(s, `f0_predictor.condnet.${2 * i}`, i === 0 ? [d.f0Cond, 80, 4] : [d.f0Cond, d.f0Cond, 3]);
  s.push(['f0_predictor.classifier.weight', [1, d.f0Cond], 'w'], ['f0_predictor.classifier.bias', [1], 'b']);
  return s;
}

/** hyperpyyaml text with the same structure as the official cosyvoice3.yaml (model sections only). */
export function syntheticYaml(d: SyntheticDims): string {
  return `# SYNTHETIC random-weight CosyVoice3 (cosyvoice-webgpu built-in model): not speech.
sample_rate: 24000
llm_input_size: ${d.llm.hidden}
llm_output_size: ${d.llm.hidden}
spk_embed_dim: 192
token_frame_rate: 25
token_mel_ratio: 2
chunk_size: 25
num_decoding_left_chunks: -1
llm: !new:cosyvoice.llm.llm.CosyVoice3LM
    llm_input_size: !ref <llm_input_size>
    llm_output_size: !ref <llm_output_size>
    speech_token_size: ${d.llm.speechTokens}
    sampling: !name:cosyvoice.utils.common.ras_sampling
        top_p: 0.8
        top_k: 25
        win_size: 10
        tau_r: 0.1
flow: !new:cosyvoice.flow.flow.CausalMaskedDiffWithDiT
    input_size: 80
    output_size: 80
    spk_embed_dim: !ref <spk_embed_dim>
    vocab_size: ${d.llm.speechTokens}
    input_frame_rate: !ref <token_frame_rate>
    token_mel_ratio: !ref <token_mel_ratio>
    pre_lookahead_len: 3
    pre_lookahead_layer: !new:cosyvoice.transformer.upsample_encoder.PreLookaheadLayer
        in_channels: 80
        channels: ${d.preLookaheadChannels}
        pre_lookahead_len: 3
    decoder: !new:cosyvoice.flow.flow_matching.CausalConditionalCFM
        in_channels: 240
        n_spks: 1
        spk_emb_dim: 80
        cfm_params: !new:omegaconf.DictConfig
            content:
                sigma_min: 1e-06
                solver: 'euler'
                t_scheduler: 'cosine'
                training_cfg_rate: 0.2
                inference_cfg_rate: 0.7
                reg_loss_type: 'l1'
        estimator: !new:cosyvoice.flow.DiT.dit.DiT
            dim: ${d.dit.dim}
            depth: ${d.dit.depth}
            heads: ${d.dit.heads}
            dim_head: ${d.dit.dimHead}
            ff_mult: ${d.dit.ffMult}
            mel_dim: 80
            mu_dim: 80
            spk_dim: 80
            out_channels: 80
            static_chunk_size: !ref <chunk_size> * <token_mel_ratio>
            num_decoding_left_chunks: !ref <num_decoding_left_chunks>
hift: !new:cosyvoice.hifigan.generator.CausalHiFTGenerator
    in_channels: 80
    base_channels: ${d.hiftBase}
    nb_harmonics: 8
    sampling_rate: !ref <sample_rate>
    nsf_alpha: 0.1
    nsf_sigma: 0.003
    nsf_voiced_threshold: 10
    upsample_rates: [8, 5, 3]
    upsample_kernel_sizes: [16, 11, 7]
    istft_params:
        n_fft: 16
        hop_len: 4
    resblock_kernel_sizes: [3, 7, 11]
    resblock_dilation_sizes: [[1, 3, 5], [1, 3, 5], [1, 3, 5]]
    source_resblock_kernel_sizes: [7, 7, 11]
    source_resblock_dilation_sizes: [[1, 3, 5], [1, 3, 5], [1, 3, 5]]
    lrelu_slope: 0.1
    audio_limit: 0.99
    conv_pre_look_right: 4
    f0_predictor: !new:cosyvoice.hifigan.f0_predictor.CausalConvRNNF0Predictor
        num_class: 1
        in_channels: 80
        cond_channels: ${d.f0Cond}
`;
}

export function syntheticQwenConfig(d: SyntheticDims): Record<string, unknown> {
  const l = d.llm;
  return {
    architectures: ['Qwen2ForCausalLM'], model_type: 'qwen2', hidden_act: 'silu', torch_dtype: 'float32',
    vocab_size: l.textVocab, hidden_size: l.hidden, intermediate_size: l.intermediate, num_hidden_layers: l.layers,
    num_attention_heads: l.heads, num_key_value_heads: l.kvHeads, rope_theta: 1e6, rms_norm_eps: 1e-6,
    max_position_embeddings: 32768, tie_word_embeddings: true, use_sliding_window: false, sliding_window: 32768,
  };
}

export interface SyntheticCheckpoint {
  dims: SyntheticDims;
  llm: TensorStore;
  flow: TensorStore;
  hift: TensorStore;
  yaml: string;
  qwenConfig: Record<string, unknown>;
}

/** The three state dicts (official key names and shapes), yaml and Qwen2 config of a synthetic model. */
export function syntheticCheckpoint(size: 'tiny' | 'full' | SyntheticDims, seed = 0): SyntheticCheckpoint {
  const dims = typeof size === 'string' ? SYNTHETIC_SIZES[size] : size;
  const llm = store(llmSpecs(dims.llm), seed + 1, 'llm.pt');
  quietStopRows(llm, dims.llm.speechTokens);
  return {
    dims,
    llm,
    flow: store(flowSpecs(dims), seed + 2, 'flow.pt'),
    hift: store(hiftSpecs(dims), seed + 3, 'hift.pt'),
    yaml: syntheticYaml(dims),
    qwenConfig: syntheticQwenConfig(dims),
  };
}
