import { describe, expect, it } from 'vitest';
import type { FlowPort } from '../../src/pipeline/ports.js';
import { expectClose } from '../helpers/compare.js';
import { readFixtureSet } from '../helpers/fixtures.js';
import { f32, tinyFlow } from './helpers.js';

// flow_inference: CausalMaskedDiffWithDiT.inference with the starting noise given. Set 0 offline (streaming=False,
// finalize=True); set 1 streaming=True, finalize=True; set 2 streaming=True, finalize=False (mel covers N−3 tokens).
const MODES = [
  { streaming: false, finalize: true },
  { streaming: true, finalize: true },
  { streaming: true, finalize: false },
];

/** [B, C, T] channel-first from estimator rows [B·T, C]. */
function rowsToChannels(rows: Float32Array, B: number, T: number, C: number): Float32Array {
  const out = new Float32Array(B * C * T);
  for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) for (let c = 0; c < C; c++) out[(b * C + c) * T + t] = rows[(b * T + t) * C + c];
  return out;
}

describe('flow_inference fixtures (tiny flow, 10 CFG Euler steps)', () => {
  for (const dtype of ['f32', 'f16'] as const) {
    it.each([0, 1, 2])(`${dtype} set %i`, async (set) => {
      const model = await tinyFlow(dtype);
      const fx = readFixtureSet('flow_inference', set);
      const [token, promptToken, promptFeat, embedding, noise] = fx.inputs;
      const res = await model.inference(
        {
          tokens: Int32Array.from(token.data),
          promptTokens: Int32Array.from(promptToken.data),
          promptMel: f32(promptFeat.data),
          embedding: f32(embedding.data),
          noise: f32(noise.data),
          ...MODES[set],
        },
        { taps: true },
      );
      const taps = res.taps!;
      const o = Object.fromEntries(fx.outputs.map((t, i) => [i, t]));
      const T = o[1].dims[2];
      const mel = o[0].dims[1];
      expect(res.frames).toBe(o[0].dims[2]);
      // f16 bound: f16 storage of every DiT linear weight (ε = 4.9e-4) gives ~3.5e-4 here; LN statistics and softmax stay f32.
      const tol = dtype === 'f32' ? 1e-4 : 1e-3;
      const report: string[] = [];
      const check = (name: string, a: Float32Array, e: Float64Array, relL2: number) => {
        const r = expectClose(a, e, { relL2, label: `${dtype} set ${set} ${name}` });
        report.push(`${name} ${r.relL2.toExponential(2)}`);
      };
      // Wrapper outputs involve no DiT weights: f32 math in both dtypes.
      check('mu', taps.mu, o[1].data, 1e-5);
      check('spks', taps.spks, o[2].data, 1e-5);
      check('cond', taps.cond, o[3].data, 0);
      expectClose(model.timeGrid, o[4].data, { atol: 0, label: 't_span' });
      const inp = taps.step0Input;
      const W = inp.length / (2 * T);
      // Split the packed step-0 input [2T, x | cond | mu | spks] back into the fixture's tensors.
      const part = (c0: number, C: number) => {
        const rows = new Float32Array(2 * T * C);
        for (let r = 0; r < 2 * T; r++) rows.set(inp.subarray(r * W + c0, r * W + c0 + C), r * C);
        return rowsToChannels(rows, 2, T, C);
      };
      check('step0 x_in', part(0, mel), o[6].data, 0);
      check('step0 cond_in', part(mel, mel), o[9].data, 0);
      check('step0 mu_in', part(2 * mel, mel), o[7].data, 1e-5);
      const spk = part(3 * mel, W - 3 * mel);
      check('step0 spks_in', Float32Array.from({ length: 2 * (W - 3 * mel) }, (_, i) => spk[i * T]), o[8].data, 1e-5);
      check('step0 estimator out', rowsToChannels(taps.step0Output, 2, T, mel), o[11].data, tol);
      check('decoder_out', taps.decoderOut, o[5].data, tol);
      check('mel', res.mel, o[0].data, tol);
      console.log(`flow_inference ${dtype} set ${set}: ${report.join(', ')}`);
    });
  }
});

describe('flow starting noise and mask sensitivity', () => {
  it('the default noise is upstream rand_noise (seed 0 table) sliced, bit-exact', async () => {
    const { upstreamNoise } = await import('../../src/models/flow/schedule.js');
    for (const set of [0, 2]) {
      const noise = readFixtureSet('flow_inference', set).inputs[4];
      expectClose(upstreamNoise(noise.dims[2]), noise.data, { atol: 0, label: `noise set ${set}` });
    }
  });

  it('the streaming chunk mask matters: flow_estimator set 1 without it is far off', async () => {
    const model = await tinyFlow('f32');
    const fx = readFixtureSet('flow_estimator', 1);
    const [x, mask, mu, t, spks, cond] = fx.inputs.map((i) => f32(i.data));
    const out = await model.estimator({ x, mask, mu, t, spks, cond, streaming: false });
    expect(() => expectClose(out, fx.outputs[0].data, { relL2: 1e-3 })).toThrow();
  });
});

describe('flow solve plan', () => {
  it('a repeated call: wrapper + 10 steps in one pass and one submit, no buffer or bind group created, one readback', async () => {
    const { diffCounters } = await import('../../src/gpu/counters.js');
    const model = await tinyFlow('f32');
    const fx = readFixtureSet('flow_inference', 0);
    const [token, promptToken, promptFeat, embedding, noise] = fx.inputs;
    const call = {
      tokens: Int32Array.from(token.data), promptTokens: Int32Array.from(promptToken.data), promptMel: f32(promptFeat.data),
      embedding: f32(embedding.data), noise: f32(noise.data), streaming: false, finalize: true,
    };
    const port: FlowPort = model; // the pipeline's engine-neutral flow port, structurally
    await port.inference(call);
    const before = { ...model.ctx.counters };
    const res = await model.inference(call);
    const d = diffCounters(before, model.ctx.counters);
    expectClose(res.mel, fx.outputs[0].data, { relL2: 1e-4 });
    const steps = model.cfg.nTimesteps;
    console.log(`solve: ${model.dispatchesPerStep} dispatches per step (depth ${model.cfg.depth}); counters ${JSON.stringify(d)}`);
    // 2 pre-lookahead convs + speaker projection + steps × (pack … Euler); the readback is its own copy submit.
    expect(d).toMatchObject({ dispatches: 3 + steps * model.dispatchesPerStep, passes: 1, submits: 2, readbacks: 1, buffersCreated: 0, bindGroupsCreated: 0 });
    // per block: 2 AdaLN, 4 linears, attention as 1 fused kernel or 3 passes (CPU adapters); + pack, in-proj,
    // 2 conv-pos, final AdaLN, proj_out, Euler.
    expect(model.dispatchesPerStep).toBe((model.s.scores ? 9 : 7) * model.cfg.depth + 7);
  });
});
