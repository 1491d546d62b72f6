import { invalidArgument } from '../errors.js';
import { LatencyHistogram, type LatencySummary } from '../stats/histogram.js';
import { LogBuckets } from '../stats/log-buckets.js';
import type { IntervalGrid, MetricsClock } from './grid.js';

/**
 * A latency histogram (ms) with run-wide percentiles and per-interval count, p50 and p99.
 *
 * - Run-wide: a {@link LatencyHistogram} with 3 significant digits, so p50/p90/p99/p99.9 are within
 *   0.1% (relative) of the exact sample percentiles (bit-identical to hdr-histogram-js's), independent
 *   of insertion order and mergeable; mean and max are exact.
 * - Per interval: one reusable {@link LogBuckets} sketch (HDR layout at 2 digits, 128 buckets per power
 *   of two, so p50/p99 within 0.78%), cleared when the interval closes; each closed interval keeps three
 *   numbers (count, p50, p99), instead of a histogram per interval.
 *
 * Cost: `record()` takes about 25 ns (Node 20, x64, 10^7 lognormal latencies), of which about 15 ns
 * for the run-wide histogram and 7 ns for the sketch; it took about 190 ns when the run-wide histogram
 * was an hdr-histogram-js one. The value is validated and rounded to µs once for both. Memory: about
 * 130 KB (run-wide) and 20 KB (sketch) for latencies up to 10 s, growing with the largest latency seen,
 * plus 3 numbers per elapsed interval.
 *
 * Values are recorded as whole microseconds (1 µs absolute resolution). Get one from
 * {@link MetricsRegistry.histogram}; it reads the clock and never schedules events.
 *
 * @example
 * ```ts
 * const latency = metrics.histogram('server-1', 'latency');
 * latency.record(12.5);
 * latency.summary().p99;
 * ```
 */
export class Histogram {
  /** Instrument kind, for snapshots and error messages. */
  readonly kind = 'histogram';
  private readonly all = new LatencyHistogram();
  /** Created on the first record, so an unused histogram costs no buckets. */
  private interval: LogBuckets | null = null;
  private intervalMax = 0;
  private index = -1;
  private end = Number.NEGATIVE_INFINITY;
  private readonly counts: number[] = [];
  private readonly p50s: number[] = [];
  private readonly p99s: number[] = [];

  /** @internal Use {@link MetricsRegistry.histogram}. */
  constructor(
    /** Node id the histogram belongs to. */
    readonly node: string,
    /** Metric name. */
    readonly name: string,
    private readonly clock: MetricsClock,
    private readonly grid: IntervalGrid,
  ) {}

  /** Records one latency in ms (finite, >= 0) at the clock's current time. */
  record(ms: number): void {
    if (!(ms >= 0) || ms === Number.POSITIVE_INFINITY) {
      throw invalidArgument('latency', ms, 'a finite number of ms >= 0');
    }
    const t = this.clock.now;
    if (t >= this.end) this.roll(t);
    // Validated and rounded to whole µs once, for both.
    const us = Math.round(ms * 1000);
    this.all._record(ms, us);
    this.interval!.record(us);
    if (ms > this.intervalMax) this.intervalMax = ms;
  }

  /** Number of recorded values. */
  get count(): number {
    return this.all.count;
  }

  /** The value at percentile `p` (0 to 100) over the run, in ms; NaN when empty. */
  percentile(p: number): number {
    return this.all.percentile(p);
  }

  /** Count, exact mean/min/max and p50/p90/p99/p99.9 over the run, in ms. */
  summary(): LatencySummary {
    return this.all.summary();
  }

  /**
   * The run-wide histogram, for merging across nodes or seeds (`total.merge(h.latency)`). Read it; do
   * not record into it, or the per-interval series will miss those values.
   */
  get latency(): LatencyHistogram {
    return this.all;
  }

  /** @internal Index of the interval last touched, -1 before the first `record()`. */
  get _index(): number {
    return this.index;
  }

  /** @internal Count, p50 and p99 (NaN when empty) of intervals `0 .. points-1`; read-only. */
  _series(points: number): { count: number[]; p50: number[]; p99: number[] } {
    const count = new Array<number>(points);
    const p50 = new Array<number>(points);
    const p99 = new Array<number>(points);
    const index = this.index;
    for (let j = 0; j < points; j++) {
      if (j < index) {
        count[j] = this.counts[j]!;
        p50[j] = this.p50s[j]!;
        p99[j] = this.p99s[j]!;
      } else if (j === index) {
        count[j] = this.intervalCount;
        p50[j] = this.intervalPercentile(50);
        p99[j] = this.intervalPercentile(99);
      } else {
        count[j] = 0;
        p50[j] = Number.NaN;
        p99[j] = Number.NaN;
      }
    }
    return { count, p50, p99 };
  }

  private get intervalCount(): number {
    return this.interval === null ? 0 : this.interval.count;
  }

  private intervalPercentile(p: number): number {
    if (this.interval === null || this.interval.count === 0) return Number.NaN;
    // The sketch reports its bucket's upper edge; the exact maximum is a tighter bound.
    return Math.min(this.interval.percentile(p) / 1000, this.intervalMax);
  }

  private roll(t: number): void {
    const grid = this.grid;
    if (!(t >= grid.start))
      throw invalidArgument('clock.now', t, `a time >= the registry start (${grid.start})`);
    const k = grid.indexOf(t);
    // The first record() always rolls: create the sketch here, off the per-record path.
    this.interval ??= new LogBuckets();
    if (this.index >= 0) {
      this.counts.push(this.intervalCount);
      this.p50s.push(this.intervalPercentile(50));
      this.p99s.push(this.intervalPercentile(99));
      this.interval?.reset();
    }
    for (let j = Math.max(this.index + 1, 0); j < k; j++) {
      this.counts.push(0);
      this.p50s.push(Number.NaN);
      this.p99s.push(Number.NaN);
    }
    this.intervalMax = 0;
    this.index = k;
    this.end = grid.startOf(k + 1);
  }
}
