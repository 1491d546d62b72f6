import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { didYouMean, METRICS_CSV_HEADER, PerfettoBuilder, toMs, writeMetricsCsv } from '@dsim/core';
import { builtinScenarios } from './catalogue/index.js';
import { typecheckScenario } from './cli/check.js';
import { ESTIMATE_HELP, ESTIMATE_OPTIONS, estimateCommand } from './cli/estimate.js';
import { describeFailure, exitCodeFor, UsageError } from './cli/failure.js';
import { graphCommand } from './cli/graph.js';
import { initProject } from './cli/init.js';
import { loadScenario } from './cli/load-scenario.js';
import { AtomicFile, preflightOutputs } from './cli/output-file.js';
import { ProgressLine } from './cli/progress.js';
import { hasSeries, readSavedResult, readSavedSweep, writeReportFile } from './cli/report.js';
import { mergeCommand, sweepCommand } from './cli/sweep.js';
import { printable, shellQuote } from './cli/text.js';
import { workerCommand } from './cli/worker.js';
import { formatResult, table } from './format.js';
import { type ParamSchema, parseAssignments } from './params.js';
import { renderSweepReport } from './report/sweep-report.js';
import { defineScenario, runScenario, type Scenario, type ScenarioResult } from './scenario.js';
import { wallClock } from './wall-clock.js';

export { loadScenario };

/** Where the CLI writes. stdout carries only the result; everything else goes to stderr. */
export interface CliIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /**
   * True when stderr is a terminal: only then is a progress line drawn.
   * @default false
   */
  stderrIsTTY?: boolean;
  /**
   * Environment variables (`DSIM_DEBUG`).
   * @default {}
   */
  env?: Readonly<Record<string, string | undefined>>;
}

/** Every flag of `dsim run`, with its help line. */
const RUN_FLAGS = {
  seed: 'root seed (number or string); chosen at random and printed when omitted',
  set: 'set a scenario parameter, key=value (repeatable, each key once)',
  variant: 'run only this variant (repeatable, each variant once)',
  duration: "simulated duration, e.g. 10m (sets the scenario's 'duration' or 'seconds' parameter)",
  json: 'print exactly one JSON document on stdout',
  detail: 'with --json: also include per-node metrics and time series',
  events: 'stream the NDJSON event log to FILE',
  trace: 'stream a Chrome/Perfetto trace (open in ui.perfetto.dev) to FILE',
  metrics: 'write the metrics time series as CSV to FILE',
  report: 'write a self-contained HTML report (tables and charts) to FILE',
  'metrics-interval': 'width of the metrics intervals, e.g. 10s (default 1s)',
  'max-events': 'stop the run (exit 3) after N events over all variants',
  'max-wall': 'stop the run (exit 3) after this much real time, e.g. 30s or 10m',
  typecheck: 'type-check a .ts scenario file before running it',
  debug: 'print stack traces of errors (also DSIM_DEBUG=1)',
  help: 'list the scenario parameters and variants',
} as const;

const USAGE = `Usage:
  dsim list [--json]                          list built-in scenarios
  dsim run NAME|FILE [options]                run a scenario (see below)
  dsim run NAME|FILE --help [--json]          list a scenario's parameters and variants
  dsim report RESULT.json -o FILE.html        render a result saved with 'run --json --detail' (or a sweep's --out) as HTML
  dsim check FILE.ts                          type-check a scenario file with the TypeScript compiler
  dsim init [DIR]                             write a starter scenario project (default: the current folder)
  dsim graph FILE [--format F] [-o OUT]       draw a system file (.yaml/.yml/.json) as svg, mermaid or dot
  dsim sweep NAME|FILE [options]              run a grid of parameter values × seeds, with intervals
  dsim merge SHARD.json ... [-o OUT]          combine the shards of a sweep into its result
  dsim worker --queue URL [--concurrency N]   run the jobs of sweeps started with --queue URL, until stopped
  dsim estimate --users N --requests-per-user N --peak-factor F [options]
                                              back-of-envelope QPS, bandwidth, storage and servers, with formulas
  dsim help                                   show this help

Options for run:
  --seed S            ${RUN_FLAGS.seed}
  --set key=value     ${RUN_FLAGS.set}
  --variant NAME      ${RUN_FLAGS.variant}
  --duration D        ${RUN_FLAGS.duration}
  --json              ${RUN_FLAGS.json}
  --detail            ${RUN_FLAGS.detail}
  --events FILE       ${RUN_FLAGS.events}
  --trace FILE        ${RUN_FLAGS.trace}
  --metrics FILE      ${RUN_FLAGS.metrics}
  --report FILE       ${RUN_FLAGS.report}
  --metrics-interval D ${RUN_FLAGS['metrics-interval']}
  --max-events N      ${RUN_FLAGS['max-events']}
  --max-wall D        ${RUN_FLAGS['max-wall']}
  --typecheck         ${RUN_FLAGS.typecheck}
  --debug             ${RUN_FLAGS.debug}

Options for sweep:
  --seeds SPEC        seeds of the replications: 1..100, 1,2,7 (default 1..10)
  --set key=value     a fixed parameter; key=a,b,c or key=10..100:10 sweeps it (crossed with the others)
  --variant NAME      run only this variant (repeatable)
  --confidence C      confidence level of the intervals (default 0.95)
  --precision P%      add seeds to each point until --figure's interval is within P% of its mean
  --figure NAME       the outcome figure --precision watches
  --max-seeds N       at most this many seeds per point with --precision (default 1000)
  --shard K/N         run slice K of N (also JOB_COMPLETION_INDEX / JOB_COMPLETIONS); merge with dsim merge
  --workers N         worker threads (default: the machine's cores); the result is the same for any N
  --queue URL         run on a BullMQ queue in Redis (redis://host:6379/0) by 'dsim worker' processes
  --find SPEC         search a threshold: 'smallest servers in 1..32 where meanWait < 100'
                      (--tolerance X, --max-steps N, --max-seeds N; see docs/sweeps.md)
  --out FILE          write the result (or shard) there; finished runs go to FILE.runs.ndjson, so
                      the same command again resumes where a killed sweep stopped
  --csv FILE          write one row per point and figure
  --report FILE       write an HTML page: each figure against the swept parameter, with bands
  --steady NODE/METRIC a counter's rate or a gauge's mean over each run, warm-up cut by MSER-5 (repeatable)
  --json              print the result as JSON

Options for estimate (counts take 10M, 1.5k; sizes 1KB, 4KiB; shares 0.7 or 70%):
${ESTIMATE_HELP}

Options for worker:
  --queue URL         the Redis of the sweeps to serve: redis://[user:password@]host[:port][/db], rediss:// for TLS
  --concurrency N     runs at a time, each on a thread (default: the machine's cores)
  --lock-duration D   how long a run's job lock lasts, renewed at half (default 30s)
  --stalled-interval D  how often jobs of dead workers go back to waiting (default 30s)

Exit codes: 0 ok, 1 a scenario check failed, 2 usage or configuration error,
3 the scenario or model raised an error (or hit --max-events / --max-wall).`;

/**
 * Runs the `dsim` command line. Returns the exit code instead of exiting, so tests can call it.
 *
 * @example
 * ```ts
 * const code = await main(['run', 'mmc', '--seed', '1', '--json'], { stdout: console.log, stderr: console.error });
 * ```
 */
export async function main(argv: readonly string[], io: CliIO): Promise<number> {
  const debug = argv.includes('--debug') || isTruthy(io.env?.DSIM_DEBUG);
  const context: RunContext = { seed: undefined, reproduce: undefined };
  try {
    return await dispatch(argv, io, context);
  } catch (error) {
    io.stderr(describeFailure(error, { debug, ...context }));
    return exitCodeFor(error);
  }
}

/** What is known of the run when something fails, for the error message. */
interface RunContext {
  seed: string | undefined;
  reproduce: string | undefined;
}

async function dispatch(argv: readonly string[], io: CliIO, context: RunContext): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
      // The commands only: the options of each are a 'dsim help' away.
      io.stderr(
        `${USAGE.slice(0, USAGE.indexOf('\n\nOptions for run:'))}\n\nRun 'dsim help' for the options of each command.\n`,
      );
      return 2;
    case 'help':
    case '--help':
    case '-h':
      io.stdout(`${USAGE}\n`);
      return 0;
    case 'list':
      return listCommand(rest, io);
    case 'run':
      return runCommand(rest, io, context);
    case 'report':
      return reportCommand(rest, io);
    case 'check':
      return checkCommand(rest, io);
    case 'init':
      return initCommand(rest, io);
    case 'graph':
      return graphCliCommand(rest, io);
    case 'sweep':
      return sweepCliCommand(rest, io);
    case 'merge':
      return mergeCliCommand(rest, io);
    case 'worker':
      return workerCliCommand(rest, io);
    case 'estimate':
      return estimateCommand(parseFlags(rest, ESTIMATE_OPTIONS, 'estimate', false).values, io);
    default: {
      const guess = didYouMean(command, [
        'list',
        'run',
        'report',
        'check',
        'init',
        'graph',
        'sweep',
        'merge',
        'worker',
        'estimate',
        'help',
      ]);
      const hint = builtinScenarios.has(command) ? ` (to run it: dsim run ${command})` : '';
      throw new UsageError(
        `unknown command ${JSON.stringify(command)}${guess === undefined ? '' : ` (did you mean ${JSON.stringify(guess)}?)`}${hint}; commands: list, run, report, check, init, graph, sweep, merge, worker, estimate, help`,
      );
    }
  }
}

function listCommand(args: readonly string[], io: CliIO): number {
  const { values } = parseFlags(args, { json: { type: 'boolean' } }, 'list', false);
  const all = [...builtinScenarios.values()];
  if (values.json) {
    io.stdout(`${JSON.stringify(all.map((s) => ({ name: s.name, description: s.description })))}\n`);
  } else {
    io.stdout(`${table(all.map((s) => [s.name, s.description]))}\n`);
  }
  return 0;
}

function scenarioHelp(scenario: Scenario<any>): string {
  const rows = Object.entries(scenario.params as ParamSchema).map(([k, spec]) => [
    k,
    `${spec.kind}`,
    `default ${String(spec.default)}`,
    spec.allowed,
    spec.description,
  ]);
  const variants = (scenario.variants ?? []).map(
    (v) => `  ${v.name}${v.description ? `: ${v.description}` : ''}`,
  );
  return printable(
    [
      `${scenario.name}: ${scenario.description}`,
      '',
      'Parameters (--set key=value):',
      table(rows.map((r) => ['', ...r])),
      ...(variants.length > 0 ? ['', 'Variants (--variant NAME):', ...variants] : []),
    ].join('\n'),
    true,
  );
}

function scenarioHelpJson(scenario: Scenario<any>): string {
  return JSON.stringify({
    name: scenario.name,
    description: scenario.description,
    params: Object.fromEntries(
      Object.entries(scenario.params as ParamSchema).map(([k, spec]) => [
        k,
        { kind: spec.kind, default: spec.default, allowed: spec.allowed, description: spec.description },
      ]),
    ),
    variants: (scenario.variants ?? []).map((v) => ({ name: v.name, description: v.description ?? '' })),
  });
}

const RUN_OPTIONS = {
  seed: { type: 'string', multiple: true },
  set: { type: 'string', multiple: true },
  variant: { type: 'string', multiple: true },
  duration: { type: 'string', multiple: true },
  json: { type: 'boolean' },
  detail: { type: 'boolean' },
  events: { type: 'string', multiple: true },
  trace: { type: 'string', multiple: true },
  metrics: { type: 'string', multiple: true },
  report: { type: 'string', multiple: true },
  'metrics-interval': { type: 'string', multiple: true },
  'max-events': { type: 'string', multiple: true },
  'max-wall': { type: 'string', multiple: true },
  typecheck: { type: 'boolean' },
  debug: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

async function runCommand(args: readonly string[], io: CliIO, context: RunContext): Promise<number> {
  const { values, positionals } = parseFlags(args, RUN_OPTIONS, 'run', true);
  if (positionals.length !== 1) {
    throw new UsageError(
      positionals.length === 0
        ? "'run' needs a scenario name or a .ts file (see 'dsim list')"
        : `'run' takes one scenario, got ${positionals.length}: ${positionals.map((p) => JSON.stringify(p)).join(' ')}`,
    );
  }
  const target = positionals[0]!;
  const seedFlag = single(values.seed, '--seed');
  const durationFlag = single(values.duration, '--duration');
  const outputs = {
    '--events': single(values.events, '--events'),
    '--trace': single(values.trace, '--trace'),
    '--metrics': single(values.metrics, '--metrics'),
    '--report': single(values.report, '--report'),
  };
  const maxEvents = parseMaxEvents(single(values['max-events'], '--max-events'));
  const maxWallMs = parseMaxWall(single(values['max-wall'], '--max-wall'));
  const metricsInterval = parseInterval(single(values['metrics-interval'], '--metrics-interval'));
  if (values.detail && !values.json) throw new UsageError('--detail goes with --json');
  if (seedFlag !== undefined && seedFlag.trim() === '') throw new UsageError('--seed must not be empty');
  // Every output is checked before anything runs: a bad path must not cost the run.
  preflightOutputs(outputs);

  if (values.typecheck) {
    if (builtinScenarios.has(target))
      throw new UsageError(`--typecheck checks a scenario file; ${target} is built in`);
    const report = typecheckScenario(target);
    if (report.errors > 0) {
      io.stderr(report.text);
      return 2;
    }
  }
  const scenario = validateScenario(await loadScenario(target), target);
  if (values.help) {
    io.stdout(values.json ? `${scenarioHelpJson(scenario)}\n` : `${scenarioHelp(scenario)}\n`);
    return 0;
  }
  const sets = values.set ?? [];
  const params = parseAssignments(sets, scenario.params, scenario.name);
  if (durationFlag !== undefined) {
    for (const key of ['duration', 'seconds']) {
      if (Object.hasOwn(params, key))
        throw new UsageError(`--duration and --set ${key} both set the run's length; give one of them`);
    }
    Object.assign(params, durationParam(durationFlag, scenario));
  }
  const seed = seedFlag ?? wallClock.freshSeed();
  if (seedFlag === undefined) io.stderr(`dsim: no --seed given; using seed ${seed}\n`);
  const reproduce = [
    'dsim run',
    shellQuote(target),
    '--seed',
    shellQuote(seed),
    ...sets.flatMap((s) => ['--set', shellQuote(s)]),
    ...(durationFlag === undefined ? [] : ['--duration', shellQuote(durationFlag)]),
    ...(values.variant ?? []).flatMap((v) => ['--variant', shellQuote(v)]),
  ].join(' ');
  context.seed = seed;
  context.reproduce = reproduce;

  const files: AtomicFile[] = [];
  const progress = io.stderrIsTTY === true ? new ProgressLine(io.stderr, wallClock.now) : undefined;
  let result: ScenarioResult;
  try {
    const events = outputs['--events'] === undefined ? undefined : new AtomicFile(outputs['--events']);
    if (events !== undefined) files.push(events);
    const traceFile = outputs['--trace'] === undefined ? undefined : new AtomicFile(outputs['--trace']);
    if (traceFile !== undefined) files.push(traceFile);
    const perfetto =
      traceFile === undefined
        ? undefined
        : new PerfettoBuilder({ seed, scenario: scenario.name }, { sink: (chunk) => traceFile.write(chunk) });
    const inspect =
      events === undefined && perfetto === undefined
        ? undefined
        : (r: Parameters<PerfettoBuilder['add']>[0]) => {
            events?.line(JSON.stringify(r));
            perfetto?.add(r);
          };
    result = runScenario(scenario, {
      seed,
      params,
      reproduce,
      ...(values.variant === undefined ? {} : { variants: values.variant }),
      ...(inspect === undefined ? {} : { inspect }),
      ...(maxEvents === undefined ? {} : { maxEvents }),
      ...(maxWallMs === undefined ? {} : { maxWallMs }),
      ...(metricsInterval === undefined ? {} : { metricsInterval }),
      ...(progress === undefined ? {} : { onProgress: (p) => progress.update(p) }),
    });
    progress?.clear();
    perfetto?.finish();
    if (outputs['--metrics'] !== undefined) {
      const csv = new AtomicFile(outputs['--metrics']);
      files.push(csv);
      writeResultCsv(result, csv);
    }
    if (outputs['--report'] !== undefined) {
      const html = new AtomicFile(outputs['--report']);
      files.push(html);
      writeReportFile(result, html);
    }
  } catch (error) {
    progress?.clear();
    for (const file of files) file.abort();
    throw error;
  }
  // The result is printed before the files are renamed into place: a failure there loses no result.
  io.stdout(values.json ? `${resultJson(result, values.detail === true)}\n` : formatResult(result));
  try {
    for (const file of files) file.commit();
  } catch (error) {
    for (const file of files) file.abort();
    throw new UsageError(
      `the run finished (its result is above) but an output file could not be written: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const failed = result.checks.filter((c) => !c.pass);
  if (failed.length > 0) {
    io.stderr(
      `dsim: ${failed.length} check${failed.length === 1 ? '' : 's'} failed: ${printable(failed.map((c) => c.name).join('; '))}\n  seed ${printable(result.seed)}; reproduce: ${printable(result.reproduce)}\n`,
    );
    return 1;
  }
  return 0;
}

/** A loaded file's export goes through defineScenario's checks, so a malformed one fails with exit 2. */
function validateScenario(scenario: Scenario<any>, target: string): Scenario<any> {
  if (builtinScenarios.get(target) === scenario) return scenario;
  return defineScenario(scenario);
}

/**
 * The `--json` document: the result without per-node metrics and series unless `detail`, so the
 * default output stays small (they go to `--metrics FILE`).
 */
function resultJson(result: ScenarioResult, detail: boolean): string {
  if (detail) return JSON.stringify(result);
  const { nodes: _nodes, series: _series, variants, ...rest } = result;
  return JSON.stringify({
    ...rest,
    variants: variants.map(({ nodes: _n, series: _s, ...v }) => v),
  });
}

/** Every variant's series in one CSV (header once), streamed row by row. */
function writeResultCsv(result: ScenarioResult, out: AtomicFile): void {
  out.line(METRICS_CSV_HEADER);
  const parts = result.variants.length === 0 ? [{ name: '', series: result.series }] : result.variants;
  for (const v of parts) if (v.series !== null) writeMetricsCsv(v.series, v.name, (row) => out.line(row));
}

function reportCommand(args: readonly string[], io: CliIO): number {
  const { values, positionals } = parseFlags(
    args,
    { output: { type: 'string', multiple: true, short: 'o' }, debug: { type: 'boolean' } },
    'report',
    true,
  );
  if (positionals.length !== 1)
    throw new UsageError(
      positionals.length === 0
        ? "'report' needs a result file: dsim run NAME --json --detail > result.json; dsim report result.json -o report.html"
        : `'report' takes one result file, got ${positionals.length}: ${positionals.map((p) => JSON.stringify(p)).join(' ')}`,
    );
  const input = positionals[0]!;
  const output = single(values.output, '--output');
  if (output === undefined) throw new UsageError("'report' needs -o FILE.html (--output), the page to write");
  if (resolve(output) === resolve(input))
    throw new UsageError(`--output ${JSON.stringify(output)} is the result file itself; give another path`);
  preflightOutputs({ '--output': output });
  const sweepDoc = readSavedSweep(input);
  if (sweepDoc !== null) {
    const html = new AtomicFile(output);
    html.write(renderSweepReport(sweepDoc));
    html.commit();
    return 0;
  }
  const result = readSavedResult(input);
  if (!hasSeries(result))
    io.stderr(
      `dsim: ${printable(input)} has no time series (saved without --detail?); the report has tables but no charts\n`,
    );
  const html = new AtomicFile(output);
  try {
    writeReportFile(result, html, input);
    html.commit();
  } catch (error) {
    html.abort();
    throw error;
  }
  return 0;
}

function checkCommand(args: readonly string[], io: CliIO): number {
  const { positionals } = parseFlags(args, { debug: { type: 'boolean' } }, 'check', true);
  if (positionals.length !== 1)
    throw new UsageError(
      `'check' takes one .ts file, got ${positionals.length === 0 ? 'none' : positionals.join(' ')}`,
    );
  const report = typecheckScenario(positionals[0]!);
  if (report.errors > 0) {
    io.stderr(report.text);
    return 2;
  }
  io.stdout(`${report.text}`);
  return 0;
}

function graphCliCommand(args: readonly string[], io: CliIO): number {
  const { values, positionals } = parseFlags(
    args,
    {
      format: { type: 'string', multiple: true },
      output: { type: 'string', multiple: true, short: 'o' },
      debug: { type: 'boolean' },
    },
    'graph',
    true,
  );
  if (positionals.length !== 1)
    throw new UsageError(
      positionals.length === 0
        ? "'graph' needs a system file: dsim graph system.yaml --format svg -o system.svg"
        : `'graph' takes one system file, got ${positionals.length}: ${positionals.map((p) => JSON.stringify(p)).join(' ')}`,
    );
  return graphCommand(
    {
      file: positionals[0]!,
      format: single(values.format, '--format'),
      output: single(values.output, '--output'),
    },
    io,
  );
}

async function sweepCliCommand(args: readonly string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseFlags(
    args,
    {
      seeds: { type: 'string', multiple: true },
      set: { type: 'string', multiple: true },
      variant: { type: 'string', multiple: true },
      confidence: { type: 'string', multiple: true },
      precision: { type: 'string', multiple: true },
      figure: { type: 'string', multiple: true },
      'max-seeds': { type: 'string', multiple: true },
      shard: { type: 'string', multiple: true },
      workers: { type: 'string', multiple: true },
      queue: { type: 'string', multiple: true },
      find: { type: 'string', multiple: true },
      tolerance: { type: 'string', multiple: true },
      'max-steps': { type: 'string', multiple: true },
      out: { type: 'string', multiple: true },
      csv: { type: 'string', multiple: true },
      report: { type: 'string', multiple: true },
      steady: { type: 'string', multiple: true },
      json: { type: 'boolean' },
      debug: { type: 'boolean' },
    },
    'sweep',
    true,
  );
  if (positionals.length !== 1)
    throw new UsageError(
      positionals.length === 0
        ? "'sweep' needs a scenario name or file: dsim sweep mmc --seeds 1..30 --set servers=2,3,4"
        : `'sweep' takes one scenario, got ${positionals.length}: ${positionals.map((p) => JSON.stringify(p)).join(' ')}`,
    );
  const target = positionals[0]!;
  return sweepCommand(
    {
      scenario: await loadScenario(target),
      target,
      seeds: single(values.seeds, '--seeds'),
      set: values.set ?? [],
      variants: values.variant ?? [],
      confidence: single(values.confidence, '--confidence'),
      precision: single(values.precision, '--precision'),
      figure: single(values.figure, '--figure'),
      maxSeeds: single(values['max-seeds'], '--max-seeds'),
      shard: single(values.shard, '--shard'),
      workers: single(values.workers, '--workers'),
      queue: single(values.queue, '--queue'),
      find: single(values.find, '--find'),
      tolerance: single(values.tolerance, '--tolerance'),
      maxSteps: single(values['max-steps'], '--max-steps'),
      json: values.json === true,
      csv: single(values.csv, '--csv'),
      report: single(values.report, '--report'),
      steady: values.steady ?? [],
      out: single(values.out, '--out'),
      env: io.env ?? {},
      isTTY: io.stderrIsTTY === true,
    },
    io,
  );
}

function mergeCliCommand(args: readonly string[], io: CliIO): number {
  const { values, positionals } = parseFlags(
    args,
    { output: { type: 'string', multiple: true, short: 'o' }, debug: { type: 'boolean' } },
    'merge',
    true,
  );
  return mergeCommand(positionals, single(values.output, '--output'), io);
}

function workerCliCommand(args: readonly string[], io: CliIO): Promise<number> {
  const { values } = parseFlags(
    args,
    {
      queue: { type: 'string', multiple: true },
      concurrency: { type: 'string', multiple: true },
      'lock-duration': { type: 'string', multiple: true },
      'stalled-interval': { type: 'string', multiple: true },
      debug: { type: 'boolean' },
    },
    'worker',
    false,
  );
  return workerCommand(
    {
      queue: single(values.queue, '--queue'),
      concurrency: single(values.concurrency, '--concurrency'),
      lockDuration: single(values['lock-duration'], '--lock-duration'),
      stalledInterval: single(values['stalled-interval'], '--stalled-interval'),
      env: io.env ?? {},
    },
    io,
  );
}

function initCommand(args: readonly string[], io: CliIO): number {
  const { positionals, values } = parseFlags(
    args,
    { force: { type: 'boolean' }, debug: { type: 'boolean' } },
    'init',
    true,
  );
  if (positionals.length > 1)
    throw new UsageError(`'init' takes at most one folder, got ${positionals.join(' ')}`);
  const written = initProject(positionals[0] ?? '.', { force: values.force === true });
  io.stdout(`${written.message}\n`);
  return 0;
}

/**
 * `--duration D` sets the scenario's `duration` parameter (a duration) or its `seconds` parameter (a
 * number of simulated seconds); a scenario with neither is sized some other way, which the error names.
 */
function durationParam(flag: string, scenario: Scenario<any>): Record<string, unknown> {
  const schema = scenario.params;
  if (schema.duration !== undefined)
    return { duration: schema.duration.parse(flag, 'duration (from --duration)') };
  if (schema.seconds !== undefined) {
    let ms: number;
    try {
      ms = toMs(flag, '--duration');
    } catch {
      throw new UsageError(
        `--duration must be a duration such as 90s, 10m or 1h, got ${JSON.stringify(flag)}`,
      );
    }
    return { seconds: schema.seconds.parse(String(ms / 1000), 'seconds (from --duration)') };
  }
  throw new UsageError(
    `--duration: scenario ${scenario.name} has no 'duration' or 'seconds' parameter; its parameters are ${Object.keys(schema).join(', ')} (set them with --set)`,
  );
}

function parseMaxEvents(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw.replaceAll('_', ''));
  if (!/^[0-9_]+$/.test(raw.trim()) || !Number.isSafeInteger(n) || n < 1)
    throw new UsageError(`--max-events must be a whole number >= 1, got ${JSON.stringify(raw)}`);
  return n;
}

function parseMaxWall(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  let ms: number;
  try {
    ms = toMs(/^\d+(\.\d+)?$/.test(raw.trim()) ? Number(raw) : raw.trim(), '--max-wall');
  } catch {
    throw new UsageError(`--max-wall must be a duration such as 30s, 10m or 1h, got ${JSON.stringify(raw)}`);
  }
  if (!(ms > 0)) throw new UsageError(`--max-wall must be longer than 0, got ${JSON.stringify(raw)}`);
  return ms;
}

function parseInterval(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  let ms: number;
  try {
    ms = toMs(/^\d+(\.\d+)?$/.test(raw.trim()) ? Number(raw) : raw.trim(), '--metrics-interval');
  } catch {
    throw new UsageError(
      `--metrics-interval must be a duration such as 1s, 10s or 1m, got ${JSON.stringify(raw)}`,
    );
  }
  if (!(ms > 0)) throw new UsageError(`--metrics-interval must be longer than 0, got ${JSON.stringify(raw)}`);
  return ms;
}

/** The one value of a flag that may be given once; a second one is a conflict, not an override. */
function single(values: readonly string[] | undefined, flag: string): string | undefined {
  if (values === undefined || values.length === 0) return undefined;
  if (values.length > 1)
    throw new UsageError(
      `${flag} is given ${values.length} times (${values.map((v) => JSON.stringify(v)).join(', ')}); give it once`,
    );
  return values[0];
}

type FlagSpec = Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }>;

/** parseArgs with errors that name the flag and suggest the closest known one. */
function parseFlags<T extends FlagSpec>(
  args: readonly string[],
  options: T,
  command: string,
  allowPositionals: boolean,
) {
  try {
    return parseArgs({ args: [...args], allowPositionals, strict: true, options });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const unknown = /Unknown option '(-{1,2}[^']+)'/.exec(message)?.[1];
    if (unknown !== undefined) {
      const guess = didYouMean(unknown.replace(/^-+/, ''), Object.keys(options));
      throw new UsageError(
        `unknown option ${unknown} for '${command}'${guess === undefined ? '' : ` (did you mean --${guess}?)`}; options: ${Object.keys(
          options,
        )
          .map((k) => `--${k}`)
          .join(', ')}`,
      );
    }
    const dashed = /Option '(?:-\w, )?(--[\w-]+)' argument is ambiguous/.exec(message)?.[1];
    if (dashed !== undefined) {
      const value = args[args.indexOf(dashed) + 1] ?? '';
      throw new UsageError(
        `${dashed} ${JSON.stringify(value)}: a value that starts with a dash must be written ${dashed}=${value}`,
      );
    }
    const missing = /Option '(?:-\w, )?(--[\w-]+) <value>' argument missing/.exec(message)?.[1];
    if (missing !== undefined) throw new UsageError(`${missing} needs a value`);
    const extra = /Unexpected argument '([^']+)'/.exec(message)?.[1];
    if (extra !== undefined) throw new UsageError(`'${command}' takes no argument ${JSON.stringify(extra)}`);
    const ambiguous = /Option '(?:-\w, )?(--[\w-]+)' does not take an argument/.exec(message)?.[1];
    if (ambiguous !== undefined) throw new UsageError(`${ambiguous} takes no value`);
    throw new UsageError(message.replace(/^TypeError \[[A-Z_]+\]: /, ''));
  }
}

function isTruthy(value: string | undefined): boolean {
  return value !== undefined && value !== '' && value !== '0' && value.toLowerCase() !== 'false';
}
