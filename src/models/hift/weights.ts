/**
 * HiFT weights: the one place that maps upstream state_dict names (hift.pt, or a converted ONNX with the same
 * initializer names) to the runtime layout. Load-time transforms:
 *   - weight norm folded per output channel, W[o] = v[o]·(g[o]/‖v[o]‖₂), no ε, in f32 as torch does for the
 *     generator, and in f64 for the F0 predictor (upstream casts the predictor to float64 before running it);
 *     keys `X.parametrizations.weight.original0/1` (g [Cout,1,1], v [Cout,Cin,K]), the legacy `X.weight_g/_v`,
 *     or an already folded `X.weight` are all accepted;
 *   - generator conv weights kept as [Cout, Cin, K] f32 (kernels/conv1d.ts packs them for the GPU);
 *   - Snake α kept as [C] (packed with 1/(α+1e-9) at upload).
 * A missing tensor or a tensor nobody reads is a load-time error listing the names.
 */
import { ownFloat32 } from '../../../loader/dtype.js';
import type { TensorRecord, TensorStore } from '../../../loader/types.js';
import type { HiftConfig } from './config.js';
import { causalPadding } from './config.js';

export class HiftWeightError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HiftWeightError';
  }
}

export interface ConvWeight {
  name: string;
  /** [Cout, Cin, K] */
  w: Float32Array;
  bias: Float32Array;
  cout: number;
  cin: number;
  k: number;
}

export interface ResBlockWeight {
  name: string;
  channels: number;
  k: number;
  dilations: readonly number[];
  convs1: ConvWeight[];
  convs2: ConvWeight[];
  alpha1: Float32Array[];
  alpha2: Float32Array[];
}

export interface F0Layer {
  /** [Cout, Cin, K] f64, weight norm folded in f64 */
  w: Float64Array;
  bias: Float64Array;
  cout: number;
  cin: number;
  k: number;
  /** causal padding; the first layer pads (or takes context) on the right, the others on the left */
  pad: number;
}

export interface F0Weights {
  layers: F0Layer[];
  /** [C] f64 */
  classifier: Float64Array;
  classifierBias: number;
}

export interface HiftWeights {
  convPre: ConvWeight;
  ups: ConvWeight[];
  sourceDowns: ConvWeight[];
  sourceResblocks: ResBlockWeight[];
  resblocks: ResBlockWeight[];
  convPost: ConvWeight;
  /** l_linear weight [H] then bias: [H+1] */
  lLinear: Float32Array;
  f0: F0Weights;
}

class Reader {
  readonly used = new Set<string>();
  constructor(private readonly store: TensorStore) {}
  has(name: string): boolean {
    return this.store.has(name);
  }
  rec(name: string): TensorRecord {
    const t = this.store.get(name);
    if (!t) {
      const near = [...this.store.keys()].filter((k) => k.startsWith(name.split('.')[0])).slice(0, 8);
      throw new HiftWeightError(`hift weights: missing tensor ${name} (names with that prefix: ${near.join(', ') || 'none'})`);
    }
    this.used.add(name);
    return t;
  }
  f32(name: string, dims?: readonly number[]): Float32Array {
    const t = this.rec(name);
    if (dims && (t.dims.length !== dims.length || t.dims.some((d, i) => dims[i] !== -1 && d !== dims[i]))) {
      throw new HiftWeightError(`hift weights: ${name} has shape [${t.dims}], expected [${dims}]`);
    }
    return ownFloat32(t);
  }
  dims(name: string): number[] {
    return this.rec(name).dims;
  }
}

/** Folded weight of `prefix` in f64 (exact values of the f32 parameters), plus its dims. */
function foldedF64(r: Reader, prefix: string): { w: Float64Array; dims: number[] } {
  let gName = `${prefix}.parametrizations.weight.original0`, vName = `${prefix}.parametrizations.weight.original1`;
  if (!r.has(gName) && r.has(`${prefix}.weight_g`)) (gName = `${prefix}.weight_g`), (vName = `${prefix}.weight_v`);
  if (!r.has(gName) && r.has(`${prefix}.weight`)) {
    const dims = r.dims(`${prefix}.weight`);
    return { w: Float64Array.from(r.f32(`${prefix}.weight`)), dims };
  }
  const dims = r.dims(vName);
  const v = r.f32(vName);
  const g = r.f32(gName, [dims[0], 1, 1]);
  const per = v.length / dims[0];
  const w = new Float64Array(v.length);
  for (let o = 0; o < dims[0]; o++) {
    let ss = 0;
    for (let i = 0; i < per; i++) ss += v[o * per + i] ** 2;
    const scale = g[o] / Math.sqrt(ss);
    for (let i = 0; i < per; i++) w[o * per + i] = v[o * per + i] * scale;
  }
  return { w, dims };
}

/** Folded in f32 with torch's rounding steps: norm (f32), g/norm (f32), v·(g/norm) (f32). */
function foldedF32(r: Reader, prefix: string): { w: Float32Array; dims: number[] } {
  const gName = r.has(`${prefix}.parametrizations.weight.original0`) ? `${prefix}.parametrizations.weight.original0` : `${prefix}.weight_g`;
  if (!r.has(gName)) {
    const dims = r.dims(`${prefix}.weight`);
    return { w: r.f32(`${prefix}.weight`), dims };
  }
  const vName = gName.endsWith('original0') ? `${prefix}.parametrizations.weight.original1` : `${prefix}.weight_v`;
  const dims = r.dims(vName);
  const v = r.f32(vName);
  const g = r.f32(gName, [dims[0], 1, 1]);
  const per = v.length / dims[0];
  const w = new Float32Array(v.length);
  for (let o = 0; o < dims[0]; o++) {
    let ss = 0;
    for (let i = 0; i < per; i++) ss += v[o * per + i] ** 2;
    const scale = Math.fround(g[o] / Math.fround(Math.sqrt(ss)));
    for (let i = 0; i < per; i++) w[o * per + i] = Math.fround(v[o * per + i] * scale);
  }
  return { w, dims };
}

function conv(r: Reader, prefix: string, expect?: { cout?: number; cin?: number; k?: number }): ConvWeight {
  const { w, dims } = foldedF32(r, prefix);
  if (dims.length !== 3) throw new HiftWeightError(`hift weights: ${prefix} weight must be [Cout, Cin, K], got [${dims}]`);
  const [cout, cin, k] = dims;
  for (const [key, val] of Object.entries(expect ?? {})) {
    const got = { cout, cin, k }[key as 'cout'];
    if (val !== undefined && got !== val) throw new HiftWeightError(`hift weights: ${prefix} has ${key} ${got}, config says ${val}`);
  }
  return { name: prefix, w, bias: r.f32(`${prefix}.bias`, [cout]), cout, cin, k };
}

function resblock(r: Reader, prefix: string, channels: number, k: number, dilations: readonly number[]): ResBlockWeight {
  const rb: ResBlockWeight = { name: prefix, channels, k, dilations, convs1: [], convs2: [], alpha1: [], alpha2: [] };
  dilations.forEach((_, j) => {
    rb.convs1.push(conv(r, `${prefix}.convs1.${j}`, { cout: channels, cin: channels, k }));
    rb.convs2.push(conv(r, `${prefix}.convs2.${j}`, { cout: channels, cin: channels, k }));
    rb.alpha1.push(r.f32(`${prefix}.activations1.${j}.alpha`, [channels]));
    rb.alpha2.push(r.f32(`${prefix}.activations2.${j}.alpha`, [channels]));
  });
  return rb;
}

export function loadHiftWeights(store: TensorStore, cfg: HiftConfig): HiftWeights {
  const r = new Reader(store);
  const C = cfg.baseChannels;
  const nStages = cfg.upsampleRates.length;
  const stageCh = (i: number) => C >> (i + 1);
  const convPre = conv(r, 'conv_pre', { cout: C, cin: cfg.inChannels, k: cfg.convPreLookRight + 1 });
  const ups = cfg.upsampleRates.map((_, i) => conv(r, `ups.${i}`, { cout: stageCh(i), cin: C >> i, k: cfg.upsampleKernels[i] }));
  const sourceDowns = cfg.upsampleRates.map((_, i) => conv(r, `source_downs.${i}`, { cout: stageCh(i), cin: cfg.nFft + 2 }));
  const sourceResblocks = cfg.upsampleRates.map((_, i) =>
    resblock(r, `source_resblocks.${i}`, stageCh(i), cfg.sourceResblockKernels[i], cfg.sourceResblockDilations[i]),
  );
  const resblocks: ResBlockWeight[] = [];
  for (let i = 0; i < nStages; i++) {
    cfg.resblockKernels.forEach((k, j) => {
      const n = i * cfg.resblockKernels.length + j;
      resblocks.push(resblock(r, `resblocks.${n}`, stageCh(i), k, cfg.resblockDilations[j]));
    });
  }
  const convPost = conv(r, 'conv_post', { cout: cfg.nFft + 2, cin: stageCh(nStages - 1) });
  const H = cfg.harmonics;
  const lLinear = new Float32Array(H + 1);
  lLinear.set(r.f32('m_source.l_linear.weight', [1, H]));
  lLinear[H] = r.f32('m_source.l_linear.bias', [1])[0];

  // F0 predictor: condnet.{0,2,4,…} convs (ELUs at the odd indices hold no weights), then the classifier.
  const layers: F0Layer[] = [];
  for (let i = 0; ; i += 2) {
    const p = `f0_predictor.condnet.${i}`;
    if (!r.has(`${p}.bias`)) break;
    const { w, dims } = foldedF64(r, p);
    const [cout, cin, k] = dims;
    layers.push({ w, bias: Float64Array.from(r.f32(`${p}.bias`, [cout])), cout, cin, k, pad: causalPadding(k) });
  }
  if (layers.length === 0 || layers[0].cin !== cfg.f0InChannels || layers[0].cout !== cfg.f0CondChannels) {
    throw new HiftWeightError(`hift weights: f0_predictor.condnet.0 missing or not [${cfg.f0CondChannels}, ${cfg.f0InChannels}, k]`);
  }
  const cls = Float64Array.from(r.f32('f0_predictor.classifier.weight', [1, cfg.f0CondChannels]));
  const clsB = r.f32('f0_predictor.classifier.bias', [1])[0];

  const unused = [...store.keys()].filter((k) => !r.used.has(k));
  if (unused.length) throw new HiftWeightError(`hift weights: unexpected tensors nobody reads: ${unused.slice(0, 12).join(', ')}${unused.length > 12 ? ` … (${unused.length})` : ''}`);
  return { convPre, ups, sourceDowns, sourceResblocks, resblocks, convPost, lLinear, f0: { layers, classifier: cls, classifierBias: clsB } };
}
