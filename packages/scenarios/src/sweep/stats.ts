import { invalidArgument } from '@dsim/core';
import { studentTUpperQuantile } from './student-t.js';

/**
 * Summary statistics over independent replications, with Student t confidence intervals, for
 * `dsim sweep`. Everything here is deterministic: the same values in the same order give the same
 * summary, bit for bit.
 */

/**
 * The Student t inverse cumulative distribution function: the `t` with P(T ≤ t) = `p` for T with `df`
 * degrees of freedom. The two-sided interval at confidence `c` uses `studentTQuantile((1 + c) / 2, n - 1)`.
 *
 * Computed by inverting the tail, the regularized incomplete beta function (see student-t.ts); checked
 * in the tests against published tables and the closed forms for df 1 and 2.
 *
 * @param p - the probability, in [0, 1]; 0 and 1 give -Infinity and Infinity
 * @param df - degrees of freedom, a finite number > 0 (need not be an integer)
 * @example
 * ```ts
 * studentTQuantile(0.975, 9);  // 2.2621571627...
 * studentTQuantile(0.995, 1);  // 63.6567411628...
 * studentTQuantile(0.025, 30); // -2.0422724563...
 * ```
 */
export function studentTQuantile(p: number, df: number): number {
  if (typeof p !== 'number' || !(p >= 0 && p <= 1))
    throw invalidArgument('studentTQuantile: p', p, 'a probability in [0, 1]');
  if (typeof df !== 'number' || !Number.isFinite(df) || df <= 0)
    throw invalidArgument('studentTQuantile: df', df, 'a finite number > 0');
  if (p === 0) return Number.NEGATIVE_INFINITY;
  if (p === 1) return Number.POSITIVE_INFINITY;
  if (p === 0.5) return 0;
  return p > 0.5 ? studentTUpperQuantile(1 - p, df) : -studentTUpperQuantile(p, df);
}

/**
 * A two-sided Student t confidence interval for a mean: `mean ± halfWidth` with
 * `halfWidth = t((1 + level) / 2, n − 1) · sd / √n`.
 *
 * @example
 * ```ts
 * const ci = summarize([10.2, 9.8, 10.5, 10.1, 9.9]).ci; // { level: 0.95, low: 9.76, high: 10.44, ... }
 * if (ci !== null && ci.relativeHalfWidth !== null && ci.relativeHalfWidth <= 0.05) stop();
 * ```
 */
export interface ConfidenceInterval {
  /** The confidence level, e.g. 0.95. */
  level: number;
  /** `mean − halfWidth`. */
  low: number;
  /** `mean + halfWidth`. */
  high: number;
  /** Half the interval's width. */
  halfWidth: number;
  /**
   * `halfWidth / |mean|`, the precision that `--precision` targets. 0 when `halfWidth` is 0 (all values
   * equal); null when the mean is 0 and the half-width is not (relative precision is undefined).
   */
  relativeHalfWidth: number | null;
}

/**
 * What {@link summarize} returns. Percentiles interpolate linearly between order statistics.
 *
 * @example
 * ```ts
 * const s: Summary = summarize(waits);
 * console.log(`${s.mean} ± ${s.ci?.halfWidth} (n = ${s.n}, p90 ${s.p90})`);
 * ```
 */
export interface Summary {
  /** Number of values. */
  n: number;
  /** Arithmetic mean; null when n = 0. */
  mean: number | null;
  /** Sample standard deviation (divisor n − 1); null when n < 2. */
  sd: number | null;
  /** Student t interval for the mean; null when n < 2 (one value says nothing about its spread). */
  ci: ConfidenceInterval | null;
  /** Smallest value; null when n = 0. */
  min: number | null;
  /** Median; null when n = 0. */
  p50: number | null;
  /** 90th percentile; null when n = 0. */
  p90: number | null;
  /** Largest value; null when n = 0. */
  max: number | null;
}

/**
 * Options of {@link summarize}.
 *
 * @example
 * ```ts
 * summarize(values, { confidence: 0.99 });
 * ```
 */
export interface SummarizeOptions {
  /** Confidence level of the interval, in (0, 1). @default 0.95 */
  confidence?: number;
}

/**
 * Summarises one figure over independent replications (one value per replication): mean, sample
 * standard deviation, a Student t confidence interval for the mean, and min, median, 90th percentile,
 * max.
 *
 * - Booleans count as 1 (`true`) and 0 (`false`), so the mean of a boolean figure is the share of
 *   replications where it was true, and its interval is the t interval for that proportion (a fair
 *   approximation once n·p and n·(1 − p) are both above about 5; at p = 0 or 1 the half-width is 0).
 * - With n < 2 the standard deviation and interval are null; with n = 0 every figure is null.
 * - Any NaN or infinite value is an error that names its index: a replication that measured nothing
 *   should be left out by the caller, not averaged in.
 * - The interval assumes the values are independent and close to normally distributed: true for means
 *   of long runs with distinct seeds (central limit theorem), not for raw per-request latencies.
 * - Percentiles use linear interpolation between order statistics (the default of R's `quantile`,
 *   type 7, and of NumPy).
 *
 * @param values - one value per replication, in replication order
 * @example
 * ```ts
 * const s = summarize([10.2, 9.8, 10.5, 10.1, 9.9]);
 * s.mean;                  // 10.1
 * s.ci?.halfWidth;         // 0.3400... (t(0.975, 4) = 2.776 × sd 0.2739 / √5)
 * summarize([true, false, true, true], { confidence: 0.9 }).mean; // 0.75
 * ```
 */
export function summarize(values: readonly (number | boolean)[], options: SummarizeOptions = {}): Summary {
  if (!Array.isArray(values)) throw invalidArgument('summarize: values', values, 'an array of numbers');
  const confidence = options.confidence ?? 0.95;
  if (typeof confidence !== 'number' || !(confidence > 0 && confidence < 1))
    throw invalidArgument('summarize: confidence', confidence, 'a number in (0, 1)');
  const n = values.length;
  const xs = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (typeof v === 'boolean') xs[i] = v ? 1 : 0;
    else if (typeof v === 'number' && Number.isFinite(v)) xs[i] = v;
    else throw invalidArgument(`summarize: values[${i}]`, v, 'a finite number or a boolean');
  }
  if (n === 0) return { n, mean: null, sd: null, ci: null, min: null, p50: null, p90: null, max: null };
  const sorted = xs.slice().sort();
  const min = sorted[0]!;
  const max = sorted[n - 1]!;
  // Two passes (mean, then squared deviations): stable where the one-pass sum of squares is not.
  let sum = 0;
  for (let i = 0; i < n; i++) sum += xs[i]!;
  // All equal: the mean is that value exactly (sum / n can be off by an ulp) and the spread is 0.
  const mean = min === max ? min : sum / n;
  const base = { n, mean, min, p50: percentile(sorted, 0.5), p90: percentile(sorted, 0.9), max };
  if (n < 2) return { ...base, sd: null, ci: null };
  let ss = 0;
  for (let i = 0; i < n; i++) {
    const d = xs[i]! - mean;
    ss += d * d;
  }
  const sd = min === max ? 0 : Math.sqrt(ss / (n - 1));
  const halfWidth = (studentTQuantile((1 + confidence) / 2, n - 1) * sd) / Math.sqrt(n);
  const relativeHalfWidth = halfWidth === 0 ? 0 : mean === 0 ? null : halfWidth / Math.abs(mean);
  return {
    ...base,
    sd,
    ci: { level: confidence, low: mean - halfWidth, high: mean + halfWidth, halfWidth, relativeHalfWidth },
  };
}

/** Linear interpolation between order statistics (R type 7): position q·(n − 1) in the sorted values. */
function percentile(sorted: Float64Array, q: number): number {
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  const frac = pos - lo;
  const a = sorted[lo]!;
  const b = sorted[hi]!;
  return frac === 0 ? a : a + (b - a) * frac;
}

/**
 * How many replications in all are estimated to bring the interval's relative half-width down to
 * `targetRelativeHalfWidth`: the usual estimate `n · (h / h*)²`, rounded up, where `h` is the current
 * relative half-width from `n` replications and `h*` the target (the half-width shrinks as 1/√n).
 * For the `--precision` stopping rule: run that many, re-summarise, repeat until `h ≤ h*`.
 *
 * It keeps the current standard deviation and t quantile; the t quantile falls as n grows, so for
 * small n the estimate is a little high (conservative), and the sample sd is itself noisy, so treat it
 * as a plan, not a promise. Returns `n` when the target is already met, and null when the relative
 * half-width is undefined (n < 2, or a zero mean with a non-zero half-width).
 *
 * @param targetRelativeHalfWidth - the target `h*`, a finite number > 0 (0.05 means ±5% of the mean)
 * @example
 * ```ts
 * const s = summarize(values);          // 10 replications, relative half-width 0.1
 * requiredReplications(s, 0.05);        // 40: halving the width takes four times the runs
 * ```
 */
export function requiredReplications(summary: Summary, targetRelativeHalfWidth: number): number | null {
  if (
    typeof targetRelativeHalfWidth !== 'number' ||
    !Number.isFinite(targetRelativeHalfWidth) ||
    targetRelativeHalfWidth <= 0
  )
    throw invalidArgument(
      'requiredReplications: targetRelativeHalfWidth',
      targetRelativeHalfWidth,
      'a finite number > 0',
    );
  const h = summary.ci?.relativeHalfWidth;
  if (h === null || h === undefined) return null;
  const n = summary.n;
  if (h <= targetRelativeHalfWidth) return n;
  const ratio = h / targetRelativeHalfWidth;
  // Rounded to 9 significant digits first, so 10·(0.1/0.05)² is 40, not 41 from a stray ulp.
  return Math.max(n, Math.ceil(Number((n * ratio * ratio).toPrecision(9))));
}
