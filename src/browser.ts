/** Browser bundle entry: registers the WGSL sources inlined at build time, then exposes the library. */
import shaders from 'virtual:shaders';
import { registerShaders } from './gpu/shader-registry.js';

registerShaders(shaders);
export * from './index.js';
