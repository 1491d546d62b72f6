import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { renderSweepReport } from '../report/sweep-report.js';
import type { Scenario } from '../scenario.js';
import type { SweepResult } from '../sweep/aggregate.js';
import { findThreshold, formatFind, parseFind } from '../sweep/find.js';
import { parseSeeds, parseSweepValues } from '../sweep/grid.js';
import { mergeSweeps, type SweepShard } from '../sweep/merge.js';
import { defaultWorkers, sweepInWorkers } from '../sweep/pool.js';
import { sweepOnQueue } from '../sweep/queue.js';
import type { SweepRun } from '../sweep/run-point.js';
import type { SweepOptions } from '../sweep/sweep.js';
import { wallClock } from '../wall-clock.js';
import { UsageError } from './failure.js';
import { AtomicFile, preflightOutputs } from './output-file.js';
import { printable, shellQuote } from './text.js';
import { connectTimeoutFromEnv, parseQueue } from './worker.js';

/** What `dsim sweep` was asked, flags already split. */
export interface SweepCommand {
  scenario: Scenario<any>;
  /** The scenario as given on the command line (a name or a file), for the reproduce line. */
  target: string;
  seeds: string | undefined;
  set: readonly string[];
  variants: readonly string[];
  confidence: string | undefined;
  precision: string | undefined;
  figure: string | undefined;
  maxSeeds: string | undefined;
  shard: string | undefined;
  /** Worker threads, as given. @default the machine's cores */
  workers: string | undefined;
  /** A Redis URL: run on a BullMQ queue there, by `dsim worker` processes. @default here */
  queue?: string | undefined;
  /** A threshold search, `smallest servers in 1..32 where meanWait < 100`. @default none */
  find: string | undefined;
  tolerance: string | undefined;
  maxSteps: string | undefined;
  json: boolean;
  csv: string | undefined;
  /** The HTML report to write. @default none */
  report: string | undefined;
  /** Steady-state figures, `node/metric` each. @default none */
  steady: readonly string[];
  out: string | undefined;
  env: Readonly<Record<string, string | undefined>>;
  isTTY: boolean;
}

/** Default seeds when none are given: ten replications. */
const DEFAULT_SEEDS = '1..10';

/**
 * `dsim sweep NAME|FILE [--seeds 1..100] [--set k=a,b,c | --set k=10..100:10 | --set k=v ...]`: runs the
 * cross product of the swept values with every seed, and prints per point every figure's mean and
 * interval. With `--out FILE` the result is written there (atomically) and every finished run is
 * appended to `FILE.runs.ndjson` as it finishes, so the same command run again skips what is done.
 * `--shard K/N` (or `JOB_COMPLETION_INDEX` / `JOB_COMPLETIONS`) runs a slice and writes a shard file
 * for `dsim merge`.
 */
export async function sweepCommand(
  c: SweepCommand,
  io: { stdout(t: string): void; stderr(t: string): void },
): Promise<number> {
  const seeds = parseSeeds(c.seeds ?? DEFAULT_SEEDS);
  const grid: Record<string, string[]> = {};
  const set: Record<string, string> = {};
  for (const a of c.set) {
    const eq = a.indexOf('=');
    if (eq <= 0)
      throw new UsageError(
        `--set expects key=value or key=a,b,c or key=10..100:10, got ${JSON.stringify(a)}`,
      );
    const key = a.slice(0, eq).trim();
    if (key in grid || key in set)
      throw new UsageError(`--set ${key} is given twice; give each parameter once`);
    const values = parseSweepValues(key, a.slice(eq + 1));
    if (values.length > 1) grid[key] = values;
    else set[key] = values[0]!;
  }
  const confidence = c.confidence === undefined ? 0.95 : Number(c.confidence);
  if (!(confidence > 0 && confidence < 1))
    throw new UsageError(
      `--confidence must be a number in (0, 1) such as 0.95, got ${JSON.stringify(c.confidence)}`,
    );
  if (c.find !== undefined) return findCommand(c, seeds, grid, set, confidence, io);
  for (const [flag, v] of [
    ['--tolerance', c.tolerance],
    ['--max-steps', c.maxSteps],
  ] as const)
    if (v !== undefined) throw new UsageError(`${flag} goes with --find (the threshold search)`);
  const shard = shardOf(c.shard, c.env);
  if (c.queue !== undefined) {
    parseQueue(c.queue);
    if (shard !== undefined)
      throw new UsageError(
        `--queue does not go with --shard${c.shard === undefined ? ' (JOB_COMPLETION_INDEX is set)' : ''}: the queue hands every run to whichever worker is free, so there is nothing to slice`,
      );
    if (c.workers !== undefined)
      throw new UsageError(
        '--queue does not go with --workers: the runs go to dsim worker processes (set their --concurrency)',
      );
  }
  const precision = precisionOf(c);
  if (precision !== undefined && shard !== undefined)
    throw new UsageError(
      '--precision decides how many seeds to run as results come in: it cannot be split into --shard slices',
    );
  preflightOutputs({ '--out': c.out, '--csv': c.csv, '--report': c.report });
  const runsPath = c.out === undefined ? undefined : `${c.out}.runs.ndjson`;
  const done = runsPath === undefined ? [] : readRuns(runsPath);
  if (done.length > 0 && c.isTTY)
    io.stderr(`dsim sweep: resuming, ${done.length} runs already in ${runsPath}\n`);
  const collected: SweepRun[] = [...done];
  const workers = c.workers === undefined ? defaultWorkers() : Number(c.workers);
  if (!(Number.isInteger(workers) && workers >= 1 && workers <= 1024))
    throw new UsageError(`--workers must be a whole number from 1 to 1024, got ${JSON.stringify(c.workers)}`);
  // Progress on a terminal only: real time never reaches the result.
  const started = wallClock.now();
  const startedDone = done.length;
  const options: SweepOptions = {
    seeds,
    grid,
    set,
    ...(c.variants.length === 0 ? {} : { variants: c.variants }),
    confidence,
    ...(shard === undefined ? {} : { shard }),
    ...(precision === undefined ? {} : { precision }),
    ...(c.steady.length === 0 ? {} : { steady: c.steady }),
    done,
    onRun: (run, progress) => {
      // One line per finished run, appended at once: a killed sweep loses only the runs in flight.
      if (runsPath !== undefined) appendFileSync(runsPath, `${JSON.stringify(run)}\n`);
      collected.push(run);
      if (c.isTTY) io.stderr(`\r${progressLine(progress, startedDone, started, workers)}`);
    },
  };
  const result =
    c.queue === undefined
      ? await sweepInWorkers(c.target, c.scenario, options, workers)
      : await sweepOnQueue(c.target, c.scenario, options, c.queue, {
          field: '--queue',
          connectTimeoutMs: connectTimeoutFromEnv(c.env),
          onQueued: (q) =>
            io.stderr(
              `dsim sweep: ${q.runs} runs on queue ${q.queue} at ${q.url}; start workers with: dsim worker --queue ${q.url}\n`,
            ),
        });
  if (c.isTTY) io.stderr('\n');
  const reproduce = reproduceLine(c);
  if (shard !== undefined) {
    const runs = collected.sort((a, b) =>
      a.point < b.point ? -1 : a.point > b.point ? 1 : a.replication - b.replication,
    );
    const doc: SweepShard = { kind: 'dsim-sweep-shard', shard, spec: result.spec, runs };
    writeJson(c.out, doc, io, c.json);
    return 0;
  }
  const doc = { ...result, reproduce };
  if (c.report !== undefined) {
    const f = new AtomicFile(c.report);
    f.write(renderSweepReport(doc));
    f.commit();
  }
  if (c.out !== undefined) writeJson(c.out, doc, io, false);
  if (c.csv !== undefined) {
    const f = new AtomicFile(c.csv);
    f.write(sweepCsv(result));
    f.commit();
  }
  if (c.json) io.stdout(`${JSON.stringify(doc, null, 2)}\n`);
  else io.stdout(sweepTable(result, reproduce));
  return 0;
}

/** `dsim sweep X --find SPEC`: the threshold search, one point at a time in this thread. */
function findCommand(
  c: SweepCommand,
  seeds: string[],
  grid: Record<string, string[]>,
  set: Record<string, string>,
  confidence: number,
  io: { stdout(t: string): void },
): number {
  const spec = parseFind(c.find!);
  const swept = Object.keys(grid);
  if (swept.length > 0)
    throw new UsageError(
      `--find searches ${spec.param} alone: give ${swept.join(', ')} one value each (--set ${swept[0]}=...)`,
    );
  if (spec.param in set) throw new UsageError(`--find searches ${spec.param}: do not also --set it`);
  for (const [flag, v] of [
    ['--shard', c.shard],
    ['--queue', c.queue],
    ['--precision', c.precision],
    ['--figure', c.figure],
    ['--csv', c.csv],
    ['--report', c.report],
  ] as const)
    if (v !== undefined) throw new UsageError(`${flag} does not go with --find`);
  const number = (flag: string, v: string | undefined, integer: boolean) => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!(Number.isFinite(n) && n > 0 && (!integer || Number.isInteger(n))))
      throw new UsageError(
        `${flag} must be ${integer ? 'a whole number' : 'a number'} > 0, got ${JSON.stringify(v)}`,
      );
    return n;
  };
  const tolerance = number('--tolerance', c.tolerance, false);
  const maxSteps = number('--max-steps', c.maxSteps, true);
  const maxSeeds = number('--max-seeds', c.maxSeeds, true);
  preflightOutputs({ '--out': c.out });
  const result = findThreshold(c.scenario, {
    ...spec,
    seeds,
    set,
    ...(c.variants.length === 0 ? {} : { variants: c.variants }),
    confidence,
    ...(tolerance === undefined ? {} : { tolerance }),
    ...(maxSteps === undefined ? {} : { maxSteps }),
    ...(maxSeeds === undefined ? {} : { maxSeeds }),
  });
  const doc = { ...result, reproduce: reproduceLine(c) };
  if (c.out !== undefined) writeJson(c.out, doc, io, false);
  if (c.json) io.stdout(`${JSON.stringify(doc, null, 2)}\n`);
  else io.stdout(`${formatFind(result)}\nreproduce: ${doc.reproduce}\n`);
  return 0;
}

/**
 * The progress line: runs done of the total, how many are running, and the time left at the pace of
 * the runs done in this process (resumed runs are not counted in the pace).
 */
function progressLine(
  p: { done: number; total: number },
  resumed: number,
  startedMs: number,
  workers: number,
): string {
  const left = p.total - p.done;
  const ranHere = p.done - resumed;
  const elapsed = wallClock.now() - startedMs;
  const eta = ranHere > 0 && left > 0 ? `, ETA ${formatSeconds((elapsed / ranHere) * left)}` : '';
  const running = Math.min(workers, left);
  return `dsim sweep: ${p.done}/${p.total} runs${running > 0 ? `, ${running} running` : ''}${eta}   `;
}

function formatSeconds(ms: number): string {
  const s = Math.ceil(ms / 1000);
  return s < 120 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
}

/** `dsim merge a.json b.json ... [-o out.json]`: shards of one sweep into its result. */
export function mergeCommand(
  files: readonly string[],
  out: string | undefined,
  io: { stdout(t: string): void },
): number {
  if (files.length === 0)
    throw new UsageError("'merge' needs the shard files: dsim merge shard-1.json shard-2.json -o sweep.json");
  preflightOutputs({ '--output': out });
  const shards = files.map((f) => readShard(f));
  const result = mergeSweeps(shards);
  if (out !== undefined) writeJson(out, result, io, false);
  else io.stdout(`${JSON.stringify(result, null, 2)}\n`);
  return 0;
}

function readShard(path: string): SweepShard {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new UsageError(
      `merge: cannot read ${JSON.stringify(path)} (${code === 'ENOENT' ? 'no such file' : error instanceof Error ? error.message : String(error)})`,
    );
  }
  const d = doc as Partial<SweepShard>;
  if (
    d === null ||
    typeof d !== 'object' ||
    d.kind !== 'dsim-sweep-shard' ||
    !Array.isArray(d.runs) ||
    d.spec === undefined
  )
    throw new UsageError(
      `merge: ${path} is not a sweep shard (write one with dsim sweep ... --shard K/N --out ${path})`,
    );
  return d as SweepShard;
}

function writeJson(
  path: string | undefined,
  doc: unknown,
  io: { stdout(t: string): void },
  alsoStdout: boolean,
): void {
  const text = `${JSON.stringify(doc, null, 2)}\n`;
  if (path !== undefined) {
    const f = new AtomicFile(path);
    f.write(text);
    f.commit();
  }
  if (path === undefined || alsoStdout) io.stdout(text);
}

/** Every run already written to the resume file; a torn last line (a killed sweep) is ignored. */
function readRuns(path: string): SweepRun[] {
  if (!existsSync(path)) return [];
  const lines = readFileSync(path, 'utf8').split('\n');
  const out: SweepRun[] = [];
  for (const [i, line] of lines.entries()) {
    if (line.trim() === '') continue;
    try {
      out.push(JSON.parse(line) as SweepRun);
    } catch {
      if (i >= lines.length - 2) break; // the last line, cut off mid-write
      throw new UsageError(`sweep: ${path} line ${i + 1} is not a run; remove the file to start over`);
    }
  }
  return out;
}

function shardOf(flag: string | undefined, env: Readonly<Record<string, string | undefined>>) {
  if (flag !== undefined) {
    const m = /^(\d+)\/(\d+)$/.exec(flag.trim());
    const index = m === null ? Number.NaN : Number(m[1]);
    const count = m === null ? Number.NaN : Number(m[2]);
    if (!(index >= 1 && count >= 1 && index <= count))
      throw new UsageError(`--shard must be K/N with 1 <= K <= N, such as 2/4, got ${JSON.stringify(flag)}`);
    return { index, count };
  }
  // Kubernetes indexed jobs: JOB_COMPLETION_INDEX is 0-based.
  const index = env.JOB_COMPLETION_INDEX;
  const count = env.JOB_COMPLETIONS;
  if (index === undefined && count === undefined) return undefined;
  const i = Number(index);
  const n = Number(count);
  if (!(Number.isInteger(i) && Number.isInteger(n) && i >= 0 && i < n))
    throw new UsageError(
      `JOB_COMPLETION_INDEX and JOB_COMPLETIONS must be whole numbers with 0 <= index < completions, got ${JSON.stringify(index)} and ${JSON.stringify(count)}`,
    );
  return { index: i + 1, count: n };
}

function precisionOf(c: SweepCommand) {
  if (c.precision === undefined) {
    if (c.figure !== undefined || c.maxSeeds !== undefined)
      throw new UsageError(
        '--figure and --max-seeds go with --precision (run seeds until the interval is this narrow)',
      );
    return undefined;
  }
  const m = /^(\d+(?:\.\d+)?)%$/.exec(c.precision.trim());
  const relative = m === null ? Number.NaN : Number(m[1]) / 100;
  if (!(relative > 0 && relative < 1))
    throw new UsageError(`--precision must be a percentage such as 2%, got ${JSON.stringify(c.precision)}`);
  if (c.figure === undefined)
    throw new UsageError(
      '--precision needs --figure NAME: the outcome figure whose interval must be that narrow',
    );
  const maxSeeds = c.maxSeeds === undefined ? 1000 : Number(c.maxSeeds);
  if (!(Number.isInteger(maxSeeds) && maxSeeds >= 2 && maxSeeds <= 100_000))
    throw new UsageError(
      `--max-seeds must be a whole number from 2 to 100000, got ${JSON.stringify(c.maxSeeds)}`,
    );
  return { figure: c.figure, relative, maxSeeds };
}

function reproduceLine(c: SweepCommand): string {
  const parts = [c.target, '--seeds', c.seeds ?? DEFAULT_SEEDS];
  for (const s of c.set) parts.push('--set', s);
  for (const v of c.variants) parts.push('--variant', v);
  for (const v of c.steady) parts.push('--steady', v);
  if (c.confidence !== undefined) parts.push('--confidence', c.confidence);
  if (c.precision !== undefined) parts.push('--precision', c.precision, '--figure', c.figure ?? '');
  if (c.find !== undefined) parts.push('--find', c.find);
  if (c.tolerance !== undefined) parts.push('--tolerance', c.tolerance);
  if (c.maxSteps !== undefined) parts.push('--max-steps', c.maxSteps);
  if (c.maxSeeds !== undefined) parts.push('--max-seeds', c.maxSeeds);
  return `dsim sweep ${parts.map((p) => shellQuote(p)).join(' ')}`;
}

/** Six significant digits. */
function num(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '-';
  return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6)));
}

/**
 * The sweep as a table: per point and figure, the mean, the interval's half-width, the standard
 * deviation and the median over replications.
 */
export function sweepTable(result: SweepResult, reproduce: string): string {
  const rows: string[][] = [
    ['point', 'n', 'figure', 'mean', `± (${Math.round(result.spec.confidence * 100)}%)`, 'sd', 'p50'],
  ];
  for (const p of result.points)
    for (const [name, s] of Object.entries(p.figures))
      rows.push([
        printable(p.id === '' ? '(all)' : p.id),
        String(p.n),
        printable(name),
        num(s.mean),
        num(s.ci?.halfWidth),
        num(s.sd),
        num(s.p50),
      ]);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const lines = rows.map((r) =>
    r
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join('  ')
      .trimEnd(),
  );
  const checks = result.points.flatMap((p) =>
    p.checks
      .filter((c) => c.passed < c.of)
      .map((c) => `${p.id || '(all)'}: ${c.name}: held in ${c.passed} of ${c.of}`),
  );
  return `${[
    `sweep ${result.spec.scenario}   ${result.points.length} points × ${result.spec.seeds.length} seeds   digest ${result.digest}`,
    '',
    ...lines,
    ...(checks.length === 0 ? [] : ['', ...checks]),
    '',
    `reproduce: ${reproduce}`,
  ].join('\n')}\n`;
}

/** The sweep as CSV: one row per point and figure. */
export function sweepCsv(result: SweepResult): string {
  const keys = Object.keys(result.spec.grid);
  const q = (s: string) => (/[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s);
  const head = [...keys, 'figure', 'n', 'mean', 'sd', 'ci_low', 'ci_high', 'min', 'p50', 'p90', 'max'];
  const lines = [head.join(',')];
  for (const p of result.points)
    for (const [name, s] of Object.entries(p.figures))
      lines.push(
        [
          ...keys.map((k) => q(p.values[k]!)),
          q(name),
          String(s.n),
          num(s.mean),
          num(s.sd),
          num(s.ci?.low),
          num(s.ci?.high),
          num(s.min),
          num(s.p50),
          num(s.p90),
          num(s.max),
        ].join(','),
      );
  return `${lines.join('\n')}\n`;
}
