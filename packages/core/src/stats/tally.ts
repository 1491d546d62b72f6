/**
 * Running statistics of a series of observations: count, mean, variance (Welford), min, max.
 * O(1) memory; order of observations affects only floating-point rounding.
 *
 * @example
 * ```ts
 * const waits = new Tally();
 * waits.add(3); waits.add(5);
 * waits.mean; // 4
 * ```
 */
export class Tally {
  private n = 0;
  private m = 0;
  private s = 0;
  private lo = Infinity;
  private hi = -Infinity;
  private total = 0;

  /** Records one observation. */
  add(x: number): void {
    this.n++;
    this.total += x;
    const d = x - this.m;
    this.m += d / this.n;
    this.s += d * (x - this.m);
    if (x < this.lo) this.lo = x;
    if (x > this.hi) this.hi = x;
  }

  /** Number of observations. */
  get count(): number {
    return this.n;
  }

  /** Sum of observations. */
  get sum(): number {
    return this.total;
  }

  /** Mean, or NaN with no observations. */
  get mean(): number {
    return this.n === 0 ? Number.NaN : this.m;
  }

  /** Sample variance (n - 1 denominator), or NaN with fewer than two observations. */
  get variance(): number {
    return this.n < 2 ? Number.NaN : this.s / (this.n - 1);
  }

  /** Sample standard deviation. */
  get stdDev(): number {
    return Math.sqrt(this.variance);
  }

  /** Smallest observation, or NaN with none. */
  get min(): number {
    return this.n === 0 ? Number.NaN : this.lo;
  }

  /** Largest observation, or NaN with none. */
  get max(): number {
    return this.n === 0 ? Number.NaN : this.hi;
  }
}
