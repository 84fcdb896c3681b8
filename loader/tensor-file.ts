/**
 * A lone ONNX TensorProto file (`*.pb`, the ONNX backend-test layout the reference fixtures use) as a
 * TensorRecord, through the same wire reader and TensorProto parser as model files. Browser-safe.
 */
import { CorruptFileError } from './errors.js';
import { parseTensorProto } from './onnx-tensor.js';
import { DEFAULT_MAX_TENSOR_BYTES, type TensorRecord } from './types.js';
import { WireReader } from './wire.js';

export function parseTensorFile(bytes: Uint8Array, file?: string): TensorRecord {
  const t = parseTensorProto(new WireReader(bytes, { file }), file, DEFAULT_MAX_TENSOR_BYTES);
  if (t.kind !== 'inline') throw new CorruptFileError('a lone TensorProto cannot use external data', { file, tensor: t.ref.name });
  return t.record;
}

export type TypedTensorData = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | Uint16Array | Int8Array;

/** The record's values as the matching typed array (copied, so it is aligned): float16/bfloat16 as raw bits. */
export function typedData(t: TensorRecord): TypedTensorData {
  const b = t.bytes.slice().buffer;
  switch (t.dtype) {
    case 'float32': return new Float32Array(b);
    case 'float64': return new Float64Array(b);
    case 'int32': return new Int32Array(b);
    case 'int64': return new BigInt64Array(b);
    case 'float16':
    case 'bfloat16': return new Uint16Array(b);
    case 'int8': return new Int8Array(b);
    default: return new Uint8Array(b);
  }
}
