import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import {
  DsimError,
  isDsimError,
  METRICS_CSV_HEADER,
  metricsCsv,
  PerfettoBuilder,
  type TraceRecord,
  toMs,
  toNdjsonLine,
} from '@dsim/core';
import { builtinScenarios } from './catalogue/index.js';
import { formatResult, table } from './format.js';
import { type ParamSchema, parseAssignments } from './params.js';
import { runScenario, type Scenario, type ScenarioResult } from './scenario.js';
import { wallClock } from './wall-clock.js';
import { writeFileAtomic } from './write-file.js';

/** Where the CLI writes. stdout carries only the result; everything else goes to stderr. */
export interface CliIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

const USAGE = `Usage:
  dsim list                                   list built-in scenarios
  dsim run NAME|FILE.ts [options]             run a scenario
  dsim help                                   show this help

Options for run:
  --seed S            root seed (number or string); chosen at random and printed when omitted
  --set key=value     set a scenario parameter (repeatable); see 'dsim run NAME --help'
  --variant NAME      run only this variant (repeatable)
  --duration D        simulated duration, e.g. 10m (scenarios with a 'duration' or 'seconds' parameter)
  --json              print exactly one JSON document on stdout
  --events FILE       write the NDJSON event log to FILE
  --trace FILE        write a Chrome/Perfetto trace (open in ui.perfetto.dev) to FILE
  --metrics FILE      write the metrics time series as CSV to FILE

Exit codes: 0 ok, 1 a scenario check failed, 2 usage or config error.`;

/** Usage errors: exit 2 with a message naming the flag. */
class UsageError extends Error {}

/**
 * Runs the `dsim` command line. Returns the exit code instead of exiting, so tests can call it.
 *
 * @example
 * ```ts
 * const code = await main(['run', 'mmc', '--seed', '1', '--json'], { stdout: console.log, stderr: console.error });
 * ```
 */
export async function main(argv: readonly string[], io: CliIO): Promise<number> {
  try {
    return await dispatch(argv, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`dsim: ${error.message}\n\n${USAGE}\n`);
      return 2;
    }
    if (isDsimError(error)) {
      io.stderr(`dsim: ${error.describe()}\n`);
      return error.code === 'CONFIG_ERROR' ||
        error.code === 'SCENARIO_NOT_FOUND' ||
        error.code === 'INVALID_ARGUMENT' ||
        error.code === 'INVALID_DURATION'
        ? 2
        : 1;
    }
    // A bug in a user's scenario or in dsim: report it without a raw crash, with the stack for debugging.
    io.stderr(
      `dsim: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    return 1;
  }
}

async function dispatch(argv: readonly string[], io: CliIO): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      io.stdout(`${USAGE}\n`);
      return command === undefined ? 2 : 0;
    case 'list':
      if (rest.length > 0) throw new UsageError(`'list' takes no arguments, got ${rest.join(' ')}`);
      io.stdout(`${listScenarios()}\n`);
      return 0;
    case 'run':
      return runCommand(rest, io);
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command)}; expected list, run or help`);
  }
}

function listScenarios(): string {
  return table([...builtinScenarios.values()].map((s) => [s.name, s.description]));
}

function scenarioHelp(scenario: Scenario<any>): string {
  const rows = Object.entries(scenario.params as ParamSchema).map(([k, spec]) => [
    k,
    `${spec.kind}`,
    `default ${String(spec.default)}`,
    spec.description,
  ]);
  const variants = (scenario.variants ?? []).map(
    (v) => `  ${v.name}${v.description ? `: ${v.description}` : ''}`,
  );
  return [
    `${scenario.name}: ${scenario.description}`,
    '',
    'Parameters (--set key=value):',
    table(rows.map((r) => ['', ...r])),
    ...(variants.length > 0 ? ['', 'Variants (--variant NAME):', ...variants] : []),
  ].join('\n');
}

async function runCommand(args: readonly string[], io: CliIO): Promise<number> {
  let parsed: ReturnType<typeof parseRunArgs>;
  try {
    parsed = parseRunArgs(args);
  } catch (error) {
    throw new UsageError(
      error instanceof Error ? error.message.replace(/^TypeError \[[A-Z_]+\]: /, '') : String(error),
    );
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 1) {
    throw new UsageError(
      positionals.length === 0
        ? "'run' needs a scenario name or a .ts file"
        : `'run' takes one scenario, got ${positionals.join(' ')}`,
    );
  }
  const scenario = await loadScenario(positionals[0]!);
  if (values.help) {
    io.stdout(`${scenarioHelp(scenario)}\n`);
    return 0;
  }
  if (values.seed !== undefined && values.seed.trim() === '')
    throw new UsageError('--seed must not be empty');
  const params = parseAssignments(values.set ?? [], scenario.params, scenario.name);
  if (values.duration !== undefined) Object.assign(params, durationParam(values.duration, scenario));
  const seed = values.seed ?? wallClock.freshSeed();
  if (values.seed === undefined) io.stderr(`dsim: no --seed given; using seed ${seed}\n`);
  const target = positionals[0]!;
  const reproduce = `dsim run ${target} --seed {seed}${(values.set ?? []).map((s) => ` --set ${s}`).join('')}${values.duration === undefined ? '' : ` --duration ${values.duration}`}${(values.variant ?? []).map((v) => ` --variant ${v}`).join('')}`;
  const events: string[] = [];
  const perfetto =
    values.trace === undefined ? undefined : new PerfettoBuilder({ seed, scenario: scenario.name });
  const listeners: Array<(r: TraceRecord) => void> = [];
  if (values.events !== undefined) listeners.push((r) => events.push(toNdjsonLine(r)));
  if (perfetto !== undefined) listeners.push((r) => perfetto.add(r));
  const inspect =
    listeners.length === 0
      ? undefined
      : (r: TraceRecord) => {
          for (const listener of listeners) listener(r);
        };
  const result = runScenario(scenario, {
    seed,
    params,
    reproduce,
    ...(values.variant === undefined ? {} : { variants: values.variant }),
    ...(inspect === undefined ? {} : { inspect }),
  });
  if (values.events !== undefined)
    writeFileAtomic(values.events, events.length === 0 ? '' : `${events.join('\n')}\n`);
  if (perfetto !== undefined && values.trace !== undefined) writeFileAtomic(values.trace, perfetto.json());
  if (values.metrics !== undefined) writeFileAtomic(values.metrics, resultCsv(result));
  io.stdout(values.json ? `${JSON.stringify(result)}\n` : formatResult(result));
  const failed = result.checks.filter((c) => !c.pass);
  if (failed.length > 0) {
    io.stderr(
      `dsim: ${failed.length} check(s) failed: ${failed.map((c) => c.name).join('; ')}\nreproduce: ${result.reproduce}\n`,
    );
    return 1;
  }
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
    } catch (error) {
      throw new UsageError(error instanceof Error ? error.message : String(error));
    }
    return { seconds: schema.seconds.parse(String(ms / 1000), 'seconds (from --duration)') };
  }
  throw new UsageError(
    `--duration: scenario ${scenario.name} has no 'duration' or 'seconds' parameter; its parameters are ${Object.keys(schema).join(', ')} (set them with --set)`,
  );
}

function parseRunArgs(args: readonly string[]) {
  return parseArgs({
    args: [...args],
    allowPositionals: true,
    strict: true,
    options: {
      seed: { type: 'string' },
      set: { type: 'string', multiple: true },
      variant: { type: 'string', multiple: true },
      duration: { type: 'string' },
      json: { type: 'boolean' },
      events: { type: 'string' },
      trace: { type: 'string' },
      metrics: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

let tsxRegistered = false;

/**
 * Imports a user's scenario file. TypeScript is handled by tsx's loader hooks registered for the whole
 * process (not tsx's namespaced `tsImport`), so the file's `@dsim/*` imports resolve to the very module
 * instances the CLI uses: one `SimEvent` class, one `DsimError` class.
 */
async function importUserModule(file: string): Promise<Record<string, unknown>> {
  if (/\.m?ts$/.test(file) && !tsxRegistered && !process.execArgv.some((a) => a.includes('tsx'))) {
    const { register } = await import('tsx/esm/api');
    register();
    tsxRegistered = true;
  }
  return (await import(pathToFileURL(file).href)) as Record<string, unknown>;
}

/** Every variant's series in one CSV (header once). */
function resultCsv(result: ScenarioResult): string {
  const parts = result.variants.length === 0 ? [{ name: '', series: result.series }] : result.variants;
  let out = `${METRICS_CSV_HEADER}\n`;
  for (const v of parts) if (v.series !== null) out += metricsCsv(v.series, v.name, false);
  return out;
}

/** Finds a built-in scenario by name, or loads a .ts/.js file whose default export is a scenario. */
export async function loadScenario(target: string): Promise<Scenario<any>> {
  const builtin = builtinScenarios.get(target);
  if (builtin !== undefined) return builtin;
  if (!/\.(m?ts|m?js)$/.test(target)) {
    throw new DsimError(
      'SCENARIO_NOT_FOUND',
      `no built-in scenario named ${JSON.stringify(target)}; built-in scenarios: ${[...builtinScenarios.keys()].join(', ')} (or give a path to a .ts file)`,
    );
  }
  const file = resolve(target);
  if (!existsSync(file)) throw new DsimError('SCENARIO_NOT_FOUND', `scenario file not found: ${target}`);
  const mod = await importUserModule(file);
  const candidate = (mod.default ?? mod.scenario) as Scenario<any> | undefined;
  if (candidate === undefined || typeof candidate !== 'object' || typeof candidate.run !== 'function') {
    throw new DsimError(
      'CONFIG_ERROR',
      `${target} must export a scenario: export default defineScenario({ name, description, params, run })`,
    );
  }
  return candidate;
}
