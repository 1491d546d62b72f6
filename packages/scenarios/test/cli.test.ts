import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../src/index.js';

async function cli(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
  return { code, stdout, stderr };
}

const tiny = resolve(import.meta.dirname, 'fixtures/tiny.scenario.ts');

describe('dsim CLI', () => {
  it('list prints one line per built-in scenario', async () => {
    const r = await cli('list');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^mmc\s+M\/M\/c/m);
    expect(r.stderr).toBe('');
  });

  it('run --json prints exactly one JSON document with the fields docs/cli.md lists', async () => {
    const r = await cli('run', 'mmc', '--seed', '1', '--set', 'customers=3000', '--json');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    for (const key of [
      'scenario',
      'seed',
      'params',
      'simulatedMs',
      'events',
      'wallMs',
      'digest',
      'metrics',
      'variants',
      'checks',
    ]) {
      expect(doc).toHaveProperty(key);
    }
    expect(doc.seed).toBe('1');
    expect(doc.params.customers).toBe(3000);
    expect(Object.keys(doc.metrics.latencyMs)).toEqual(['mean', 'p50', 'p90', 'p99', 'p999', 'max']);
    expect(doc.reproduce).toBe('dsim run mmc --seed 1 --set customers=3000');
  });

  it('run prints a readable table with the checks and the reproduce line', async () => {
    const r = await cli('run', 'mmc', '--seed', '2', '--set', 'customers=3000');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('scenario mmc   seed 2   digest ');
    expect(r.stdout).toMatch(/PASS\s+Little's law/);
    expect(r.stdout).toContain('reproduce: dsim run mmc --seed 2 --set customers=3000');
  });

  it('chooses and prints a seed on stderr when none is given', async () => {
    const r = await cli('run', 'mmc', '--set', 'customers=500', '--json');
    expect(r.stderr).toMatch(/using seed \d+/);
    const seed = /using seed (\d+)/.exec(r.stderr)![1];
    expect(JSON.parse(r.stdout).seed).toBe(seed);
  });

  it('loads a user .ts scenario file without a build step, and writes the NDJSON event log', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dsim-cli-'));
    const events = join(dir, 'out.ndjson');
    const r = await cli('run', tiny, '--seed', '4', '--set', 'ticks=3', '--events', events, '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).outcome).toEqual({ ticks: 3, end: 30 });
    const lines = readFileSync(events, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({ t: 0, seq: 0, type: '@dsim.run.start', seed: '4', scenario: 'tiny' });
    expect(lines.filter((l) => l.type === '@dsim.log').map((l) => [l.t, l.data.i])).toEqual([
      [10, 0],
      [20, 1],
      [30, 2],
    ]);
    expect(lines.at(-1).type).toBe('@dsim.run.end');
    expect(readdir(dir)).toEqual(['out.ndjson']); // no temp file left behind
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes a Perfetto trace with --trace, tracks prefixed by variant', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dsim-cli-'));
    const trace = join(dir, 'trace.json');
    const example = resolve(import.meta.dirname, '../../../examples/partition-demo/partition.scenario.ts');
    const r = await cli('run', example, '--seed', '1', '--set', 'seconds=21', '--trace', trace, '--json');
    expect(r.code).toBe(0);
    const doc = JSON.parse(readFileSync(trace, 'utf8'));
    expect(doc.otherData).toEqual({ seed: '1', scenario: 'partition-demo' });
    const spans = doc.traceEvents.filter(
      (e: { ph: string; cat?: string }) => e.ph === 'b' && e.cat === 'rpc',
    );
    expect(spans.length).toBe(JSON.parse(r.stdout).metrics.requests);
    expect(
      doc.traceEvents.filter((e: { cat?: string }) => e.cat === 'fault').map((e: { name: string }) => e.name),
    ).toEqual(['fault: partition', 'fault: heal']);
    rmSync(dir, { recursive: true, force: true });
  });

  it('puts per-node metrics and series in the result and writes them as CSV with --metrics', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dsim-cli-'));
    const csv = join(dir, 'metrics.csv');
    const example = resolve(import.meta.dirname, '../../../examples/partition-demo/partition.scenario.ts');
    const r = await cli(
      'run',
      example,
      '--seed',
      '1',
      '--set',
      'seconds=21',
      '--metrics',
      csv,
      '--json',
      '--detail',
    );
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    const c1 = doc.nodes.c1.counters;
    expect(c1['rpc.sent']).toBe(c1['rpc.ok'] + c1['rpc.failed']);
    expect(doc.nodes.c1.counters['rpc.sent'] + doc.nodes.c2.counters['rpc.sent']).toBe(doc.metrics.requests);
    expect(doc.series.points).toBe(22); // 21 s plus the partial interval up to the last response
    const lines = readFileSync(csv, 'utf8').trimEnd().split('\n');
    expect(lines[0]).toBe('variant,t_ms,node,metric,field,value');
    const sent = lines
      .filter((l) => l.startsWith(',') && l.includes(',c1,rpc.sent,count,'))
      .map((l) => Number(l.split(',').at(-1)));
    expect(sent.reduce((a, b) => a + b, 0)).toBe(c1['rpc.sent']);
    rmSync(dir, { recursive: true, force: true });
  });

  it('a process-only scenario gives metrics rows and a trace with process slices and counters', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dsim-cli-'));
    const csv = join(dir, 'm.csv');
    const trace = join(dir, 't.json');
    const r = await cli(
      'run',
      'mmc',
      '--seed',
      '1',
      '--set',
      'customers=300',
      '--metrics',
      csv,
      '--trace',
      trace,
    );
    expect(r.code).toBe(0);
    const rows = readFileSync(csv, 'utf8').trimEnd().split('\n');
    expect(rows.filter((l) => l.includes(',servers,resource.wait,count,')).length).toBeGreaterThan(10);
    const events = JSON.parse(readFileSync(trace, 'utf8')).traceEvents as Array<{
      ph: string;
      cat?: string;
      name: string;
    }>;
    expect(events.filter((e) => e.ph === 'b' && e.cat === 'process' && e.name === 'customer')).toHaveLength(
      300,
    );
    expect(events.filter((e) => e.ph === 'C' && e.name === 'servers').length).toBe(900);
    rmSync(dir, { recursive: true, force: true });
  });

  it('--metrics-interval widens the series without changing the run', async () => {
    const fine = JSON.parse(
      (await cli('run', 'mmc', '--seed', '1', '--set', 'customers=2000', '--json', '--detail')).stdout,
    );
    const r = await cli(
      'run',
      'mmc',
      '--seed',
      '1',
      '--set',
      'customers=2000',
      '--json',
      '--detail',
      '--metrics-interval',
      '1m',
    );
    expect(r.code).toBe(0);
    const coarse = JSON.parse(r.stdout);
    expect(coarse.digest).toBe(fine.digest);
    expect(coarse.series.intervalMs).toBe(60_000);
    expect(coarse.series.points).toBe(Math.ceil(fine.simulatedMs / 60_000));
    expect(fine.series.points).toBe(Math.ceil(fine.simulatedMs / 1000));
  });

  it('exits 1 when a check fails, naming it and the reproduce line on stderr', async () => {
    const r = await cli('run', tiny, '--seed', '4', '--set', 'fail=true');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('1 check failed: ticks counted');
    expect(r.stderr).toContain('--seed 4 --set fail=true');
    expect(r.stdout).toMatch(/FAIL\s+ticks counted/);
  });

  it.each([
    [['run'], "'run' needs a scenario"],
    [['run', 'mmc', 'extra'], "'run' takes one scenario"],
    [['run', 'nope'], 'no built-in scenario named "nope"'],
    [['run', 'missing.ts'], 'scenario file not found: missing.ts'],
    [['run', 'mmc', '--bogus'], 'unknown option --bogus'],
    [['run', 'mmc', '--seed'], '--seed needs a value'],
    [['run', 'mmc', '--seed', ''], '--seed must not be empty'],
    [['run', 'mmc', '--set', 'servers=0'], 'parameter servers must be an integer >= 1'],
    [['run', 'mmc', '--set', 'speed=3'], 'unknown parameter "speed"'],
    [['run', 'mmc', '--set', 'lambda'], '--set expects key=value'],
    [['run', 'mmc', '--variant', 'x'], 'has no variants'],
    [['frobnicate'], 'unknown command "frobnicate"'],
    [['list', 'x'], '\'list\' takes no argument "x"'],
    [
      ['run', 'mmc', '--duration', '10m'],
      "--duration: scenario mmc has no 'duration' or 'seconds' parameter",
    ],
    [['run', 'retry-storm', '--duration', 'long'], '--duration'],
    [
      ['run', 'retry-storm', '--duration', '5s'],
      'parameter seconds (from --duration) must be a finite number >= 30 and <= 86400, got 5',
    ],
  ])('exits 2 on usage or config error: %j', async (argv, message) => {
    const r = await cli(...argv);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stdout).toBe('');
  });

  it('--duration sets the simulated seconds of a time-bounded scenario and is kept in the reproduce line', async () => {
    const r = await cli(
      'run',
      'retry-storm',
      '--seed',
      '2',
      '--duration',
      '45s',
      '--variant',
      'drop-expired',
      '--json',
    );
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result.params.seconds).toBe(45);
    expect(result.reproduce).toBe('dsim run retry-storm --seed 2 --duration 45s --variant drop-expired');
  });

  it('exits 2 when a file does not export a scenario', async () => {
    const r = await cli('run', resolve(import.meta.dirname, 'fixtures/not-a-scenario.ts'));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('must export a scenario');
  });

  it('run NAME --help lists the parameters', async () => {
    const r = await cli('run', 'mmc', '--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /lambda\s+number\s+default 4\s+a finite number > 0 and <= 1000000\s+arrivals per second/,
    );
  });

  it('the real bin exits 2 with a message, not a stack trace, on bad input', () => {
    const root = resolve(import.meta.dirname, '../../..');
    const tsx = join(root, 'node_modules/.bin/tsx');
    const res = spawnSync(
      tsx,
      [
        '--conditions',
        '@dsim/source',
        join(root, 'packages/scenarios/src/cli.ts'),
        'run',
        'mmc',
        '--set',
        'lambda=-1',
      ],
      {
        encoding: 'utf8',
        cwd: root,
      },
    );
    expect(res.status).toBe(2);
    expect(res.stderr).toContain('parameter lambda must be a finite number > 0 and <= 1000000, got -1');
    expect(res.stderr).not.toMatch(/\n\s+at /);
  });
});

const ROOT = resolve(import.meta.dirname, '../../..');
const DIST_CLI = join(ROOT, 'packages/scenarios/dist/cli.js');

describe('dsim CLI, user scenario files', () => {
  it('the bin run through tsx runs the example scenario that builds on core primitives', () => {
    const res = spawnSync(
      join(ROOT, 'node_modules/.bin/tsx'),
      [
        '--conditions',
        '@dsim/source',
        join(ROOT, 'packages/scenarios/src/cli.ts'),
        'run',
        'examples/mmc-basics/bank.scenario.ts',
        '--seed',
        '3',
        '--variant',
        'two-tellers',
        '--set',
        'hours=20',
        '--json',
      ],
      { encoding: 'utf8', cwd: ROOT },
    );
    expect(res.stderr).toBe('');
    expect(res.status).toBe(0);
    expect(JSON.parse(res.stdout).variants[0].name).toBe('two-tellers');
  });

  // The published bin loads .ts files through tsx's process-wide hooks, so the file's @dsim/core is the
  // CLI's own instance (a namespaced import would give a second SimEvent class). Runs after `pnpm build`
  // (CI builds first).
  it.runIf(existsSync(DIST_CLI))(
    'the built bin runs a user .ts scenario with the same module instances',
    () => {
      const res = spawnSync(
        process.execPath,
        [
          DIST_CLI,
          'run',
          'examples/mmc-basics/bank.scenario.ts',
          '--seed',
          '3',
          '--variant',
          'two-tellers',
          '--set',
          'hours=20',
          '--json',
        ],
        {
          encoding: 'utf8',
          cwd: ROOT,
        },
      );
      expect(res.stderr).toBe('');
      expect(res.status).toBe(0);
      expect(JSON.parse(res.stdout).outcome.served).toBeGreaterThan(0);
      const bad = spawnSync(
        process.execPath,
        [DIST_CLI, 'run', 'examples/mmc-basics/bank.scenario.ts', '--set', 'tellers=0'],
        { encoding: 'utf8', cwd: ROOT },
      );
      expect(bad.status).toBe(2);
      expect(bad.stderr).toContain('parameter tellers must be an integer >= 1, got 0');
    },
  );
});

function readdir(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir) : [];
}
