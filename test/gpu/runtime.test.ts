import { describe, expect, it } from 'vitest';
import { BufferPool } from '../../src/gpu/buffer-pool.js';
import { GpuContext, STORAGE } from '../../src/gpu/context.js';
import { requestGpuDevice } from '../../src/gpu/device.js';
import { AdapterLimitError, DeviceLostError, NoAdapterError, ShaderError } from '../../src/gpu/errors.js';
import { nodeGpu, requestNodeDevice } from '../../src/gpu/node-device.js';
import { preprocessWgsl, variantName } from '../../src/gpu/wgsl-preprocess.js';
import { testContext } from '../helpers/gpu.js';

describe('WGSL preprocessor', () => {
  const includes: Record<string, string> = { common: 'const C: u32 = {{N}}u;' };
  const run = (src: string, defines: Record<string, number | boolean | string>) =>
    preprocessWgsl('t', src, defines, (n) => includes[n]);

  it('selects branches, nests, substitutes and includes', () => {
    const src = ['#include "common"', '#ifdef A', 'a', '#ifndef B', 'a-not-b', '#else', 'a-and-b', '#endif', '#else', 'not-a', '#endif', 'x={{N}}'].join('\n');
    expect(run(src, { A: true, N: 4 }).split('\n')).toEqual(['const C: u32 = 4u;', 'a', 'a-not-b', 'x=4']);
    expect(run(src, { A: true, B: 1, N: 4 }).split('\n')).toEqual(['const C: u32 = 4u;', 'a', 'a-and-b', 'x=4']);
    expect(run(src, { A: false, N: 2 }).split('\n')).toEqual(['const C: u32 = 2u;', 'not-a', 'x=2']);
  });

  it('reports errors with file and line', () => {
    expect(() => run('#ifdef A\nx', {})).toThrow(ShaderError);
    expect(() => run('#endif', {})).toThrow(/t\.wgsl:1/);
    expect(() => run('{{MISSING}}', {})).toThrow(/MISSING/);
    expect(() => run('#pragma x', {})).toThrow(/unknown directive/);
  });

  it('derives variant names from sorted defines', () => {
    expect(variantName('matmul', 'gemv', { TILE: 16, F16W: true, BIAS: false })).toBe('matmul_gemv_F16W_TILE16');
  });
});

describe('buffer pool', () => {
  it('reuses released buffers of the same bucket and destroys all on dispose', async () => {
    const ctx = await testContext();
    const created0 = ctx.counters.buffersCreated;
    const pool = new BufferPool((size, usage, label) => ctx.createBuffer(size, usage, label));
    const a = pool.acquire(1000, STORAGE);
    expect(a.size).toBe(1024);
    pool.release(a);
    const b = pool.acquire(700, STORAGE);
    expect(b).toBe(a);
    const c = pool.acquire(700, STORAGE);
    expect(c).not.toBe(a);
    expect(ctx.counters.buffersCreated - created0).toBe(2);
    pool.dispose();
    expect(pool.liveCount + pool.freeCount).toBe(0);
  });
});

describe('device errors', () => {
  it('no WebGPU at all, or no adapter → NoAdapterError with advice', async () => {
    await expect(requestGpuDevice(undefined)).rejects.toThrow(NoAdapterError);
    const fakeGpu = { requestAdapter: async () => null } as unknown as GPU;
    await expect(requestGpuDevice(fakeGpu)).rejects.toThrow(/mesa-vulkan-drivers/);
  });

  it('adapter below a needed limit → AdapterLimitError naming the limit, needed and available', async () => {
    const gpu = await nodeGpu();
    const err = await requestGpuDevice(gpu, { requiredLimits: { maxComputeWorkgroupStorageSize: 1 << 30 } }).catch((e) => e);
    expect(err).toBeInstanceOf(AdapterLimitError);
    expect(err.limit).toBe('maxComputeWorkgroupStorageSize');
    expect(err.needed).toBe(1 << 30);
    expect(err.message).toMatch(/maxComputeWorkgroupStorageSize is \d+, but 1073741824 is needed/);
  });

  it('device lost mid-run rejects the pending readback and later work with DeviceLostError', async () => {
    const ctx = new GpuContext(await requestNodeDevice());
    const t = ctx.upload(new Float32Array(1 << 16).fill(1), 'f32', [1 << 16]);
    const pending = ctx.readBytes(t.buffer);
    ctx.device.destroy();
    const err = await pending.then(() => null, (e) => e);
    // Dawn may complete the copy before destroy takes effect; either way later work must fail clearly.
    if (err) expect(err).toBeInstanceOf(DeviceLostError);
    await new Promise((r) => setTimeout(r, 50));
    expect(() => ctx.tensor('f32', [4])).toThrow(DeviceLostError);
    await expect(ctx.finish()).rejects.toThrow(/device lost/);
  });
});
