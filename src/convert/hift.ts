/**
 * hift.onnx: CausalHiFTGenerator.inference as one standard-op graph (spec §5).
 *   speech_feat [1, 80, T] f32, sine_noise [1, ≥L, 9] f32 (the generator's fixed uniform table, any prefix at
 *   least L = 480·T' long), finalize bool [1]
 *   → speech [1, N] (N = 480·T if finalize else 480·(T − 8)), source [1, 1, 480·T'], f0 [1, T'] float64.
 *
 * STFT is a strided Conv with a windowed DFT basis [2·(n_fft/2+1), 1, n_fft] after reflect padding n_fft/2;
 * iSTFT is a ConvTranspose with the windowed inverse-DFT basis (only Re of DC/Nyquist used, like irfft), divided
 * by the overlap-added window² envelope, trimmed by n_fft/2 at both ends (torch.istft, center=True).
 * Causal convs use Conv `pads = [(k−1)·d, 0]`; CausalConv1dUpsample is nearest ×u (Expand+Reshape) then a causal
 * conv. Weight norm is folded at conversion: W = v·(g/‖v‖) per output channel (weights keep the `X.weight` name).
 */
import { Graph } from '../onnx/graph.js';
import { Builder, type StoreDType } from '../onnx/builder.js';
import type { HiftConfig } from './config.js';
import { f0Predictor, harmonicSource } from './hift-source.js';
import type { Weights } from './weights.js';

export function hiftKeys(c: HiftConfig): string[] {
  const wb = (p: string) => [`${p}.weight`, `${p}.bias`];
  const k = [...wb('m_source.l_linear'), ...wb('conv_pre'), ...wb('conv_post'), ...wb('f0_predictor.classifier')];
  for (const i of [0, 2, 4, 6, 8]) k.push(...wb(`f0_predictor.condnet.${i}`));
  const rb = (p: string, n: number) => {
    for (let j = 0; j < n; j++) {
      for (const c of ['convs1', 'convs2']) k.push(...wb(`${p}.${c}.${j}`));
      for (const a of ['activations1', 'activations2']) k.push(`${p}.${a}.${j}.alpha`);
    }
  };
  c.upsampleRates.forEach((_, i) => {
    k.push(...wb(`ups.${i}`), ...wb(`source_downs.${i}`));
    rb(`source_resblocks.${i}`, c.sourceResblockDilations[i].length);
    c.resblockKernelSizes.forEach((_, j) => rb(`resblocks.${i * c.resblockKernelSizes.length + j}`, c.resblockDilations[j].length));
  });
  return k;
}

export function checkHiftShapes(w: Weights, c: HiftConfig): void {
  w.expect('conv_pre.weight', [c.baseChannels, c.inChannels, c.convPreLookRight + 1]);
  c.upsampleRates.forEach((_, i) => {
    w.expect(`ups.${i}.weight`, [c.baseChannels >> (i + 1), c.baseChannels >> i, c.upsampleKernelSizes[i]]);
  });
  w.expect('conv_post.weight', [c.nFft + 2, c.baseChannels >> c.upsampleRates.length, -1]);
  w.expect('f0_predictor.condnet.0.weight', [c.f0CondChannels, c.inChannels, c.f0LookRight + 1]);
  w.expect('m_source.l_linear.weight', [1, c.nbHarmonics + 1]);
}

/** Periodic Hann window (scipy get_window('hann', n, fftbins=True)). */
function hann(n: number): Float64Array {
  return new Float64Array(n).map((_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / n));
}

export function buildHift(w: Weights, c: HiftConfig, dtype: StoreDType): Graph {
  const g = new Graph('cosyvoice3_hift');
  const b = new Builder(g, w, dtype === 'int8' ? 'fp32' : dtype); // convs are not quantised
  const mel = g.input('speech_feat', 'float', [1, c.inChannels, 'frames']);
  const noise = g.input('sine_noise', 'float', [1, 'noise_len', c.nbHarmonics + 1]);
  const finalize = g.input('finalize', 'bool', [1]);
  const fin = b.cast(finalize, 'int64');
  const nfin = b.sub(b.i64([1]), fin);
  const upTotal = c.upsampleRates.reduce((a, x) => a * x, 1);
  const N = c.nFft, nb = N / 2 + 1;

  const f0 = g.scope('f0_predictor', () => f0Predictor(b, mel, fin, c));
  g.output('f0', f0, 'double', [1, 'f0_frames']);
  const s = g.scope('m_source', () => harmonicSource(b, b.cast(f0, 'float'), noise, c));
  g.output('source', s, 'float', [1, 1, 'samples']);

  // STFT of the source: [1, 2·nb, F], rows 0..nb−1 = Re, nb.. = Im
  const win = hann(N);
  const basis = new Float32Array(2 * nb * N);
  for (let k = 0; k < nb; k++) {
    for (let n = 0; n < N; n++) {
      basis[k * N + n] = win[n] * Math.cos((2 * Math.PI * k * n) / N);
      basis[(nb + k) * N + n] = -win[n] * Math.sin((2 * Math.PI * k * n) / N);
    }
  }
  let stft = b.conv1d(b.pad(s, [0, 0, N / 2, 0, 0, N / 2], 'reflect'), b.table('stft.basis', basis, [2 * nb, 1, N]), undefined,
    { strides: [c.hop] });
  const cutFrames = upTotal * c.convPreLookRight;
  stft = b.sliceDyn(stft, b.i64([0]), b.sub(b.shape(stft, 2, 3), b.mul(nfin, b.i64([cutFrames]))), [2]);

  const conv = (x: string, p: string, dil = 1, stride = 1, leftPad?: number) => {
    const k = w.get(`${p}.weight`).dims[2];
    const padL = leftPad ?? (k - 1) * dil;
    return b.conv1d(x, b.weight(`${p}.weight`), b.weight(`${p}.bias`), { dilations: [dil], strides: [stride], pads: [padL, 0] });
  };
  const snake = (x: string, p: string) => {
    const a = b.unsqueeze(b.weight(`${p}.alpha`), [0, 2]);
    const inv = b.op('Reciprocal', [b.add(a, b.f32(1e-9))]);
    const sn = b.sin(b.mul(x, a));
    return b.add(x, b.mul(inv, b.mul(sn, sn)));
  };
  const resblock = (x: string, p: string, dil: number[]) => {
    dil.forEach((d, j) => {
      let t = conv(snake(x, `${p}.activations1.${j}`), `${p}.convs1.${j}`, d);
      t = conv(snake(t, `${p}.activations2.${j}`), `${p}.convs2.${j}`, 1);
      x = b.add(t, x);
    });
    return x;
  };

  // conv_pre: finalize → zero right context; else the last look-right frames of mel[:, :, :T−3] are the context
  const T = b.shape(mel, 2, 3);
  let x = b.sliceDyn(mel, b.i64([0]), b.sub(T, b.mul(nfin, b.i64([c.f0LookRight]))), [2]);
  x = b.op('Pad', [x, b.concat([b.i64([0, 0, 0, 0, 0]), b.mul(fin, b.i64([c.convPreLookRight]))], 0)]);
  x = conv(x, 'conv_pre', 1, 1, 0);

  const nk = c.resblockKernelSizes.length;
  c.upsampleRates.forEach((u, i) => {
    x = g.scope(`stage${i}`, () => {
      let y = b.leakyRelu(x, c.lreluSlope);
      const shp = b.concat([b.shape(y), b.i64([u])], 0);
      y = b.reshape(b.op('Expand', [b.unsqueeze(y, [3]), shp]), [0, 0, -1]);
      y = conv(y, `ups.${i}`);
      if (i === c.upsampleRates.length - 1) y = b.pad(y, [0, 0, 1, 0, 0, 0], 'reflect');
      const kd = w.get(`source_downs.${i}.weight`).dims[2];
      const stride = kd === 1 ? 1 : kd / 2;
      let si = conv(stft, `source_downs.${i}`, 1, stride, stride === 1 ? 0 : stride - 1);
      si = resblock(si, `source_resblocks.${i}`, c.sourceResblockDilations[i]);
      y = b.add(y, si);
      let xs: string | undefined;
      for (let j = 0; j < nk; j++) {
        const r = resblock(y, `resblocks.${i * nk + j}`, c.resblockDilations[j]);
        xs = xs ? b.add(xs, r) : r;
      }
      return b.div(xs!, b.f32(nk));
    });
  });
  x = conv(b.leakyRelu(x, 0.01), 'conv_post');

  // spectrum → iSTFT
  const [lm, ph] = b.split(x, [nb, nb], 1);
  const mag = b.op('Min', [b.exp(lm), b.f32(100)]);
  const phase = b.sin(ph);
  const spec = b.concat([b.mul(mag, b.cos(phase)), b.mul(mag, b.sin(phase))], 1);
  const ibasis = new Float32Array(2 * nb * N);
  for (let k = 0; k < nb; k++) {
    const scale = k === 0 || k === N / 2 ? 1 / N : 2 / N;
    for (let n = 0; n < N; n++) {
      ibasis[k * N + n] = win[n] * scale * Math.cos((2 * Math.PI * k * n) / N);
      ibasis[(nb + k) * N + n] = k === 0 || k === N / 2 ? 0 : -win[n] * scale * Math.sin((2 * Math.PI * k * n) / N);
    }
  }
  const ola = b.op('ConvTranspose', [spec, b.table('istft.basis', ibasis, [2 * nb, 1, N])], { strides: [c.hop] });
  const ones = b.op('ConstantOfShape', [b.concat([b.i64([1, 1]), b.shape(spec, 2, 3)], 0)], { value: { t: { name: 'one', dtype: 'float', dims: [1], bytes: new Uint8Array(Float32Array.of(1).buffer) } } });
  const env = b.op('ConvTranspose', [ones, b.table('istft.window_sq', Float32Array.from(win, (v) => v * v), [1, 1, N])], { strides: [c.hop] });
  const F = b.shape(spec, 2, 3);
  const end = b.add(b.i64([N / 2]), b.mul(b.sub(F, b.i64([1])), b.i64([c.hop])));
  let y = b.div(b.sliceDyn(ola, b.i64([N / 2]), end, [2]), b.sliceDyn(env, b.i64([N / 2]), end, [2]));
  y = b.squeeze(y, [1]);
  y = b.sliceDyn(y, b.i64([0]), b.sub(b.shape(y, 1, 2), b.mul(nfin, b.i64([upTotal * c.hop]))), [1]);
  y = b.op('Clip', [y, b.f32(-c.audioLimit), b.f32(c.audioLimit)]);
  g.output('speech', y, 'float', [1, 'speech_len']);
  return g;
}
