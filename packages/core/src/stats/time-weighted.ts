import { invalidArgument } from '../errors.js';

/**
 * A level that changes over simulated time (queue length, busy servers, number in system), averaged
 * over time: the time-weighted mean is the integral of the level divided by the elapsed time.
 *
 * @example
 * ```ts
 * const inSystem = new TimeWeighted(0, 0);
 * inSystem.set(sim.now, inSystem.level + 1); // arrival
 * inSystem.mean(sim.now);
 * ```
 */
export class TimeWeighted {
  private current: number;
  private lastTime: number;
  private readonly startTime: number;
  private area = 0;
  private peak: number;

  /**
   * @param start - time (ms) the observation starts
   * @param initial - level at `start`
   * @default initial 0
   */
  constructor(start = 0, initial = 0) {
    this.startTime = start;
    this.lastTime = start;
    this.current = initial;
    this.peak = initial;
  }

  /** The current level. */
  get level(): number {
    return this.current;
  }

  /** Highest level seen. */
  get max(): number {
    return this.peak;
  }

  /** Sets the level at time `t` (ms); `t` must not go backwards. */
  set(t: number, level: number): void {
    if (!(t >= this.lastTime)) throw invalidArgument('t', t, `a time >= the last update (${this.lastTime})`);
    this.area += this.current * (t - this.lastTime);
    this.lastTime = t;
    this.current = level;
    if (level > this.peak) this.peak = level;
  }

  /** Adds `delta` to the level at time `t`. */
  add(t: number, delta: number): void {
    this.set(t, this.current + delta);
  }

  /** Integral of the level from the start to `t` (level x ms). */
  integral(t: number): number {
    if (!(t >= this.lastTime)) throw invalidArgument('t', t, `a time >= the last update (${this.lastTime})`);
    return this.area + this.current * (t - this.lastTime);
  }

  /** Time-weighted mean from the start to `t`; NaN over an empty interval. */
  mean(t: number): number {
    const span = t - this.startTime;
    return span > 0 ? this.integral(t) / span : Number.NaN;
  }
}
