// Global test setup. GPU tests get their device from test/helpers/gpu.ts, which fails (never skips) when no
// adapter exists, so a CI machine without lavapipe goes red with a clear message.
export {};
