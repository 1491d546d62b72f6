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
  if (typeof x !== 'number') return x === null ? '-' : String(x);
  if (!Number.isFinite(x)) return String(x);
  if (Number.isInteger(x)) return String(x);
  const abs = Math.abs(x);
  return String(Number(x.toFixed(abs >= 100 ? 2 : abs >= 1 ? 3 : 4)));
}

/**
 * The readable result printed by `dsim run` without `--json`: header, request table, per-variant
 * outcomes, checks and the reproduce line.
 *
 * @example
 * ```ts
 * process.stdout.write(formatResult(runScenario(mmc, { seed: 1 })));
 * ```
 */
export function formatResult(result: ScenarioResult): string {
  const out: string[] = [];
  out.push(`scenario ${result.scenario}   seed ${result.seed}   digest ${result.digest}`);
  out.push(`simulated ${num(result.simulatedMs)} ms in ${result.wallMs} ms wall, ${result.events} events`);
  const params = Object.entries(result.params).map(([k, v]) => `${k}=${String(v)}`);
  if (params.length > 0) out.push(`params ${params.join(' ')}`);
  out.push('');
  const m = result.metrics;
  out.push(
    table([
      ['requests', 'ok', 'failed', 'availability', 'mean', 'p50', 'p90', 'p99', 'p99.9', 'max (ms)'],
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
      ].map(num),
    ]),
  );
  if (result.variants.length > 0) {
    out.push('');
    const keys = Object.keys(result.variants[0]!.outcome);
    out.push(
      table([
        ['variant', ...keys],
        ...result.variants.map((v) => [v.name, ...keys.map((k) => num(v.outcome[k]))]),
      ]),
    );
  } else if (Object.keys(result.outcome).length > 0) {
    out.push('');
    out.push(table([['outcome', 'value'], ...Object.entries(result.outcome).map(([k, v]) => [k, num(v)])]));
  }
  if (result.checks.length > 0) {
    out.push('');
    out.push(table(result.checks.map((c) => [c.pass ? 'PASS' : 'FAIL', c.name, c.detail])));
  }
  out.push('');
  out.push(`reproduce: ${result.reproduce}`);
  return `${out.join('\n')}\n`;
}
