import { invalidArgument } from '../errors.js';
import type { IntervalGrid, MetricsClock } from './grid.js';

/**
 * A time-weighted level (queue depth, requests in flight, busy servers): its mean is the integral of
 * the level over time divided by the elapsed time, and each interval keeps its own time-weighted mean
 * and maximum. The level is 0 from the registry's start until the first `set()`. Get one from
 * {@link MetricsRegistry.gauge}; it reads the clock and never schedules events.
 *
 * Memory: two numbers per elapsed interval.
 *
 * @example
 * ```ts
 * const inFlight = metrics.gauge('server-1', 'in-flight');
 * inFlight.add(1);  // request starts
 * inFlight.add(-1); // request ends
 * inFlight.mean();  // time-weighted mean from the start to now
 * ```
 */
export class Gauge {
  /** Instrument kind, for snapshots and error messages. */
  readonly kind = 'gauge';
  private current = 0;
  private peak = 0;
  /** Time of the last change, or the start of the current interval if later. */
  private last: number;
  /** Integral (level × ms) over closed intervals. */
  private closedArea = 0;
  /** Integral over the current interval, from its start up to `last`. */
  private area = 0;
  private intervalMax = 0;
  private index = -1;
  private end = Number.NEGATIVE_INFINITY;
  private readonly means: number[] = [];
  private readonly maxes: number[] = [];

  /** @internal Use {@link MetricsRegistry.gauge}. */
  constructor(
    /** Node id the gauge belongs to. */
    readonly node: string,
    /** Metric name. */
    readonly name: string,
    private readonly clock: MetricsClock,
    private readonly grid: IntervalGrid,
  ) {
    this.last = grid.start;
  }

  /** Sets the level (a finite number) at the clock's current time. */
  set(level: number): void {
    if (typeof level !== 'number' || level - level !== 0) {
      throw invalidArgument('level', level, 'a finite number');
    }
    this._set(level);
  }

  /** @internal `set(level)` without checking `level`, for components whose levels are valid by construction. */
  _set(level: number): void {
    const t = this.clock.now;
    if (t >= this.end) this.roll(t);
    else if (t < this.last) throw invalidArgument('clock.now', t, `a time >= the last update (${this.last})`);
    this.area += this.current * (t - this.last);
    this.last = t;
    this.current = level;
    if (level > this.intervalMax) this.intervalMax = level;
    if (level > this.peak) this.peak = level;
  }

  /** Adds `delta` (may be negative) to the level at the clock's current time. */
  add(delta: number): void {
    this.set(this.current + delta);
  }

  /** @internal `add(delta)` without checking `delta`, for components whose changes are valid by construction. */
  _add(delta: number): void {
    this._set(this.current + delta);
  }

  /** The current level. */
  get level(): number {
    return this.current;
  }

  /** Highest level reached since the start (0 counts: the level before the first `set()`). */
  get max(): number {
    return this.peak;
  }

  /**
   * Time-weighted mean over `[start, upTo)`; NaN over an empty span. `upTo` must not precede the last
   * change.
   * @default upTo the clock's current time
   */
  mean(upTo: number = this.clock.now): number {
    if (!(upTo >= this.last) || upTo === Number.POSITIVE_INFINITY) {
      throw invalidArgument('upTo', upTo, `a finite time >= the gauge's last update (${this.last})`);
    }
    const span = upTo - this.grid.start;
    return span > 0 ? this.integral(upTo) / span : Number.NaN;
  }

  /** @internal Index of the interval last touched, -1 before the first `set()`. */
  get _index(): number {
    return this.index;
  }

  /**
   * @internal Per-interval time-weighted means and maxima of intervals `0 .. points-1` as of `now`;
   * read-only. The last interval may be partial: its mean covers `[its start, now)`.
   */
  _series(now: number, points: number): { mean: number[]; max: number[] } {
    const mean = new Array<number>(points);
    const max = new Array<number>(points);
    const index = this.index;
    const level = this.current;
    for (let j = 0; j < points; j++) {
      if (j < index) {
        mean[j] = this.means[j]!;
        max[j] = this.maxes[j]!;
      } else if (j === index) {
        const to = Math.min(now, this.end);
        const span = to - this.grid.startOf(index);
        mean[j] = span > 0 ? (this.area + level * (to - this.last)) / span : level;
        max[j] = this.intervalMax;
      } else {
        mean[j] = level;
        max[j] = level;
      }
    }
    return { mean, max };
  }

  /**
   * The integral of the level over `[start, upTo)`, in level × ms. Two readings give the time-weighted mean
   * over any window: (integral(t2) − integral(t1)) / (t2 − t1), e.g. the utilisation during an incident.
   * `upTo` must not precede the last change.
   *
   * @default upTo the clock's current time
   * @example
   * ```ts
   * const before = busy.integral();          // at the start of the window
   * // ... later, at the end of the window:
   * const meanBusy = (busy.integral() - before) / windowMs;
   * ```
   */
  integral(upTo: number = this.clock.now): number {
    if (!(upTo >= this.last) || upTo === Number.POSITIVE_INFINITY) {
      throw invalidArgument('upTo', upTo, `a finite time >= the gauge's last update (${this.last})`);
    }
    return this.closedArea + this.area + this.current * (upTo - this.last);
  }

  private roll(t: number): void {
    const grid = this.grid;
    if (!(t >= grid.start))
      throw invalidArgument('clock.now', t, `a time >= the registry start (${grid.start})`);
    const k = grid.indexOf(t);
    const width = grid.intervalMs;
    const level = this.current;
    if (this.index >= 0) {
      const area = this.area + level * (this.end - this.last);
      this.means.push(area / width);
      this.maxes.push(this.intervalMax);
      this.closedArea += area;
    }
    // Untouched intervals hold the level carried in.
    for (let j = Math.max(this.index + 1, 0); j < k; j++) {
      this.means.push(level);
      this.maxes.push(level);
      this.closedArea += level * width;
    }
    this.index = k;
    this.end = grid.startOf(k + 1);
    this.last = grid.startOf(k);
    this.area = 0;
    this.intervalMax = level;
  }
}
