import { printable } from './cli/text.js';
import type { RunMetrics } from './request-stats.js';
import type { ScenarioResult } from './scenario.js';

/** Renders rows as an aligned plain-text table. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  return rows
    .map((row) =>
      row
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** Formats a number for humans: up to 4 decimals, no trailing zeros. */
export function num(x: unknown): string {
  if (typeof x !== 'number') return x === null || x === undefined ? '-' : String(x);
  if (!Number.isFinite(x)) return String(x);
  if (Number.isInteger(x)) return String(x);
  const abs = Math.abs(x);
  return String(Number(x.toFixed(abs >= 100 ? 2 : abs >= 1 ? 3 : 4)));
}

/** Outcome figures printed across, one row per variant; more are printed down, one row per figure. */
const ACROSS = 10;

/**
 * The readable result printed by `dsim run` without `--json`: header, request table (one row per
 * variant when there are variants), per-variant outcomes, checks and the reproduce line. Strings that
 * come from users (names, params, check details) are printed with control characters escaped.
 *
 * @example
 * ```ts
 * process.stdout.write(formatResult(runScenario(mmc, { seed: 1 })));
 * ```
 */
export function formatResult(result: ScenarioResult): string {
  const out: string[] = [];
  out.push(`scenario ${result.scenario}   seed ${printable(result.seed)}   digest ${result.digest}`);
  const runs = result.variants.length === 0 ? null : result.variants;
  if (runs === null) {
    out.push(`simulated ${num(result.simulatedMs)} ms in ${result.wallMs} ms wall, ${result.events} events`);
  } else {
    const events = runs.reduce((a, v) => a + v.events, 0);
    out.push(
      `${runs.length} variant${runs.length === 1 ? '' : 's'}, each run alone with the same seed; ${events} events in ${result.wallMs} ms wall`,
    );
  }
  const params = Object.entries(result.params).map(([k, v]) => `${k}=${printable(String(v))}`);
  if (params.length > 0) out.push(`params ${params.join(' ')}`);
  out.push('');
  const header = [
    'requests',
    'ok',
    'failed',
    'availability',
    'mean',
    'p50',
    'p90',
    'p99',
    'p99.9',
    'max (ms)',
  ];
  const row = (m: RunMetrics): string[] =>
    [
      m.requests,
      m.ok,
      m.failed,
      m.availability,
      m.latencyMs.mean,
      m.latencyMs.p50,
      m.latencyMs.p90,
      m.latencyMs.p99,
      m.latencyMs.p999,
      m.latencyMs.max,
    ].map(num);
  if (runs === null) {
    out.push(table([header, row(result.metrics)]));
  } else {
    out.push(
      table([
        ['variant', 'simulated (ms)', 'events', ...header],
        ...runs.map((v) => [printable(v.name), num(v.simulatedMs), String(v.events), ...row(v.metrics)]),
      ]),
    );
  }
  if (runs !== null) {
    const keys = [...new Set(runs.flatMap((v) => Object.keys(v.outcome)))];
    if (keys.length > 0) {
      out.push('');
      // A few figures read across (one row per variant); more (a system scenario's per-phase figures)
      // read down, one row per figure, so the table stays as wide as the variants.
      out.push(
        keys.length <= ACROSS
          ? table([
              ['variant', ...keys.map((k) => printable(k))],
              ...runs.map((v) => [printable(v.name), ...keys.map((k) => printable(num(v.outcome[k])))]),
            ])
          : table([
              ['outcome', ...runs.map((v) => printable(v.name))],
              ...keys.map((k) => [printable(k), ...runs.map((v) => printable(num(v.outcome[k])))]),
            ]),
      );
    }
  } else if (Object.keys(result.outcome).length > 0) {
    out.push('');
    out.push(
      table([
        ['outcome', 'value'],
        ...Object.entries(result.outcome).map(([k, v]) => [printable(k), printable(num(v))]),
      ]),
    );
  }
  if (result.checks.length > 0) {
    out.push('');
    out.push(
      table(result.checks.map((c) => [c.pass ? 'PASS' : 'FAIL', printable(c.name), printable(c.detail)])),
    );
  }
  out.push('');
  out.push(`reproduce: ${printable(result.reproduce)}`);
  return `${out.join('\n')}\n`;
}
