import { defineConfig } from 'vitest/config';

// Long statistical runs: `npm run test:slow`.
export default defineConfig({
  test: {
    include: ['test/**/*.slow.test.ts'],
    testTimeout: 1_800_000,
    hookTimeout: 600_000,
    pool: 'forks',
  },
});
