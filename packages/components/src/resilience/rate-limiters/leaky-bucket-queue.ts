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
 * Options of {@link LeakyBucketQueue}; an unknown key is an error (with a "did you mean").
 *
 * @example
 * ```ts
 * const options: LeakyBucketQueueOptions = { capacity: 5, leakPerSecond: 1 };
 * ```
 */
export interface LeakyBucketQueueOptions {
  /**
   * Queue slots, in permits: every admitted request holds its slot until it has fully leaked out, the one
   * being released included. An integer >= 1.
   */
  capacity: number;
  /** Permits released per second, at a constant pace. A finite number > 0. */
  leakPerSecond: number;
}

const C = 'LeakyBucketQueue';
const KEYS = optionKeys<LeakyBucketQueueOptions>()({ capacity: true, leakPerSecond: true });

/**
 * Leaky bucket as a queue (traffic shaping, nginx `limit_req` without `nodelay`, D.4): admitted requests
 * queue FIFO and leave at the constant `leakPerSecond`, one every T = 1000 / leakPerSecond ms. A request
 * that arrives with `level` permits still in the bucket (continuously draining) is admitted if
 * `level + permits <= capacity`, with `delayMs = level · T`: the time until everything ahead of it has
 * leaked. Otherwise the queue is full and it is rejected.
 *
 * Admission is exactly {@link LeakyBucketMeter}'s; only the delay differs. With capacity 5 and 1/s, six
 * simultaneous requests give delays 0, 1, 2, 3, 4 s and the sixth is rejected, as Igor Sysoev describes
 * nginx `rate=1r/s burst=5`.
 *
 * @example
 * ```ts
 * const q = new LeakyBucketQueue({ capacity: 5, leakPerSecond: 1 });
 * q.tryAcquire(0); // { allowed: true, delayMs: 0 }
 * q.tryAcquire(0); // { allowed: true, delayMs: 1000 }
 * ```
 */
export class LeakyBucketQueue implements RateLimiter {
  readonly kind = 'leaky-bucket-queue';
  /** Queue slots, in permits, the request being released included. */
  readonly capacity: number;
  /** Permits released per second. */
  readonly leakPerSecond: number;
  private readonly bucket: LeakyBucketLevel;

  constructor(options: LeakyBucketQueueOptions) {
    checkLimiterOptions(C, options, KEYS);
    checkNumber(C, 'capacity', options.capacity, PERMITS_RULE);
    checkNumber(C, 'leakPerSecond', options.leakPerSecond, positiveRule('permits per second'));
    this.capacity = options.capacity;
    this.leakPerSecond = options.leakPerSecond;
    this.bucket = new LeakyBucketLevel(this.capacity, this.leakPerSecond);
  }

  /** Permits not yet leaked out, as of the last call (fractional while one is leaking). */
  get level(): number {
    return this.bucket.level;
  }

  /**
   * Drains for the time since the last call, then queues the request if it fits, delayed until everything
   * ahead of it has leaked. A rejection carries the time until it would fit; none when `permits > capacity`.
   */
  tryAcquire(now: number, permits = 1): Decision {
    const poured = this.bucket.pour(now, permits);
    // Delayed until everything ahead of it has leaked out.
    return typeof poured === 'number' ? allowDecision((poured * 1000) / this.leakPerSecond) : poured;
  }
}
