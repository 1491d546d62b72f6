import { readFileSync, statSync } from 'node:fs';
import { builtinScenarios } from '../catalogue/index.js';
import { resultParts } from '../report/data.js';
import { writeReport } from '../report/render.js';
import { ReportInputError, validateResult } from '../report/validate.js';
import type { ScenarioResult } from '../scenario.js';
import type { SweepResult } from '../sweep/aggregate.js';
import { UsageError } from './failure.js';
import type { AtomicFile } from './output-file.js';

/**
 * Reads a result saved by `dsim run NAME --json --detail` and checks its shape. Every problem (missing
 * file, not JSON, a wrong field) is a {@link UsageError} naming the file and the field.
 *
 * @example
 * ```ts
 * const result = readSavedResult('result.json');
 * ```
 */
export function readSavedResult(path: string): ScenarioResult {
  let text: string;
  try {
    if (statSync(path).isDirectory()) throw new UsageError(`report: ${path} is a folder; give a result file`);
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (error instanceof UsageError) throw error;
    const code = (error as { code?: string }).code;
    throw new UsageError(
      `report: cannot read ${JSON.stringify(path)} (${code === 'ENOENT' ? 'no such file' : (code ?? String(error))})`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new UsageError(
      `report: ${path} is not JSON (${error instanceof Error ? error.message : String(error)}); save a result with 'dsim run NAME --json --detail > ${path}'`,
    );
  }
  try {
    return validateResult(parsed, path);
  } catch (error) {
    if (error instanceof ReportInputError) throw new UsageError(`report: ${error.message}`);
    throw error;
  }
}

/**
 * A sweep result saved by `dsim sweep --out` or `--json`, or null when the file holds something else
 * (a scenario result: {@link readSavedResult} reads it and names what is wrong). A sweep result with a
 * wrong shape is a {@link UsageError} naming the field.
 *
 * @example
 * ```ts
 * const sweep = readSavedSweep('sweep.json');
 * ```
 */
export function readSavedSweep(path: string): (SweepResult & { reproduce?: string }) | null {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return null; // readSavedResult reports the file
  }
  const d = doc as Partial<SweepResult> | null;
  if (d === null || typeof d !== 'object' || !('spec' in d) || !('points' in d)) return null;
  const fail = (field: string, want: string): never => {
    throw new UsageError(
      `report: ${path}: ${field} ${want} (expected the JSON of 'dsim sweep ... --out FILE')`,
    );
  };
  if ((d as { kind?: unknown }).kind === 'dsim-sweep-shard')
    fail('kind', "is a shard: merge the shards first with 'dsim merge'");
  const spec = d.spec as Partial<SweepResult['spec']> | undefined;
  if (spec === undefined || typeof spec !== 'object' || typeof spec.scenario !== 'string')
    fail('spec.scenario', 'must be a string');
  if (typeof spec!.confidence !== 'number') fail('spec.confidence', 'must be a number');
  if (spec!.grid === null || typeof spec!.grid !== 'object') fail('spec.grid', 'must be an object');
  if (!Array.isArray(spec!.seeds)) fail('spec.seeds', 'must be an array');
  if (!Array.isArray(d.points)) fail('points', 'must be an array');
  for (const [i, p] of d.points!.entries()) {
    if (typeof p?.id !== 'string') fail(`points[${i}].id`, 'must be a string');
    if (p.figures === null || typeof p.figures !== 'object')
      fail(`points[${i}].figures`, 'must be an object');
    if (!Array.isArray(p.checks)) fail(`points[${i}].checks`, 'must be an array');
  }
  if (typeof d.digest !== 'string') fail('digest', 'must be a string');
  return d as SweepResult & { reproduce?: string };
}

/**
 * Streams the HTML report of `result` into `file`. The result goes through JSON first, exactly as
 * `--json --detail` saves it, so `dsim run --report` and `dsim report` on the saved JSON write the same
 * bytes. The description comes from the built-in scenario of that name (a result does not carry one).
 */
export function writeReportFile(result: ScenarioResult, file: AtomicFile, source = 'the result'): void {
  const saved = validateResult(JSON.parse(JSON.stringify(result)), source);
  try {
    writeReport(saved, { description: builtinScenarios.get(saved.scenario)?.description }, (chunk) =>
      file.write(chunk),
    );
  } catch (error) {
    if (error instanceof ReportInputError) throw new UsageError(`report: ${source}: ${error.message}`);
    throw error;
  }
}

/** True when the result has time series to chart. */
export function hasSeries(result: ScenarioResult): boolean {
  return resultParts(result).some((p) => p.series !== null);
}
