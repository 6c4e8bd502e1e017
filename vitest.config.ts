import { defineConfig } from 'vitest/config';

const shared = { environment: 'node', testTimeout: 20_000, hookTimeout: 60_000 } as const;

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          ...shared,
          name: 'app',
          include: ['test/**/*.test.ts'],
          exclude: ['test/process/**'],
          sequence: { groupOrder: 0 },
        },
      },
      // The real process runs after the rest: it builds dist/ and starts `npm start` many times. No test times it;
      // start-up time is measured by `npm run bench:start` (bench/warm-start.mjs).
      { test: { ...shared, name: 'process', include: ['test/process/**/*.test.ts'], sequence: { groupOrder: 1 } } },
    ],
  },
});
