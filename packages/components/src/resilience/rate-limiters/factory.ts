import { checkEnum, checkObject } from '@dsim/core';
import { FixedWindow, type FixedWindowOptions } from './fixed-window.js';
import { Gcra, type GcraOptions } from './gcra.js';
import { LeakyBucketMeter, type LeakyBucketMeterOptions } from './leaky-bucket-meter.js';
import { LeakyBucketQueue, type LeakyBucketQueueOptions } from './leaky-bucket-queue.js';
import { SlidingLog, type SlidingLogOptions } from './sliding-log.js';
import { SlidingWindowCounter, type SlidingWindowCounterOptions } from './sliding-window-counter.js';
import { TokenBucket, type TokenBucketOptions } from './token-bucket.js';
import { RATE_LIMITER_KINDS, type RateLimiter } from './types.js';

/**
 * A rate limiter described as data (e.g. from a scenario file): `kind` plus that algorithm's options.
 *
 * @example
 * ```ts
 * const spec: RateLimiterSpec = { kind: 'gcra', ratePerSecond: 10, burst: 9 };
 * ```
 */
export type RateLimiterSpec =
  | ({ kind: 'token-bucket' } & TokenBucketOptions)
  | ({ kind: 'leaky-bucket-meter' } & LeakyBucketMeterOptions)
  | ({ kind: 'leaky-bucket-queue' } & LeakyBucketQueueOptions)
  | ({ kind: 'fixed-window' } & FixedWindowOptions)
  | ({ kind: 'sliding-log' } & SlidingLogOptions)
  | ({ kind: 'sliding-window-counter' } & SlidingWindowCounterOptions)
  | ({ kind: 'gcra' } & GcraOptions);

const C = 'createRateLimiter';

/**
 * Builds a limiter from a {@link RateLimiterSpec}. Every field is validated by the algorithm's constructor:
 * a missing, out-of-range or unknown field throws INVALID_ARGUMENT naming the algorithm and the field
 * (`TokenBucket: capacity must be ...`, `TokenBucket: unknown option "inital" (did you mean "initial"?)`);
 * an unknown `kind` throws naming `kind`, with a "did you mean" for a near miss.
 *
 * @example
 * ```ts
 * const limiter = createRateLimiter({ kind: 'token-bucket', capacity: 10, refillPerSecond: 10 });
 * limiter.tryAcquire(0).allowed; // true
 * ```
 */
export function createRateLimiter(spec: RateLimiterSpec): RateLimiter {
  checkObject(
    C,
    'spec',
    spec,
    `a rate limiter spec { kind, ... } with kind one of ${RATE_LIMITER_KINDS.join(', ')}`,
  );
  const { kind: given, ...options } = spec as unknown as { kind: unknown } & Record<string, unknown>;
  const kind = checkEnum(C, 'kind', given, RATE_LIMITER_KINDS);
  switch (kind) {
    case 'token-bucket':
      return new TokenBucket(options as unknown as TokenBucketOptions);
    case 'leaky-bucket-meter':
      return new LeakyBucketMeter(options as unknown as LeakyBucketMeterOptions);
    case 'leaky-bucket-queue':
      return new LeakyBucketQueue(options as unknown as LeakyBucketQueueOptions);
    case 'fixed-window':
      return new FixedWindow(options as unknown as FixedWindowOptions);
    case 'sliding-log':
      return new SlidingLog(options as unknown as SlidingLogOptions);
    case 'sliding-window-counter':
      return new SlidingWindowCounter(options as unknown as SlidingWindowCounterOptions);
    case 'gcra':
      return new Gcra(options as unknown as GcraOptions);
  }
}
