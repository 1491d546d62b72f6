import * as hdr from 'hdr-histogram-js';
import { invalidArgument } from '../errors.js';
import { checkOptions, optionKeys } from '../options.js';

/** Percentile summary of a latency histogram, in ms. */
export interface LatencySummary {
  count: number;
  mean: number;
  min: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

/** Options for {@link LatencyHistogram}. */
export interface LatencyHistogramOptions {
  /**
   * Significant decimal digits kept (HdrHistogram precision): 3 means values are recorded within 0.1%.
   * @default 3
   */
  significantDigits?: 1 | 2 | 3 | 4 | 5;
}

const HISTOGRAM_KEYS = optionKeys<LatencyHistogramOptions>()({ significantDigits: true });

/**
 * An HDR histogram of latencies in milliseconds (backed by `hdr-histogram-js`). Values are recorded as
 * whole microseconds, so the resolution is 1 µs absolute and `significantDigits` relative. Percentiles
 * depend only on the multiset of values, never on insertion order, and histograms merge exactly, so
 * per-node and per-seed aggregation is reproducible. Mean, min and max are exact.
 *
 * @example
 * ```ts
 * const h = new LatencyHistogram();
 * h.record(12.5);
 * h.percentile(99); // ms
 * h.summary();      // { count, mean, min, p50, p90, p99, p999, max }
 * ```
 */
export class LatencyHistogram {
  private readonly hist: hdr.Histogram;
  private n = 0;
  private total = 0;
  private lo = Infinity;
  private hi = -Infinity;

  constructor(options: LatencyHistogramOptions = {}) {
    checkOptions('LatencyHistogram', options, HISTOGRAM_KEYS);
    const digits = options.significantDigits ?? 3;
    if (![1, 2, 3, 4, 5].includes(digits)) {
      throw invalidArgument('significantDigits', digits, 'an integer from 1 to 5', 'LatencyHistogram');
    }
    this.hist = hdr.build({ numberOfSignificantValueDigits: digits, bitBucketSize: 64 });
  }

  /** Records one latency in ms (>= 0). */
  record(ms: number): void {
    if (!(ms >= 0) || ms === Infinity) throw invalidArgument('latency', ms, 'a finite number of ms >= 0');
    this.hist.recordValue(Math.round(ms * 1000));
    this.n++;
    this.total += ms;
    if (ms < this.lo) this.lo = ms;
    if (ms > this.hi) this.hi = ms;
  }

  /** Number of recorded values. */
  get count(): number {
    return this.n;
  }

  /** Exact mean in ms, NaN when empty. */
  get mean(): number {
    return this.n === 0 ? Number.NaN : this.total / this.n;
  }

  /** Exact minimum in ms, NaN when empty. */
  get min(): number {
    return this.n === 0 ? Number.NaN : this.lo;
  }

  /** Exact maximum in ms, NaN when empty. */
  get max(): number {
    return this.n === 0 ? Number.NaN : this.hi;
  }

  /** The value at percentile `p` (0 to 100) in ms, within the histogram's precision; NaN when empty. */
  percentile(p: number): number {
    if (!(p >= 0 && p <= 100)) throw invalidArgument('percentile', p, 'a number in [0, 100]');
    if (this.n === 0) return Number.NaN;
    return Math.min(this.hist.getValueAtPercentile(p) / 1000, this.hi);
  }

  /** Adds every value of `other` into this histogram. */
  merge(other: LatencyHistogram): void {
    this.hist.add(other.hist);
    this.n += other.n;
    this.total += other.total;
    if (other.lo < this.lo) this.lo = other.lo;
    if (other.hi > this.hi) this.hi = other.hi;
  }

  /** Count, exact mean/min/max and p50/p90/p99/p99.9 in ms. */
  summary(): LatencySummary {
    return {
      count: this.n,
      mean: this.mean,
      min: this.min,
      p50: this.percentile(50),
      p90: this.percentile(90),
      p99: this.percentile(99),
      p999: this.percentile(99.9),
      max: this.max,
    };
  }
}
