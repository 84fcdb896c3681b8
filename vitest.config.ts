import { defineConfig } from 'vitest/config';

// lavapipe is a CPU device with 2 cores, and compiling a WGSL pipeline through LLVM costs 0.1–1 s. All test
// files therefore run one after another in ONE process (no isolation): they share one Dawn device and its
// compiled pipelines (test/helpers/gpu.ts), instead of recompiling every shader per file.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 1,
    isolate: false,
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 300_000,
    setupFiles: ['test/setup.ts'],
  },
});
