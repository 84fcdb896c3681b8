/**
 * Full-size random-weight CosyVoice3 folder in the official format, then `convert` it and load the results in
 * onnxruntime-node — the timing check of issue 9 (goal: convert < 1 min).
 *
 *   npx tsx bench/make-full-folder.ts [dir=/tmp/cosyvoice3-full] [--reuse] [--dtype fp32|fp16|int8] [--no-ort] [--run]
 *
 * --run also times one call of each converted graph through the ORT engine (the cpu-EP baseline): LLM prefill
 * of 128 positions and 16 decode steps, a DiT call (CFG batch 2, T = 200 frames), the flow encoder, and HiFT on
 * 100 mel frames (2 s of audio).
 *
 * Writes <dir>/model (llm.pt, flow.pt, hift.pt via src/convert/torch-save.ts, cosyvoice3.yaml,
 * CosyVoice-BlankEN/config.json) with the released dims (spec §1, §3.1, §4.5, §5.9) and <dir>/converted. Never
 * point it inside the repo: ~3.4 GB + ~3.4 GB. Weights are uniform with std 0.02 (a fast stand-in for
 * normal·0.02), norms/alphas ≈ 1, weight-norm g = 1, biases ~0.01, inv_freq exact, lm_head tied to embed_tokens.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import ort from 'onnxruntime-node';
import { convertModel } from '../src/convert/index.js';
import { saveStateDict, type SaveTensor } from '../src/convert/torch-save.js';
import { OrtEngine } from '../src/ort/ort-engine.js';

const LLM = { hidden: 896, layers: 24, heads: 14, kv: 2, inter: 4864, vocab: 151936, S: 6561 };
const DIT = { dim: 1024, depth: 22, heads: 16, dimHead: 64, ffMult: 2, pre: 1024 };
const HIFT = { base: 512, f0: 512, ups: [8, 5, 3], upK: [16, 11, 7], rk: [3, 7, 11], srk: [7, 7, 11], d: [1, 3, 5] };

function llmTensors(): SaveTensor[] {
  const { hidden: H, layers, heads, kv, inter, vocab, S } = LLM;
  const D = H / heads, q = 'llm.model.model';
  const t: SaveTensor[] = [{ name: `${q}.embed_tokens.weight`, dims: [vocab, H], storage: 'embed' }];
  for (let i = 0; i < layers; i++) {
    const p = `${q}.layers.${i}`;
    t.push({ name: `${p}.self_attn.q_proj.weight`, dims: [H, H] }, { name: `${p}.self_attn.q_proj.bias`, dims: [H] },
      { name: `${p}.self_attn.k_proj.weight`, dims: [kv * D, H] }, { name: `${p}.self_attn.k_proj.bias`, dims: [kv * D] },
      { name: `${p}.self_attn.v_proj.weight`, dims: [kv * D, H] }, { name: `${p}.self_attn.v_proj.bias`, dims: [kv * D] },
      { name: `${p}.self_attn.o_proj.weight`, dims: [H, H] }, { name: `${p}.mlp.gate_proj.weight`, dims: [inter, H] },
      { name: `${p}.mlp.up_proj.weight`, dims: [inter, H] }, { name: `${p}.mlp.down_proj.weight`, dims: [H, inter] },
      { name: `${p}.input_layernorm.weight`, dims: [H] }, { name: `${p}.post_attention_layernorm.weight`, dims: [H] });
  }
  t.push({ name: `${q}.norm.weight`, dims: [H] }, { name: 'llm.model.lm_head.weight', dims: [vocab, H], storage: 'embed' },
    { name: 'llm_decoder.weight', dims: [S + 200, H] }, { name: 'speech_embedding.weight', dims: [S + 200, H] });
  return t;
}

function flowTensors(): SaveTensor[] {
  const { dim, depth, dimHead, ffMult, pre } = DIT;
  const P = 'decoder.estimator';
  const lin = (n: string, o: number, i: number): SaveTensor[] => [{ name: `${n}.weight`, dims: [o, i] }, { name: `${n}.bias`, dims: [o] }];
  const t: SaveTensor[] = [{ name: 'input_embedding.weight', dims: [LLM.S, 80] }, ...lin('spk_embed_affine_layer', 80, 192),
    { name: 'pre_lookahead_layer.conv1.weight', dims: [pre, 80, 4] }, { name: 'pre_lookahead_layer.conv1.bias', dims: [pre] },
    { name: 'pre_lookahead_layer.conv2.weight', dims: [80, pre, 3] }, { name: 'pre_lookahead_layer.conv2.bias', dims: [80] },
    ...lin(`${P}.time_embed.time_mlp.0`, dim, 256), ...lin(`${P}.time_embed.time_mlp.2`, dim, dim), ...lin(`${P}.input_embed.proj`, dim, 320)];
  for (const c of ['conv1', 'conv2']) {
    t.push({ name: `${P}.input_embed.conv_pos_embed.${c}.0.weight`, dims: [dim, dim / 16, 31] }, { name: `${P}.input_embed.conv_pos_embed.${c}.0.bias`, dims: [dim] });
  }
  t.push({ name: `${P}.rotary_embed.inv_freq`, dims: [dimHead / 2] });
  for (let i = 0; i < depth; i++) {
    const b = `${P}.transformer_blocks.${i}`;
    t.push(...lin(`${b}.attn_norm.linear`, 6 * dim, dim), ...lin(`${b}.attn.to_q`, dim, dim), ...lin(`${b}.attn.to_k`, dim, dim),
      ...lin(`${b}.attn.to_v`, dim, dim), ...lin(`${b}.attn.to_out.0`, dim, dim), ...lin(`${b}.ff.ff.0.0`, dim * ffMult, dim),
      ...lin(`${b}.ff.ff.2`, dim, dim * ffMult));
  }
  t.push(...lin(`${P}.norm_out.linear`, 2 * dim, dim), ...lin(`${P}.proj_out`, 80, dim));
  return t;
}

function hiftTensors(): SaveTensor[] {
  const { base, f0, ups, upK, rk, srk, d } = HIFT;
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

let seed = 0x9e3779b9;
function fill(t: SaveTensor): Uint8Array {
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
}

function yaml(): string {
  return `# full-size random-weight CosyVoice3 (bench/make-full-folder.ts), model sections of the official yaml
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

function qwenConfig() {
  return { architectures: ['Qwen2ForCausalLM'], hidden_act: 'silu', hidden_size: LLM.hidden, intermediate_size: LLM.inter,
    max_position_embeddings: 32768, model_type: 'qwen2', num_attention_heads: LLM.heads, num_hidden_layers: LLM.layers,
    num_key_value_heads: LLM.kv, rms_norm_eps: 1e-6, rope_theta: 1000000.0, tie_word_embeddings: true, vocab_size: LLM.vocab };
}

async function main() {
  const a = parseArgs({ allowPositionals: true, options: { reuse: { type: 'boolean', default: false },
    dtype: { type: 'string', default: 'fp32' }, 'no-ort': { type: 'boolean', default: false }, run: { type: 'boolean', default: false } } });
  const root = a.positionals[0] ?? '/tmp/cosyvoice3-full';
  const model = join(root, 'model'), out = join(root, 'converted');
  if (!a.values.reuse || !existsSync(join(model, 'hift.pt'))) {
    const t0 = performance.now();
    mkdirSync(join(model, 'CosyVoice-BlankEN'), { recursive: true });
    writeFileSync(join(model, 'cosyvoice3.yaml'), yaml());
    writeFileSync(join(model, 'CosyVoice-BlankEN/config.json'), JSON.stringify(qwenConfig(), null, 2));
    for (const [f, ts] of [['llm.pt', llmTensors()], ['flow.pt', flowTensors()], ['hift.pt', hiftTensors()]] as const) {
      const bytes = saveStateDict(join(model, f), ts, fill);
      console.log(`wrote ${f}: ${ts.length} keys, ${(bytes / 1e9).toFixed(3)} GB`);
    }
    console.log(`official-format folder written in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  rmSync(out, { recursive: true, force: true });
  const r = await convertModel(model, out, { dtype: a.values.dtype as 'fp32', log: (m) => console.log(`  ${m}`) });
  console.log(`convert (${a.values.dtype}): ${r.seconds.toFixed(1)} s (goal < 60 s)`);
  if (a.values['no-ort']) return;
  for (const f of ['llm.onnx', 'llm_embed.onnx', 'flow_encoder.onnx', 'flow.onnx', 'hift.onnx']) {
    const t = performance.now();
    const s = await ort.InferenceSession.create(join(out, f), { executionProviders: ['cpu'], logSeverityLevel: 3 });
    console.log(`ORT loaded ${f} in ${((performance.now() - t) / 1000).toFixed(1)} s (inputs: ${s.inputNames.length}, outputs: ${s.outputNames.length})`);
    await s.release();
  }
  if (a.values.run) await timeCalls(out);
}

async function timeCalls(dir: string) {
  const e = await OrtEngine.create(dir);
  const c = e.config;
  const ms = async (label: string, f: () => Promise<unknown>, reps = 1) => {
    await f();
    const t = performance.now();
    for (let i = 0; i < reps; i++) await f();
    console.log(`ORT cpu ${label}: ${((performance.now() - t) / reps).toFixed(1)} ms`);
  };
  const emb = await e.embedSpeech(Array.from({ length: 128 }, (_, i) => i));
  await ms('LLM prefill 128', async () => (await e.llmSession()).step(emb, 128));
  const s = await e.llmSession();
  await s.step(emb, 128);
  const one = emb.subarray(0, c.llm.hidden);
  const t0 = performance.now();
  for (let i = 0; i < 16; i++) await s.step(one, 1);
  console.log(`ORT cpu LLM decode step (cache 128..143): ${((performance.now() - t0) / 16).toFixed(1)} ms/token`);
  const T = 200, C = c.flow.outputSize;
  const z = new Float32Array(2 * C * T).map((_, i) => Math.sin(i));
  await ms('flow encoder (100 tokens)', () => e.flowEncoder(Array.from({ length: 100 }, (_, i) => i), new Float32Array(c.flow.spkEmbedDim).fill(0.1), true));
  await ms(`DiT estimator (batch 2, T=${T})`, () => e.flowEstimator({ x: z, mask: new Float32Array(2 * T).fill(1), mu: z, t: Float32Array.of(0.5, 0.5),
    spks: new Float32Array(2 * C).fill(0.1), cond: z, batch: 2, frames: T, streaming: false }));
  const mel = new Float32Array(C * 100).map((_, i) => Math.sin(i) - 5);
  await ms('HiFT (100 mel frames = 2 s)', () => e.hift(mel, 100, new Float32Array(100 * 480 * (c.hift.nbHarmonics + 1)).fill(0.5), true));
  await e.dispose();
}

await main();
