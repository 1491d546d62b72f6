import { xxHash64Hex } from '@dsim/components';
import { DsimError, invalidArgument } from '@dsim/core';

/**
 * Parsing of the sweep flags (`--seeds`, swept `--set key=...` values) and the grid of points a sweep
 * runs. Every error is a CONFIG_ERROR whose message names the flag and shows the value given.
 */

/**
 * Most seeds {@link parseSeeds} accepts, most values {@link parseSweepValues} expands to, most points
 * {@link gridPoints} makes: 100 000.
 *
 * @example
 * ```ts
 * if (seeds.length * points.length > SWEEP_MAX_ITEMS) console.warn('a large sweep');
 * ```
 */
export const SWEEP_MAX_ITEMS = 100_000;

/** An integer written in decimal, optionally signed. */
const INTEGER = /^[+-]?\d+$/;
/** A decimal number: optional sign, digits with an optional fraction, optional exponent. */
const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?$/i;

/** A CONFIG_ERROR for a bad flag value: `--seeds "5..1": the range 5..1 is reversed; write 1..5`. */
function configError(flag: string, shown: string, field: string, value: string, problem: string): DsimError {
  return new DsimError('CONFIG_ERROR', `${flag} ${JSON.stringify(shown)}: ${problem}`, {
    details: { field, value },
  });
}

const TOO_MANY = `more than ${SWEEP_MAX_ITEMS} seeds; run fewer replications`;

/** Splits a comma list into trimmed items, refusing an empty list or an empty item. */
function items(spec: string, what: string, fail: (problem: string) => DsimError): string[] {
  const parts = spec.split(',').map((s) => s.trim());
  if (parts.length === 1 && parts[0] === '') throw fail(`give at least one ${what}`);
  const empty = parts.indexOf('');
  if (empty >= 0) throw fail(`item ${empty + 1} of the comma list is empty`);
  return parts;
}

/**
 * Parses a `--seeds` value into the seeds of the replications, as strings (the engine's seeds are
 * strings). Forms, which can be mixed in a comma list:
 *
 * - `1..100`: every integer from 1 to 100, both included, written in plain decimal (`01..03` gives
 *   `1`, `2`, `3`);
 * - `42` or `a`: one seed, kept exactly as written (trimmed), so string seeds work: `a,b,c`.
 *
 * Refused, with an error naming the flag and the value: an empty value or empty item, a range whose
 * bounds are not integers (`1.5..3`, `a..c`) or are reversed (`10..1`), a seed given twice, and more
 * than {@link SWEEP_MAX_ITEMS} (100 000) seeds. A seed cannot contain a comma, nor `..` outside a range.
 *
 * @param flag - the flag named in errors. @default '--seeds'
 * @example
 * ```ts
 * parseSeeds('1..5');     // ['1', '2', '3', '4', '5']
 * parseSeeds('1,2,7');    // ['1', '2', '7']
 * parseSeeds('42');       // ['42']
 * parseSeeds('a,b');      // ['a', 'b']
 * parseSeeds('1..3,10');  // ['1', '2', '3', '10']
 * parseSeeds('5..1');     // throws CONFIG_ERROR: --seeds "5..1": the range 5..1 is reversed; write 1..5
 * ```
 */
export function parseSeeds(spec: string, flag = '--seeds'): string[] {
  if (typeof spec !== 'string') throw invalidArgument(flag, spec, 'a string');
  const fail = (problem: string) => configError(flag, spec, flag, spec, problem);
  const out: string[] = [];
  const seen = new Set<string>();
  const push = (seed: string) => {
    if (seen.has(seed)) throw fail(`seed ${seed} is given twice; give each seed once`);
    seen.add(seed);
    out.push(seed);
  };
  for (const item of items(spec, 'seed', fail)) {
    const dots = item.indexOf('..');
    if (dots < 0) {
      if (out.length >= SWEEP_MAX_ITEMS) throw fail(TOO_MANY);
      push(item);
      continue;
    }
    const from = item.slice(0, dots).trim();
    const to = item.slice(dots + 2).trim();
    if (!INTEGER.test(from) || !INTEGER.test(to))
      throw fail(`a seed range is two integers, start..end (both included), got ${item}`);
    const a = Number(from);
    const b = Number(to);
    if (!Number.isSafeInteger(a) || !Number.isSafeInteger(b))
      throw fail(`range bounds must be integers within ±${Number.MAX_SAFE_INTEGER}, got ${item}`);
    if (a > b) throw fail(`the range ${item} is reversed; write ${to}..${from}`);
    if (b - a + 1 > SWEEP_MAX_ITEMS - out.length) throw fail(TOO_MANY);
    for (let s = a; s <= b; s++) push(String(s));
  }
  return out;
}

/** Decimal places a number written as `text` has (`0.25` → 2, `1e-3` → 3, `10` → 0). */
function decimals(text: string): number {
  const m = /^[+-]?(\d*)(?:\.(\d*))?(?:e([+-]?\d+))?$/i.exec(text);
  if (m === null) return 0;
  return Math.max(0, (m[2]?.length ?? 0) - Number(m[3] ?? 0));
}

/**
 * Parses the values of one swept parameter, as given after `--set key=` (the runner resolves each
 * value through the scenario's parameter schema, so they stay strings here). Forms, which can be mixed
 * in a comma list:
 *
 * - `a,b,c`: the values as written (trimmed);
 * - `10..100:10`: start, start + step, … up to end, both ends included when reached (`0..10:3` gives
 *   0, 3, 6, 9); the step defaults to 1 (`1..4`). Decimal steps do not drift: value i is computed as
 *   start + i·step and rounded to the decimals of start and step (`0.1..0.5:0.1` gives exactly
 *   `0.1`, `0.2`, `0.3`, `0.4`, `0.5`, never `0.30000000000000004`);
 * - `42`: one value.
 *
 * Refused, with an error naming the flag, the key and the value: an empty value or item, a malformed
 * range (`1..`, `a..b`), a reversed range, a step that is not > 0, a value given twice, and more than
 * {@link SWEEP_MAX_ITEMS} (100 000) values. A value cannot contain a comma, nor `..` outside a range.
 *
 * @param key - the parameter's name, named in errors
 * @param flag - the flag named in errors. @default '--set'
 * @example
 * ```ts
 * parseSweepValues('service', 'exp,const');    // ['exp', 'const']
 * parseSweepValues('lambda', '10..50:10');     // ['10', '20', '30', '40', '50']
 * parseSweepValues('loss', '0.1..0.5:0.1');    // ['0.1', '0.2', '0.3', '0.4', '0.5']
 * parseSweepValues('servers', '3');            // ['3']
 * parseSweepValues('lambda', '5..1:1');
 * // throws CONFIG_ERROR: --set "lambda=5..1:1": the range 5..1:1 is reversed; write 1..5:1
 * ```
 */
export function parseSweepValues(key: string, spec: string, flag = '--set'): string[] {
  if (typeof key !== 'string' || key.trim() === '')
    throw invalidArgument('parseSweepValues: key', key, 'a parameter name');
  if (typeof spec !== 'string') throw invalidArgument(`${flag} ${key}`, spec, 'a string');
  const fail = (problem: string) => configError(flag, `${key}=${spec}`, key, spec, problem);
  const parts = items(spec, 'value', fail);
  const out: string[] = [];
  const seen = new Set<string>();
  const push = (value: string) => {
    if (seen.has(value)) throw fail(`value ${value} is given twice; give each value once`);
    if (out.length >= SWEEP_MAX_ITEMS) throw fail(`more than ${SWEEP_MAX_ITEMS} values; use a coarser step`);
    seen.add(value);
    out.push(value);
  };
  for (const item of parts) {
    const dots = item.indexOf('..');
    if (dots < 0) {
      push(item);
      continue;
    }
    const from = item.slice(0, dots).trim();
    const rest = item.slice(dots + 2);
    const colon = rest.indexOf(':');
    const to = (colon < 0 ? rest : rest.slice(0, colon)).trim();
    const by = colon < 0 ? '1' : rest.slice(colon + 1).trim();
    if (!DECIMAL.test(from) || !DECIMAL.test(to) || !DECIMAL.test(by))
      throw fail(`a range is start..end or start..end:step with numbers (both ends included), got ${item}`);
    const start = Number(from);
    const end = Number(to);
    const step = Number(by);
    if (!(Number.isFinite(start) && Number.isFinite(end) && Number.isFinite(step)))
      throw fail(`range bounds and step must be finite numbers, got ${item}`);
    if (!(step > 0)) throw fail(`the step of ${item} must be > 0`);
    if (start > end)
      throw fail(`the range ${item} is reversed; write ${to}..${from}${colon < 0 ? '' : `:${by}`}`);
    // A tolerance of 1e-9 steps keeps an end that floating point lands just short of: (0.3 − 0.1)/0.1 = 1.999…
    const count = Math.floor((end - start) / step + 1e-9) + 1;
    if (count > SWEEP_MAX_ITEMS - out.length)
      throw fail(`more than ${SWEEP_MAX_ITEMS} values; use a coarser step`);
    const places = Math.min(100, Math.max(decimals(from), decimals(by)));
    for (let i = 0; i < count; i++) push(String(Number((start + i * step).toFixed(places))));
  }
  return out;
}

/**
 * One point of a sweep's grid: a stable id and the swept parameters' values.
 *
 * @example
 * ```ts
 * const point: GridPoint = { id: 'lambda=10,servers=3', values: { lambda: '10', servers: '3' } };
 * ```
 */
export interface GridPoint {
  /** `key=value` pairs joined by commas, keys in grid order: `lambda=10,servers=3`; `''` for the empty grid. */
  id: string;
  /** The swept parameters' values at this point, as given. */
  values: Record<string, string>;
}

/**
 * The points of a sweep: the cross product of the swept parameters' values, in a deterministic order
 * (keys in the order given, the last key varying fastest, values in the order given), each with a
 * stable id such as `lambda=10,servers=3`. An empty grid has one point, with id `''` and no values (a
 * sweep over seeds only).
 *
 * Refused (CONFIG_ERROR): a key that is empty or contains `=` or `,` (ids would be ambiguous), a key
 * with no values, a value given twice for a key, two points with the same id, and more than
 * {@link SWEEP_MAX_ITEMS} (100 000) points.
 *
 * @example
 * ```ts
 * gridPoints({ lambda: ['10', '20'], servers: ['2', '3'] }).map((p) => p.id);
 * // ['lambda=10,servers=2', 'lambda=10,servers=3', 'lambda=20,servers=2', 'lambda=20,servers=3']
 * gridPoints({}); // [{ id: '', values: {} }]
 * ```
 */
export function gridPoints(grid: Readonly<Record<string, readonly string[]>>): GridPoint[] {
  if (grid === null || typeof grid !== 'object' || Array.isArray(grid))
    throw invalidArgument('gridPoints: grid', grid, 'an object of parameter name to values');
  const keys = Object.keys(grid);
  let total = 1;
  for (const key of keys) {
    const values = grid[key];
    const fail = (problem: string) =>
      new DsimError('CONFIG_ERROR', `sweep grid: ${problem}`, { details: { field: key, value: values } });
    if (key === '' || key.includes('=') || key.includes(','))
      throw fail(`parameter name ${JSON.stringify(key)} must be non-empty, without "=" or ","`);
    if (!Array.isArray(values) || values.length === 0) throw fail(`parameter ${key} has no values to sweep`);
    const seen = new Set<string>();
    for (const v of values) {
      if (typeof v !== 'string')
        throw fail(`parameter ${key}: values must be strings, got ${JSON.stringify(v)}`);
      if (seen.has(v)) throw fail(`parameter ${key}: value ${JSON.stringify(v)} is given twice`);
      seen.add(v);
    }
    total *= values.length;
    if (total > SWEEP_MAX_ITEMS)
      throw fail(
        `more than ${SWEEP_MAX_ITEMS} points (${keys.map((k) => `${k}: ${grid[k]?.length}`).join(', ')}); sweep fewer values`,
      );
  }
  const points: GridPoint[] = [];
  const index = new Array<number>(keys.length).fill(0);
  const ids = new Set<string>();
  for (let p = 0; p < total; p++) {
    const values: Record<string, string> = {};
    const parts: string[] = [];
    for (let k = 0; k < keys.length; k++) {
      const key = keys[k]!;
      const value = grid[key]![index[k]!]!;
      values[key] = value;
      parts.push(`${key}=${value}`);
    }
    const id = parts.join(',');
    if (ids.has(id))
      throw new DsimError(
        'CONFIG_ERROR',
        `sweep grid: two points have the id ${JSON.stringify(id)}; a value contains ","`,
        {
          details: { field: 'grid', value: id },
        },
      );
    ids.add(id);
    points.push({ id, values });
    // Odometer: the last key turns fastest.
    for (let k = keys.length - 1; k >= 0; k--) {
      index[k]!++;
      if (index[k]! < grid[keys[k]!]!.length) break;
      index[k] = 0;
    }
  }
  return points;
}

/**
 * The seed of one replication of one point, derived from the sweep's master seed: 16 hex digits of
 * xxHash64 (seed 0, the reference algorithm, so any xxHash library reproduces it) of the UTF-8 string
 * `dsim-sweep` NUL `master` NUL `pointId` NUL `replication`. Depends on those three only, so adding or
 * removing points, or adding replications, never changes another run's seed; independent seeds for
 * every point (rather than the same seeds at every point, common random numbers) make the points'
 * intervals independent of each other.
 *
 * @param master - the sweep's master seed, a non-empty string or a finite number
 * @param pointId - the point's id from {@link gridPoints}
 * @param replication - the replication's index, an integer >= 0
 * @example
 * ```ts
 * deriveSeed('42', 'lambda=10,servers=3', 0); // 16 hex digits, the same on every machine
 * ```
 */
export function deriveSeed(master: string | number, pointId: string, replication: number): string {
  if (typeof master === 'number' ? !Number.isFinite(master) : typeof master !== 'string' || master === '')
    throw invalidArgument('deriveSeed: master', master, 'a finite number or a non-empty string');
  if (typeof pointId !== 'string') throw invalidArgument('deriveSeed: pointId', pointId, 'a string');
  if (!Number.isSafeInteger(replication) || replication < 0)
    throw invalidArgument('deriveSeed: replication', replication, 'an integer >= 0');
  return xxHash64Hex(`dsim-sweep\u0000${String(master)}\u0000${pointId}\u0000${replication}`);
}
