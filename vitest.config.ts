import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Live tests share one Prosody per file; each file runs in its own process.
    pool: 'forks',
    // Per-test progress to $XCHAT_TEST_PROGRESS (scripts/test.sh reports where a stalled run stopped).
    reporters: ['default', './test/progress-reporter.ts'],
  },
});
