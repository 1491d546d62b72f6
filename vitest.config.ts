import { defineConfig } from 'vitest/config';

// Tests run against source through the `@dsim/source` export condition: no build step.
export default defineConfig({
  resolve: { conditions: ['@dsim/source'] },
  ssr: { resolve: { conditions: ['@dsim/source'] } },
  test: {
    // Simulation-heavy tests (scenarios against theory, the real bin spawning tsc) take seconds on a
    // loaded 2-core machine; the default 5 s turns load into flaky failures.
    testTimeout: 30_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'core',
          include: ['packages/core/test/**/*.test.ts'],
          setupFiles: ['./packages/core/test/setup/determinism-guard.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'components',
          include: ['packages/components/test/**/*.test.ts'],
          setupFiles: ['./packages/core/test/setup/determinism-guard.ts'],
        },
      },
      { extends: true, test: { name: 'scenarios', include: ['packages/scenarios/test/**/*.test.ts'] } },
      { extends: true, test: { name: 'examples', include: ['examples/*/test/**/*.test.ts'] } },
    ],
  },
});
