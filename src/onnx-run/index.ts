export { OnnxSession, SUPPORTED_OPS, unsupportedOps, type OnnxSessionOptions } from './session.js';
export { OnnxRunError, UnsupportedOpError, value, type Value, type ValueType } from './tensor.js';
