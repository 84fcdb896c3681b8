import { describe, expect, it } from 'vitest';
import type { DispatchRecord } from '../../src/gpu/dispatch.js';
import { PlanCache } from '../../src/gpu/plan-cache.js';

describe('PlanCache (most recently used plans, bounded)', () => {
  const plan = (label: string): DispatchRecord[] => [{ label } as DispatchRecord];
  it('builds once per key, keeps the max most recently used, and rebuilds what it evicted', () => {
    const cache = new PlanCache(2);
    const built: string[] = [];
    const get = (k: string) => cache.get(k, () => (built.push(k), plan(k)));
    const a = get('a');
    expect(get('a')).toBe(a); // a hit returns the same list
    get('b');
    get('a'); // a is now the most recent: b is the one to go
    get('c');
    expect(built).toEqual(['a', 'b', 'c']);
    get('a');
    expect(built).toEqual(['a', 'b', 'c']);
    get('b');
    expect(built).toEqual(['a', 'b', 'c', 'b']);
  });
  it('keeps nothing when the build throws', () => {
    const cache = new PlanCache(1);
    expect(() => cache.get('x', () => { throw new RangeError('bad shape'); })).toThrow(RangeError);
    let n = 0;
    cache.get('x', () => (n++, plan('x')));
    expect(n).toBe(1);
  });
});
