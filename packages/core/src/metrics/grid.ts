import { invalidArgument } from '../errors.js';

/**
 * The clock a metrics instrument reads: anything with a non-decreasing `now` in ms, such as a
 * {@link Simulation}. Instruments read it, never advance it, and never schedule events.
 *
 * @example
 * ```ts
 * const clock: MetricsClock = sim; // Simulation has `now`
 * ```
 */
export interface MetricsClock {
  /** Current time in ms; must never go backwards. */
  readonly now: number;
}

/**
 * Fixed-width time intervals `[start + k·intervalMs, start + (k+1)·intervalMs)`, k = 0, 1, 2, ...
 * Boundaries are computed from k each time (never accumulated), so they do not drift with a
 * fractional width.
 *
 * @example
 * ```ts
 * const grid = new IntervalGrid(0, 1000);
 * grid.indexOf(1500);  // 1
 * grid.pointsAt(2000); // 2 (intervals [0,1s) and [1s,2s))
 * ```
 */
export class IntervalGrid {
  /**
   * @param start - time (ms) at which interval 0 begins
   * @param intervalMs - interval width in ms, finite and > 0
   */
  constructor(
    readonly start: number,
    readonly intervalMs: number,
  ) {
    if (!Number.isFinite(start)) throw invalidArgument('start', start, 'a finite time in ms');
    if (!(intervalMs > 0) || intervalMs === Infinity) {
      throw invalidArgument('interval', intervalMs, 'a finite duration > 0 such as 1000 or "1s"');
    }
  }

  /** Index of the interval holding `t` (`t >= start`). */
  indexOf(t: number): number {
    const { start, intervalMs } = this;
    let k = Math.floor((t - start) / intervalMs);
    // Division can land one off next to a boundary; settle on start + k·w <= t < start + (k+1)·w.
    while (start + (k + 1) * intervalMs <= t) k++;
    while (k > 0 && start + k * intervalMs > t) k--;
    return k;
  }

  /** Start time (ms) of interval `k`. */
  startOf(k: number): number {
    return this.start + k * this.intervalMs;
  }

  /** Number of intervals that overlap `[start, now)`: 0 at `start`, 1 just after, 2 at `start + 2w`. */
  pointsAt(now: number): number {
    if (!(now > this.start)) return 0;
    const k = this.indexOf(now);
    return this.startOf(k) === now ? k : k + 1;
  }
}
