/**
 * FlowConfig: the frozen record of every CausalMaskedDiffWithDiT dimension, read from cosyvoice3.yaml (the `flow`
 * section: wrapper sizes, CFM rates, DiT heads/dim_head/static chunk) and from tensor shapes (widths, kernel sizes,
 * depth, FFN width, rotary width). Nothing here assumes the tiny or the full size.
 */
import { FlowWeightError } from './errors.js';

export interface FlowConfig {
  /** Token embedding width (= mel bins of mu), `input_size`. */
  readonly inputSize: number;
  /** Mel bins produced, `output_size`. */
  readonly melBins: number;
  readonly spkEmbedDim: number;
  readonly vocabSize: number;
  readonly tokenMelRatio: number;
  readonly preLookaheadLen: number;
  readonly preLookaheadChannels: number;
  /** CFM */
  readonly cfgRate: number;
  readonly nTimesteps: number;
  /** DiT */
  readonly dim: number;
  readonly depth: number;
  readonly heads: number;
  readonly dimHead: number;
  readonly ffInner: number;
  readonly melDim: number;
  readonly muDim: number;
  readonly spkDim: number;
  readonly outChannels: number;
  readonly staticChunk: number;
  readonly freqEmbedDim: number;
  readonly rotDim: number;
  readonly convKernel: number;
  readonly convGroups: number;
  readonly lnEps: number;
}

type Yaml = Record<string, unknown>;
type Shapes = (name: string) => number[] | undefined;

function num(o: unknown, path: string[]): number {
  let v: unknown = o;
  for (const k of path) v = v && typeof v === 'object' ? (v as Yaml)[k] : undefined;
  if (typeof v !== 'number') throw new FlowWeightError(`cosyvoice3.yaml: flow.${path.join('.')} is ${JSON.stringify(v)}, expected a number`);
  return v;
}

function shape(shapes: Shapes, name: string, rank: number): number[] {
  const s = shapes(name);
  if (!s || s.length !== rank) throw new FlowWeightError(`flow weights: ${name} is ${s ? `[${s}]` : 'missing'}, expected rank ${rank}`);
  return s;
}

const E = 'decoder.estimator.';

/**
 * `yaml`: the parsed cosyvoice3.yaml (readHyperYaml). `shapes`: tensor shape by upstream flow.pt name (the
 * estimator's under `decoder.estimator.`).
 */
export function flowConfig(yaml: Yaml, shapes: Shapes): FlowConfig {
  const flow = yaml.flow as Yaml | undefined;
  if (!flow) throw new FlowWeightError('cosyvoice3.yaml has no `flow` section');
  const est = ['decoder', 'estimator'];
  const depth = (() => {
    let n = 0;
    while (shapes(`${E}transformer_blocks.${n}.attn.to_q.weight`)) n++;
    return n;
  })();
  if (depth === 0) throw new FlowWeightError(`flow weights: no ${E}transformer_blocks.0.* tensors`);
  const [dim, inProj] = shape(shapes, `${E}input_embed.proj.weight`, 2);
  const [ffInner] = shape(shapes, `${E}transformer_blocks.0.ff.ff.0.0.weight`, 2);
  const [, freqEmbedDim] = shape(shapes, `${E}time_embed.time_mlp.0.weight`, 2);
  const [rotHalf] = shape(shapes, `${E}rotary_embed.inv_freq`, 1);
  const [, cpg, convKernel] = shape(shapes, `${E}input_embed.conv_pos_embed.conv1.0.weight`, 3);
  const [outChannels] = shape(shapes, `${E}proj_out.weight`, 2);
  const heads = num(flow, [...est, 'heads']);
  const dimHead = num(flow, [...est, 'dim_head']);
  const melDim = num(flow, [...est, 'mel_dim']);
  const muDim = num(flow, [...est, 'mu_dim']);
  const spkDim = num(flow, [...est, 'spk_dim']);
  if (heads * dimHead !== dim) throw new FlowWeightError(`DiT: heads ${heads} × dim_head ${dimHead} ≠ dim ${dim} (input_embed.proj.weight)`);
  if (2 * melDim + muDim + spkDim !== inProj) throw new FlowWeightError(`DiT: input projection width ${inProj} ≠ 2·${melDim} + ${muDim} + ${spkDim}`);
  const pl = shapes('pre_lookahead_layer.conv1.weight');
  return Object.freeze({
    inputSize: num(flow, ['input_size']),
    melBins: num(flow, ['output_size']),
    spkEmbedDim: num(flow, ['spk_embed_dim']),
    vocabSize: num(flow, ['vocab_size']),
    tokenMelRatio: num(flow, ['token_mel_ratio']),
    preLookaheadLen: num(flow, ['pre_lookahead_len']),
    preLookaheadChannels: pl ? pl[0] : num(flow, ['pre_lookahead_layer', 'channels']),
    cfgRate: num(flow, ['decoder', 'cfm_params', 'content', 'inference_cfg_rate']),
    // flow.inference calls the decoder with the literal n_timesteps=10.
    nTimesteps: 10,
    dim,
    depth,
    heads,
    dimHead,
    ffInner,
    melDim,
    muDim,
    spkDim,
    outChannels,
    staticChunk: num(flow, [...est, 'static_chunk_size']),
    freqEmbedDim,
    rotDim: 2 * rotHalf,
    convKernel,
    convGroups: dim / cpg,
    // DiT LayerNorms: nn.LayerNorm(dim, elementwise_affine=False, eps=1e-6) in modules.py.
    lnEps: 1e-6,
  });
}
