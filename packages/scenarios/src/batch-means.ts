import { Tally } from '@dsim/core';

/**
 * Batch-means estimate of a steady-state mean from correlated observations (waits in a queue are
 * strongly autocorrelated, so the naive standard error is far too small). Observations are split, in
 * order, into `batches` equal batches; the batch means are close to independent for long batches.
 *
 * @example
 * ```ts
 * const bm = new BatchMeans(waits.length, 20);
 * for (const w of waits) bm.add(w);
 * bm.mean; bm.standardError;
 * ```
 */
export class BatchMeans {
  private readonly perBatch: number;
  private readonly means = new Tally();
  private current = new Tally();
  private readonly all = new Tally();

  /** @param expected - how many observations will be added; @param batches - number of batches */
  constructor(expected: number, batches = 20) {
    this.perBatch = Math.max(1, Math.floor(expected / batches));
  }

  /** Adds the next observation. */
  add(x: number): void {
    this.all.add(x);
    this.current.add(x);
    if (this.current.count === this.perBatch) {
      this.means.add(this.current.mean);
      this.current = new Tally();
    }
  }

  /** Mean of all observations. */
  get mean(): number {
    return this.all.mean;
  }

  /** Number of observations. */
  get count(): number {
    return this.all.count;
  }

  /** Standard error of the mean from the spread of the batch means. NaN with fewer than two batches. */
  get standardError(): number {
    return this.means.stdDev / Math.sqrt(this.means.count);
  }
}
