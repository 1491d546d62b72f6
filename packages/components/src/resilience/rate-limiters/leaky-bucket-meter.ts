import { checkNumber, optionKeys } from '@dsim/core';
import { LeakyBucketLevel } from './leaky-bucket.js';
import {
  allowDecision,
  checkLimiterOptions,
  type Decision,
  PERMITS_RULE,
  positiveRule,
  type RateLimiter,
} from './types.js';

/**
 * Options of {@link LeakyBucketMeter}; an unknown key is an error (with a "did you mean").
 *
 * @example
 * ```ts
 * const options: LeakyBucketMeterOptions = { capacity: 10, leakPerSecond: 10 };
 * ```
 */
export interface LeakyBucketMeterOptions {
  /** Most the bucket holds, in permits. An integer >= 1. */
  capacity: number;
  /** Permits drained per second, continuously. A finite number > 0. */
  leakPerSecond: number;
}

const C = 'LeakyBucketMeter';
const KEYS = optionKeys<LeakyBucketMeterOptions>()({ capacity: true, leakPerSecond: true });

/**
 * Leaky bucket as a meter (D.4): a request pours `permits` into a bucket that drains continuously at
 * `leakPerSecond`; it conforms if `level + permits <= capacity`, else it is rejected and pours nothing. The
 * bucket starts empty. This makes the same decisions as a {@link TokenBucket} that starts full (tokens =
 * capacity − level) and as {@link Gcra} with `burst = capacity − 1`.
 *
 * @example
 * ```ts
 * const meter = new LeakyBucketMeter({ capacity: 10, leakPerSecond: 10 });
 * meter.tryAcquire(950).allowed; // true
 * ```
 */
export class LeakyBucketMeter implements RateLimiter {
  readonly kind = 'leaky-bucket-meter';
  /** Most the bucket holds, in permits. */
  readonly capacity: number;
  /** Permits drained per second. */
  readonly leakPerSecond: number;
  private readonly bucket: LeakyBucketLevel;

  constructor(options: LeakyBucketMeterOptions) {
    checkLimiterOptions(C, options, KEYS);
    checkNumber(C, 'capacity', options.capacity, PERMITS_RULE);
    checkNumber(C, 'leakPerSecond', options.leakPerSecond, positiveRule('permits per second'));
    this.capacity = options.capacity;
    this.leakPerSecond = options.leakPerSecond;
    this.bucket = new LeakyBucketLevel(this.capacity, this.leakPerSecond);
  }

  /** Bucket level, in permits, as of the last call. */
  get level(): number {
    return this.bucket.level;
  }

  /**
   * Drains for the time since the last call, then pours `permits` in if they fit. A rejection carries the
   * time until they would fit; none when `permits > capacity`.
   */
  tryAcquire(now: number, permits = 1): Decision {
    const poured = this.bucket.pour(now, permits);
    return typeof poured === 'number' ? allowDecision() : poured;
  }
}
