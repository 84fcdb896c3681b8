/**
 * A built pipeline keeps no reference to the ModelFiles it was built from: the weights then live on the device (or
 * in the WebAssembly memory), and the host tensors, GBs at full size when read eagerly (always, in a browser),
 * must be collectable. Each case drops its last reference to the stores and waits for a WeakRef to clear. A store
 * still reachable from the pipeline keeps it set: before the fixes, createWebGpuPipeline's dispose closure shared
 * a scope with the model builders over `files`, and the browser engine kept `files` as a field (3.9 GB of
 * ArrayBuffers after load at full size, 0.7 GB after).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { GpuContext } from '../../src/gpu/context.js';
import { CosyVoiceEngine } from '../../src/browser/cosyvoice-engine.js';
import type { CosyVoicePipeline } from '../../src/pipeline/tts.js';
import { createWasmPipeline } from '../../src/pipeline/wasm.js';
import { createWebGpuPipeline } from '../../src/pipeline/webgpu.js';
import { DirModelSource } from '../browser/harness.js';
import { tinyModelFiles, TINY_DIR } from '../helpers/fixtures.js';
import { testContext } from '../helpers/gpu.js';
import { convertModel } from '../../src/convert/index.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** True when the object behind `ref` was collected within a few GC rounds. */
async function collected(ref: WeakRef<object>): Promise<boolean> {
  for (let i = 0; i < 10 && ref.deref(); i++) {
    await new Promise((r) => setTimeout(r, 20));
    gc();
  }
  return ref.deref() === undefined;
}

/** Builds through `build` with stores only it can reach, and returns a WeakRef to one store with the result. */
async function buildAndDrop<T>(build: () => Promise<{ out: T; store: object }>): Promise<{ out: T; ref: WeakRef<object> }> {
  const { out, store } = await build();
  return { out, ref: new WeakRef(store) };
}

describe('pipelines release the host tensors they were built from', () => {
  it('createWebGpuPipeline', async () => {
    const shared = await testContext();
    const { out, ref } = await buildAndDrop(async () => {
      const files = tinyModelFiles();
      return { out: await createWebGpuPipeline(new GpuContext(shared.handle), files, { maxFrames: 200 }), store: files.llm };
    });
    expect(await collected(ref)).toBe(true);
    (out as CosyVoicePipeline).dispose();
  });

  it('createWasmPipeline', async () => {
    const { out, ref } = await buildAndDrop(async () => {
      const files = tinyModelFiles();
      return { out: await createWasmPipeline(files, { threads: 1 }), store: files.flow };
    });
    expect(await collected(ref)).toBe(true);
    out.dispose();
  });

  for (const inPlace of [false, true]) {
    it(`the browser engine (CosyVoiceEngine.loadWasm over a converted folder, ${inPlace ? 'read in place' : 'read whole'})`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'cv-retain-'));
      try {
        await convertModel(TINY_DIR, join(dir, 'c'));
        // The engine loads its own files: watch the buffers the source hands out (the records are views of them).
        const src = new DirModelSource(join(dir, 'c'), inPlace);
        const seen: object[] = [];
        const bytes = src.bytes.bind(src);
        src.bytes = async (file: string) => {
          const b = await bytes(file);
          if (file.endsWith('.onnx')) seen.push(Object.assign(b.buffer, { file }));
          return b;
        };
        const open = src.open.bind(src);
        src.open = (file: string) => {
          const f = open(file);
          const read = f.read.bind(f);
          f.read = async (offset: number, length: number) => {
            const b = await read(offset, length);
            seen.push(Object.assign(b.buffer, { file }));
            return b;
          };
          return f;
        };
        const engine = await CosyVoiceEngine.loadWasm(src, 'f32');
        const refs = seen.splice(0).map((s) => [(s as { file: string }).file, new WeakRef(s)] as const);
        expect(refs.length).toBeGreaterThan(0);
        const kept: string[] = [];
        for (const [file, r] of refs) if (!(await collected(r))) kept.push(file);
        expect(kept).toEqual([]);
        engine.dispose();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
