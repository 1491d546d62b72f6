import { checkNumber, optionKeys } from '@dsim/core';
import {
  allowDecision,
  checkAcquire,
  checkLimiterOptions,
  type Decision,
  PERMIT_EPSILON,
  PERMITS_RULE,
  positiveRule,
  type RateLimiter,
  rejectDecision,
} from './types.js';

/**
 * Options of {@link SlidingWindowCounter}; an unknown key is an error (with a "did you mean").
 *
 * @example
 * ```ts
 * const options: SlidingWindowCounterOptions = { limit: 100, windowMs: 60_000 };
 * ```
 */
export interface SlidingWindowCounterOptions {
  /** Most the weighted estimate may reach. An integer >= 1. */
  limit: number;
  /** Window length in ms; counting windows are aligned to time 0. A finite number > 0. */
  windowMs: number;
}

const C = 'SlidingWindowCounter';
const KEYS = optionKeys<SlidingWindowCounterOptions>()({ limit: true, windowMs: true });

/**
 * Sliding window counter, Cloudflare's approximation (D.4): keeps the admitted count of the current aligned
 * window and of the one before, and estimates the last `windowMs` as
 * `estimate = prev_count × (W − elapsed) / W + curr_count`, where `elapsed` is the time since the current
 * window started. A request is admitted if `estimate + permits <= limit`. Only admitted permits are counted,
 * and a previous window that is not the immediately preceding one counts 0.
 *
 * @example
 * ```ts
 * const swc = new SlidingWindowCounter({ limit: 100, windowMs: 60_000 });
 * // 42 admitted in [0, 60 s), 18 in [60 s, 75 s): estimate(75_000) = 42 × 0.75 + 18 = 49.5
 * swc.estimate(75_000);
 * ```
 */
export class SlidingWindowCounter implements RateLimiter {
  readonly kind = 'sliding-window-counter';
  /** Most the weighted estimate may reach. */
  readonly limit: number;
  /** Window length, ms. */
  readonly windowMs: number;
  private window = Number.NaN;
  private curr = 0;
  private prev = 0;
  private last: number | undefined;

  constructor(options: SlidingWindowCounterOptions) {
    checkLimiterOptions(C, options, KEYS);
    checkNumber(C, 'limit', options.limit, PERMITS_RULE);
    checkNumber(C, 'windowMs', options.windowMs, positiveRule('ms'));
    this.limit = options.limit;
    this.windowMs = options.windowMs;
  }

  /**
   * The weighted estimate at `now` (not counting a request at `now`), without changing any state.
   * `now` must not be before the last `tryAcquire`.
   */
  estimate(now: number): number {
    checkAcquire(now, this.last, 1);
    const [prev, curr, elapsed] = this.countsAt(now);
    return (prev * (this.windowMs - elapsed)) / this.windowMs + curr;
  }

  /**
   * Rolls the windows forward to `now` and admits if the estimate leaves room for `permits`. A rejection
   * carries the time until the estimate would leave room (within this window, or after the rollover); none
   * when `permits > limit`.
   */
  tryAcquire(now: number, permits = 1): Decision {
    this.last = checkAcquire(now, this.last, permits);
    const [prev, curr, elapsed, window] = this.countsAt(now);
    this.window = window;
    this.prev = prev;
    this.curr = curr;
    const w = this.windowMs;
    const estimate = (prev * (w - elapsed)) / w + curr;
    if (estimate + permits <= this.limit + PERMIT_EPSILON) {
      this.curr += permits;
      return allowDecision();
    }
    if (permits > this.limit) return rejectDecision();
    if (curr + permits <= this.limit) {
      // Only the previous window's weight is in the way (so prev > 0): wait until it has decayed enough.
      return rejectDecision(w * (1 - (this.limit - curr - permits) / prev) - elapsed);
    }
    // Not before the rollover, when this window's count becomes the decaying one.
    const afterRollover = Math.max(0, w * (1 - (this.limit - permits) / curr));
    return rejectDecision(w - elapsed + afterRollover);
  }

  // Counts (prev, curr), elapsed time in the window, and the window index as they stand at `now`.
  private countsAt(now: number): [number, number, number, number] {
    const window = Math.floor(now / this.windowMs);
    const elapsed = now - window * this.windowMs;
    if (window === this.window) return [this.prev, this.curr, elapsed, window];
    if (window === this.window + 1) return [this.curr, 0, elapsed, window];
    return [0, 0, elapsed, window];
  }
}
