/** Registers the CPU fallback engine for `verify --engine wasm` (Node: it reads the converted folder from disk). */
import { registerEngine } from '../ort/engine.js';
import { loadModelFolder } from './node-model-files.js';
import { WasmEngine } from './wasm-engine.js';

registerEngine('wasm', async (dir) => WasmEngine.create(await loadModelFolder(dir)));
