// The CLI as an installed user meets it: the real bin, run from folders outside the workspace, with
// and without a package.json, next to another copy of dsim; starter projects; type-checking; event
// logs far larger than the heap.
import { execFile } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../../..');
const BIN = join(ROOT, 'packages/scenarios/bin/dsim.js');
const run = promisify(execFile);

async function bin(args: string[], cwd: string, env: Record<string, string> = {}) {
  try {
    const r = await run(process.execPath, [BIN, ...args], {
      cwd,
      encoding: 'utf8',
      timeout: 120_000,
      maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, ...env },
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

const scratch = mkdtempSync(join(tmpdir(), 'dsim-cli-files-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const SCENARIO = `import { defineScenario, param } from '@dsim/scenarios';
import { Resource, exponential } from '@dsim/core';

export default defineScenario({
  name: 'outside',
  description: 'An M/M/1 queue from a folder outside the workspace',
  params: { customers: param.integer({ default: 2000, min: 1, max: 1_000_000, description: 'customers' }) },
  variants: [{ name: 'one' }, { name: 'two', params: { customers: 500 } }],
  run({ sim, params, requests, check }) {
    const server = new Resource(sim, { capacity: 1, name: 'server' });
    const rng = sim.rng('arrivals');
    const gap = exponential({ mean: 10 });
    const service = exponential({ mean: 8 });
    sim.process(function* source() {
      for (let i = 0; i < params.customers; i++) {
        sim.process(function* customer() {
          const start = sim.now;
          requests.start();
          const req = yield* server.request();
          yield sim.timeout(service.sample(rng));
          server.release(req);
          requests.finish(true, sim.now - start);
        });
        yield sim.timeout(gap.sample(rng));
      }
    });
    sim.run();
    check('served everyone', true, 'ok');
    return { customers: params.customers, end: sim.now };
  },
});
`;

describe('scenario files anywhere', () => {
  it('runs a file in a folder with no package.json and no node_modules', async () => {
    const dir = mkdtempSync(join(scratch, 'bare-'));
    writeFileSync(join(dir, 'q.scenario.ts'), SCENARIO);
    const r = await bin(['run', 'q.scenario.ts', '--seed', '4', '--json'], dir);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.headline).toBe('one');
    expect(doc.variants.map((v: { events: number }) => v.events > 0)).toEqual([true, true]);
    expect(doc.reproduce).toBe('dsim run q.scenario.ts --seed 4');
    // The reproduce line runs as printed, and gives the same digest.
    const again = await bin([...doc.reproduce.split(' ').slice(1), '--json'], dir);
    expect(JSON.parse(again.stdout).digest).toBe(doc.digest);
  });

  it('runs a file in a CommonJS package, as an ES module', async () => {
    const dir = mkdtempSync(join(scratch, 'cjs-'));
    writeFileSync(join(dir, 'package.json'), '{ "name": "legacy", "type": "commonjs" }');
    writeFileSync(join(dir, 'q.scenario.ts'), SCENARIO);
    const r = await bin(['run', 'q.scenario.ts', '--seed', '4', '--variant', 'two'], dir);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('PASS  two: served everyone');
  });

  it('uses its own dsim even when the project has another copy installed', async () => {
    const dir = mkdtempSync(join(scratch, 'other-copy-'));
    for (const name of ['core', 'scenarios', 'components']) {
      const pkg = join(dir, 'node_modules/@dsim', name);
      mkdirSync(pkg, { recursive: true });
      writeFileSync(
        join(pkg, 'package.json'),
        JSON.stringify({ name: `@dsim/${name}`, type: 'module', exports: { '.': './index.js' } }),
      );
      writeFileSync(
        join(pkg, 'index.js'),
        `throw new Error('the other copy of @dsim/${name} was loaded');\n`,
      );
    }
    writeFileSync(join(dir, 'package.json'), '{ "name": "project", "type": "module" }');
    writeFileSync(join(dir, 'q.scenario.ts'), SCENARIO);
    const r = await bin(['run', './q.scenario.ts', '--seed', '4', '--variant', 'two', '--json'], dir);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).outcome.customers).toBe(500);
  });

  it('dsim init writes a starter project that runs and type-checks', async () => {
    const dir = join(scratch, 'starter');
    const init = await bin(['init', dir], scratch);
    expect(init.code, init.stderr).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(['hello.scenario.ts', 'package.json', 'tsconfig.json']);
    expect(JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).dependencies).toHaveProperty(
      '@dsim/core',
    );
    const ran = await bin(['run', 'hello.scenario.ts', '--seed', '1'], dir);
    expect(ran.stderr).toBe('');
    expect(ran.code).toBe(0);
    expect(ran.stdout).toMatch(/PASS\s+retries: every request finished/);
    const checked = await bin(['check', 'hello.scenario.ts'], dir);
    expect(checked.stdout + checked.stderr).toContain('hello.scenario.ts: no type errors');
    expect(checked.code).toBe(0);
  });

  it('dsim check reports type errors as tsc does, and --typecheck stops before running', async () => {
    const dir = mkdtempSync(join(scratch, 'typed-'));
    writeFileSync(
      join(dir, 'bad.scenario.ts'),
      SCENARIO.replace(
        'return { customers: params.customers, end: sim.now };',
        'const n: string = params.customers;\n    return { n };',
      ),
    );
    const checked = await bin(['check', 'bad.scenario.ts'], dir);
    expect(checked.code).toBe(2);
    expect(checked.stderr).toMatch(
      /bad\.scenario\.ts\(\d+,\d+\): error TS2322: Type 'number' is not assignable to type 'string'/,
    );
    const ran = await bin(['run', 'bad.scenario.ts', '--typecheck', '--seed', '1'], dir);
    expect(ran.code).toBe(2);
    expect(ran.stdout).toBe('');
    expect(ran.stderr).toContain('TS2322');
  });
});

describe('outputs', () => {
  it('streams an event log far larger than the heap, atomically', async () => {
    const dir = mkdtempSync(join(scratch, 'big-'));
    writeFileSync(
      join(dir, 'chatty.scenario.ts'),
      `import { defineScenario, param } from '@dsim/scenarios';
export default defineScenario({
  name: 'chatty',
  description: 'Logs a lot',
  params: { lines: param.integer({ default: 1000, min: 1, max: 10_000_000, description: 'log lines' }) },
  run({ sim, params }) {
    sim.process(function* talker() {
      for (let i = 0; i < params.lines; i++) {
        sim.log('a line of the event log, long enough to add up quickly', { i, padding: 'x'.repeat(40) });
        if (i % 1000 === 999) yield sim.timeout(1);
      }
    });
    sim.run();
    return { lines: params.lines };
  },
});
`,
    );
    const out = join(dir, 'events.ndjson');
    // About 400 MB of NDJSON through a 96 MB heap: only a streamed write can do it.
    const r = await bin(
      ['run', 'chatty.scenario.ts', '--seed', '1', '--set', 'lines=2500000', '--events', out, '--json'],
      dir,
      {
        NODE_OPTIONS: '--max-old-space-size=96',
      },
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(statSync(out).size).toBeGreaterThan(300 * 1024 * 1024);
    expect(readdirSync(dir).sort()).toEqual(['chatty.scenario.ts', 'events.ndjson']);
    expect(r.stdout.length).toBeLessThan(4000);
  }, 120_000);

  it('a run stopped by --max-wall leaves nothing behind and says so', async () => {
    const dir = mkdtempSync(join(scratch, 'wall-'));
    const r = await bin(
      ['run', 'retry-storm', '--seed', '1', '--max-wall', '50ms', '--events', join(dir, 'e.ndjson')],
      dir,
    );
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('--max-wall');
    expect(r.stderr).toContain('seed 1; reproduce: dsim run retry-storm --seed 1');
    expect(existsSync(join(dir, 'e.ndjson'))).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('Ctrl-C stops at once, leaves an existing output untouched, and the next run sweeps its temp file', async () => {
    const { spawn } = await import('node:child_process');
    const dir = mkdtempSync(join(scratch, 'sigint-'));
    const target = join(dir, 'events.ndjson');
    writeFileSync(target, 'previous run');
    const child = spawn(
      process.execPath,
      [BIN, 'run', 'distributed-cache', '--seed', '1', '--events', target],
      {
        cwd: dir,
      },
    );
    // Interrupt once the temporary file has appeared, i.e. mid-run (not during the output check, whose
    // probe file is also a second entry in the folder).
    const temporary = () => readdirSync(dir).some((name) => name.endsWith('.tmp'));
    for (let i = 0; i < 200 && !temporary(); i++) await new Promise((r) => setTimeout(r, 50));
    expect(temporary()).toBe(true);
    child.kill('SIGINT');
    const signal = await new Promise<string | null>((r) => child.on('exit', (_c, s) => r(s)));
    expect(signal).toBe('SIGINT');
    expect(readFileSync(target, 'utf8')).toBe('previous run');
    // A run killed during that check leaves its probe file: the next run sweeps it too.
    writeFileSync(join(dir, `.events.ndjson.${child.pid}.0.probe`), '');
    const again = await bin(['run', 'mmc', '--seed', '1', '--set', 'customers=200', '--events', target], dir);
    expect(again.code).toBe(0);
    expect(readdirSync(dir)).toEqual(['events.ndjson']);
    expect(readFileSync(target, 'utf8')).toContain('@dsim.run.start');
  }, 60_000);

  it('ends quietly when the reader closes the pipe', async () => {
    const { spawnSync } = await import('node:child_process');
    const res = spawnSync(
      'bash',
      ['-c', `node ${JSON.stringify(BIN)} run retry-storm --seed 1 --json --detail | head -c 10`],
      {
        encoding: 'utf8',
        cwd: ROOT,
      },
    );
    expect(res.stdout).toBe('{"scenario');
    expect(res.stderr).toBe('');
  });
});
