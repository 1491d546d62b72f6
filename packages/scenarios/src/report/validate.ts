import type { ScenarioResult } from '../scenario.js';
import { checkGraph, type SystemGraph } from '../system/graph/graph.js';

/** A saved result that is not a scenario result: the message names the file and the field. */
export class ReportInputError extends Error {}

type Json = Record<string, unknown>;

/**
 * Checks that a parsed JSON document has the shape of a {@link ScenarioResult} as `dsim run --json`
 * prints it (with or without `--detail`), and returns it typed. Throws {@link ReportInputError} naming
 * the first wrong field, e.g. `variants[1].series.intervalMs must be a number > 0`.
 *
 * @param value - the parsed document
 * @param source - the file name, for messages
 * @example
 * ```ts
 * const result = validateResult(JSON.parse(text), 'result.json');
 * ```
 */
export function validateResult(value: unknown, source: string): ScenarioResult {
  const fail = (field: string, want: string): never => {
    throw new ReportInputError(
      `${source}: ${field} ${want} (expected the JSON of 'dsim run NAME --json --detail')`,
    );
  };
  const root = object(value, 'the document', fail);
  for (const key of ['scenario', 'seed', 'digest', 'reproduce'])
    if (typeof root[key] !== 'string') fail(key, 'must be a string');
  object(root.params, 'params', fail);
  checkOutcome(root.outcome, 'outcome', fail);
  checkChecks(root.checks, 'checks', fail);
  if (root.headline !== undefined && root.headline !== null && typeof root.headline !== 'string')
    fail('headline', 'must be a string or null');
  checkRunFigures(root, '', fail);
  if (!Array.isArray(root.variants)) fail('variants', 'must be an array');
  (root.variants as unknown[]).forEach((v, i) => {
    const at = `variants[${i}]`;
    const variant = object(v, at, fail);
    if (typeof variant.name !== 'string') fail(`${at}.name`, 'must be a string');
    object(variant.params, `${at}.params`, fail);
    checkOutcome(variant.outcome, `${at}.outcome`, fail);
    checkChecks(variant.checks, `${at}.checks`, fail);
    checkRunFigures(variant, `${at}.`, fail);
  });
  return value as ScenarioResult;
}

type Fail = (field: string, want: string) => never;

function object(value: unknown, field: string, fail: Fail): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(field, 'must be an object');
  return value as Json;
}

function checkOutcome(value: unknown, field: string, fail: Fail): void {
  for (const [k, v] of Object.entries(object(value, field, fail)))
    if (v !== null && !['number', 'string', 'boolean'].includes(typeof v))
      fail(`${field}.${k}`, 'must be a number, string, boolean or null');
}

function checkChecks(value: unknown, field: string, fail: Fail): void {
  if (!Array.isArray(value)) fail(field, 'must be an array');
  (value as unknown[]).forEach((c, i) => {
    const check = object(c, `${field}[${i}]`, fail);
    if (typeof check.name !== 'string') fail(`${field}[${i}].name`, 'must be a string');
    if (typeof check.pass !== 'boolean') fail(`${field}[${i}].pass`, 'must be true or false');
    if (typeof check.detail !== 'string') fail(`${field}[${i}].detail`, 'must be a string');
  });
}

/** simulatedMs, events, metrics and series of the result or of one variant. */
function checkRunFigures(run: Json, at: string, fail: Fail): void {
  for (const key of ['simulatedMs', 'events'])
    if (typeof run[key] !== 'number') fail(`${at}${key}`, 'must be a number');
  const metrics = object(run.metrics, `${at}metrics`, fail);
  for (const [k, v] of Object.entries(metrics)) {
    if (v === null || typeof v === 'number') continue;
    for (const [k2, v2] of Object.entries(object(v, `${at}metrics.${k}`, fail)))
      if (v2 !== null && typeof v2 !== 'number') fail(`${at}metrics.${k}.${k2}`, 'must be a number or null');
  }
  if (run.series !== undefined && run.series !== null) checkSeries(run.series, `${at}series`, fail);
  // Saved before faults were recorded: no windows to shade.
  if (run.faults !== undefined)
    checkWindows(run.faults, `${at}faults`, fail, (w, f) => {
      if (typeof w.label !== 'string') fail(`${f}.label`, 'must be a string');
      if (typeof w.fromMs !== 'number') fail(`${f}.fromMs`, 'must be a number');
      if (w.toMs !== null && typeof w.toMs !== 'number') fail(`${f}.toMs`, 'must be a number or null');
    });
  if (run.phases !== undefined)
    checkWindows(run.phases, `${at}phases`, fail, (w, f) => {
      if (typeof w.name !== 'string') fail(`${f}.name`, 'must be a string');
      if (typeof w.fromMs !== 'number') fail(`${f}.fromMs`, 'must be a number');
      if (typeof w.toMs !== 'number') fail(`${f}.toMs`, 'must be a number');
    });
  if (run.topology !== undefined) {
    try {
      checkGraph(run.topology as SystemGraph);
    } catch (e) {
      fail(`${at}topology`, `is not a system graph: ${(e as Error).message}`);
    }
  }
}

function checkWindows(value: unknown, at: string, fail: Fail, each: (w: Json, field: string) => void): void {
  if (!Array.isArray(value)) fail(at, 'must be an array');
  for (const [i, w] of (value as unknown[]).entries()) each(object(w, `${at}[${i}]`, fail), `${at}[${i}]`);
}

function checkSeries(value: unknown, at: string, fail: Fail): void {
  const series = object(value, at, fail);
  if (typeof series.start !== 'number' || !Number.isFinite(series.start))
    fail(`${at}.start`, 'must be a number');
  if (typeof series.intervalMs !== 'number' || !(series.intervalMs > 0))
    fail(`${at}.intervalMs`, 'must be a number > 0');
  const points = series.points;
  if (typeof points !== 'number' || !Number.isSafeInteger(points) || points < 0)
    fail(`${at}.points`, 'must be a whole number >= 0');
  const n = points as number;
  const numbers = (v: unknown, field: string, nulls: boolean) => {
    if (!Array.isArray(v) || v.length !== n) fail(field, `must be an array of ${n} values`);
    for (const x of v as unknown[])
      if (!(typeof x === 'number' || (nulls && x === null)))
        fail(field, `must hold only numbers${nulls ? ' or nulls' : ''}`);
  };
  for (const [node, raw] of Object.entries(object(series.nodes, `${at}.nodes`, fail))) {
    const base = `${at}.nodes[${JSON.stringify(node)}]`;
    const s = object(raw, base, fail);
    for (const [m, v] of Object.entries(object(s.counters, `${base}.counters`, fail)))
      numbers(v, `${base}.counters[${JSON.stringify(m)}]`, false);
    for (const [m, v] of Object.entries(object(s.gauges, `${base}.gauges`, fail))) {
      const g = object(v, `${base}.gauges[${JSON.stringify(m)}]`, fail);
      for (const f of ['mean', 'max']) numbers(g[f], `${base}.gauges[${JSON.stringify(m)}].${f}`, false);
    }
    for (const [m, v] of Object.entries(object(s.histograms, `${base}.histograms`, fail))) {
      const h = object(v, `${base}.histograms[${JSON.stringify(m)}]`, fail);
      numbers(h.count, `${base}.histograms[${JSON.stringify(m)}].count`, false);
      for (const f of ['p50', 'p99']) numbers(h[f], `${base}.histograms[${JSON.stringify(m)}].${f}`, true);
    }
  }
}
