import { defineConfig } from 'vitest/config';

// One native lab per test run: test/global-setup.ts brings it up once on its own port base and
// every suite shares it. Files run one at a time, because integration suites act on that one cluster.
export default defineConfig({
  test: {
    include: ['test/**/*.test.{ts,tsx}'],
    globalSetup: ['test/global-setup.ts'],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 240_000,
    reporters: ['default', './test/support/summary-reporter.ts'],
  },
});
