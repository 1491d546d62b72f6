import { checkNumber, optionKeys } from '@dsim/core';
import {
  allowDecision,
  checkAcquire,
  checkLimiterOptions,
  type Decision,
  PERMITS_RULE,
  positiveRule,
  type RateLimiter,
  rejectDecision,
} from './types.js';

/**
 * Options of {@link SlidingLog}; an unknown key is an error (with a "did you mean").
 *
 * @example
 * ```ts
 * const options: SlidingLogOptions = { limit: 10, windowMs: 1000 };
 * ```
 */
export interface SlidingLogOptions {
  /** Permits admitted in any window of `windowMs`. An integer >= 1. */
  limit: number;
  /** Window length, ms. A finite number > 0. */
  windowMs: number;
}

const C = 'SlidingLog';
const KEYS = optionKeys<SlidingLogOptions>()({ limit: true, windowMs: true });

/**
 * Sliding window log (D.4): remembers the time of every admitted permit and admits a request at `now` if the
 * permits logged in `(now − windowMs, now]` plus `permits` stay within `limit`. Exact: no half-open window of
 * length `windowMs` ever holds more than `limit` admitted permits. Rejected requests are not logged, so they do
 * not extend the penalty. Memory is O(limit).
 *
 * @example
 * ```ts
 * const log = new SlidingLog({ limit: 10, windowMs: 1000 });
 * log.tryAcquire(950).allowed; // true
 * ```
 */
export class SlidingLog implements RateLimiter {
  readonly kind = 'sliding-log';
  /** Permits admitted in any window. */
  readonly limit: number;
  /** Window length, ms. */
  readonly windowMs: number;
  // A FIFO of admission times, one entry per permit; `head` skips the expired prefix.
  private times: number[] = [];
  private head = 0;
  private last: number | undefined;

  constructor(options: SlidingLogOptions) {
    checkLimiterOptions(C, options, KEYS);
    checkNumber(C, 'limit', options.limit, PERMITS_RULE);
    checkNumber(C, 'windowMs', options.windowMs, positiveRule('ms'));
    this.limit = options.limit;
    this.windowMs = options.windowMs;
  }

  /** Permits in the log as of the last call. */
  get count(): number {
    return this.times.length - this.head;
  }

  /**
   * Expires entries at or before `now − windowMs`, then admits if there is room. A rejection carries the
   * time until enough entries expire; none when `permits > limit`.
   */
  tryAcquire(now: number, permits = 1): Decision {
    this.last = checkAcquire(now, this.last, permits);
    const times = this.times;
    while (this.head < times.length && (times[this.head] as number) <= now - this.windowMs) this.head++;
    if (this.head > 1024 && this.head * 2 > times.length) {
      this.times = times.slice(this.head);
      this.head = 0;
    }
    const size = this.times.length - this.head;
    if (size + permits <= this.limit) {
      for (let i = 0; i < permits; i++) this.times.push(now);
      return allowDecision();
    }
    if (permits > this.limit) return rejectDecision();
    // The (size + permits − limit)-th oldest entry must expire first.
    const blocker = this.times[this.head + size + permits - this.limit - 1] as number;
    return rejectDecision(blocker + this.windowMs - now);
  }
}
