/**
 * Browser-safe loader API. Node file-system entry points (loadOnnx, loadPt, loadSafetensors, readHyperYaml,
 * readQwen2Config) live in loader/node.ts so that bundlers never see node: imports from here.
 */
export * from './errors.js';
export * from './types.js';
export { type DType, DTYPE_BITS, ONNX_DTYPES, byteLengthOf, toFloat32, ownFloat32, copyFloat32Into, halfToFloat, f32ToF16Bits, toF16Bits, bf16ToFloat } from './dtype.js';
export { parseOnnx, parseOnnxModel, type OnnxModel, type OnnxGraph, type OnnxNode, type ValueInfo, type ParsedOnnx } from './onnx.js';
export type { ExternalRef } from './onnx-tensor.js';
export { resolveExternal, leaveInlineInFile, coalesce, DEFAULT_COALESCE, type CoalesceOptions, type OpenSource, type ExternalOptions } from './onnx-external.js';
export { type ByteSource, MemorySource, safeRelativeLocation } from './byte-source.js';
export { rangeRecord, readProgress, LAZY_MIN_BYTES, type SyncReader } from './range-record.js';
export { HttpSource, fetchBytes, loadOnnxUrl, type FetchOptions } from './fetch-source.js';
export { parsePt, readPt, planPt, finishPt, type PtOptions, type PtPlan } from './pt.js';
export { parseSafetensors, parseSafetensorsHeader, type SafetensorsHeader } from './safetensors.js';
export { parseHyperYaml, yamlNumber, evalArithmetic } from './hyperyaml.js';
export { parseQwen2Config, type Qwen2Config } from './qwen2-config.js';
export { unpickle, TensorRef, StorageRef } from './pickle.js';
export { readZipDirectory, readZipEntry, memoryReader, type RangeReader, type ZipEntry } from './zip.js';
export { ShapeMismatchError, getTensor, withPrefix, renamedRecord, checkTensorNames, similarNames, type TensorExpectation } from './store.js';
export { type WeightFill, fillFrom, recordFill, stackedRows, Staging } from './fill.js';
