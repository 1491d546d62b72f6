import { assertInteger, assertPositive } from '@dsim/core';
import { LeakyBucketLevel } from './leaky-bucket.js';
import { allowDecision, checkOptions, type Decision, type RateLimiter } from './types.js';

/** Options of {@link LeakyBucketMeter}. */
export interface LeakyBucketMeterOptions {
  /** Most the bucket holds, in permits. An integer >= 1. */
  capacity: number;
  /** Permits drained per second, continuously. A finite number > 0. */
  leakPerSecond: number;
}

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
    checkOptions('leakyBucketMeter', options, ['capacity', 'leakPerSecond']);
    assertInteger('leakyBucketMeter.capacity', options.capacity, 1);
    assertPositive('leakyBucketMeter.leakPerSecond', options.leakPerSecond);
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
