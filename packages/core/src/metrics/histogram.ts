import { invalidArgument } from '../errors.js';
import { LatencyHistogram, type LatencySummary } from '../stats/histogram.js';
import { LogBuckets } from '../stats/log-buckets.js';
import type { IntervalGrid, MetricsClock } from './grid.js';

/** Sub-bucket bits of the per-interval p50 and p99: HdrHistogram's 2 significant digits. */
const INTERVAL_SUB_BITS = 7;
/** The per-interval percentiles, in the order `LogBuckets.drainInto` reads them. */
const INTERVAL_PERCENTILES: readonly number[] = [50, 99];

/**
 * A latency histogram (ms) with run-wide percentiles and per-interval count, p50 and p99.
 *
 * - Run-wide: a {@link LatencyHistogram} with 3 significant digits, so p50/p90/p99/p99.9 are within
 *   0.1% (relative) of the exact sample percentiles (bit-identical to hdr-histogram-js's), independent
 *   of insertion order and mergeable; mean and max are exact.
 * - Per interval: count, p50 and p99 at 2 digits (HDR layout, 128 buckets per power of two, so within
 *   0.78%); each closed interval keeps those three numbers, not a histogram.
 *
 * A record increments one bucket: the current interval's, in the run-wide layout. When the interval
 * closes (or someone reads the run-wide histogram), its buckets are added to the run-wide ones in one
 * pass, and its p50 and p99 are read at 2 digits from the same buckets (coarse buckets are unions of
 * fine ones, so the figures are those of a 2-digit histogram, bit for bit). One scattered increment
 * instead of two: in a large simulation the increments miss the cache, and that was most of a record's
 * cost. Sum, minimum and maximum are updated on every record, in order, so they are exact.
 *
 * Cost: `record()` takes about 20 ns on its own (Node 20, x64); inside a large simulation, where its
 * bucket is usually not in cache, more. It took about 190 ns when the run-wide histogram was an
 * hdr-histogram-js one. Closing an interval visits only the buckets it used, in order, through a bitmap
 * of the buckets in use (one bit per bucket), never the empty ones between them.
 * Memory: about 65 KB for the run-wide buckets and as much for the interval's, for latencies up to 10 s,
 * growing with the largest latency seen, 1/32 of that for each bitmap, plus 3 numbers per elapsed
 * interval.
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
  /**
   * Closed intervals' buckets (and the current one's once `synced`). Its sum, minimum and maximum are
   * this histogram's, handed over when an interval closes and whenever it is read.
   */
  private readonly all = new LatencyHistogram();
  /** Exact sum, minimum and maximum of every record, kept here so a record touches one object. */
  private total = 0;
  private lo = Number.POSITIVE_INFINITY;
  private hi = Number.NEGATIVE_INFINITY;
  /** The current interval's values in the run-wide layout. Created on the first record. */
  private interval: LogBuckets | null = null;
  /** The current interval's buckets are already in `all` (it was read): records go to both until it closes. */
  private synced = false;
  /** Scratch for the closing interval's p50 and p99. */
  private readonly figures = new Float64Array(2);
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
    this._record(ms);
  }

  /**
   * @internal `record(ms)` without checking `ms`, for components whose latencies are valid by construction
   * (a difference of two clock readings, later minus earlier).
   */
  _record(ms: number): void {
    const t = this.clock.now;
    if (t >= this.end) this.roll(t);
    const us = Math.round(ms * 1000);
    this.total += ms;
    if (ms < this.lo) this.lo = ms;
    if (ms > this.hi) this.hi = ms;
    if (this.synced) this.all._record(ms, us);
    this.interval!.record(us);
    if (ms > this.intervalMax) this.intervalMax = ms;
  }

  /** Number of recorded values. */
  get count(): number {
    return this.all.count + (this.synced ? 0 : this.intervalCount);
  }

  /** The value at percentile `p` (0 to 100) over the run, in ms; NaN when empty. */
  percentile(p: number): number {
    return this.latency.percentile(p);
  }

  /** Count, exact mean/min/max and p50/p90/p99/p99.9 over the run, in ms. */
  summary(): LatencySummary {
    return this.latency.summary();
  }

  /**
   * The run-wide histogram, for merging across nodes or seeds (`total.merge(h.latency)`). Read it; do
   * not record into it, or the per-interval series will miss those values. It is complete when read;
   * values recorded afterwards reach a reference kept to it as each interval closes (count, sum, minimum
   * and maximum together, so its mean is always that of the values it counts), and all of them when
   * read again.
   */
  get latency(): LatencyHistogram {
    if (!this.synced && this.interval !== null && this.interval.count > 0) {
      this.all._buckets.merge(this.interval);
      this.synced = true;
    }
    this.all._setExact(this.total, this.lo, this.hi);
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
    // At 2 digits, from the same buckets; the bucket's upper edge, and the exact maximum is a tighter bound.
    return Math.min(this.interval.percentileAs(p, INTERVAL_SUB_BITS) / 1000, this.intervalMax);
  }

  private roll(t: number): void {
    const grid = this.grid;
    if (!(t >= grid.start))
      throw invalidArgument('clock.now', t, `a time >= the registry start (${grid.start})`);
    const k = grid.indexOf(t);
    // The first record() always rolls: create the buckets here, off the per-record path.
    this.interval ??= new LogBuckets(this.all._buckets.subBits);
    if (this.index >= 0) {
      // One pass over the interval's buckets: p50 and p99 at 2 digits, added to the run-wide ones, cleared.
      const interval = this.interval;
      const count = interval.count;
      const figures = this.figures;
      interval.drainInto(
        this.synced ? null : this.all._buckets,
        INTERVAL_PERCENTILES,
        INTERVAL_SUB_BITS,
        figures,
      );
      this.all._setExact(this.total, this.lo, this.hi);
      this.counts.push(count);
      // The bucket's upper edge; the exact maximum is a tighter bound.
      this.p50s.push(count === 0 ? Number.NaN : Math.min(figures[0]! / 1000, this.intervalMax));
      this.p99s.push(count === 0 ? Number.NaN : Math.min(figures[1]! / 1000, this.intervalMax));
    }
    this.synced = false;
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
