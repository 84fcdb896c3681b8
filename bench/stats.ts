/** Small statistics the benchmark scripts share (bench/harness.ts re-exports them). */

// The median lives with the tuner's timing (src/tune/measure.ts), which the runtime ships; the benches share it.
export { median } from '../src/tune/measure.js';
