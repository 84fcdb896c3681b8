import { describe, it } from 'vitest';
import { verifyKinds } from './helpers.js';

describe('wasm engine: HiFT on the tiny official fixtures', () => {
  it('hift_inference sets pass verify', async () => {
    await verifyKinds(['hift_inference']);
  });
});
