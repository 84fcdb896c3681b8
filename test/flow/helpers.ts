/** Shared loading for the flow tests: the tiny model from the fixtures folder, one per (dtype, weight source). */
import { join } from 'node:path';
import { loadOnnx, loadPt, readHyperYaml } from '../../loader/node.js';
import { FlowModel } from '../../src/models/flow/forward.js';
import { estimatorStoreFromOnnx } from '../../src/models/flow/weights.js';
import { TINY_DIR } from '../helpers/fixtures.js';
import { testContext } from '../helpers/gpu.js';

const cache = new Map<string, Promise<FlowModel>>();

export function tinyFlow(dtype: 'f32' | 'f16' = 'f32', source: 'pt' | 'onnx' = 'pt', kernels?: 'gpu' | 'cpu'): Promise<FlowModel> {
  const key = `${dtype}/${source}/${kernels}`;
  let m = cache.get(key);
  if (!m) {
    m = (async () => {
      const ctx = await testContext();
      const yaml = await readHyperYaml(join(TINY_DIR, 'cosyvoice3.yaml'));
      const store = await loadPt(join(TINY_DIR, 'flow.pt'));
      const estimator = source === 'onnx' ? estimatorStoreFromOnnx(await loadOnnx(join(TINY_DIR, 'flow.decoder.estimator.fp32.onnx'))) : undefined;
      return FlowModel.load(ctx, { yaml, store, estimator, dtype, maxFrames: 160, kernels });
    })();
    cache.set(key, m);
  }
  return m;
}

export const f32 = (d: Float64Array) => Float32Array.from(d);
