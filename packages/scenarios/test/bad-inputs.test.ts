// A catalogue of bad inputs, tried as a user would: CLI flags, --set values, durations, output paths,
// API misuse, and scenario files with every kind of defect (those through the real bin, from a folder
// outside the workspace). Each case asserts the exit code, that the message names the flag or field and
// the bad value, and that no stack trace reaches the user.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { defineScenario, main, mmc, param, runScenario } from '../src/index.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const BIN = join(ROOT, 'packages/scenarios/bin/dsim.js');
const STACK = /^\s+at .+:\d+:\d+\)?$/m;

async function cli(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
  return { code, stdout, stderr };
}

const run = promisify(execFile);

/** The real bin, as a user runs it, from `cwd`. */
async function bin(args: string[], cwd: string) {
  try {
    const r = await run(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', timeout: 60_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

const scratch = mkdtempSync(join(tmpdir(), 'dsim-bad-inputs-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const aFile = join(scratch, 'a-file.txt');
writeFileSync(aFile, 'not a folder');
const existing = join(scratch, 'existing');
mkdirSync(existing);
writeFileSync(join(existing, 'hello.scenario.ts'), '// mine');
mkdirSync(join(scratch, 'folder.ts'));

interface Case {
  /** What is wrong, for the test name. */
  what: string;
  args: string[];
  code: number;
  /** Each must appear in stderr. */
  says: string[];
}

const SMALL = ['--seed', '1', '--set', 'customers=200'];

const cliCases: Case[] = [
  { what: 'no command', args: [], code: 2, says: ['Usage:'] },
  { what: 'unknown command', args: ['frobnicate'], code: 2, says: ['"frobnicate"', 'list, run'] },
  { what: 'misspelt command', args: ['rn', 'mmc'], code: 2, says: ['"rn"', 'did you mean "run"'] },
  { what: 'scenario name as command', args: ['mmc'], code: 2, says: ['"mmc"', 'dsim run mmc'] },
  { what: 'list with an argument', args: ['list', 'extra'], code: 2, says: ['"extra"'] },
  {
    what: 'list with a misspelt flag',
    args: ['list', '--jsn'],
    code: 2,
    says: ['--jsn', 'did you mean --json'],
  },
  { what: 'run without a scenario', args: ['run'], code: 2, says: ['needs a scenario'] },
  { what: 'run with two scenarios', args: ['run', 'mmc', 'cdn'], code: 2, says: ['"mmc"', '"cdn"'] },
  { what: 'unknown scenario', args: ['run', 'mmcc'], code: 2, says: ['"mmcc"', 'did you mean "mmc"'] },
  { what: 'unknown scenario, no guess', args: ['run', 'zzzzzz'], code: 2, says: ['"zzzzzz"', 'dsim list'] },
  {
    what: 'missing file',
    args: ['run', 'nope.scenario.ts'],
    code: 2,
    says: ['nope.scenario.ts', 'not found'],
  },
  {
    what: 'a folder named .ts',
    args: ['run', join(scratch, 'folder.ts')],
    code: 2,
    says: ['folder.ts', 'is a folder'],
  },
  {
    what: 'misspelt flag',
    args: ['run', 'mmc', '--sed', '1'],
    code: 2,
    says: ['--sed', 'did you mean --seed'],
  },
  { what: 'unknown flag', args: ['run', 'mmc', '--frobnicate'], code: 2, says: ['--frobnicate', '--seed'] },
  { what: 'single-dash flag', args: ['run', 'mmc', '-x'], code: 2, says: ['-x'] },
  {
    what: 'seed without a value',
    args: ['run', 'mmc', '--seed'],
    code: 2,
    says: ['--seed', 'needs a value'],
  },
  { what: 'empty seed', args: ['run', 'mmc', '--seed', ''], code: 2, says: ['--seed', 'empty'] },
  { what: 'blank seed', args: ['run', 'mmc', '--seed', '   '], code: 2, says: ['--seed', 'empty'] },
  {
    what: 'seed twice',
    args: ['run', 'mmc', '--seed', '1', '--seed', '2'],
    code: 2,
    says: ['--seed', '2 times', '"1"', '"2"'],
  },
  {
    what: 'boolean flag with a value',
    args: ['run', 'mmc', '--json=yes'],
    code: 2,
    says: ['--json', 'takes no value'],
  },
  {
    what: '--detail without --json',
    args: ['run', 'mmc', '--detail', ...SMALL],
    code: 2,
    says: ['--detail', '--json'],
  },
  {
    what: '--set without =',
    args: ['run', 'mmc', '--set', 'customers'],
    code: 2,
    says: ['--set', 'key=value', '"customers"'],
  },
  { what: '--set without key', args: ['run', 'mmc', '--set', '=5'], code: 2, says: ['--set', '"=5"'] },
  { what: '--set without a value', args: ['run', 'mmc', '--set'], code: 2, says: ['--set', 'needs a value'] },
  {
    what: 'misspelt parameter',
    args: ['run', 'mmc', '--set', 'custmers=500'],
    code: 2,
    says: ['"custmers"', 'did you mean "customers"'],
  },
  {
    what: 'unknown parameter',
    args: ['run', 'mmc', '--set', 'zzz=1'],
    code: 2,
    says: ['"zzz"', 'lambda, mu, servers'],
  },
  {
    what: 'prototype key as parameter',
    args: ['run', 'mmc', '--set', 'constructor=1'],
    code: 2,
    says: ['"constructor"', 'known parameters'],
  },
  {
    what: '__proto__ as parameter',
    args: ['run', 'mmc', '--set', '__proto__=1'],
    code: 2,
    says: ['"__proto__"'],
  },
  {
    what: 'text for an integer',
    args: ['run', 'mmc', '--set', 'customers=abc'],
    code: 2,
    says: ['customers', '"abc"', 'integer'],
  },
  {
    what: 'integer below its minimum',
    args: ['run', 'mmc', '--set', 'customers=10'],
    code: 2,
    says: ['customers', '>= 100', 'got 10'],
  },
  {
    what: 'fraction for an integer',
    args: ['run', 'mmc', '--set', 'customers=1000.5'],
    code: 2,
    says: ['customers', 'integer', '1000.5'],
  },
  { what: 'negative rate', args: ['run', 'mmc', '--set', 'lambda=-1'], code: 2, says: ['lambda', 'got -1'] },
  { what: 'NaN rate', args: ['run', 'mmc', '--set', 'lambda=NaN'], code: 2, says: ['lambda', 'NaN'] },
  {
    what: 'infinite rate',
    args: ['run', 'mmc', '--set', 'lambda=Infinity'],
    code: 2,
    says: ['lambda', 'Infinity'],
  },
  { what: 'empty number', args: ['run', 'mmc', '--set', 'lambda='], code: 2, says: ['lambda', '""'] },
  { what: 'hex number', args: ['run', 'mmc', '--set', 'servers=0x'], code: 2, says: ['servers', '"0x"'] },
  {
    what: 'bad enum value',
    args: ['run', 'mmc', '--set', 'service=gamma'],
    code: 2,
    says: ['service', '"gamma"', '"exp"'],
  },
  {
    what: 'misspelt enum value',
    args: ['run', 'mmc', '--set', 'service=cnst'],
    code: 2,
    says: ['service', '"cnst"', 'did you mean "const"'],
  },
  {
    what: 'parameter set twice',
    args: ['run', 'mmc', '--set', 'customers=1000', '--set', 'customers=2000'],
    code: 2,
    says: ['customers', 'twice', 'customers=2000'],
  },
  { what: 'bad boolean', args: ['run', 'retry-storm', '--set', 'breaker=perhaps'], code: 2, says: [] },
  {
    what: '--duration on a scenario sized otherwise',
    args: ['run', 'mmc', '--duration', '10m'],
    code: 2,
    says: ['--duration', 'mmc', 'customers'],
  },
  {
    what: 'unparseable --duration',
    args: ['run', 'retry-storm', '--duration', 'soon'],
    code: 2,
    says: ['--duration', '"soon"'],
  },
  {
    what: 'negative --duration',
    args: ['run', 'retry-storm', '--duration', '-5s'],
    code: 2,
    says: ['--duration', '-5s'],
  },
  {
    what: 'negative --duration, written with =',
    args: ['run', 'retry-storm', '--duration=-5s'],
    code: 2,
    says: ['--duration', '"-5s"'],
  },
  {
    what: 'absurd --duration',
    args: ['run', 'retry-storm', '--duration', '99999999999999999999h'],
    code: 2,
    says: ['seconds'],
  },
  {
    what: 'absurd seconds',
    args: ['run', 'retry-storm', '--set', 'seconds=1e8'],
    code: 2,
    says: ['seconds', '100000000'],
  },
  {
    what: '--duration twice',
    args: ['run', 'retry-storm', '--duration', '1m', '--duration', '2m'],
    code: 2,
    says: ['--duration', '2 times'],
  },
  {
    what: '--duration with --set seconds',
    args: ['run', 'retry-storm', '--duration', '1m', '--set', 'seconds=30'],
    code: 2,
    says: ['--duration', '--set seconds'],
  },
  {
    what: 'unknown variant',
    args: ['run', 'retry-storm', '--variant', 'turbo'],
    code: 2,
    says: ['"turbo"', 'known variants', 'naive'],
  },
  {
    what: 'misspelt variant',
    args: ['run', 'retry-storm', '--variant', 'naiv'],
    code: 2,
    says: ['"naiv"', 'did you mean "naive"'],
  },
  {
    what: 'variant twice',
    args: ['run', 'retry-storm', '--variant', 'naive', '--variant', 'naive'],
    code: 2,
    says: ['"naive"', 'twice'],
  },
  {
    what: 'variant of a scenario without variants',
    args: ['run', 'mmc', '--variant', 'x', ...SMALL],
    code: 2,
    says: ['mmc', 'no variants', 'x'],
  },
  {
    what: '--events without a path',
    args: ['run', 'mmc', '--events'],
    code: 2,
    says: ['--events', 'needs a value'],
  },
  {
    what: '--events naming a folder',
    args: ['run', 'mmc', '--events', scratch, ...SMALL],
    code: 2,
    says: ['--events', 'is a folder'],
  },
  {
    what: '--events in a missing folder',
    args: ['run', 'mmc', '--events', join(scratch, 'no/such/x.ndjson'), ...SMALL],
    code: 2,
    says: ['--events', 'does not exist'],
  },
  {
    what: '--trace under a file',
    args: ['run', 'mmc', '--trace', join(aFile, 'x.json'), ...SMALL],
    code: 2,
    says: ['--trace', 'not a folder'],
  },
  {
    what: '--metrics naming a folder',
    args: ['run', 'mmc', '--metrics', `${scratch}/`, ...SMALL],
    code: 2,
    says: ['--metrics', 'is a folder'],
  },
  {
    what: 'empty output path',
    args: ['run', 'mmc', '--events', '', ...SMALL],
    code: 2,
    says: ['--events', 'empty'],
  },
  {
    what: 'two outputs, one file',
    args: ['run', 'mmc', '--events', join(scratch, 'same'), '--trace', join(scratch, 'same'), ...SMALL],
    code: 2,
    says: ['--trace', '--events', 'same file'],
  },
  {
    what: '--events twice',
    args: ['run', 'mmc', '--events', join(scratch, 'a'), '--events', join(scratch, 'b')],
    code: 2,
    says: ['--events', '2 times'],
  },
  {
    what: '--max-events zero',
    args: ['run', 'mmc', '--max-events', '0'],
    code: 2,
    says: ['--max-events', '"0"'],
  },
  {
    what: '--max-events text',
    args: ['run', 'mmc', '--max-events', 'lots'],
    code: 2,
    says: ['--max-events', '"lots"'],
  },
  {
    what: '--max-events fraction',
    args: ['run', 'mmc', '--max-events', '1.5'],
    code: 2,
    says: ['--max-events', '"1.5"'],
  },
  {
    what: '--max-wall text',
    args: ['run', 'mmc', '--max-wall', 'soon'],
    code: 2,
    says: ['--max-wall', '"soon"'],
  },
  {
    what: '--max-wall zero',
    args: ['run', 'mmc', '--max-wall', '0s'],
    code: 2,
    says: ['--max-wall', '"0s"'],
  },
  {
    what: '--metrics-interval text',
    args: ['run', 'mmc', '--metrics-interval', 'often'],
    code: 2,
    says: ['--metrics-interval', '"often"'],
  },
  {
    what: '--metrics-interval zero',
    args: ['run', 'mmc', '--metrics-interval', '0'],
    code: 2,
    says: ['--metrics-interval', '"0"'],
  },
  {
    what: '--typecheck on a built-in',
    args: ['run', 'mmc', '--typecheck'],
    code: 2,
    says: ['--typecheck', 'mmc'],
  },
  {
    what: 'run stopped by --max-events',
    args: ['run', 'mmc', '--max-events', '500', ...SMALL],
    code: 3,
    says: ['RUN_LIMIT', '--max-events', 'seed 1', 'reproduce: dsim run mmc --seed 1 --set customers=200'],
  },
  { what: 'check without a file', args: ['check'], code: 2, says: ['check', 'none'] },
  { what: 'check of a .js file', args: ['check', 'x.js'], code: 2, says: ['"x.js"', '.ts'] },
  {
    what: 'check of a missing file',
    args: ['check', 'missing.ts'],
    code: 2,
    says: ['missing.ts', 'not found'],
  },
  { what: 'init over a file', args: ['init', aFile], code: 2, says: ['a-file.txt', 'not a folder'] },
  {
    what: 'init over existing files',
    args: ['init', existing],
    code: 2,
    says: ['hello.scenario.ts', 'already exist', '--force'],
  },
  { what: 'init with two folders', args: ['init', 'a', 'b'], code: 2, says: ['at most one folder'] },
];

describe('bad command lines', () => {
  it.each(cliCases)('$what: exit $code', async ({ args, code, says }) => {
    const r = await cli(...args);
    expect(r.code).toBe(code);
    for (const text of says) expect(r.stderr).toContain(text);
    expect(r.stderr).not.toMatch(STACK);
    expect(r.stderr.trim().split('\n').length).toBeLessThanOrEqual(code === 2 && args.length === 0 ? 40 : 3);
  });

  it('a failed run leaves no temporary file and does not touch an existing output', async () => {
    const dir = mkdtempSync(join(scratch, 'outputs-'));
    const target = join(dir, 'events.ndjson');
    writeFileSync(target, 'keep me');
    const r = await cli('run', 'mmc', '--events', target, '--max-events', '300', ...SMALL);
    expect(r.code).toBe(3);
    expect(readdirSync(dir)).toEqual(['events.ndjson']);
    expect(await import('node:fs').then((fs) => fs.readFileSync(target, 'utf8'))).toBe('keep me');
  });

  it('a run limit names the simulated time reached once', async () => {
    const r = await cli('run', 'mmc', '--max-events', '500', ...SMALL);
    expect(r.code).toBe(3);
    const first = r.stderr.split('\n')[0]!;
    expect(first).toMatch(/stopped after 500 events: the limit is 500 \(--max-events\) at simulated time \d/);
    expect(first.match(/simulated time/g)).toHaveLength(1);
  });

  it('--debug adds the stack; the message stays first', async () => {
    const r = await cli('run', 'mmc', '--max-events', '300', '--debug', ...SMALL);
    expect(r.code).toBe(3);
    expect(r.stderr.split('\n')[0]).toContain('RUN_LIMIT');
    expect(r.stderr).toMatch(STACK);
  });
});

describe('API misuse', () => {
  const cases: Array<{ what: string; call: () => unknown; says: string[] }> = [
    {
      what: 'misspelt runScenario option',
      call: () => runScenario(mmc, { sead: 1 } as never),
      says: ['"sead"', 'did you mean "seed"'],
    },
    {
      what: 'misspelt parameter from code',
      call: () => runScenario(mmc, { seed: 1, params: { custmers: 100 } }),
      says: ['"custmers"', 'did you mean "customers"'],
    },
    {
      what: 'parameter of the wrong type',
      call: () => runScenario(mmc, { seed: 1, params: { customers: '100' } }),
      says: ['customers', '"100"'],
    },
    { what: 'NaN seed', call: () => runScenario(mmc, { seed: Number.NaN }), says: ['seed', 'NaN'] },
    { what: 'empty seed', call: () => runScenario(mmc, { seed: '' }), says: ['seed', '""'] },
    {
      what: 'variant of a scenario without variants',
      call: () => runScenario(mmc, { seed: 1, variants: ['x'] }),
      says: ['no variants'],
    },
    {
      what: 'zero maxEvents',
      call: () => runScenario(mmc, { seed: 1, maxEvents: 0 }),
      says: ['maxEvents', 'got 0'],
    },
    {
      what: 'a negative metrics interval',
      call: () => runScenario(mmc, { seed: 1, metricsInterval: -5 }),
      says: ['metricsInterval', 'got -5'],
    },
    {
      what: 'params that are not an object',
      call: () => runScenario(mmc, { seed: 1, params: 5 as never }),
      says: ['params', 'got 5'],
    },
    {
      what: 'scenario name with spaces',
      call: () => defineScenario({ name: 'My Scenario', description: '', params: {}, run: () => ({}) }),
      says: ['"My Scenario"', 'lowercase'],
    },
    {
      what: 'misspelt scenario field',
      call: () => defineScenario({ name: 'x', description: '', parms: {}, run: () => ({}) } as never),
      says: ['"parms"', 'did you mean "params"'],
    },
    {
      what: 'parameter not built with param',
      call: () => defineScenario({ name: 'x', description: '', params: { n: 5 } as never, run: () => ({}) }),
      says: ['params.n', 'param.number'],
    },
    {
      what: 'duplicate variant names',
      call: () =>
        defineScenario({
          name: 'x',
          description: '',
          params: {},
          variants: [{ name: 'a' }, { name: 'a' }],
          run: () => ({}),
        }),
      says: ['duplicate variant a'],
    },
    {
      what: 'misspelt variant field',
      call: () =>
        defineScenario({
          name: 'x',
          description: '',
          params: {},
          variants: [{ name: 'a', parms: {} } as never],
          run: () => ({}),
        }),
      says: ['"parms"', 'did you mean "params"'],
    },
    {
      what: 'param default outside its bounds',
      call: () => param.integer({ default: 0, min: 1, description: 'n' }),
      says: ['default', 'got 0'],
    },
    {
      what: 'outcome with an object value',
      call: () =>
        runScenario(
          defineScenario({ name: 'x', description: '', params: {}, run: () => ({ a: { b: 1 } }) as never }),
          { seed: 1 },
        ),
      says: ['outcome.a', '{"b":1}'],
    },
    {
      what: 'run() returning a number',
      call: () =>
        runScenario(defineScenario({ name: 'x', description: '', params: {}, run: () => 42 as never }), {
          seed: 1,
        }),
      says: ['outcome object', 'got 42'],
    },
  ];
  it.each(cases)('$what', ({ call, says }) => {
    let message = '';
    try {
      call();
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).not.toBe('');
    for (const text of says) expect(message).toContain(text);
  });
});

// Scenario files with defects, run through the real bin from a folder outside the workspace, without
// a package.json, as a user would.
const files = mkdtempSync(join(tmpdir(), 'dsim-user-files-'));
afterAll(() => rmSync(files, { recursive: true, force: true }));
const HEADER = `import { defineScenario, param } from '@dsim/scenarios';\nimport { Network, normal, RpcEndpoint, Simulation } from '@dsim/core';\nimport { Service } from '@dsim/components';\n`;
function scenarioFile(name: string, body: string): string {
  const path = join(files, name);
  writeFileSync(path, `${HEADER}${body}\n`);
  return path;
}
const ok = (run: string) =>
  `export default defineScenario({ name: 'user', description: 'x', params: { n: param.integer({ default: 3, min: 1, max: 100, description: 'n' }) },\n  run({ sim, params }) {\n${run}\n  },\n});`;

interface FileCase {
  what: string;
  file: string;
  args?: string[];
  code: number;
  says: string[];
}

const fileCases: FileCase[] = [
  {
    what: 'a syntax error',
    file: scenarioFile('syntax.scenario.ts', 'export default defineScenario({ name: "x" +, });'),
    code: 3,
    says: ['could not load', 'syntax.scenario.ts:4'],
  },
  {
    what: 'a throw at load',
    file: scenarioFile('throws-at-load.scenario.ts', 'throw new Error("boom at load");'),
    code: 3,
    says: ['could not load', 'boom at load', 'throws-at-load.scenario.ts:4'],
  },
  {
    what: 'an import that does not exist',
    file: scenarioFile('bad-import.scenario.ts', "import './nowhere.js';\nexport default 1;"),
    code: 3,
    says: ['could not load', 'nowhere'],
  },
  {
    what: 'no default export',
    file: scenarioFile('no-export.scenario.ts', 'export const x = 1;'),
    code: 2,
    says: ['must export a scenario', 'exports x'],
  },
  {
    what: 'a default export that is not a scenario',
    file: scenarioFile('function.scenario.ts', 'export default function () {}'),
    code: 2,
    says: ['must export a scenario'],
  },
  {
    what: 'an invalid scenario name',
    file: scenarioFile(
      'bad-name.scenario.ts',
      "export default defineScenario({ name: 'Bad Name', description: '', params: {}, run: () => ({}) });",
    ),
    code: 2,
    says: ['"Bad Name"', 'lowercase'],
  },
  {
    what: 'a misspelt scenario field',
    file: scenarioFile(
      'bad-field.scenario.ts',
      "export default { name: 'x', description: '', params: {}, run: () => ({}), varaints: [] };",
    ),
    code: 2,
    says: ['"varaints"', 'did you mean "variants"'],
  },
  {
    what: 'run() throws',
    file: scenarioFile('run-throws.scenario.ts', ok('    const o: any = undefined;\n    return o.boom();')),
    code: 3,
    says: ['TypeError', 'run-throws.scenario.ts:7', 'seed 5', 'reproduce: dsim run'],
  },
  {
    what: 'a process throws',
    file: scenarioFile(
      'process-throws.scenario.ts',
      ok(
        "    sim.process(function* worker() { yield sim.timeout(5); throw new Error('worker broke'); });\n    sim.run();\n    return {};",
      ),
    ),
    code: 3,
    says: ['worker broke', 'process-throws.scenario.ts:6', 'seed 5'],
  },
  {
    what: 'a process yields a number',
    file: scenarioFile(
      'yield-number.scenario.ts',
      ok('    sim.process(function* worker() { yield 5 as never; });\n    sim.run();\n    return {};'),
    ),
    code: 3,
    says: ['PROCESS_FAILED', 'yielded the number 5', 'sim.timeout(5)'],
  },
  {
    what: 'a misspelt component option',
    file: scenarioFile(
      'typo.scenario.ts',
      ok(
        "    const net = new Network(sim);\n    new Service(net.addNode('api'), { concurency: 8 } as never);\n    sim.run();\n    return {};",
      ),
    ),
    code: 2,
    says: ['Service', '"concurency"', 'did you mean "concurrency"', 'typo.scenario.ts:7', 'seed 5'],
  },
  {
    what: 'a latency that samples below zero',
    file: scenarioFile(
      'negative.scenario.ts',
      ok(
        "    const net = new Network(sim, { defaults: { latency: normal({ mean: 1, sd: 5 }) } });\n    const a = new RpcEndpoint(net.addNode('a'));\n    new RpcEndpoint(net.addNode('b')).serve((_r, reply) => reply.ok('ok'));\n    for (let i = 0; i < 50; i++) a.call('b', i);\n    sim.run();\n    return {};",
      ),
    ),
    code: 2,
    says: ['normal', 'a -> b', 'seed 5'],
  },
  {
    what: 'an endless run under --max-events',
    file: scenarioFile(
      'endless.scenario.ts',
      ok(
        '    sim.process(function* spin() { for (;;) yield sim.timeout(0); });\n    sim.run();\n    return {};',
      ),
    ),
    args: ['--max-events', '10000'],
    code: 3,
    says: ['RUN_LIMIT', '10000', 'seed 5'],
  },
  {
    what: 'an outcome that is not flat',
    file: scenarioFile('nested-outcome.scenario.ts', ok('    return { a: [1, 2] } as never;')),
    code: 2,
    says: ['outcome.a', '[1,2]'],
  },
  {
    what: 'a param given a bad value',
    file: scenarioFile('fine.scenario.ts', ok('    return { n: params.n };')),
    args: ['--set', 'n=0'],
    code: 2,
    says: ['parameter n', 'got 0'],
  },
];

describe('scenario files with defects, through the real bin from a folder outside the workspace', () => {
  it.concurrent.each(fileCases)('$what: exit $code', async ({ file, args = [], code, says }) => {
    const r = await bin(['run', file, '--seed', '5', ...args], files);
    expect(r.code, r.stderr).toBe(code);
    for (const text of says) expect(r.stderr).toContain(text);
    expect(r.stderr).not.toMatch(STACK);
    expect(r.stderr.trim().split('\n').length).toBeLessThanOrEqual(2);
  });
});
