/**
 * The WASM (AssemblyScript) fallback of `linear` for machines without WebGPU: y[M, N] = x[M, K] · W[N, K]ᵀ
 * (+ bias), f32 in and out, f64 accumulation. Same shapes and the same float64 reference tests as the GPU kernel.
 * Built by `npm run build:wasm` (scripts/build-wasm.mjs) from kernels/wasm/linear.as.ts.
 */
import linearWasm from './wasm/build/linear.wasm.js';
import { ShapeMismatchError } from '../src/gpu/errors.js';

interface LinearExports {
  memory: WebAssembly.Memory;
  linear(x: number, w: number, bias: number, y: number, M: number, N: number, K: number): void;
  reserve(bytes: number): number;
}

let instance: LinearExports | undefined;

function decodeBase64(b64: string): Uint8Array {
  if (typeof atob === 'function') return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  return new Uint8Array(Buffer.from(b64, 'base64'));
}

async function wasm(): Promise<LinearExports> {
  if (!instance) {
    const module = await WebAssembly.compile(decodeBase64(linearWasm) as Uint8Array<ArrayBuffer>);
    const inst = await WebAssembly.instantiate(module, { env: { abort: () => { throw new Error('wasm abort'); } } });
    instance = inst.exports as unknown as LinearExports;
  }
  return instance;
}

export async function linearWasmF32(x: Float32Array, w: Float32Array, M: number, N: number, K: number, bias?: Float32Array): Promise<Float32Array> {
  if (x.length !== M * K || w.length !== N * K || (bias && bias.length !== N)) {
    throw new ShapeMismatchError(`linearWasm: x [${x.length}] / W [${w.length}] / bias [${bias?.length ?? 0}] do not fit M=${M} N=${N} K=${K}`);
  }
  const e = await wasm();
  const bytes = 4 * (x.length + w.length + N + M * N);
  const base = e.reserve(bytes);
  if (!base) throw new RangeError(`linearWasm: cannot grow WASM memory by ${bytes} bytes`);
  const f = new Float32Array(e.memory.buffer);
  const xo = base / 4, wo = xo + x.length, bo = wo + w.length, yo = bo + N;
  f.set(x, xo);
  f.set(w, wo);
  if (bias) f.set(bias, bo);
  e.linear(xo * 4, wo * 4, bias ? bo * 4 : 0, yo * 4, M, N, K);
  return new Float32Array(e.memory.buffer, yo * 4, M * N).slice();
}
