/**
 * Peephole fusions of the CPU ONNX interpreter, found once per session in the node list torch.onnx.export writes:
 *
 *   - a Linear: MatMul(x, W) whose only reader is Add(·, b) with b a [N] initializer becomes one MatMul with the
 *     bias in the GEMM's epilogue (the resident matrix keeps it): one pass over [rows, N] fewer;
 *   - exact GELU: Div(x, √2) → Erf → Add(·, 1) → Mul(x, ·) → Mul(·, 0.5), each intermediate read once, becomes one
 *     `GeluErf` pass (x·½(1 + erf(x/√2))) instead of five over the MLP's widest activation.
 *
 * Each fused node keeps the outputs of the nodes it replaces, so the rest of the graph reads what it read before;
 * the intermediates it swallowed are never computed. The values are those of the unfused ops (float32 rounding
 * between the five GELU steps aside: within the oracle tests' tolerance).
 */
import type { OnnxNode } from '../../loader/onnx.js';
import type { TensorRecord } from '../../loader/types.js';
import { fromRecord, inDefaultDomain } from './tensor.js';

/** Internal op types the fusions produce (not ONNX operators). */
export const GELU_ERF = 'cosyvoice.GeluErf';

export function fuse(nodes: readonly OnnxNode[], initializers: ReadonlyMap<string, TensorRecord>, graphOutputs: ReadonlySet<string>): OnnxNode[] {
  const producer = new Map<string, OnnxNode>();
  /** The nodes reading each value (a node reading it twice is there twice). */
  const readerOf = new Map<string, OnnxNode[]>();
  for (const n of nodes) {
    for (const o of n.outputs) producer.set(o, n);
    for (const i of n.inputs) {
      if (!i) continue;
      const r = readerOf.get(i);
      if (r) r.push(n);
      else readerOf.set(i, [n]);
    }
  }
  /** The scalar value of an initializer or Constant output, if it is one element. */
  const scalar = (name: string): number | undefined => {
    const t = initializers.get(name) ?? (producer.get(name)?.opType === 'Constant' ? (producer.get(name)!.attributes.value as TensorRecord | undefined) : undefined);
    if (!t || !t.dims.every((d) => d === 1)) return undefined;
    try {
      return fromRecord(t).data[0];
    } catch {
      return undefined;
    }
  };
  const other = (n: OnnxNode, v: string): string => (n.inputs[0] === v ? n.inputs[1] : n.inputs[0]);
  const dropped = new Set<OnnxNode>();
  const replaced = new Map<OnnxNode, OnnxNode>();
  /** The one node reading `value`, if it is an `op` and the value is not also a graph output. */
  const single = (value: string, op: string): OnnxNode | undefined => {
    const r = readerOf.get(value);
    return r && r.length === 1 && !graphOutputs.has(value) && r[0].opType === op && inDefaultDomain(r[0]) ? r[0] : undefined;
  };
  for (const n of nodes) {
    if (dropped.has(n) || !inDefaultDomain(n)) continue;
    if (n.opType === 'MatMul' && initializers.has(n.inputs[1]) && initializers.get(n.inputs[1])!.dims.length === 2) {
      const add = single(n.outputs[0], 'Add');
      const N = initializers.get(n.inputs[1])!.dims[1];
      const bias = add && other(add, n.outputs[0]);
      const b = bias ? initializers.get(bias) : undefined;
      if (add && b && b.dims.length === 1 && b.dims[0] === N && !dropped.has(add)) {
        replaced.set(n, { ...n, inputs: [n.inputs[0], n.inputs[1], bias!], outputs: [add.outputs[0]], name: `${n.name}+${add.name}` });
        dropped.add(add);
      }
    } else if (n.opType === 'Div' && Math.abs((scalar(n.inputs[1]) ?? 0) - Math.SQRT2) < 1e-3) {
      const x = n.inputs[0];
      const erf = single(n.outputs[0], 'Erf');
      const add = erf && single(erf.outputs[0], 'Add');
      const mul = add && scalar(other(add, erf!.outputs[0])) === 1 ? single(add.outputs[0], 'Mul') : undefined;
      const half = mul && other(mul, add!.outputs[0]) === x ? single(mul.outputs[0], 'Mul') : undefined;
      if (half && scalar(other(half, mul!.outputs[0])) === 0.5) {
        replaced.set(n, { name: `${n.name}…${half.name}`, opType: GELU_ERF, domain: '', inputs: [x], outputs: [half.outputs[0]], attributes: {} });
        for (const d of [erf!, add!, mul!, half]) dropped.add(d);
      }
    }
  }
  return nodes.filter((n) => !dropped.has(n)).map((n) => replaced.get(n) ?? n);
}
