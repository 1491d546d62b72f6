import { invalidArgument } from '@dsim/core';

/** Observations per batch in MSER-5. */
const BATCH = 5;

/**
 * What {@link mser5} returns.
 *
 * @example
 * ```ts
 * const { truncatedObservations, mean, n, batches, truncatedBatches } = mser5(waits);
 * if (truncatedBatches === Math.floor(batches / 2)) console.warn('warm-up may exceed half the run');
 * ```
 */
export interface Mser5Result {
  /** Batches of 5 cut from the start: the chosen truncation point d*. */
  truncatedBatches: number;
  /** Observations cut from the start: 5·d*. */
  truncatedObservations: number;
  /** Mean of the observations kept (every observation after the cut, the last partial batch included). */
  mean: number;
  /** Observations kept: `series.length − truncatedObservations`. */
  n: number;
  /**
   * Complete batches of 5 the series holds (b = ⌊length / 5⌋). A cut at the largest allowed point,
   * ⌊b / 2⌋, says the warm-up may be longer than half the run: run longer rather than trust the mean.
   */
  batches: number;
}

/**
 * MSER-5 warm-up truncation (White 1997; White, Cobb and Spratt 2000): how many initial observations
 * of one run to discard so that the initial transient (e.g. a queue that starts empty) does not bias
 * the steady-state mean.
 *
 * The series is cut, in order, into b = ⌊length / 5⌋ batches of 5 and their means Z₁ … Z_b taken (a
 * last partial batch is left out of the choice). For each candidate d the marginal standard error
 *
 *     MSER(d) = Σ_{j=d+1..b} (Z_j − Z̄(d))² / (b − d)²,   Z̄(d) the mean of Z_{d+1} … Z_b,
 *
 * is computed, and d* is the d that minimises it, searched over the first half of the batches only,
 * d ∈ {0, …, ⌊b / 2⌋} (the usual restriction in the MSER literature: near the end of the series the
 * statistic rewards throwing data away), keeping at least 2 batches; ties go to the smallest d.
 * Dropping the transient lowers the spread faster than losing observations raises the 1/(b − d)²
 * factor, until the transient is gone.
 *
 * Edge cases: fewer than 10 observations (under 2 batches) are returned untruncated, since no cut
 * can be judged; an empty series or any NaN or infinite observation is an error naming the index.
 * Deterministic: O(length) with a numerically stable (Welford) pass from the end of the series.
 *
 * @param series - the observations of one run in time order (e.g. each customer's wait)
 * @example
 * ```ts
 * // 50 observations of a transient falling from 10, then 950 around 1:
 * const waits = Array.from({ length: 1000 }, (_, i) => (i < 50 ? 10 - (9 * i) / 50 : 1 + 0.1 * Math.sin(i)));
 * const w = mser5(waits);
 * w.truncatedObservations; // about 50
 * w.mean;                  // about 1: the steady-state mean without the warm-up's bias
 * ```
 */
export function mser5(series: ArrayLike<number>): Mser5Result {
  if (series === null || typeof series !== 'object' || typeof series.length !== 'number')
    throw invalidArgument('mser5: series', series, 'an array of finite numbers');
  const length = series.length;
  if (length === 0) throw invalidArgument('mser5: series', [], 'at least one observation');
  for (let i = 0; i < length; i++) {
    const v = series[i];
    if (typeof v !== 'number' || !Number.isFinite(v))
      throw invalidArgument(`mser5: series[${i}]`, v, 'a finite number');
  }
  const b = Math.floor(length / BATCH);
  let best = 0;
  if (b >= 2) {
    const z = new Float64Array(b);
    for (let j = 0; j < b; j++) {
      let s = 0;
      for (let k = j * BATCH; k < (j + 1) * BATCH; k++) s += series[k]!;
      z[j] = s / BATCH;
    }
    const maxD = Math.min(Math.floor(b / 2), b - 2);
    // Welford's update adding batches from the last one back: after adding Z_b … Z_{d+1}, m2 is the sum
    // of squared deviations of those b − d batch means from their mean.
    let count = 0;
    let mean = 0;
    let m2 = 0;
    let bestValue = Infinity;
    for (let d = b - 1; d >= 0; d--) {
      const x = z[d]!;
      count++;
      const delta = x - mean;
      mean += delta / count;
      m2 += delta * (x - mean);
      // Here `count` = b − d batches are kept.
      if (d <= maxD) {
        const value = m2 / (count * count);
        // `<=` as d falls: ties go to the smallest d.
        if (value <= bestValue) {
          bestValue = value;
          best = d;
        }
      }
    }
  }
  const truncatedObservations = best * BATCH;
  let sum = 0;
  for (let i = truncatedObservations; i < length; i++) sum += series[i]!;
  const n = length - truncatedObservations;
  return { truncatedBatches: best, truncatedObservations, mean: sum / n, n, batches: b };
}
