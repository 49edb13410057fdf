import { defineConfig } from 'vitest/config';

// Default suite: fast unit and small statistical tests (under 10 minutes on 2 cores).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/**/*.slow.test.ts', 'node_modules/**', 'dist/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
