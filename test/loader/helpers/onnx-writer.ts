/**
 * Test-only ONNX model builder on top of onnx-proto's generated encoder (an independent writer, so the loader's
 * hand-written wire reader is checked against protobufjs).
 */
import { onnx } from 'onnx-proto';

export type TensorInit = onnx.ITensorProto;

export function tensorProto(name: string, dataType: number, dims: number[], fields: Partial<onnx.ITensorProto>): onnx.ITensorProto {
  return { name, dataType, dims, ...fields };
}

export function externalTensor(name: string, dataType: number, dims: number[], location: string, offset: number, length: number): onnx.ITensorProto {
  return {
    name,
    dataType,
    dims,
    dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
    externalData: [
      { key: 'location', value: location },
      { key: 'offset', value: String(offset) },
      { key: 'length', value: String(length) },
    ],
  };
}

export function modelBytes(initializer: onnx.ITensorProto[], extra: Partial<onnx.IGraphProto> = {}, metadata: Record<string, string> = {}): Uint8Array {
  const m = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'loader-test',
    opsetImport: [{ domain: '', version: 17 }],
    metadataProps: Object.entries(metadata).map(([key, value]) => ({ key, value })),
    graph: { name: 'g', initializer, ...extra },
  });
  // protobufjs returns a slice of Node's shared Buffer pool; the loader keeps views, so copy out of the pool.
  return new Uint8Array(onnx.ModelProto.encode(m).finish());
}
