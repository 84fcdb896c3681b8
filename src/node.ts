/** Node entry: everything in the browser-safe surface plus Node's device and file access. */
export * from './index.js';
export { requestNodeDevice, nodeGpu } from './gpu/node-device.js';
export { loadShadersFromDisk } from './gpu/node-shaders.js';
