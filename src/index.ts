/**
 * cosyvoice-webgpu: the browser-safe library surface (no file system, no `webgpu` package, no ONNX Runtime).
 * Node-only entry points live in src/node.ts.
 */
export * from './gpu/index.js';
