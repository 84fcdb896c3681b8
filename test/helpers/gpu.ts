/**
 * The GPU context every GPU test uses: one device per test process, created on first use. There is no skip:
 * without an adapter the test fails with the NoAdapterError message (which says what to install).
 */
import { GpuContext } from '../../src/gpu/context.js';
import { adapterLabel } from '../../src/gpu/device.js';
import { requestNodeDevice } from '../../src/gpu/node-device.js';

let ctxPromise: Promise<GpuContext> | undefined;

export function testContext(): Promise<GpuContext> {
  ctxPromise ??= requestNodeDevice().then((h) => {
    const ctx = new GpuContext(h);
    // Printed once per test process so the CI log names the adapter the GPU tests ran on.
    console.log(`[gpu] adapter: ${adapterLabel(h.info)}; features: ${[...h.features].join(', ') || 'none'}`);
    return ctx;
  });
  return ctxPromise;
}
