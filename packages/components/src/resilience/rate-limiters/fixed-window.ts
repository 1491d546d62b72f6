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
 * Options of {@link FixedWindow}; an unknown key is an error (with a "did you mean").
 *
 * @example
 * ```ts
 * const options: FixedWindowOptions = { limit: 100, windowMs: 1000 };
 * ```
 */
export interface FixedWindowOptions {
  /** Permits admitted per window. An integer >= 1. */
  limit: number;
  /** Window length in ms; windows are aligned to time 0: [k·windowMs, (k+1)·windowMs). A finite number > 0. */
  windowMs: number;
}

const C = 'FixedWindow';
const KEYS = optionKeys<FixedWindowOptions>()({ limit: true, windowMs: true });

/**
 * Fixed window counter (D.4): counts admitted permits per aligned window and rejects once `limit` would be
 * exceeded; the count restarts at each window boundary. Up to 2 × limit can pass inside one window-length span
 * that straddles a boundary. resilience4j's RateLimiter with `timeoutDuration` 0 behaves like this.
 *
 * @example
 * ```ts
 * const fw = new FixedWindow({ limit: 10, windowMs: 1000 });
 * // 10 at t = 950 and 10 more at t = 1050 all pass: 20 within 100 ms
 * fw.tryAcquire(950).allowed; // true
 * ```
 */
export class FixedWindow implements RateLimiter {
  readonly kind = 'fixed-window';
  /** Permits admitted per window. */
  readonly limit: number;
  /** Window length, ms. */
  readonly windowMs: number;
  private window = Number.NaN;
  private used = 0;
  private last: number | undefined;

  constructor(options: FixedWindowOptions) {
    checkLimiterOptions(C, options, KEYS);
    checkNumber(C, 'limit', options.limit, PERMITS_RULE);
    checkNumber(C, 'windowMs', options.windowMs, positiveRule('ms'));
    this.limit = options.limit;
    this.windowMs = options.windowMs;
  }

  /** Permits admitted in the window of the last call. */
  get count(): number {
    return this.used;
  }

  /**
   * Admits if the current window still has room for `permits`. A rejection carries the time until the next
   * window starts; none when `permits > limit`.
   */
  tryAcquire(now: number, permits = 1): Decision {
    this.last = checkAcquire(now, this.last, permits);
    const window = Math.floor(now / this.windowMs);
    if (window !== this.window) {
      this.window = window;
      this.used = 0;
    }
    if (this.used + permits <= this.limit) {
      this.used += permits;
      return allowDecision();
    }
    if (permits > this.limit) return rejectDecision();
    return rejectDecision((window + 1) * this.windowMs - now);
  }
}
