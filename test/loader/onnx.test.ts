/**
 * ONNX reader: the fixture DiT export against protobufjs (onnx-proto) as an independent decoder, every supported
 * dtype in raw_data and in the typed fields, attributes, metadata, and hostile inputs.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { onnx as proto } from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { toFloat32 } from '../../loader/dtype.js';
import { CorruptFileError, DTypeError, MissingTensorError, SizeLimitError } from '../../loader/errors.js';
import { loadOnnx } from '../../loader/node.js';
import { parseOnnx } from '../../loader/onnx.js';
import type { TensorRecord } from '../../loader/types.js';
import { readManifest, TINY_DIR } from '../helpers/fixtures.js';
import { externalTensor, modelBytes, tensorProto } from './helpers/onnx-writer.js';

const ONNX_FILE = join(TINY_DIR, 'flow.decoder.estimator.fp32.onnx');
const vals = (t: TensorRecord | undefined) => Array.from(toFloat32(t!));

describe('fixture DiT export', () => {
  it('initializers match protobufjs byte for byte and are views of the file buffer (zero-copy)', () => {
    const bytes = new Uint8Array(readFileSync(ONNX_FILE));
    const m = parseOnnx(bytes, ONNX_FILE);
    const ref = proto.ModelProto.decode(bytes);
    const inits = ref.graph!.initializer!;
    expect(m.tensors.size).toBe(inits.length);
    for (const r of inits) {
      const t = m.tensors.get(r.name!)!;
      expect(t, r.name!).toBeDefined();
      expect(t.dims).toEqual(r.dims!.map(Number));
      expect(t.dtype).toBe({ 1: 'float32', 7: 'int64', 6: 'int32' }[r.dataType!]);
      expect(Buffer.from(t.bytes).equals(Buffer.from(r.rawData!))).toBe(true);
      expect(t.bytes.buffer).toBe(bytes.buffer);
    }
    expect(m.graph.nodes.length).toBe(ref.graph!.node!.length);
    expect(m.graph.nodes.map((n) => n.opType)).toEqual(ref.graph!.node!.map((n) => n.opType));
  });

  it('graph I/O, op types and opset agree with the manifest', async () => {
    const m = await loadOnnx(ONNX_FILE);
    const checks = readManifest().checks;
    expect(m.opsetImport).toEqual([{ domain: '', version: 17 }]);
    expect(m.graph.inputs.map((v) => [v.name, v.dims])).toEqual(checks.onnx_io.inputs);
    expect(m.graph.outputs.map((v) => [v.name, v.dims])).toEqual(checks.onnx_io.outputs);
    expect([...new Set(m.graph.nodes.map((n) => n.opType))].sort()).toEqual(checks.onnx_op_types);
    const constants = m.graph.nodes.filter((n) => n.opType === 'Constant');
    expect(constants.every((n) => typeof n.attributes.value === 'object')).toBe(true);
  });
});

describe('dtypes', () => {
  const cases: [string, number, number[], Partial<proto.ITensorProto>, number[]][] = [
    ['f32_typed', 1, [2], { floatData: [1.5, -2] }, [1.5, -2]],
    ['f32_raw', 1, [2], { rawData: new Uint8Array(Float32Array.of(3, 4).buffer) }, [3, 4]],
    ['f16_typed', 10, [3], { int32Data: [0x3c00, 0xc000, 0x7c00] }, [1, -2, Infinity]],
    ['f16_raw', 10, [2], { rawData: new Uint8Array(Uint16Array.of(0x3800, 0x4200).buffer) }, [0.5, 3]],
    ['bf16_typed', 16, [2], { int32Data: [0x3f80, 0xc049] }, [1, -3.140625]],
    ['bf16_raw', 16, [1], { rawData: new Uint8Array(Uint16Array.of(0x4120).buffer) }, [10]],
    ['f64_typed', 11, [2], { doubleData: [0.1, -1e300] }, [Math.fround(0.1), -Infinity]],
    ['i8_typed', 3, [3], { int32Data: [-3, 4, -128] }, [-3, 4, -128]],
    ['i8_raw', 3, [2], { rawData: Uint8Array.of(0xff, 0x7f) }, [-1, 127]],
    ['u8_typed', 2, [2], { int32Data: [0, 255] }, [0, 255]],
    ['i4_typed', 22, [3], { int32Data: [0x8f, 0x07] }, [-1, -8, 7]],
    ['i4_raw', 22, [4], { rawData: Uint8Array.of(0x21, 0xe9) }, [1, 2, -7, -2]],
    ['u4_raw', 21, [3], { rawData: Uint8Array.of(0xf1, 0x0a) }, [1, 15, 10]],
    ['i32_typed', 6, [2], { int32Data: [-70000, 5] }, [-70000, 5]],
    ['i64_typed', 7, [3], { int64Data: [-5, 2 ** 40, 0] }, [-5, 2 ** 40, 0]],
    ['i64_raw', 7, [1], { rawData: new Uint8Array(BigInt64Array.of(-9n).buffer) }, [-9]],
    ['bool_typed', 9, [2], { int32Data: [1, 0] }, [1, 0]],
    ['scalar', 1, [], { floatData: [7] }, [7]],
    ['empty', 1, [0, 3], {}, []],
  ];
  const m = parseOnnx(modelBytes(cases.map(([n, dt, dims, f]) => tensorProto(n, dt, dims, f))), 'dtypes.onnx');
  for (const [name, , dims, , expected] of cases) {
    it(name, () => {
      const t = m.tensors.get(name)!;
      expect(t.dims).toEqual(dims);
      expect(vals(t)).toEqual(expected);
    });
  }
  it('int64 bytes are exact beyond 2^53', () => {
    const big = parseOnnx(modelBytes([tensorProto('b', 7, [1], { rawData: new Uint8Array(BigInt64Array.of(2n ** 62n + 1n).buffer) })]));
    expect(new BigInt64Array(big.tensors.get('b')!.bytes.slice().buffer)[0]).toBe(2n ** 62n + 1n);
  });
  it('unsupported types are DTypeError naming the tensor', () => {
    expect(() => parseOnnx(modelBytes([tensorProto('s', 8, [1], { stringData: [new Uint8Array(1)] })]), 'm.onnx')).toThrow(DTypeError);
    expect(() => parseOnnx(modelBytes([tensorProto('u16', 4, [1], { int32Data: [1] })]), 'm.onnx')).toThrow(/UINT16.*tensor u16/);
  });
});

describe('graph structure', () => {
  it('nodes, attributes (incl. negative ints, tensors, subgraphs) and metadata', () => {
    const sub: proto.IGraphProto = { name: 'then', node: [{ opType: 'Identity', input: ['a'], output: ['b'] }] };
    const bytes = modelBytes(
      [],
      {
        input: [{ name: 'x', type: { tensorType: { elemType: 10, shape: { dim: [{ dimValue: 2 }, { dimParam: 'T' }] } } } }],
        output: [{ name: 'y', type: { tensorType: { elemType: 1, shape: { dim: [{}] } } } }],
        node: [
          {
            name: 'n0', opType: 'Foo', domain: 'com.test', input: ['x', ''], output: ['y'],
            attribute: [
              { name: 'axes', type: proto.AttributeProto.AttributeType.INTS, ints: [-1, 2] },
              { name: 'axis', type: proto.AttributeProto.AttributeType.INT, i: -3 },
              { name: 'alpha', type: proto.AttributeProto.AttributeType.FLOAT, f: 0.25 },
              { name: 'mode', type: proto.AttributeProto.AttributeType.STRING, s: new TextEncoder().encode('linear') },
              { name: 'scales', type: proto.AttributeProto.AttributeType.FLOATS, floats: [0.5] },
              { name: 'value', type: proto.AttributeProto.AttributeType.TENSOR, t: tensorProto('c', 7, [2], { int64Data: [1, -1] }) },
              { name: 'then_branch', type: proto.AttributeProto.AttributeType.GRAPH, g: sub },
            ],
          },
        ],
      },
      { author: 'test', license: 'x' },
    );
    const m = parseOnnx(bytes, 'g.onnx');
    expect(m.metadata).toEqual({ author: 'test', license: 'x' });
    expect(m.graph.inputs).toEqual([{ name: 'x', elemType: 'float16', dims: [2, 'T'] }]);
    expect(m.graph.outputs).toEqual([{ name: 'y', elemType: 'float32', dims: ['?'] }]);
    const n = m.graph.nodes[0];
    expect([n.name, n.opType, n.domain, n.inputs, n.outputs]).toEqual(['n0', 'Foo', 'com.test', ['x', ''], ['y']]);
    expect(n.attributes.axes).toEqual([-1, 2]);
    expect(n.attributes.axis).toBe(-3);
    expect(n.attributes.alpha).toBe(0.25);
    expect(n.attributes.mode).toBe('linear');
    expect(n.attributes.scales).toEqual([0.5]);
    expect(vals(n.attributes.value as TensorRecord)).toEqual([1, -1]);
    expect((n.attributes.then_branch as { nodes: { opType: string }[] }).nodes[0].opType).toBe('Identity');
  });
});

describe('hostile or broken models', () => {
  it('dims disagreeing with the data length name the tensor', () => {
    const b = modelBytes([tensorProto('w', 1, [3], { rawData: new Uint8Array(8) })]);
    expect(() => parseOnnx(b, 'bad.onnx')).toThrow(CorruptFileError);
    expect(() => parseOnnx(b, 'bad.onnx')).toThrow(/file bad\.onnx, tensor w/);
  });
  it('absurd dims are refused before allocating', () => {
    const b = modelBytes([tensorProto('huge', 1, [2 ** 30, 2 ** 20], { int32Data: [1] })]);
    expect(() => parseOnnx(b, 'h.onnx')).toThrow(SizeLimitError);
    const neg = modelBytes([tensorProto('neg', 1, [-1], {})]);
    expect(() => parseOnnx(neg, 'n.onnx')).toThrow(CorruptFileError);
  });
  it('garbage, wrong magic and truncation are CorruptFileError', () => {
    expect(() => parseOnnx(new TextEncoder().encode('PK\x03\x04 not a model at all'), 'g.onnx')).toThrow(CorruptFileError);
    expect(() => parseOnnx(new Uint8Array(0), 'e.onnx')).toThrow(CorruptFileError);
    const bytes = new Uint8Array(readFileSync(ONNX_FILE));
    expect(() => parseOnnx(bytes.subarray(0, bytes.length - 1000), 't.onnx')).toThrow(CorruptFileError);
    expect(() => parseOnnx(new Uint8Array(readFileSync(join(TINY_DIR, 'llm.pt'))), 'llm.pt')).toThrow(CorruptFileError);
  });
  it('external data through the in-memory parser is a MissingTensorError naming the file', () => {
    const b = modelBytes([externalTensor('w', 1, [2], 'w.bin', 0, 8)]);
    expect(() => parseOnnx(b, 'm.onnx')).toThrow(MissingTensorError);
    expect(() => parseOnnx(b, 'm.onnx')).toThrow(/w\.bin/);
  });
});
