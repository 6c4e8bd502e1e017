import { defineConfig } from 'vitest/config';

const shared = { environment: 'node', testTimeout: 20_000, hookTimeout: 60_000 } as const;

export default defineConfig({
  test: {
    projects: [
      { test: { ...shared, name: 'app', include: ['test/**/*.test.ts'], exclude: ['test/process/**'], sequence: { groupOrder: 0 } } },
      // The real process runs last and alone: its start-up time is a requirement, measured on a quiet machine.
      { test: { ...shared, name: 'process', include: ['test/process/**/*.test.ts'], sequence: { groupOrder: 1 } } },
    ],
  },
});
