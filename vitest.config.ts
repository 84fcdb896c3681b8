import { defineConfig } from 'vitest/config';

// lavapipe is a CPU device with 2 cores: GPU test files run one after another in one forked process so that they
// share one Dawn instance and do not fight each other for the cores.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    setupFiles: ['test/setup.ts'],
  },
});
