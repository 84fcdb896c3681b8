import { describe, expect, it } from 'vitest';
import { readFixtureSet, readFixtureTensor, readManifest, requireFixtures, FIXTURES_DIR } from './helpers/fixtures.js';
import { join } from 'node:path';

describe('fixture reader', () => {
  it('reads the torch-rng table and a manifest', () => {
    requireFixtures();
    const t = readFixtureTensor(join(FIXTURES_DIR, 'torch-rng', 'randn_seed0_1x80x15000.pb'));
    expect(t.dims).toEqual([1, 80, 15000]);
    // First values quoted in the spec (torch.manual_seed(0); torch.randn).
    expect(t.data[0]).toBeCloseTo(-1.1258398, 6);
    expect(t.data[1]).toBeCloseTo(-1.1523602, 6);
    const m = readManifest();
    expect(m.name).toBe('tiny-cosyvoice3');
    const s = readFixtureSet('flow_estimator', 0);
    expect(s.inputs.length).toBe(6);
    expect(s.outputs.length).toBe(1);
  });
});
