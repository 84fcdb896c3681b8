export { OnnxSession, SUPPORTED_OPS, type OnnxSessionOptions } from './session.js';
export { OnnxRunError, UnsupportedOpError, value, type Value, type ValueType } from './tensor.js';
