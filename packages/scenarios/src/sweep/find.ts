import { DsimError, didYouMean, showValue } from '@dsim/core';
import type { ParamSchema } from '../params.js';
import type { Scenario } from '../scenario.js';
import type { SweepPointResult } from './aggregate.js';
import { SWEEP_MAX_ITEMS } from './grid.js';
import type { SweepRun } from './run-point.js';
import type { Summary } from './stats.js';
import { sweep, sweepDigest } from './sweep.js';

/**
 * `find`: the threshold search of a sweep. Bisects one numeric parameter for the largest (or smallest)
 * value at which a condition on an outcome figure's mean holds, deciding each evaluated value with the
 * Student t interval over the replications, and reports the answer with its uncertainty.
 */

/**
 * A comparison of a figure's mean with a bound.
 *
 * @example
 * ```ts
 * const op: FindOp = '<'; // "the mean of the figure is below the bound"
 * ```
 */
export type FindOp = '<' | '<=' | '>' | '>=';

/** The comparisons {@link findThreshold} accepts. */
const OPS: readonly FindOp[] = ['<', '<=', '>', '>='];

/**
 * What an evaluated value says about the condition: its whole interval is on the right side of the
 * bound (`holds`), on the wrong side (`fails`), or straddles it (`undecided`).
 *
 * @example
 * ```ts
 * const v: FindVerdict = findVerdict(summary, '<', 200); // 'holds' | 'fails' | 'undecided'
 * ```
 */
export type FindVerdict = 'holds' | 'fails' | 'undecided';

/**
 * Options of {@link findThreshold}. Every field is checked; an unknown one is an error with a
 * "did you mean".
 *
 * @example
 * ```ts
 * const options: FindOptions = {
 *   param: 'servers', range: [1, 32], want: 'smallest',
 *   figure: 'meanWait', op: '<', bound: 100,
 *   seeds: [1, 2, 3, 4, 5], set: { lambda: 4, customers: 5000 },
 * };
 * ```
 */
export interface FindOptions {
  /** The parameter searched: a numeric (`number` or `integer`) parameter of the scenario. */
  param: string;
  /** The values searched, `[lo, hi]` with lo < hi, both ends included (and evaluated first). */
  range: readonly [number, number];
  /**
   * Whether the parameter takes whole numbers only (midpoints are rounded down).
   * @default true for an `integer` parameter, false for a `number` one
   */
  integer?: boolean;
  /** The outcome figure the condition is on, as sweep summarises them (`meanWait`, `p99`, `naive.p99`). */
  figure: string;
  /** How the figure's mean compares with `bound` where the condition holds. */
  op: FindOp;
  /** The bound, a finite number in the figure's unit. */
  bound: number;
  /**
   * `largest`: the largest value where the condition holds, assuming it holds below and fails above
   * (e.g. the largest load with p99 < 200 ms). `smallest`: the smallest value where it holds, assuming
   * it fails below and holds above (e.g. the fewest servers with mean wait < 100 ms).
   */
  want: 'largest' | 'smallest';
  /** Seeds of the replications at every evaluated value: at least two (an interval needs two). */
  seeds: readonly (string | number)[];
  /** Fixed parameters (not `param`). @default none */
  set?: Readonly<Record<string, string | number | boolean>>;
  /** Variants to run. @default all */
  variants?: readonly string[];
  /** Confidence level of the intervals, in (0, 1). @default 0.95 */
  confidence?: number;
  /**
   * Stop once the bracket around the threshold is at most this wide (each side of an undecided region
   * separately). For an integer parameter a whole number >= 1; 1 finds the exact integer.
   * @default 1 for an integer parameter, (hi - lo) / 100 for a number
   */
  tolerance?: number;
  /** Most midpoints evaluated (the two ends not counted). @default 30 */
  maxSteps?: number;
  /**
   * A value whose interval straddles the bound gets more replications, doubling the seeds (the next
   * integers after the largest integer seed, as `sweep`'s `precision` does) up to this many; still
   * undecided then, it is reported as undecided. Equal to `seeds.length` to add none.
   * @default 4 × seeds.length
   */
  maxSeeds?: number;
  /** Told every evaluated value as it is decided (for progress output). */
  onPoint?: (point: FindPoint) => void;
}

const KEYS = [
  'param',
  'range',
  'integer',
  'figure',
  'op',
  'bound',
  'want',
  'seeds',
  'set',
  'variants',
  'confidence',
  'tolerance',
  'maxSteps',
  'maxSeeds',
  'onPoint',
];

/**
 * One evaluated value of a threshold search.
 *
 * @example
 * ```ts
 * for (const p of findThreshold(mmc, options).points)
 *   console.log(p.value, p.verdict, p.summary.mean, p.summary.ci?.low, p.summary.ci?.high, p.summary.n);
 * ```
 */
export interface FindPoint {
  /** The parameter's value. */
  value: number;
  /** `start` and `end`: the two ends of the range, checked first; `step`: a bisection midpoint. */
  role: 'start' | 'end' | 'step';
  verdict: FindVerdict;
  /** The figure's summary at this value (over every replication run there, `summary.n` of them). */
  summary: Summary;
  /** The whole sweep point at this value: every figure, every check. */
  point: SweepPointResult;
}

/**
 * What {@link findThreshold} returns: the answer, how sure it is, and every evaluated value.
 *
 * @example
 * ```ts
 * const r = findThreshold(mmc, options);
 * r.answer;            // 7: the smallest servers known to hold
 * r.bracket;           // { holds: 7, fails: 6 }: the threshold lies between
 * r.undecided;         // []: values in between whose interval straddled the bound
 * r.converged;         // true: the bracket is as narrow as the tolerance asked
 * ```
 */
export interface FindResult {
  /** The search, normalised: everything that determines the result. */
  spec: {
    scenario: string;
    param: string;
    range: [number, number];
    integer: boolean;
    want: 'largest' | 'smallest';
    figure: string;
    op: FindOp;
    bound: number;
    seeds: string[];
    set: Record<string, string>;
    variants?: string[];
    confidence: number;
    tolerance: number;
    maxSteps: number;
    maxSeeds: number;
  };
  /** The condition as text: `meanWait < 100`. */
  condition: string;
  /**
   * The answer: the value known to hold that is nearest the threshold (the largest known to hold for
   * `largest`, the smallest for `smallest`): the safe side of the bracket.
   */
  answer: number;
  /**
   * The threshold lies between the last value known to hold (`holds`, the answer) and the first value
   * known to fail (`fails`): `fails` is above `holds` for `largest`, below it for `smallest`.
   */
  bracket: { holds: number; fails: number };
  /** `|fails − holds|`: how far the answer may be from the true threshold. */
  width: number;
  /**
   * Evaluated values strictly inside the bracket whose interval straddled the bound even after
   * `maxSeeds` replications, ascending: the figure's mean there is too close to the bound to tell with
   * these runs. Empty when the answer is sharp.
   */
  undecided: number[];
  /**
   * True when the bracket is as narrow as `tolerance` asked (each side of the undecided values); false
   * when `maxSteps` ran out first (the bracket still holds the threshold, it is only wider).
   */
  converged: boolean;
  /** Midpoints evaluated (the two ends not counted). */
  steps: number;
  /** Every evaluated value, in evaluation order: the two ends first. */
  points: FindPoint[];
  /** Runs done in all. */
  runs: number;
  /** Digest over every evaluated value's sweep digest, in evaluation order. */
  digest: string;
}

/**
 * Decides a condition on a figure's mean with its confidence interval: `holds` when the whole interval
 * is on the condition's side of the bound, `fails` when the whole interval is on the other side,
 * `undecided` when it straddles the bound or there is no interval (fewer than two values). A figure
 * constant over the replications (interval of width 0) is decided by its mean.
 *
 * @example
 * ```ts
 * const s = summarize([40, 45, 50]);  // mean 45, 95% interval [32.6, 57.4]
 * findVerdict(s, '<', 100);           // 'holds'
 * findVerdict(s, '<', 20);            // 'fails'
 * findVerdict(s, '<', 50);            // 'undecided'
 * ```
 */
export function findVerdict(summary: Summary, op: FindOp, bound: number): FindVerdict {
  const ci = summary.ci;
  if (ci === null) return 'undecided';
  switch (op) {
    case '<':
      return ci.high < bound ? 'holds' : ci.low >= bound ? 'fails' : 'undecided';
    case '<=':
      return ci.high <= bound ? 'holds' : ci.low > bound ? 'fails' : 'undecided';
    case '>':
      return ci.low > bound ? 'holds' : ci.high <= bound ? 'fails' : 'undecided';
    case '>=':
      return ci.low >= bound ? 'holds' : ci.high < bound ? 'fails' : 'undecided';
  }
}

/** The seed of replication `i` beyond the given list: the next integers after the largest integer seed. */
function nextSeed(seeds: readonly string[], i: number): string {
  if (i < seeds.length) return seeds[i]!;
  const ints = seeds.filter((s) => /^\d+$/.test(s)).map(Number);
  const top = ints.length === 0 ? 0 : Math.max(...ints);
  return String(top + (i - seeds.length) + 1);
}

/** A number for messages: at most 6 significant digits. */
function num(x: number | null | undefined): string {
  return x === null || x === undefined ? 'none' : String(Number(x.toPrecision(6)));
}

/** `mean 45, 95% interval [32.6, 57.4] over 3 runs`. */
function describeSummary(s: Summary): string {
  const ci =
    s.ci === null ? 'no interval' : `${s.ci.level * 100}% interval [${num(s.ci.low)}, ${num(s.ci.high)}]`;
  return `mean ${num(s.mean)}, ${ci} over ${s.n} runs`;
}

/**
 * Finds the threshold of a parameter by bisection: the largest (`want: 'largest'`) or smallest
 * (`want: 'smallest'`) value of `param` in `range` where the condition `mean(figure) op bound` holds,
 * running every evaluated value as a one-point {@link sweep} over the seeds.
 *
 * How it decides. At each value the figure's Student t interval at `confidence` is compared with the
 * bound ({@link findVerdict}): the condition `holds` when the whole interval is on its side, `fails`
 * when the whole interval is on the other side, and is `undecided` when the interval straddles the
 * bound. A wrong decision needs the interval to miss the mean on one side: probability about
 * (1 − confidence) / 2 per decided value under the interval's assumptions (replications independent,
 * their figure close to normal).
 *
 * Undecided values. An undecided value first gets more replications: the seeds are doubled (next
 * integer seeds) up to `maxSeeds`, the runs already done are kept. (Looking again after adding runs is
 * a sequential test: with k looks the error per value is at most k times the above.) If it is still
 * undecided, the mean there is within noise of the bound, and nothing sound can place it on either
 * side: it is kept as undecided and the search narrows both edges of the undecided region instead,
 * the last value known to hold and the first known to fail, each to `tolerance`. The answer is the
 * value known to hold (the safe side); the bracket `[holds, fails]` and the undecided values in it say
 * how sure it is. A value decided beyond an undecided one (holding past it, or failing before it)
 * decides that one too, by monotonicity, and the bracket moves past it.
 *
 * Monotonicity. The search assumes the condition holds on one side of the threshold and fails on the
 * other. Both ends are evaluated first: if the condition does not clearly hold where the search
 * starts (`lo` for `largest`, `hi` for `smallest`), or does not clearly fail at the other end, no
 * threshold is known to lie in the range and it is a CONFIG_ERROR that says which end and shows its
 * interval, not a wrong answer.
 *
 * Deterministic: the same scenario and options give the same result, byte for byte (the seeds are the
 * same at every value, common random numbers, which also keeps the figure's noise from breaking
 * monotonicity between nearby values).
 *
 * @example
 * ```ts
 * // The fewest servers for a mean wait under 100 ms at 4 arrivals/s, 1 service/s per server.
 * const r = findThreshold(mmc, {
 *   param: 'servers', range: [1, 32], want: 'smallest',
 *   figure: 'meanWait', op: '<', bound: 100,
 *   seeds: [1, 2, 3, 4, 5], set: { lambda: 4, mu: 1, customers: 5000 },
 * });
 * r.answer;  // 7 (Erlang C: 142 ms with 6 servers, 45 ms with 7)
 * r.bracket; // { holds: 7, fails: 6 }
 * ```
 */
export function findThreshold(scenario: Scenario<ParamSchema>, options: FindOptions): FindResult {
  const where = `findThreshold(${scenario.name})`;
  const bad = (field: string, value: unknown, want: string) =>
    new DsimError('CONFIG_ERROR', `${where}: ${field} must be ${want}, got ${showValue(value)}`, {
      details: { field, value },
    });
  if (options === null || typeof options !== 'object' || Array.isArray(options))
    throw bad('options', options, 'an object');
  const raw = options as unknown as Record<string, unknown>;
  for (const k of Object.keys(raw))
    if (!KEYS.includes(k)) {
      const guess = didYouMean(k, KEYS);
      throw new DsimError(
        'CONFIG_ERROR',
        `${where}: unknown option ${JSON.stringify(k)}${guess === undefined ? '' : ` (did you mean ${JSON.stringify(guess)}?)`}; the options: ${KEYS.join(', ')}`,
        { details: { field: k, value: raw[k], ...(guess === undefined ? {} : { suggestion: guess }) } },
      );
    }

  // The parameter: a numeric one of the scenario.
  const { param } = options;
  const numeric = Object.keys(scenario.params).filter((k) => {
    const kind = scenario.params[k]!.kind;
    return kind === 'number' || kind === 'integer';
  });
  const schema = typeof param === 'string' ? scenario.params[param] : undefined;
  if (schema === undefined || !numeric.includes(param)) {
    const guess = typeof param === 'string' ? didYouMean(param, numeric) : undefined;
    const kind =
      schema === undefined
        ? ''
        : ` (${param} is ${schema.kind === 'enum' ? 'an' : 'a'} ${schema.kind} parameter)`;
    throw bad(
      'param',
      param,
      `a numeric parameter of ${scenario.name}: ${numeric.join(', ') || 'it has none'}${guess === undefined ? '' : ` (did you mean ${JSON.stringify(guess)}?)`}${kind}`,
    );
  }
  const integer = options.integer ?? schema.kind === 'integer';
  if (typeof integer !== 'boolean') throw bad('integer', integer, 'true or false');
  if (!integer && schema.kind === 'integer')
    throw bad('integer', integer, `true (or left out): ${param} is an integer parameter`);

  // The range: two finite numbers, lo < hi, both allowed values of the parameter.
  const range = options.range as unknown;
  if (
    !Array.isArray(range) ||
    range.length !== 2 ||
    !range.every((x) => typeof x === 'number' && Number.isFinite(x))
  )
    throw bad('range', range, 'two finite numbers [lo, hi]');
  const [lo, hi] = range as [number, number];
  if (!(lo < hi))
    throw bad('range', range, `[lo, hi] with lo < hi${lo > hi ? ` (write [${hi}, ${lo}])` : ''}`);
  if (integer && !(Number.isSafeInteger(lo) && Number.isSafeInteger(hi)))
    throw bad('range', range, `whole numbers: ${param} is searched over integers`);
  for (const end of [lo, hi]) {
    try {
      schema.validate(end, param);
    } catch {
      throw bad('range', range, `within the allowed values of ${param} (${schema.allowed})`);
    }
  }

  const { figure, op, bound, want } = options;
  if (typeof figure !== 'string' || figure === '')
    throw bad('figure', figure, 'the name of an outcome figure');
  if (!OPS.includes(op)) throw bad('op', op, `one of ${OPS.join(', ')}`);
  if (typeof bound !== 'number' || !Number.isFinite(bound)) throw bad('bound', bound, 'a finite number');
  if (want !== 'largest' && want !== 'smallest') {
    const guess = typeof want === 'string' ? didYouMean(want, ['largest', 'smallest']) : undefined;
    throw bad(
      'want',
      want,
      `"largest" or "smallest"${guess === undefined ? '' : ` (did you mean ${JSON.stringify(guess)}?)`}`,
    );
  }

  if (!Array.isArray(options.seeds)) throw bad('seeds', options.seeds, 'a list of seeds');
  const seeds = options.seeds.map(String);
  if (seeds.length < 2) throw bad('seeds', options.seeds, 'at least two seeds (an interval needs two runs)');
  if (new Set(seeds).size !== seeds.length) throw bad('seeds', options.seeds, 'distinct seeds');
  const set = options.set ?? {};
  if (set === null || typeof set !== 'object' || Array.isArray(set))
    throw bad('set', set, 'an object of parameter name to value');
  if (Object.hasOwn(set, param))
    throw bad('set', set, `the fixed parameters, without the searched one (${param})`);
  const variants = options.variants;
  if (variants !== undefined && !(Array.isArray(variants) && variants.every((v) => typeof v === 'string')))
    throw bad('variants', variants, 'a list of variant names');
  const confidence = options.confidence ?? 0.95;
  if (typeof confidence !== 'number' || !(confidence > 0 && confidence < 1))
    throw bad('confidence', confidence, 'a number in (0, 1)');
  const tolerance = options.tolerance ?? (integer ? 1 : (hi - lo) / 100);
  if (
    integer
      ? !(Number.isSafeInteger(tolerance) && tolerance >= 1)
      : !(Number.isFinite(tolerance) && tolerance > 0)
  )
    throw bad(
      'tolerance',
      tolerance,
      integer ? `a whole number >= 1 (${param} is an integer)` : 'a finite number > 0',
    );
  const maxSteps = options.maxSteps ?? 30;
  if (!(Number.isSafeInteger(maxSteps) && maxSteps >= 1 && maxSteps <= 1000))
    throw bad('maxSteps', maxSteps, 'a whole number from 1 to 1000');
  const maxSeeds = options.maxSeeds ?? Math.min(SWEEP_MAX_ITEMS, 4 * seeds.length);
  if (!(Number.isSafeInteger(maxSeeds) && maxSeeds >= seeds.length && maxSeeds <= SWEEP_MAX_ITEMS))
    throw bad(
      'maxSeeds',
      maxSeeds,
      `a whole number from the number of seeds (${seeds.length}) to ${SWEEP_MAX_ITEMS}`,
    );
  const onPoint = options.onPoint;
  if (onPoint !== undefined && typeof onPoint !== 'function') throw bad('onPoint', onPoint, 'a function');

  const condition = `${figure} ${op} ${bound}`;
  const spec: FindResult['spec'] = {
    scenario: scenario.name,
    param,
    range: [lo, hi],
    integer,
    want,
    figure,
    op,
    bound,
    seeds,
    set: Object.fromEntries(Object.entries(set).map(([k, v]) => [k, String(v)])),
    ...(variants === undefined ? {} : { variants: [...variants] }),
    confidence,
    tolerance,
    maxSteps,
    maxSeeds,
  };

  // Evaluation: one point, the seeds, more seeds while undecided (the runs done are kept).
  const points: FindPoint[] = [];
  const digests: string[] = [];
  let runCount = 0;
  const evaluate = (value: number, role: FindPoint['role']): FindPoint => {
    const runs: SweepRun[] = [];
    let n = seeds.length;
    for (;;) {
      const result = sweep(scenario, {
        seeds: Array.from({ length: n }, (_, i) => nextSeed(seeds, i)),
        grid: { [param]: [String(value)] },
        set: spec.set,
        ...(variants === undefined ? {} : { variants }),
        confidence,
        done: [...runs],
        onRun: (r) => runs.push(r),
      });
      const point = result.points[0]!;
      const summary = point.figures[figure];
      if (summary === undefined) {
        const known = Object.keys(point.figures);
        const guess = didYouMean(figure, known);
        throw bad(
          'figure',
          figure,
          `a numeric outcome figure of ${scenario.name}${guess === undefined ? '' : ` (did you mean ${JSON.stringify(guess)}?)`}: ${known.join(', ')}`,
        );
      }
      if (summary.n === 0)
        throw new DsimError(
          'CONFIG_ERROR',
          `${where}: ${figure} was not measured at ${param}=${value} (null in every run); search a figure every run measures`,
          { details: { field: 'figure', value: figure, point: point.id } },
        );
      const verdict = findVerdict(summary, op, bound);
      if (verdict !== 'undecided' || n >= maxSeeds) {
        runCount += runs.length;
        digests.push(`${point.id}:${result.digest}`);
        const found: FindPoint = { value, role, verdict, summary, point };
        points.push(found);
        onPoint?.(found);
        return found;
      }
      n = Math.min(maxSeeds, 2 * n);
    }
  };

  // Orientation: the condition holds at `start`, fails at `end`; `ahead(a, b)`: a is nearer `end` than b.
  const largest = want === 'largest';
  const start = largest ? lo : hi;
  const end = largest ? hi : lo;
  const ahead = (a: number, b: number) => (largest ? a > b : a < b);
  const first = evaluate(start, 'start');
  const last = evaluate(end, 'end');
  const endError = (p: FindPoint, problem: string, advice: string) =>
    new DsimError(
      'CONFIG_ERROR',
      `${where}: ${problem} at ${param}=${p.value} (${describeSummary(p.summary)}), so no threshold is known to lie in ${param} ${lo}..${hi}: ${advice}`,
      { details: { field: 'range', value: [lo, hi], point: p.value, verdict: p.verdict } },
    );
  if (first.verdict !== 'holds')
    throw endError(
      first,
      `${condition} ${first.verdict === 'fails' ? 'fails' : 'is undecided (its interval straddles the bound)'} where the search for the ${want} ${param} starts`,
      first.verdict === 'fails'
        ? `the answer, if any, is ${largest ? 'below' : 'above'} ${start}; move the range's ${largest ? 'low' : 'high'} end ${largest ? 'down' : 'up'}, or check the direction (want ${largest ? 'smallest' : 'largest'}?)`
        : `move the range's ${largest ? 'low' : 'high'} end ${largest ? 'down' : 'up'} or run more seeds`,
    );
  if (last.verdict !== 'fails')
    throw endError(
      last,
      `${condition} ${last.verdict === 'holds' ? 'still holds' : 'is undecided (its interval straddles the bound)'} at the other end of the search for the ${want} ${param}`,
      last.verdict === 'holds'
        ? `the answer is ${end} or ${largest ? 'beyond' : 'below'}; move the range's ${largest ? 'high' : 'low'} end ${largest ? 'up' : 'down'}`
        : `move the range's ${largest ? 'high' : 'low'} end ${largest ? 'up' : 'down'} or run more seeds`,
    );

  // Bisection over three regions: holds | undecided | fails. The gaps to narrow are between the last
  // value known to hold and the nearest undecided one (or the first known to fail), and between the
  // farthest undecided one and the first known to fail.
  let holds = start;
  let fails = end;
  const undecidedInside = () =>
    points
      .filter((p) => p.verdict === 'undecided' && ahead(p.value, holds) && ahead(fails, p.value))
      .map((p) => p.value)
      .sort((a, b) => (ahead(a, b) ? 1 : ahead(b, a) ? -1 : 0));
  /** Strictly between a and b, whichever order they are in. */
  const between = (m: number, a: number, b: number) => (a < b ? a < m && m < b : b < m && m < a);
  const midpoint = (a: number, b: number): number | null => {
    const width = Math.abs(b - a);
    if (width <= tolerance) return null;
    if (integer) return Math.floor((a + b) / 2);
    const mid = a + (b - a) / 2;
    // The shortest decimal within a tenth of the tolerance of the midpoint: values a user can type
    // (`--set lambda=1.463`), not 1.4625000000000001; the bisection stays within 10% of even.
    for (let places = 0; places <= 20; places++) {
      const m = Number(mid.toFixed(places));
      if (Math.abs(m - mid) <= tolerance / 10 && between(m, a, b)) return m;
    }
    return between(mid, a, b) ? mid : null; // floating point ran out of room between them
  };
  let steps = 0;
  let converged = false;
  for (;;) {
    const inside = undecidedInside();
    const gaps: [number, number][] =
      inside.length === 0
        ? [[holds, fails]]
        : [
            [holds, inside[0]!],
            [inside[inside.length - 1]!, fails],
          ];
    // The widest gap first; on a tie the one on the side that holds.
    let pick: number | null = null;
    let widest = -1;
    for (const [a, b] of gaps) {
      const m = midpoint(a, b);
      if (m !== null && Math.abs(b - a) > widest) {
        widest = Math.abs(b - a);
        pick = m;
      }
    }
    if (pick === null) {
      converged = true;
      break;
    }
    if (steps >= maxSteps) break;
    steps++;
    const p = evaluate(pick, 'step');
    if (p.verdict === 'holds') holds = p.value;
    else if (p.verdict === 'fails') fails = p.value;
  }

  return {
    spec,
    condition,
    answer: holds,
    bracket: { holds, fails },
    width: Math.abs(fails - holds),
    undecided: undecidedInside().sort((a, b) => a - b),
    converged,
    steps,
    points,
    runs: runCount,
    digest: sweepDigest(digests),
  };
}

/**
 * The options a `--find` spec gives: which end, the parameter, its range and the condition. The
 * seeds, fixed parameters and tuning come from the other flags.
 *
 * @example
 * ```ts
 * const f: FindSpec = parseFind('smallest servers in 1..32 where meanWait < 100');
 * findThreshold(mmc, { ...f, seeds: [1, 2, 3, 4, 5], set: { lambda: 4 } });
 * ```
 */
export type FindSpec = Pick<FindOptions, 'want' | 'param' | 'range' | 'figure' | 'op' | 'bound'>;

/** A decimal number: optional sign, digits with an optional fraction, optional exponent. */
const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?$/i;
/** A parameter name. */
const NAME = /^[A-Za-z_][\w-]*$/;
/** A figure name: a parameter-like name, optionally prefixed with variants (`naive.p99`). */
const FIGURE = /^[A-Za-z_][\w.-]*$/;
const EXAMPLE = 'smallest servers in 1..32 where meanWait < 100';

/**
 * Parses the `--find` flag of `dsim sweep`:
 *
 * `(largest|smallest) PARAM in LO..HI where FIGURE (<|<=|>|>=) BOUND`
 *
 * for example `largest lambda in 0.5..1.9 where meanWait < 1000` or
 * `smallest servers in 1..32 where p99 <= 200`. Words are separated by spaces (none needed around the
 * comparison); numbers are decimals (`1e3`, `.5`). Everything else is a CONFIG_ERROR naming `--find`,
 * the value and what is wrong, with a "did you mean" for a misspelt `largest`/`smallest`, `in`,
 * `where`, and a hint for `=`, `==`, `=<`, `=>`, `!=`. Whether PARAM and FIGURE exist is checked by
 * {@link findThreshold}, which knows the scenario.
 *
 * @param flag - the flag named in errors. @default '--find'
 * @example
 * ```ts
 * parseFind('smallest servers in 1..32 where meanWait < 100');
 * // { want: 'smallest', param: 'servers', range: [1, 32], figure: 'meanWait', op: '<', bound: 100 }
 * parseFind('largest lambda in 0.5..1.9 where meanWait<1000').range; // [0.5, 1.9]
 * parseFind('biggest lambda in 1..2 where p99 < 200');
 * // throws CONFIG_ERROR: --find "biggest lambda ...": start with largest or smallest, got "biggest"; ...
 * ```
 */
export function parseFind(spec: string, flag = '--find'): FindSpec {
  const fail = (problem: string) =>
    new DsimError(
      'CONFIG_ERROR',
      `${flag} ${JSON.stringify(spec)}: ${problem}; write it as (largest|smallest) PARAM in LO..HI where FIGURE OP BOUND, such as ${JSON.stringify(EXAMPLE)}`,
      { details: { field: flag, value: spec } },
    );
  if (typeof spec !== 'string') throw fail('it must be a string');
  const text = spec.trim();
  if (text === '') throw fail('it is empty');
  const head = /^(\S+)(?:\s+(\S+))?(?:\s+(\S+))?(?:\s+([\s\S]*))?$/.exec(text)!;
  const [, want = '', param, inWord, rest = ''] = head;
  const guess = (word: string, known: readonly string[]) => {
    const g = didYouMean(word, known);
    return g === undefined ? '' : ` (did you mean ${JSON.stringify(g)}?)`;
  };
  if (want !== 'largest' && want !== 'smallest')
    throw fail(
      `start with largest or smallest, got ${JSON.stringify(want)}${guess(want, ['largest', 'smallest'])}`,
    );
  if (param === undefined || !NAME.test(param))
    throw fail(
      `after ${want} comes the parameter's name, got ${param === undefined ? 'nothing' : JSON.stringify(param)}`,
    );
  if (inWord !== 'in')
    throw fail(
      `after ${want} ${param} comes "in LO..HI", got ${inWord === undefined ? 'nothing' : `${JSON.stringify(inWord)}${guess(inWord, ['in'])}`}`,
    );
  // The range: LO..HI, possibly with spaces around the dots.
  const rm = /^\s*(\S*?)\s*\.\.\s*(\S*)\s*(.*)$/.exec(rest);
  if (rm === null)
    throw fail(
      `the range is LO..HI with numbers, such as 1..32, got ${JSON.stringify(rest.trim().split(/\s+/)[0] ?? '')}`,
    );
  const [, loText, hiText, tail] = rm as unknown as [string, string, string, string];
  if (!DECIMAL.test(loText) || !DECIMAL.test(hiText))
    throw fail(
      `the range is LO..HI with numbers, such as 1..32, got ${JSON.stringify(`${loText}..${hiText}`)}`,
    );
  const lo = Number(loText);
  const hi = Number(hiText);
  if (!(Number.isFinite(lo) && Number.isFinite(hi)))
    throw fail(`the range's ends must be finite, got ${loText}..${hiText}`);
  if (lo > hi) throw fail(`the range ${loText}..${hiText} is reversed; write ${hiText}..${loText}`);
  if (lo === hi) throw fail(`the range ${loText}..${hiText} is empty; give two different ends`);
  const tm = /^(\S+)\s*(.*)$/.exec(tail);
  if (tm === null || tm[1] !== 'where')
    throw fail(
      `after the range comes "where FIGURE OP BOUND", got ${tm === null ? 'nothing' : JSON.stringify(tm[1])}${tm === null ? '' : guess(tm[1]!, ['where'])}`,
    );
  const cond = tm[2]!.trim();
  const cm = /^(.*?)\s*(<=|>=|=<|=>|==|!=|<>|<|>|=)\s*(.*)$/.exec(cond);
  if (cm === null)
    throw fail(
      `the condition is FIGURE OP BOUND with OP one of ${OPS.join(', ')}, got ${JSON.stringify(cond)}`,
    );
  const [, figure, opText, boundText] = cm as unknown as [string, string, string, string];
  if (!OPS.includes(opText as FindOp)) {
    const fix: Record<string, string> = { '=<': ' (write <=)', '=>': ' (write >=)' };
    throw fail(
      `the comparison must be one of ${OPS.join(', ')} (a threshold is a one-sided condition), got ${JSON.stringify(opText)}${fix[opText] ?? ''}`,
    );
  }
  if (!FIGURE.test(figure))
    throw fail(
      `before ${opText} comes the figure's name, such as meanWait or p99, got ${JSON.stringify(figure)}`,
    );
  if (!DECIMAL.test(boundText) || !Number.isFinite(Number(boundText)))
    throw fail(`the bound after ${opText} must be a number, got ${JSON.stringify(boundText)}`);
  return { want, param, range: [lo, hi], figure, op: opText as FindOp, bound: Number(boundText) };
}

/**
 * A text report of a threshold search, for the terminal: every evaluated value in ascending order with
 * its verdict and interval, then the answer with its bracket and what is undecided.
 *
 * @example
 * ```ts
 * process.stdout.write(formatFind(findThreshold(mmc, options)));
 * // servers  verdict  n  meanWait mean  95% interval
 * // 6        fails    5  147.713        [117.634, 177.791]
 * // 7        holds    5  45.2823        [34.2153, 56.3494]
 * // smallest servers with mean meanWait < 100: 7 (holds at 7, fails at 6) ...
 * ```
 */
export function formatFind(result: FindResult): string {
  const { spec } = result;
  const rows = [...result.points]
    .sort((a, b) => a.value - b.value)
    .map((p) => [
      String(p.value),
      p.verdict,
      String(p.summary.n),
      num(p.summary.mean),
      p.summary.ci === null ? '-' : `[${num(p.summary.ci.low)}, ${num(p.summary.ci.high)}]`,
    ]);
  const head = [spec.param, 'verdict', 'n', `${spec.figure} mean`, `${spec.confidence * 100}% interval`];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    `${cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd()}\n`;
  let out = line(head);
  for (const r of rows) out += line(r);
  const { holds, fails } = result.bracket;
  out += `${spec.want} ${spec.param} with mean ${result.condition}: ${result.answer} (holds at ${holds}, fails at ${fails}`;
  out += result.undecided.length === 0 ? '' : `; undecided at ${result.undecided.join(', ')}`;
  out += `; ${result.points.length} values, ${result.runs} runs)\n`;
  if (!result.converged)
    out += `not converged: ${spec.maxSteps} steps ran out before the bracket was ${spec.tolerance} wide; raise maxSteps or tolerance\n`;
  return out;
}
