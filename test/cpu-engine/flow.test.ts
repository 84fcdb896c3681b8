import { describe, it } from 'vitest';
import { verifyKinds } from './helpers.js';

describe('wasm engine: flow on the tiny official fixtures', () => {
  it('estimator and whole-solve sets pass verify', async () => {
    await verifyKinds(['flow_estimator', 'flow_inference']);
  });
});
