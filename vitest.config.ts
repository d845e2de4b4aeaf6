import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Live tests share one Prosody per file; files run in parallel on the 2 cores.
    pool: 'forks',
  },
});
