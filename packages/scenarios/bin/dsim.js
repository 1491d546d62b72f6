#!/usr/bin/env node
// The dsim command. Runs the built CLI (dist/), which is what the npm package ships. In a checkout that
// has not been built yet it runs the TypeScript sources through tsx instead, so `dsim` works right
// after `pnpm install`.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dist = new URL('../dist/cli.js', import.meta.url);
if (existsSync(fileURLToPath(dist))) {
  await import(dist.href);
} else {
  const source = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
  const tsx = fileURLToPath(import.meta.resolve('tsx'));
  const result = spawnSync(
    process.execPath,
    ['--conditions', '@dsim/source', '--import', tsx, source, ...process.argv.slice(2)],
    { stdio: 'inherit' },
  );
  process.exitCode = result.status ?? 1;
}
