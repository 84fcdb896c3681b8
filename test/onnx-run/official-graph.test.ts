/**
 * The CPU ONNX interpreter on a real torch.onnx.export graph: upstream's own `flow.decoder.estimator.fp32.onnx`
 * of the tiny official fixtures (export_onnx.py; opset 17, 892 nodes: the DiT with Einsum rotary frequencies,
 * Softplus/Tanh Mish, LayerNormalization, Gemm time embedding, Shape/Gather/Concat length arithmetic). The
 * fixture's flow_estimator set 0 (full attention) is a valid input/output pair for that graph; the interpreter's
 * output must match the official PyTorch output within rel-L2 1e-5.
 */
import { describe, expect, it } from 'vitest';
import { loadOnnx } from '../../loader/node.js';
import { OnnxSession, unsupportedOps } from '../../src/onnx-run/session.js';
import { expectClose } from '../helpers/compare.js';
import { readFixtureSet, TINY_DIR } from '../helpers/fixtures.js';

describe('a real torch export on the interpreter', () => {
  it('upstream\'s DiT estimator ONNX gives the official PyTorch output (flow_estimator set 0)', async () => {
    const model = await loadOnnx(`${TINY_DIR}/flow.decoder.estimator.fp32.onnx`, { lazy: true });
    expect(model.graph.nodes.length).toBe(892);
    expect(unsupportedOps(model.graph)).toEqual([]);
    const fx = readFixtureSet('flow_estimator', 0);
    const session = await OnnxSession.create(model, { threads: 2 });
    try {
      const feeds = Object.fromEntries(model.graph.inputs.map((inp, i) => {
        const t = fx.inputs[i];
        expect(t.name).toBe(inp.name);
        return [inp.name, { dtype: 'float32' as const, dims: t.dims, data: Float32Array.from(t.data) }];
      }));
      const out = await session.run(feeds);
      const r = expectClose(out[session.outputs[0].name].data, fx.outputs[0].data, { relL2: 1e-5, label: 'estimator ONNX on the interpreter' });
      console.log(`official estimator ONNX on the CPU ONNX interpreter: rel-L2 ${r.relL2.toExponential(2)} vs the PyTorch fixture, ${session.runNodeCount} of 892 nodes run after fusion`);
    } finally {
      session.dispose();
    }
  });
});
