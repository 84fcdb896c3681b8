/** Small statistics and number formatting the benchmark scripts share (bench/harness.ts re-exports median). */

// The median lives with the tuner's timing (src/tune/measure.ts), which the runtime ships; the benches share it.
export { median } from '../src/tune/measure.js';

/** A number for a results table: '—' when missing, whole numbers from 100 up, else `digits` significant digits. */
export function fmt(v: number | null, digits = 3): string {
  return v === null || !Number.isFinite(v) ? '—' : v >= 100 ? v.toFixed(0) : v.toPrecision(digits);
}
