import { type Duration, toMs } from '../duration.js';
import { invalidArgument } from '../errors.js';
import type { SloReport } from '../metrics/slo.js';
import { checkOptions, optionKeys } from '../options.js';

/**
 * A request-based service-level indicator as counts per fixed interval: in interval `i`, which covers
 * `[start + i·step, start + (i + 1)·step)`, `total[i]` events happened and `good[i]` of them were good.
 * Alerting policies are evaluated once per interval, at its end, so `step` is also the evaluation
 * interval (Prometheus evaluates rules every minute by default).
 *
 * @example
 * ```ts
 * // Three minutes of 1000 requests; the second minute failed 20 of them.
 * const series: SliSeries = { step: '1m', good: [1000, 980, 1000], total: [1000, 1000, 1000] };
 * ```
 */
export interface SliSeries {
  /** Width of every interval, and the evaluation interval: ms or a duration string such as `"1m"`; > 0. */
  readonly step: Duration;
  /**
   * Start of the first interval (ms).
   * @default 0
   */
  readonly start?: number;
  /** Good events in each interval: finite numbers >= 0, at most the interval's `total`. */
  readonly good: ArrayLike<number>;
  /** All events in each interval: finite numbers >= 0. Same length as `good`, at least 1. */
  readonly total: ArrayLike<number>;
}

const SERIES_KEYS = optionKeys<SliSeries>()({ step: true, start: true, good: true, total: true });

/** A validated series with running sums: the sums of intervals `[i, j)` are `x[j] − x[i]`. */
export interface CheckedSeries {
  readonly start: number;
  readonly stepMs: number;
  /** Number of intervals. */
  readonly length: number;
  /** End of the last interval (ms). */
  readonly end: number;
  /** `bad[i]`: bad events in intervals `[0, i)`; `length + 1` entries. */
  readonly bad: Float64Array;
  /** `total[i]`: events in intervals `[0, i)`; `length + 1` entries. */
  readonly total: Float64Array;
}

/**
 * Validates an {@link SliSeries} and builds its running sums (exact for integer counts below 2⁵³).
 * Every field and every count is checked; a bad one is an error naming it.
 *
 * @param series - the series to check
 * @param component - who is checking, for error messages
 * @example
 * ```ts
 * const s = checkSliSeries({ step: '1m', good: [9, 10], total: [10, 10] }, 'evaluateAlerts');
 * s.bad[2] - s.bad[0]; // 1 bad event in both intervals
 * ```
 */
export function checkSliSeries(series: SliSeries, component: string): CheckedSeries {
  if (series === null || typeof series !== 'object')
    throw invalidArgument('series', series, 'an object { step, good, total, start? }', component);
  checkOptions(component, series, SERIES_KEYS, 'series');
  if (series.step === undefined)
    throw invalidArgument('series.step', series.step, 'a duration > 0 such as "1m"', component);
  const stepMs = toMs(series.step, `${component}: series.step`);
  if (!(stepMs > 0) || stepMs === Infinity)
    throw invalidArgument('series.step', series.step, 'a finite duration > 0 such as "1m"', component);
  const start = series.start ?? 0;
  if (typeof start !== 'number' || !Number.isFinite(start))
    throw invalidArgument('series.start', start, 'a finite time in ms', component);
  const { good, total } = series;
  if (!isArrayLike(total) || total.length === 0)
    throw invalidArgument('series.total', total, 'a non-empty array of event counts', component);
  if (!isArrayLike(good) || good.length !== total.length)
    throw invalidArgument(
      'series.good',
      good,
      `an array of event counts as long as series.total (${total.length})`,
      component,
    );
  const n = total.length;
  const badSums = new Float64Array(n + 1);
  const totalSums = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) {
    const t = total[i];
    if (typeof t !== 'number' || !(t >= 0) || t === Infinity)
      throw invalidArgument(`series.total[${i}]`, t, 'a finite count >= 0', component);
    const g = good[i];
    if (typeof g !== 'number' || !(g >= 0) || g > t)
      throw invalidArgument(`series.good[${i}]`, g, `a count in [0, series.total[${i}] = ${t}]`, component);
    badSums[i + 1] = badSums[i]! + (t - g);
    totalSums[i + 1] = totalSums[i]! + t;
  }
  return { start, stepMs, length: n, end: start + n * stepMs, bad: badSums, total: totalSums };
}

function isArrayLike(x: unknown): x is ArrayLike<unknown> {
  return x !== null && typeof x === 'object' && typeof (x as { length?: unknown }).length === 'number';
}

/**
 * The SLI series of an {@link SloReport}: one interval per window of the tracker, starting at 0, with
 * the window's good and total requests. The last window may be partial; it still counts as one
 * interval.
 *
 * @example
 * ```ts
 * const slo = new SloTracker({ latencyTargetMs: 200, availabilityTarget: 0.999, window: '1m' });
 * // ... record requests ...
 * const series = sliSeriesFromSlo(slo.report(sim.now));
 * evaluateAlerts(series, workbookPolicy('multiwindow-multi-burn-rate'), { target: slo.target });
 * ```
 */
export function sliSeriesFromSlo(report: SloReport): SliSeries {
  const good: number[] = [];
  const total: number[] = [];
  for (const w of report.windows) {
    good.push(w.good);
    total.push(w.total);
  }
  return { step: report.windowMs, start: 0, good, total };
}

/** Options of {@link budgetConsumed}. */
export interface BudgetOptions {
  /** The SLO target: the share of events that must be good, in (0, 1), such as 0.999. */
  target: number;
  /**
   * The SLO period the error budget belongs to.
   * @default '30d'
   */
  period?: Duration;
}

const BUDGET_KEYS = optionKeys<BudgetOptions>()({ target: true, period: true });

/** A validated SLO target and period. */
export interface CheckedSlo {
  readonly target: number;
  /** `1 − target`, rounded to 12 significant digits (1 − 0.999 is 0.001, not 0.0010000000000000009). */
  readonly errorBudget: number;
  readonly periodMs: number;
}

/**
 * Validates an SLO target and period.
 *
 * @example
 * ```ts
 * checkSlo({ target: 0.999 }, 'budgetConsumed').errorBudget; // 0.001
 * ```
 */
export function checkSlo(options: BudgetOptions, component: string): CheckedSlo {
  if (options === null || typeof options !== 'object')
    throw invalidArgument('options', options, 'an object { target, period? }', component);
  const { target } = options;
  if (typeof target !== 'number' || !(target > 0 && target < 1))
    throw invalidArgument('target', target, 'an SLO target in (0, 1) such as 0.999', component);
  const period = options.period ?? '30d';
  const periodMs = toMs(period, `${component}: period`);
  if (!(periodMs > 0) || periodMs === Infinity)
    throw invalidArgument('period', period, 'a finite duration > 0 such as "30d"', component);
  return { target, errorBudget: Number((1 - target).toPrecision(12)), periodMs };
}

/**
 * Share of an SLO period's error budget that the bad events of `[from, to)` used: bad events in the
 * span divided by `(1 − target) ×` the events the period holds at the series' mean rate (all events
 * over the series' duration, times the period). Intervals the span covers in part count in proportion.
 * With steady traffic, a burn rate `b` held for a time `w` uses `b × w / period` (Google SRE Workbook,
 * ch. 5): 100% errors for 10 minutes use 23% of a 99.9% SLO's 30-day budget.
 *
 * @param series - the SLI series
 * @param from - span start (ms)
 * @param to - span end (ms), >= from
 * @param options - the SLO target and period
 * @example
 * ```ts
 * // 30 days of 1000 requests a minute, with 10 minutes of 100% errors in the middle.
 * budgetConsumed(series, outageStart, outageStart + 600_000, { target: 0.999 }); // 10 000 / 43 200 ≈ 0.231
 * ```
 */
export function budgetConsumed(series: SliSeries, from: number, to: number, options: BudgetOptions): number {
  const C = 'budgetConsumed';
  const s = checkSliSeries(series, C);
  checkOptions(C, options, BUDGET_KEYS);
  const slo = checkSlo(options, C);
  checkSpan(from, to, C);
  const bad = badIn(s, from, to);
  return bad === 0 ? 0 : bad / periodBudget(s, slo);
}

/**
 * Checks a span `[from, to)`; the fields are named `fromField` and `toField` in errors.
 *
 * @example
 * ```ts
 * checkSpan(10, 5, 'budgetConsumed'); // throws: to must be a finite time in ms >= from (10), got 5
 * ```
 */
export function checkSpan(
  from: unknown,
  to: unknown,
  component: string,
  fromField = 'from',
  toField = 'to',
): void {
  if (typeof from !== 'number' || !Number.isFinite(from))
    throw invalidArgument(fromField, from, 'a finite time in ms', component);
  if (typeof to !== 'number' || !Number.isFinite(to) || to < from)
    throw invalidArgument(toField, to, `a finite time in ms >= ${fromField} (${from})`, component);
}

/**
 * Bad events of the series in `[from, to)`, partly covered intervals in proportion.
 *
 * @example
 * ```ts
 * badIn(checkSliSeries({ step: 1000, good: [8, 10], total: [10, 10] }, 'x'), 500, 2000); // 1: half of 2
 * ```
 */
export function badIn(s: CheckedSeries, from: number, to: number): number {
  const a = Math.max(from, s.start);
  const b = Math.min(to, s.end);
  if (!(b > a)) return 0;
  return cumulative(s.bad, s, b) - cumulative(s.bad, s, a);
}

/** The running sum `sums` at time `t` in `[start, end]`, linear within an interval. */
function cumulative(sums: Float64Array, s: CheckedSeries, t: number): number {
  const x = (t - s.start) / s.stepMs;
  const i = Math.min(s.length, Math.floor(x));
  if (i === s.length) return sums[i]!;
  return sums[i]! + (x - i) * (sums[i + 1]! - sums[i]!);
}

/**
 * Bad events the period allows: `(1 − target) ×` the series' mean events per ms × the period.
 *
 * @example
 * ```ts
 * // 1000 events a minute, 99.9%, 30 days: 43 200.
 * periodBudget(checkSliSeries({ step: '1m', good: [1000], total: [1000] }, 'x'), checkSlo({ target: 0.999 }, 'x'));
 * ```
 */
export function periodBudget(s: CheckedSeries, slo: CheckedSlo): number {
  const perMs = s.total[s.length]! / (s.end - s.start);
  return slo.errorBudget * perMs * slo.periodMs;
}
