import { describe, it } from 'vitest';
import { expectClose } from '../helpers/compare.js';
import { readFixtureSet } from '../helpers/fixtures.js';
import { f32, tinyFlow } from './helpers.js';

// flow_estimator: DiT.forward alone, batch 2 (CFG), T = 70. Set 0 full attention, set 1 the streaming 50-frame
// chunk mask, set 2 a padded batch item (9 masked frames).
const STREAMING = [false, true, false];

describe('flow_estimator fixtures (tiny DiT)', () => {
  for (const dtype of ['f32', 'f16'] as const) {
    it.each([0, 1, 2])(`${dtype} set %i`, async (set) => {
      const model = await tinyFlow(dtype);
      const fx = readFixtureSet('flow_estimator', set);
      const [x, mask, mu, t, spks, cond] = fx.inputs.map((i) => f32(i.data));
      const out = await model.estimator({ x, mask, mu, t, spks, cond, streaming: STREAMING[set] });
      const r = expectClose(out, fx.outputs[0].data, { relL2: dtype === 'f32' ? 1e-4 : 1e-3, label: `flow_estimator ${dtype} set ${set}` });
      console.log(`flow_estimator ${dtype} set ${set}: rel-L2 ${r.relL2.toExponential(3)} max-abs ${r.maxAbs.toExponential(3)}`);
    });
  }

  // Both kernel families on whatever adapter runs the tests (lavapipe defaults to 'cpu').
  it.each([0, 1, 2])('GPU kernel family (tiled linears, fused attention), f32 set %i', async (set) => {
    const model = await tinyFlow('f32', 'pt', 'gpu');
    const fx = readFixtureSet('flow_estimator', set);
    const [x, mask, mu, t, spks, cond] = fx.inputs.map((i) => f32(i.data));
    const out = await model.estimator({ x, mask, mu, t, spks, cond, streaming: STREAMING[set] });
    const r = expectClose(out, fx.outputs[0].data, { relL2: 1e-4, label: `flow_estimator gpu-kernels set ${set}` });
    console.log(`flow_estimator gpu-kernels set ${set}: rel-L2 ${r.relL2.toExponential(3)}`);
  });

  it.each([0, 2])('ONNX initializers as the weight source, set %i', async (set) => {
    const model = await tinyFlow('f32', 'onnx');
    const fx = readFixtureSet('flow_estimator', set);
    const [x, mask, mu, t, spks, cond] = fx.inputs.map((i) => f32(i.data));
    const out = await model.estimator({ x, mask, mu, t, spks, cond, streaming: false });
    const r = expectClose(out, fx.outputs[0].data, { relL2: 1e-4, label: `flow_estimator onnx set ${set}` });
    console.log(`flow_estimator onnx-weights set ${set}: rel-L2 ${r.relL2.toExponential(3)}`);
  });
});
