import { defineConfig } from 'vitest/config';

// One native lab per test run: test/global-setup.ts brings it up once on its own port base and
// every suite shares it. Files run one at a time, because integration suites act on that one cluster.
export default defineConfig({
  test: {
    include: ['test/**/*.test.{ts,tsx}'],
    globalSetup: ['test/global-setup.ts'],
    // Before each file: the shared lab mended, whatever the file before left; after each test: no command it
    // started still running (test/support/each-file.ts).
    setupFiles: ['test/support/each-file.ts'],
    fileParallelism: false,
    // A test's own waits bound it, each with a message saying what it waited for; vitest's timeout is only
    // the backstop, well above them, so that it never abandons a test body half-way while that body goes on
    // acting on the lab (a CI machine here runs the suite ≈ 2.5× slower than a developer's).
    testTimeout: 600_000,
    hookTimeout: 600_000,
    reporters: ['default', './test/support/summary-reporter.ts'],
  },
});
