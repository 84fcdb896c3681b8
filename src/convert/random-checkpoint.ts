/**
 * Random-weight CosyVoice3 checkpoints in the official layout, as data: the state-dict key names and shapes
 * (293 / 330 / 328 keys at full size; `llm.model.lm_head.weight` shares the embed_tokens storage), the yaml and
 * the Qwen2 config, at any dims. Browser-safe. Two users: random-folder.ts writes them as an official folder
 * (.pt files) for the converter and benchmarks, and the pipeline's built-in synthetic model keeps them in memory.
 * Weights are uniform with std 0.02 (a fast stand-in for normal·0.02) so activations stay finite; norms, Snake
 * alphas and weight-norm g are 1.
 */
import type { SaveTensor } from './torch-save.js';

export interface RandomDims {
  llm: { hidden: number; layers: number; heads: number; kv: number; inter: number; vocab: number; S: number };
  dit: { dim: number; depth: number; heads: number; dimHead: number; ffMult: number; pre: number };
  hift: { base: number; f0: number };
}

/** The dims of ../shared/fixtures/tiny-cosyvoice3 (its README's table). */
export const TINY_DIMS: RandomDims = {
  llm: { hidden: 64, layers: 2, heads: 4, kv: 2, inter: 160, vocab: 200, S: 100 },
  dit: { dim: 64, depth: 2, heads: 4, dimHead: 16, ffMult: 2, pre: 64 },
  hift: { base: 32, f0: 32 },
};

/** The released Fun-CosyVoice3-0.5B dims (spec §1, §3.1, §4.5, §5.9). */
export const FULL_DIMS: RandomDims = {
  llm: { hidden: 896, layers: 24, heads: 14, kv: 2, inter: 4864, vocab: 151936, S: 6561 },
  dit: { dim: 1024, depth: 22, heads: 16, dimHead: 64, ffMult: 2, pre: 1024 },
  hift: { base: 512, f0: 512 },
};
const UPS = [8, 5, 3], UPK = [16, 11, 7], RK = [3, 7, 11], SRK = [7, 7, 11], DIL = [1, 3, 5];

export function llmTensors(x: RandomDims): SaveTensor[] {
  const { hidden: H, layers, heads, kv, inter, vocab, S } = x.llm;
  const D = H / heads, q = 'llm.model.model';
  const t: SaveTensor[] = [{ name: `${q}.embed_tokens.weight`, dims: [vocab, H], storage: 'embed' }];
  for (let i = 0; i < layers; i++) {
    const p = `${q}.layers.${i}`;
    t.push({ name: `${p}.self_attn.q_proj.weight`, dims: [H, H] }, { name: `${p}.self_attn.q_proj.bias`, dims: [H] },
      { name: `${p}.self_attn.k_proj.weight`, dims: [kv * D, H] }, { name: `${p}.self_attn.k_proj.bias`, dims: [kv * D] },
      { name: `${p}.self_attn.v_proj.weight`, dims: [kv * D, H] }, { name: `${p}.self_attn.v_proj.bias`, dims: [kv * D] },
      { name: `${p}.self_attn.o_proj.weight`, dims: [H, heads * D] }, { name: `${p}.mlp.gate_proj.weight`, dims: [inter, H] },
      { name: `${p}.mlp.up_proj.weight`, dims: [inter, H] }, { name: `${p}.mlp.down_proj.weight`, dims: [H, inter] },
      { name: `${p}.input_layernorm.weight`, dims: [H] }, { name: `${p}.post_attention_layernorm.weight`, dims: [H] });
  }
  t.push({ name: `${q}.norm.weight`, dims: [H] }, { name: 'llm.model.lm_head.weight', dims: [vocab, H], storage: 'embed' },
    { name: 'llm_decoder.weight', dims: [S + 200, H] }, { name: 'speech_embedding.weight', dims: [S + 200, H] });
  return t;
}

export function flowTensors(x: RandomDims): SaveTensor[] {
  const { dim, depth, heads, dimHead, ffMult, pre } = x.dit;
  const inner = heads * dimHead;
  const P = 'decoder.estimator';
  const lin = (n: string, o: number, i: number): SaveTensor[] => [{ name: `${n}.weight`, dims: [o, i] }, { name: `${n}.bias`, dims: [o] }];
  const t: SaveTensor[] = [{ name: 'input_embedding.weight', dims: [x.llm.S, 80] }, ...lin('spk_embed_affine_layer', 80, 192),
    { name: 'pre_lookahead_layer.conv1.weight', dims: [pre, 80, 4] }, { name: 'pre_lookahead_layer.conv1.bias', dims: [pre] },
    { name: 'pre_lookahead_layer.conv2.weight', dims: [80, pre, 3] }, { name: 'pre_lookahead_layer.conv2.bias', dims: [80] },
    ...lin(`${P}.time_embed.time_mlp.0`, dim, 256), ...lin(`${P}.time_embed.time_mlp.2`, dim, dim), ...lin(`${P}.input_embed.proj`, dim, 320)];
  for (const c of ['conv1', 'conv2']) {
    t.push({ name: `${P}.input_embed.conv_pos_embed.${c}.0.weight`, dims: [dim, dim / 16, 31] }, { name: `${P}.input_embed.conv_pos_embed.${c}.0.bias`, dims: [dim] });
  }
  t.push({ name: `${P}.rotary_embed.inv_freq`, dims: [dimHead / 2] });
  for (let i = 0; i < depth; i++) {
    const b = `${P}.transformer_blocks.${i}`;
    t.push(...lin(`${b}.attn_norm.linear`, 6 * dim, dim), ...lin(`${b}.attn.to_q`, inner, dim), ...lin(`${b}.attn.to_k`, inner, dim),
      ...lin(`${b}.attn.to_v`, inner, dim), ...lin(`${b}.attn.to_out.0`, dim, inner), ...lin(`${b}.ff.ff.0.0`, dim * ffMult, dim),
      ...lin(`${b}.ff.ff.2`, dim, dim * ffMult));
  }
  t.push(...lin(`${P}.norm_out.linear`, 2 * dim, dim), ...lin(`${P}.proj_out`, 80, dim));
  return t;
}

export function hiftTensors(x: RandomDims): SaveTensor[] {
  const { base, f0 } = x.hift;
  const [ups, upK, rk, srk, d] = [UPS, UPK, RK, SRK, DIL];
  const t: SaveTensor[] = [];
  const wn = (n: string, dims: number[]) => t.push({ name: `${n}.bias`, dims: [dims[0]] },
    { name: `${n}.parametrizations.weight.original0`, dims: [dims[0], 1, 1] }, { name: `${n}.parametrizations.weight.original1`, dims });
  const rb = (p: string, c: number, k: number) => d.forEach((_, j) => {
    wn(`${p}.convs1.${j}`, [c, c, k]);
    wn(`${p}.convs2.${j}`, [c, c, k]);
    t.push({ name: `${p}.activations1.${j}.alpha`, dims: [c] }, { name: `${p}.activations2.${j}.alpha`, dims: [c] });
  });
  t.push({ name: 'm_source.l_linear.weight', dims: [1, 9] }, { name: 'm_source.l_linear.bias', dims: [1] });
  wn('conv_pre', [base, 80, 5]);
  const cum = [15, 3, 1];
  ups.forEach((_, i) => {
    const c = base >> (i + 1);
    wn(`ups.${i}`, [c, base >> i, upK[i]]);
    t.push({ name: `source_downs.${i}.weight`, dims: [c, 18, cum[i] === 1 ? 1 : cum[i] * 2] }, { name: `source_downs.${i}.bias`, dims: [c] });
    rb(`source_resblocks.${i}`, c, srk[i]);
  });
  ups.forEach((_, i) => rk.forEach((k, j) => rb(`resblocks.${i * 3 + j}`, base >> (i + 1), k)));
  wn('conv_post', [18, base >> 3, 7]);
  wn('f0_predictor.condnet.0', [f0, 80, 4]);
  for (const i of [2, 4, 6, 8]) wn(`f0_predictor.condnet.${i}`, [f0, f0, 3]);
  t.push({ name: 'f0_predictor.classifier.weight', dims: [1, f0] }, { name: 'f0_predictor.classifier.bias', dims: [1] });
  return t;
}

/** Uniform weights with std 0.02 (biases 0.01), norms/alphas/weight-norm g = 1, exact inv_freq. */
export function filler(seed: number): (t: SaveTensor) => Uint8Array {
  return (t) => {
  const n = t.dims.reduce((a, b) => a * b, 1);
  const a = new Float32Array(n);
  const name = t.name;
  if (name.endsWith('inv_freq')) a.forEach((_, i) => (a[i] = 1 / 10000 ** ((2 * i) / (2 * n))));
  else if (/norm\.weight$|layernorm\.weight$|alpha$|original0$/.test(name)) a.fill(1);
  else {
    const amp = (name.endsWith('bias') ? 0.01 : 0.02) * Math.sqrt(3); // uniform(−amp, amp) has std amp/√3
    let s = seed;
    for (let i = 0; i < n; i++) {
      s ^= s << 13; s ^= s >>> 17; s ^= s << 5;
      a[i] = ((s >>> 0) / 4294967296 - 0.5) * 2 * amp;
    }
    seed = s;
  }
  return new Uint8Array(a.buffer);
  };
}

export function randomYaml(x: RandomDims): string {
  const { llm: LLM, dit: DIT, hift: HIFT } = x;
  return `# random-weight CosyVoice3 (src/convert/random-folder.ts), model sections of the official yaml
sample_rate: 24000
llm_input_size: ${LLM.hidden}
llm_output_size: ${LLM.hidden}
spk_embed_dim: 192
qwen_pretrain_path: ''
token_frame_rate: 25
token_mel_ratio: 2
chunk_size: 25
num_decoding_left_chunks: -1
llm: !new:cosyvoice.llm.llm.CosyVoice3LM
    llm_input_size: !ref <llm_input_size>
    llm_output_size: !ref <llm_output_size>
    speech_token_size: ${LLM.S}
    llm: !new:cosyvoice.llm.llm.Qwen2Encoder
        pretrain_path: !ref <qwen_pretrain_path>
    sampling: !name:cosyvoice.utils.common.ras_sampling
        top_p: 0.8
        top_k: 25
        win_size: 10
        tau_r: 0.1
flow: !new:cosyvoice.flow.flow.CausalMaskedDiffWithDiT
    input_size: 80
    output_size: 80
    spk_embed_dim: !ref <spk_embed_dim>
    vocab_size: ${LLM.S}
    input_frame_rate: !ref <token_frame_rate>
    token_mel_ratio: !ref <token_mel_ratio>
    pre_lookahead_len: 3
    pre_lookahead_layer: !new:cosyvoice.transformer.upsample_encoder.PreLookaheadLayer
        in_channels: 80
        channels: ${DIT.pre}
        pre_lookahead_len: 3
    decoder: !new:cosyvoice.flow.flow_matching.CausalConditionalCFM
        in_channels: 240
        spk_emb_dim: 80
        cfm_params: !new:omegaconf.DictConfig
            content:
                inference_cfg_rate: 0.7
        estimator: !new:cosyvoice.flow.DiT.dit.DiT
            dim: ${DIT.dim}
            depth: ${DIT.depth}
            heads: ${DIT.heads}
            dim_head: ${DIT.dimHead}
            ff_mult: ${DIT.ffMult}
            mel_dim: 80
            mu_dim: 80
            spk_dim: 80
            out_channels: 80
            static_chunk_size: !ref <chunk_size> * <token_mel_ratio>
            num_decoding_left_chunks: !ref <num_decoding_left_chunks>
hift: !new:cosyvoice.hifigan.generator.CausalHiFTGenerator
    in_channels: 80
    base_channels: ${HIFT.base}
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
        cond_channels: ${HIFT.f0}
`;
}

export function randomQwenConfig(x: RandomDims) {
  const LLM = x.llm;
  return { architectures: ['Qwen2ForCausalLM'], hidden_act: 'silu', hidden_size: LLM.hidden, intermediate_size: LLM.inter,
    max_position_embeddings: 32768, model_type: 'qwen2', num_attention_heads: LLM.heads, head_dim: LLM.hidden / LLM.heads, num_hidden_layers: LLM.layers,
    num_key_value_heads: LLM.kv, rms_norm_eps: 1e-6, rope_theta: 1000000.0, tie_word_embeddings: true, vocab_size: LLM.vocab };
}

