/**
 * Random-weight stand-ins for upstream's two prompt models, written as ONNX graphs in the shape torch.onnx.export
 * gives them (dynamic lengths computed with Shape/Gather/Range, masks, LayerNormalization, MatMul + Add linears),
 * so that the zero-shot frontend (src/speaker/prompt-models.ts) and the CPU ONNX interpreter (src/onnx-run) run on a
 * machine without the real files, and tests can hold the interpreter to ONNX Runtime on graphs of their structure:
 *
 *  - `speech_tokenizer_v3.onnx` (S3 tokenizer v3, as xingchensong/S3Tokenizer describes it): log-mel [1, 128, T]
 *    and its length [1] int32 → conv1d k3 s2 + GELU → conv1d k3 s2 + GELU (non-pad masks between) → L blocks of
 *    x + FSMN-attention(LN(x)) and x + MLP(LN(x)): q/k/v/out linears with bias, rotary on 64-dim heads (half-split),
 *    scores scaled by D^-¼ on each side, a −1e10 bias past the length, a depthwise k31 memory over v added to the
 *    output → FSQ: linear to 8, tanh, ×0.999, round, +1, Σ 3^i → int32 codes [1, T'].
 *  - `campplus.onnx` (CAM++, 3D-Speaker's layout, reduced): fbank [1, T, 80] → 2-D conv stem with a residual
 *    block, folded to [1, C·F, T] → TDNN conv + BN + ReLU → CAM dense layers (BN-ReLU-conv1x1, local conv gated by
 *    the sigmoid of a context = utterance mean + 100-frame segment means, AveragePool ceil_mode expanded back) →
 *    transit → statistics pooling (mean ‖ unbiased std) → conv1x1 + BN → [1, E].
 *
 * The weights are seeded random: the outputs mean nothing. The real files come with the official model folder.
 */
import { join } from 'node:path';
import { Builder } from '../onnx/builder.js';
import { Graph } from '../onnx/graph.js';
import { writeModel } from '../onnx/writer.js';

/** `fsq`: values of the FSQ code (upstream 8: 3^8 = 6561 codes; the tiny model's 4 give 81, below its 100 speech tokens). */
export interface TokenizerDims { mels: number; state: number; heads: number; layers: number; fsmnKernel: number; fsq: number }
export interface CampplusDims { mels: number; stem: number; tdnn: number; growth: number; layers: number; embedding: number }

/** The released sizes (S3 tokenizer v3: 1280 wide, 20 heads of 64, 12 layers). */
export const FULL_TOKENIZER: TokenizerDims = { mels: 128, state: 1280, heads: 20, layers: 12, fsmnKernel: 31, fsq: 8 };
export const TINY_TOKENIZER: TokenizerDims = { mels: 128, state: 128, heads: 2, layers: 2, fsmnKernel: 31, fsq: 4 };
export const TINY_CAMPPLUS: CampplusDims = { mels: 80, stem: 8, tdnn: 32, growth: 16, layers: 2, embedding: 192 };
/** Near CAM++'s size (its stem, TDNN width and growth; one dense block of 12 layers where it has three of 12, 24, 16). */
export const FULL_CAMPPLUS: CampplusDims = { mels: 80, stem: 32, tdnn: 128, growth: 32, layers: 12, embedding: 192 };

/** Seeded initializers (xorshift32, uniform in ±1 before scaling). */
class Weights {
  private n = 0;
  private s: number;
  constructor(readonly b: Builder, seed: number) {
    this.s = seed >>> 0 || 1;
  }
  private fill(a: Float32Array): void {
    let s = this.s;
    for (let i = 0; i < a.length; i++) {
      s ^= s << 13; s ^= s >>> 17; s ^= s << 5;
      a[i] = ((s >>> 0) / 4294967296) * 2 - 1;
    }
    this.s = s;
  }
  /** A random float32 initializer, uniform in ±scale. */
  rand(dims: number[], scale: number, name = `w${this.n++}`): string {
    const a = new Float32Array(dims.reduce((p, q) => p * q, 1));
    this.fill(a);
    for (let i = 0; i < a.length; i++) a[i] *= scale;
    return this.b.table(name, a, dims);
  }
  ones(dims: number[], jitter: number, name = `g${this.n++}`): string {
    const a = new Float32Array(dims.reduce((p, q) => p * q, 1));
    this.fill(a);
    for (let i = 0; i < a.length; i++) a[i] = 1 + jitter * a[i];
    return this.b.table(name, a, dims);
  }
}

/** x [.., K] · W + bias as torch exports a Linear (MatMul with a [K, N] initializer, then Add). */
function linear(b: Builder, w: Weights, x: string, K: number, N: number): string {
  return b.add(b.matmul(x, w.rand([K, N], 1 / Math.sqrt(K))), w.rand([N], 0.1));
}

function gelu(b: Builder, x: string): string {
  // torch's exact GELU as opset-17 export spells it: x · ½(1 + erf(x/√2)).
  return b.mul(b.mul(x, b.add(b.op('Erf', [b.div(x, b.f32(Math.SQRT2))]), b.f32(1))), b.f32(0.5));
}

/** Non-pad mask [1, T] (float) of a length [1] over T frames, from Shape and Range as export writes it. */
function lengthMask(b: Builder, len: string, T: string): string {
  const r = b.op('Range', [b.i64(0), T, b.i64(1)]);
  return b.cast(b.op('Less', [b.unsqueeze(r, [0]), b.unsqueeze(len, [1])]), 'float');
}

export function speechTokenizerGraph(d: TokenizerDims, seed = 7): Graph {
  const g = new Graph('speech_tokenizer_v3');
  const b = new Builder(g, { get: () => { throw new Error('no checkpoint'); } });
  const w = new Weights(b, seed);
  const C = d.state, H = d.heads, Dh = C / H;
  const mel = g.input('feats', 'float', [1, d.mels, 'T']);
  const len32 = g.input('feats_length', 'int32', [1]);
  let len = b.cast(len32, 'int64');
  // conv1 / conv2: k3, stride 2, pad 1, each after masking the padded frames.
  const down = (x: string, cin: string | number, T: string) => {
    const m = b.unsqueeze(lengthMask(b, len, T), [1]);
    const y = b.op('Conv', [b.mul(x, m), w.rand([C, Number(cin), 3], 1 / Math.sqrt(3 * Number(cin))), w.rand([C], 0.1)], { kernel_shape: [3], strides: [2], pads: [1, 1] });
    len = b.add(b.div(b.sub(b.add(len, b.i64(2)), b.i64(3)), b.i64(2)), b.i64(1));
    return gelu(b, y);
  };
  let x = down(mel, d.mels, b.gather(b.shape(mel), b.i64(2)));
  x = down(x, C, b.gather(b.shape(x), b.i64(2)));
  const T = b.gather(b.shape(x), b.i64(2));
  const mask = lengthMask(b, len, T); // [1, T']
  x = b.transpose(x, [0, 2, 1]); // [1, T', C]
  const maskPad = b.unsqueeze(mask, [2]); // [1, T', 1]
  const bias = b.unsqueeze(b.mul(b.sub(b.f32(1), mask), b.f32(-1e10)), [1, 2]); // [1, 1, 1, T']
  // Rotary tables [maxT, Dh] (cos/sin of the half-split rotation), sliced to T' rows.
  const maxT = 2048;
  const cos = new Float32Array(maxT * Dh), sin = new Float32Array(maxT * Dh);
  for (let t = 0; t < maxT; t++) {
    for (let i = 0; i < Dh / 2; i++) {
      const f = t / 10000 ** ((2 * i) / Dh);
      cos[t * Dh + i] = cos[t * Dh + i + Dh / 2] = Math.cos(f);
      sin[t * Dh + i] = sin[t * Dh + i + Dh / 2] = Math.sin(f);
    }
  }
  const rows = (tab: string) => b.unsqueeze(b.op('Slice', [tab, b.i64([0]), b.unsqueeze(T, [0]), b.i64([0])]), [0, 2]); // [1, T', 1, Dh]
  const cosT = rows(b.table('rotary.cos', cos, [maxT, Dh])), sinT = rows(b.table('rotary.sin', sin, [maxT, Dh]));
  const heads = (v: string) => b.op('Reshape', [v, b.concat([b.i64([1]), b.unsqueeze(T, [0]), b.i64([H, Dh])], 0)]);
  const rotate = (v: string) => {
    const [l, r] = b.split(v, [Dh / 2, Dh / 2], 3);
    return b.add(b.mul(v, cosT), b.mul(b.concat([b.neg(r), l], 3), sinT));
  };
  const scale = b.f32(Dh ** -0.25);
  for (let l = 0; l < d.layers; l++) {
    g.scope(`blocks.${l}`, () => {
      const h = b.op('LayerNormalization', [x, w.ones([C], 0.1), w.rand([C], 0.1)], { axis: -1, epsilon: { f: 1e-5 } });
      const q = rotate(heads(linear(b, w, h, C, C)));
      const k = rotate(heads(linear(b, w, h, C, C)));
      const vLin = linear(b, w, h, C, C);
      // FSMN memory: masked v, depthwise conv k over time with zero padding, plus v, masked again.
      const vm = b.mul(vLin, maskPad);
      const left = (d.fsmnKernel - 1) >> 1;
      const mem = b.op('Conv', [b.pad(b.transpose(vm, [0, 2, 1]), [0, 0, left, 0, 0, d.fsmnKernel - 1 - left]), w.rand([C, 1, d.fsmnKernel], 0.2)], { kernel_shape: [d.fsmnKernel], group: C });
      const fsmn = b.mul(b.add(b.transpose(mem, [0, 2, 1]), vm), maskPad);
      const qs = b.mul(b.transpose(q, [0, 2, 1, 3]), scale);
      const ks = b.mul(b.transpose(k, [0, 2, 3, 1]), scale);
      const v = b.transpose(heads(vLin), [0, 2, 1, 3]);
      const p = b.softmax(b.add(b.matmul(qs, ks), bias), -1);
      const o = b.op('Reshape', [b.transpose(b.matmul(p, v), [0, 2, 1, 3]), b.concat([b.i64([1]), b.unsqueeze(T, [0]), b.i64([C])], 0)]);
      x = b.add(x, b.add(linear(b, w, o, C, C), fsmn));
      const h2 = b.op('LayerNormalization', [x, w.ones([C], 0.1), w.rand([C], 0.1)], { axis: -1, epsilon: { f: 1e-5 } });
      x = b.add(x, linear(b, w, gelu(b, linear(b, w, h2, C, 4 * C)), 4 * C, C));
    });
  }
  // FSQ: d.fsq values in {0, 1, 2} → a base-3 code.
  const hq = b.add(b.op('Round', [b.mul(b.tanh(linear(b, w, x, C, d.fsq)), b.f32(0.9990000128746033))]), b.f32(1));
  const code = b.reduceSum(b.mul(hq, b.f32(Array.from({ length: d.fsq }, (_, i) => 3 ** i), [d.fsq])), [-1], 0);
  g.output('tokens', b.cast(code, 'int32'), 'int32', [1, 'T2']);
  return g;
}

export function campplusGraph(d: CampplusDims, seed = 11): Graph {
  const g = new Graph('campplus');
  const b = new Builder(g, { get: () => { throw new Error('no checkpoint'); } });
  const w = new Weights(b, seed);
  const feats = g.input('input', 'float', [1, 'T', d.mels]);
  const bn = (x: string, c: number) => b.op('BatchNormalization', [x, w.ones([c], 0.2), w.rand([c], 0.1), w.rand([c], 0.1), w.ones([c], 0.3)], { epsilon: { f: 1e-5 } });
  const relu = (x: string) => b.op('Relu', [x]);
  const conv = (x: string, cout: number, cin: number, k: number[], attrs: Record<string, number[] | number>) => b.op('Conv', [x, w.rand([cout, cin, ...k], 1 / Math.sqrt(cin * k.reduce((p, q) => p * q, 1)))], { kernel_shape: k, ...attrs });
  // Stem: [1, 1, F, T] → conv3×3 + BN + ReLU → residual block (stride 2 in frequency) → [1, S·F/2, T].
  let x = b.unsqueeze(b.transpose(feats, [0, 2, 1]), [1]);
  x = relu(bn(conv(x, d.stem, 1, [3, 3], { pads: [1, 1, 1, 1] }), d.stem));
  const short = bn(conv(x, d.stem, d.stem, [1, 1], { strides: [2, 1] }), d.stem);
  let y = relu(bn(conv(x, d.stem, d.stem, [3, 3], { strides: [2, 1], pads: [1, 1, 1, 1] }), d.stem));
  y = bn(conv(y, d.stem, d.stem, [3, 3], { pads: [1, 1, 1, 1] }), d.stem);
  x = relu(b.add(y, short));
  const F2 = Math.ceil(d.mels / 2);
  const Tdyn = b.gather(b.shape(feats), b.i64(1));
  x = b.op('Reshape', [x, b.concat([b.i64([1, d.stem * F2]), b.unsqueeze(Tdyn, [0])], 0)]);
  // TDNN: conv k5 stride 2 pad 2.
  x = relu(bn(conv(x, d.tdnn, d.stem * F2, [5], { strides: [2], pads: [2, 2] }), d.tdnn));
  let C = d.tdnn;
  for (let l = 0; l < d.layers; l++) {
    g.scope(`dense.${l}`, () => {
      const mid = 2 * d.growth;
      const hdn = relu(bn(conv(relu(bn(x, C)), mid, C, [1], {}), mid));
      const local = conv(hdn, d.growth, mid, [3], { pads: [2, 2], dilations: [2] });
      // Context: utterance mean + segment means (AveragePool 100, ceil_mode) expanded back to every frame.
      const T2 = b.gather(b.shape(hdn), b.i64(2));
      const mean = b.reduceMean(hdn, [-1], 1);
      const seg = b.op('AveragePool', [hdn], { kernel_shape: [100], strides: [100], ceil_mode: 1 });
      const segShape = b.shape(seg);
      const expanded = b.op('Reshape', [
        b.op('Expand', [b.unsqueeze(seg, [-1]), b.concat([segShape, b.i64([100])], 0)]),
        b.concat([b.slice(segShape, [0], [2], [0]), b.i64([-1])], 0),
      ]);
      const segFull = b.op('Slice', [expanded, b.i64([0]), b.unsqueeze(T2, [0]), b.i64([2])]);
      const ctx = b.add(mean, segFull);
      const gate = b.sigmoid(conv(relu(conv(ctx, mid / 2, mid, [1], {})), d.growth, mid / 2, [1], {}));
      x = b.concat([x, b.mul(local, gate)], 1);
      C += d.growth;
    });
  }
  x = relu(bn(conv(relu(bn(x, C)), C / 2, C, [1], {}), C / 2));
  C /= 2;
  // Statistics pooling: mean and unbiased standard deviation over time.
  const Tn = b.cast(b.gather(b.shape(x), b.i64(2)), 'float');
  const mu = b.reduceMean(x, [-1], 1);
  const dev = b.sub(x, mu);
  const std = b.sqrt(b.div(b.reduceSum(b.mul(dev, dev), [-1], 1), b.sub(Tn, b.f32(1))));
  const stats = b.concat([mu, std], 1); // [1, 2C, 1]
  const emb = bn(conv(stats, d.embedding, 2 * C, [1], {}), d.embedding);
  g.output('output', b.op('Reshape', [emb, b.i64([1, d.embedding])]), 'float', [1, d.embedding]);
  return g;
}

/** Writes both graphs into `dir` under upstream's file names. */
export function writeRandomPromptModels(dir: string, tok: TokenizerDims = TINY_TOKENIZER, cam: CampplusDims = TINY_CAMPPLUS): void {
  writeModel(speechTokenizerGraph(tok), join(dir, 'speech_tokenizer_v3.onnx'));
  writeModel(campplusGraph(cam), join(dir, 'campplus.onnx'));
}
