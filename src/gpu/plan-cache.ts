/**
 * Dispatch lists (plans) cached per call shape, keeping the `max` most recently used: a model with many call
 * lengths (streaming HiFT re-runs at every chunk's length) holds a bounded number of bind groups.
 */
import type { DispatchRecord } from './dispatch.js';

export class PlanCache {
  /** Map insertion order is recency: a hit moves to the end, the first entry is the least recently used. */
  private readonly plans = new Map<string, DispatchRecord[]>();

  constructor(private readonly max: number) {}

  /** The plan for `key`, built by `build` on a miss. */
  get(key: string, build: () => DispatchRecord[]): DispatchRecord[] {
    const hit = this.plans.get(key);
    if (hit) {
      this.plans.delete(key);
      this.plans.set(key, hit);
      return hit;
    }
    const plan = build();
    if (this.plans.size >= this.max) this.plans.delete(this.plans.keys().next().value!);
    this.plans.set(key, plan);
    return plan;
  }

  clear(): void {
    this.plans.clear();
  }
}
