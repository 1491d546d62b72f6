import { invalidArgument } from '../errors.js';
import type { IntervalGrid, MetricsClock } from './grid.js';

/**
 * A monotonic count (requests, drops, retries) with its increment per interval. Get one from
 * {@link MetricsRegistry.counter}. `inc()` reads the clock and, once per interval at most, closes the
 * previous interval; it never schedules events, so it cannot change a run.
 *
 * Memory: one number per elapsed interval.
 *
 * @example
 * ```ts
 * const requests = metrics.counter('server-1', 'requests');
 * requests.inc();
 * requests.inc(3);
 * requests.value; // 4
 * ```
 */
export class Counter {
  /** Instrument kind, for snapshots and error messages. */
  readonly kind = 'counter';
  private total = 0;
  private current = 0;
  private index = -1;
  // -Infinity: the first inc() always rolls, which validates the time and back-fills empty intervals.
  private end = Number.NEGATIVE_INFINITY;
  private readonly closed: number[] = [];

  /** @internal Use {@link MetricsRegistry.counter}. */
  constructor(
    /** Node id the counter belongs to. */
    readonly node: string,
    /** Metric name. */
    readonly name: string,
    private readonly clock: MetricsClock,
    private readonly grid: IntervalGrid,
  ) {}

  /**
   * Adds `by` (finite, >= 0) at the clock's current time.
   * @default by 1
   */
  inc(by = 1): void {
    if (!(by >= 0) || by === Number.POSITIVE_INFINITY) {
      throw invalidArgument('by', by, 'a finite number >= 0 (counters only go up)');
    }
    this._inc(by);
  }

  /**
   * @internal `inc(by)` without checking `by`, for components whose increments are valid by construction
   * (the check's code, inlined at every call site, was a measurable share of a request's instructions).
   */
  _inc(by: number): void {
    const t = this.clock.now;
    if (t >= this.end) this.roll(t);
    this.current += by;
    this.total += by;
  }

  /** Total count since the start. */
  get value(): number {
    return this.total;
  }

  /** @internal Index of the interval last touched, -1 before the first `inc()`. */
  get _index(): number {
    return this.index;
  }

  /** @internal Increments of intervals `0 .. points-1`; read-only, so snapshots never alter state. */
  _series(points: number): number[] {
    const out = new Array<number>(points);
    const index = this.index;
    for (let j = 0; j < points; j++) {
      out[j] = j < index ? this.closed[j]! : j === index ? this.current : 0;
    }
    return out;
  }

  private roll(t: number): void {
    const grid = this.grid;
    if (!(t >= grid.start))
      throw invalidArgument('clock.now', t, `a time >= the registry start (${grid.start})`);
    const k = grid.indexOf(t);
    if (this.index >= 0) this.closed.push(this.current);
    for (let j = Math.max(this.index + 1, 0); j < k; j++) this.closed.push(0);
    this.current = 0;
    this.index = k;
    this.end = grid.startOf(k + 1);
  }
}
