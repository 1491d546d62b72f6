import { defineConfig } from 'tsup';

export default defineConfig({
  // The sweep's worker threads load dist/worker.js on their own.
  entry: {
    index: 'src/index.ts',
    cli: 'src/cli.ts',
    vitest: 'src/vitest.ts',
    worker: 'src/sweep/worker.ts',
  },
  external: ['vitest'],
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
});
