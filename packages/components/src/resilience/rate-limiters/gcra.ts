import { checkNumber, optionKeys } from '@dsim/core';
import {
  allowDecision,
  checkAcquire,
  checkLimiterOptions,
  type Decision,
  positiveRule,
  type RateLimiter,
  rejectDecision,
  TIME_EPSILON_MS,
} from './types.js';

/**
 * Options of {@link Gcra}; an unknown key is an error (with a "did you mean").
 *
 * @example
 * ```ts
 * const options: GcraOptions = { ratePerSecond: 10, burst: 9 };
 * ```
 */
export interface GcraOptions {
  /** Sustained rate, permits per second: the emission interval is T = 1000 / ratePerSecond ms. A finite number > 0. */
  ratePerSecond: number;
  /**
   * redis-cell's `max_burst`: permits allowed beyond the steady pace, so up to `burst + 1` pass at once.
   * The tolerance is τ = T · burst. An integer >= 0.
   */
  burst: number;
}

const C = 'Gcra';
const KEYS = optionKeys<GcraOptions>()({ ratePerSecond: true, burst: true });

/**
 * Generic cell rate algorithm, virtual-scheduling form, as redis-cell states it.
 * Only the theoretical arrival time TAT is stored. With emission interval T = 1000 / ratePerSecond ms and
 * tolerance τ = T · burst, a request of n permits at `now` is allowed if
 * `max(TAT, now) + n·T − (τ + T) <= now`, and then `TAT = max(TAT, now) + n·T`. For n = 1 this is the
 * textbook `now >= TAT − τ`. Before the first request TAT is taken as `now`.
 *
 * It makes the same decisions as a {@link TokenBucket} with capacity `burst + 1` and refill `ratePerSecond`.
 *
 * @example
 * ```ts
 * const g = new Gcra({ ratePerSecond: 10, burst: 9 }); // T = 100 ms, limit 10
 * g.tryAcquire(0).allowed; // true, and 9 more at t = 0; then one every 100 ms
 * ```
 */
export class Gcra implements RateLimiter {
  readonly kind = 'gcra';
  /** Sustained rate, permits per second. */
  readonly ratePerSecond: number;
  /** Permits beyond the steady pace (redis-cell `max_burst`). */
  readonly burst: number;
  /** Emission interval T, ms. */
  readonly emissionIntervalMs: number;
  /** Tolerance τ = T · burst, ms. */
  readonly toleranceMs: number;
  private tat: number | undefined;
  private last: number | undefined;

  constructor(options: GcraOptions) {
    checkLimiterOptions(C, options, KEYS);
    checkNumber(C, 'ratePerSecond', options.ratePerSecond, positiveRule('permits per second'));
    checkNumber(C, 'burst', options.burst, { integer: true, min: 0, unit: 'permits' });
    this.ratePerSecond = options.ratePerSecond;
    this.burst = options.burst;
    this.emissionIntervalMs = 1000 / options.ratePerSecond;
    this.toleranceMs = this.emissionIntervalMs * options.burst;
  }

  /** The theoretical arrival time as of the last admitted request, or undefined before the first. */
  get theoreticalArrivalTime(): number | undefined {
    return this.tat;
  }

  /**
   * Allows the request if it conforms and pushes TAT on by n·T. A rejection carries the time until it would
   * conform (redis-cell's `retry_after`); none when `permits > burst + 1`.
   */
  tryAcquire(now: number, permits = 1): Decision {
    this.last = checkAcquire(now, this.last, permits);
    const base = this.tat === undefined ? now : Math.max(this.tat, now);
    const newTat = base + permits * this.emissionIntervalMs;
    const allowAt = newTat - (this.toleranceMs + this.emissionIntervalMs);
    if (now + TIME_EPSILON_MS >= allowAt) {
      this.tat = newTat;
      return allowDecision();
    }
    if (permits > this.burst + 1) return rejectDecision();
    return rejectDecision(allowAt - now);
  }
}
